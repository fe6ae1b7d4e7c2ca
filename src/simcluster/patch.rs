//! The three patch formats of `PATCH` besides apply: JSON merge patch
//! (RFC 7386), JSON patch (RFC 6902) and Kubernetes' strategic merge patch,
//! which merges lists by their merge key and understands the `$patch`,
//! `$retainKeys`, `$setElementOrder` and `$deleteFromPrimitiveList`
//! directives kubectl sends.

use serde_json::{Map, Value};

use super::schema::{PatchStrategy, Shape};

/// Why a patch could not be applied; the message says where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// RFC 7386: objects merge key by key, `null` deletes, anything else
/// replaces.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    match (target, patch) {
        (Value::Object(target_map), Value::Object(patch_map)) => {
            let mut out = target_map.clone();
            for (key, value) in patch_map {
                if value.is_null() {
                    out.remove(key);
                } else {
                    let merged = merge_patch(target_map.get(key).unwrap_or(&Value::Null), value);
                    out.insert(key.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, Value::Object(_)) => merge_patch(&Value::Object(Map::new()), patch),
        _ => patch.clone(),
    }
}

/// RFC 6902: a list of operations applied in order; any failure leaves the
/// object unchanged.
pub fn json_patch(target: &Value, operations: &Value) -> Result<Value, PatchError> {
    let operations = operations
        .as_array()
        .ok_or_else(|| PatchError("a JSON patch must be a list of operations".into()))?;
    let mut document = target.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_operation(&mut document, operation)
            .map_err(|PatchError(why)| PatchError(format!("operation {index}: {why}")))?;
    }
    Ok(document)
}

fn pointer_tokens(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| PatchError(format!("path {pointer:?} does not start with /")))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn operation_path(operation: &Value, key: &str) -> Result<Vec<String>, PatchError> {
    let path = operation
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| PatchError(format!("missing {key:?}")))?;
    pointer_tokens(path)
}

fn apply_operation(document: &mut Value, operation: &Value) -> Result<(), PatchError> {
    let op = operation
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| PatchError("missing \"op\"".into()))?;
    let path = operation_path(operation, "path")?;
    let value = || {
        operation
            .get("value")
            .cloned()
            .ok_or_else(|| PatchError(format!("{op} needs a \"value\"")))
    };
    match op {
        "add" => add(document, &path, value()?),
        "remove" => remove(document, &path).map(|_| ()),
        "replace" => {
            remove(document, &path)?;
            add(document, &path, value()?)
        }
        "move" => {
            let from = operation_path(operation, "from")?;
            let moved = remove(document, &from)?;
            add(document, &path, moved)
        }
        "copy" => {
            let from = operation_path(operation, "from")?;
            let copied = get(document, &from)?.clone();
            add(document, &path, copied)
        }
        "test" => {
            let expected = value()?;
            if *get(document, &path)? == expected {
                Ok(())
            } else {
                Err(PatchError(format!(
                    "testing value /{} failed",
                    path.join("/")
                )))
            }
        }
        other => Err(PatchError(format!("unknown operation {other:?}"))),
    }
}

fn missing(path: &[String]) -> PatchError {
    PatchError(format!("doc is missing path: /{}", path.join("/")))
}

fn get<'a>(document: &'a Value, path: &[String]) -> Result<&'a Value, PatchError> {
    let mut node = document;
    for token in path {
        node = match node {
            Value::Object(map) => map.get(token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| missing(path))?;
    }
    Ok(node)
}

fn parent_mut<'a>(
    document: &'a mut Value,
    path: &[String],
) -> Result<(&'a mut Value, String), PatchError> {
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| PatchError("the whole document cannot be the target".into()))?;
    let mut node = document;
    for token in parents {
        node = match node {
            Value::Object(map) => map.get_mut(token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| missing(path))?;
    }
    Ok((node, last.clone()))
}

fn add(document: &mut Value, path: &[String], value: Value) -> Result<(), PatchError> {
    if path.is_empty() {
        *document = value;
        return Ok(());
    }
    let (parent, last) = parent_mut(document, path)?;
    match parent {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| PatchError(format!("index {last} is out of range")))?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(missing(path)),
    }
}

fn remove(document: &mut Value, path: &[String]) -> Result<Value, PatchError> {
    let (parent, last) = parent_mut(document, path)?;
    match parent {
        Value::Object(map) => map.shift_remove(&last).ok_or_else(|| missing(path)),
        Value::Array(items) => {
            let index = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(|| missing(path))?;
            Ok(items.remove(index))
        }
        _ => Err(missing(path)),
    }
}

const PATCH_DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder/";
const DELETE_PRIMITIVES: &str = "$deleteFromPrimitiveList/";

/// A strategic merge patch over `target`, with list strategies from `shape`.
pub fn strategic_merge(target: &Value, patch: &Value, shape: &Shape) -> Result<Value, PatchError> {
    match merge_map_node(target, patch, shape)? {
        Some(value) => Ok(value),
        None => Err(PatchError(
            "a $patch: delete at the top of the patch would delete the object".into(),
        )),
    }
}

/// Merges a map node; `None` means the patch deletes it.
fn merge_map_node(
    target: &Value,
    patch: &Value,
    shape: &Shape,
) -> Result<Option<Value>, PatchError> {
    let Value::Object(patch_map) = patch else {
        return Ok(Some(patch.clone()));
    };
    match patch_map.get(PATCH_DIRECTIVE).and_then(Value::as_str) {
        Some("delete") => return Ok(None),
        Some("replace") => return Ok(Some(without_directives(patch))),
        Some("merge") | None => {}
        Some(other) => return Err(PatchError(format!("unknown $patch directive {other:?}"))),
    }
    let mut out = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut orders: Vec<(String, &Value)> = Vec::new();
    for (key, value) in patch_map {
        if key == PATCH_DIRECTIVE || key == RETAIN_KEYS {
            continue;
        }
        if let Some(field) = key.strip_prefix(SET_ORDER) {
            orders.push((field.to_string(), value));
            continue;
        }
        if let Some(field) = key.strip_prefix(DELETE_PRIMITIVES) {
            let doomed = value.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = out.get_mut(field) {
                items.retain(|item| !doomed.contains(item));
            }
            continue;
        }
        if value.is_null() {
            out.shift_remove(key);
            continue;
        }
        let child_shape = shape.field(key);
        let merged = match (out.get(key), value) {
            (Some(existing @ Value::Object(_)), Value::Object(_)) => {
                merge_map_node(existing, value, child_shape)?
            }
            (existing, Value::Array(items)) => Some(merge_list(
                existing.and_then(Value::as_array).map(Vec::as_slice),
                items,
                child_shape,
                key,
            )?),
            (_, Value::Object(_)) => {
                merge_map_node(&Value::Object(Map::new()), value, child_shape)?
            }
            _ => Some(value.clone()),
        };
        match merged {
            Some(v) => {
                out.insert(key.clone(), v);
            }
            None => {
                out.shift_remove(key);
            }
        }
    }
    for (field, order) in orders {
        if let (Some(Value::Array(items)), Some(order)) = (out.get_mut(&field), order.as_array()) {
            let strategy = shape.field(&field).patch_strategy();
            reorder(items, order, &strategy);
        }
    }
    if let Some(Value::Array(retain)) = patch_map.get(RETAIN_KEYS) {
        let keep: Vec<&str> = retain.iter().filter_map(Value::as_str).collect();
        out.retain(|key, _| keep.contains(&key.as_str()));
    }
    Ok(Some(Value::Object(out)))
}

fn without_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_list(
    target: Option<&[Value]>,
    patch: &[Value],
    shape: &Shape,
    field: &str,
) -> Result<Value, PatchError> {
    let target = target.unwrap_or(&[]);
    match shape.patch_strategy() {
        PatchStrategy::Replace => Ok(Value::Array(patch.iter().map(without_directives).collect())),
        PatchStrategy::MergePrimitives => {
            let mut out = target.to_vec();
            for item in patch {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            Ok(Value::Array(out))
        }
        PatchStrategy::MergeByKey(key) => {
            let replaces = patch
                .iter()
                .any(|item| item.get(PATCH_DIRECTIVE).and_then(Value::as_str) == Some("replace"));
            if replaces {
                return Ok(Value::Array(
                    patch
                        .iter()
                        .filter(|item| item.get(PATCH_DIRECTIVE).is_none())
                        .cloned()
                        .collect(),
                ));
            }
            let mut out = target.to_vec();
            for item in patch {
                let key_value = item.get(&key).ok_or_else(|| {
                    PatchError(format!(
                        "map: {item} does not contain declared merge key: {key} (in list {field})"
                    ))
                })?;
                let position = out.iter().position(|t| t.get(&key) == Some(key_value));
                let deletes = item.get(PATCH_DIRECTIVE).and_then(Value::as_str) == Some("delete");
                match (position, deletes) {
                    (Some(i), true) => {
                        out.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => {
                        if let Some(merged) = merge_map_node(&out[i], item, shape.item())? {
                            out[i] = merged;
                        }
                    }
                    (None, false) => {
                        if let Some(added) =
                            merge_map_node(&Value::Object(Map::new()), item, shape.item())?
                        {
                            out.push(added);
                        }
                    }
                }
            }
            Ok(Value::Array(out))
        }
    }
}

/// `$setElementOrder`: the listed items take the order given, in the slots
/// the listed items occupy; items the list does not name keep their place.
fn reorder(items: &mut [Value], order: &[Value], strategy: &PatchStrategy) {
    let rank = |item: &Value| -> Option<usize> {
        order.iter().position(|o| match strategy {
            PatchStrategy::MergeByKey(key) => o.get(key).is_some() && o.get(key) == item.get(key),
            _ => o == item,
        })
    };
    let slots: Vec<usize> = (0..items.len())
        .filter(|&i| rank(&items[i]).is_some())
        .collect();
    let mut listed: Vec<Value> = slots.iter().map(|&i| items[i].clone()).collect();
    listed.sort_by_key(|item| rank(item).unwrap_or(usize::MAX));
    for (slot, item) in slots.into_iter().zip(listed) {
        items[slot] = item;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::schema::builtin;
    use serde_json::json;

    #[test]
    fn merge_patch_null_deletes_and_objects_merge() {
        let target = json!({"a": 1, "b": {"c": 2, "d": 3}});
        let patched = merge_patch(&target, &json!({"a": null, "b": {"c": 5}}));
        assert_eq!(patched, json!({"b": {"c": 5, "d": 3}}));
    }

    #[test]
    fn json_patch_failure_names_the_operation_and_path() {
        let error = json_patch(
            &json!({"spec": {}}),
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 2}]),
        )
        .unwrap_err();
        assert_eq!(error.0, "operation 0: doc is missing path: /spec/replicas");
        let patched = json_patch(
            &json!({"a": [1, 2]}),
            &json!([{"op": "add", "path": "/a/-", "value": 3}, {"op": "test", "path": "/a/2", "value": 3}]),
        )
        .unwrap();
        assert_eq!(patched, json!({"a": [1, 2, 3]}));
    }

    #[test]
    fn strategic_patch_merges_containers_by_name_and_deletes_by_directive() {
        let shape = builtin("apps", "Deployment");
        let target = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1"}, {"name": "side", "image": "s:1"}
        ]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:2"}, {"name": "side", "$patch": "delete"}, {"name": "new", "image": "n"}
        ]}}}});
        let out = strategic_merge(&target, &patch, &shape).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "app", "image": "a:2"}, {"name": "new", "image": "n"}])
        );
    }

    #[test]
    fn strategic_patch_set_element_order_and_retain_keys() {
        let shape = builtin("apps", "Deployment");
        let target = json!({"spec": {
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
        }});
        let patch = json!({"spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null},
            "template": {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}
        }});
        let out = strategic_merge(&target, &patch, &shape).unwrap();
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b"}, {"name": "a"}])
        );
    }
}
