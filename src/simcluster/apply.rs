//! Server-side apply: merge an applied configuration into the live object,
//! remove what this manager applied before and no longer applies (unless
//! someone else owns it), and refuse to change fields other managers own
//! unless forced. Follows structured-merge-diff's `Updater.Apply`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, PathElement, display_path, field};
use super::managed_fields::{
    ManagedFields, Operation, Untracked, Writer, compare, field_set, item_element_or_index,
};
use super::schema::{ListMerge, NodeKind, Shape};
use super::status::{ApiError, Cause};

/// What an apply asks for.
pub struct ApplyRequest<'a> {
    pub config: &'a Value,
    pub shape: &'a Shape,
    pub force: bool,
    pub writer: Writer<'a>,
    pub untracked: &'a Untracked,
    /// Top-level fields whose live value wins over the configuration (status
    /// on kinds with a status subresource).
    pub reset_fields: &'a [&'a str],
}

/// Applies `request.config` over `live` (an empty object when creating) and
/// updates `managed`. The result is not yet defaulted.
pub fn apply(
    live: &Value,
    managed: &mut ManagedFields,
    request: &ApplyRequest<'_>,
) -> Result<Value, ApiError> {
    let config_set = field_set(request.config, request.shape).map_err(|missing| {
        ApiError::bad_request(format!(
            "failed to create typed patch object: {}: element {}: associative list with keys has an element that omits key field \"{}\" (and doesn't have default value)",
            missing.path, missing.index, missing.key
        ))
    })?;
    let applied = request.untracked.strip(&config_set);
    let mut merged = merge(live, request.config, request.shape);

    let previous = managed
        .find(
            request.writer.manager,
            Operation::Apply,
            request.writer.subresource,
        )
        .map(|e| e.fields.clone());
    managed.set(Operation::Apply, &request.writer, applied);
    if let Some(previous) = previous {
        let owned_now = managed.union();
        let dropped = previous.difference(&owned_now);
        prune(&mut merged, &dropped, &owned_now, request.shape);
    }
    for field_name in request.reset_fields {
        match live.get(*field_name) {
            Some(value) => set_field(&mut merged, field_name, value.clone()),
            None => remove_field(&mut merged, field_name),
        }
    }

    let comparison = compare(live, &merged, request.shape);
    let changed = request.untracked.strip(&comparison.changed());
    let removed = request.untracked.strip(&comparison.removed);
    let mut conflicts: Vec<(String, Vec<Vec<PathElement>>)> = Vec::new();
    for entry in &mut managed.entries {
        if entry.operation == Operation::Apply
            && entry.manager == request.writer.manager
            && entry.subresource == request.writer.subresource
        {
            continue;
        }
        let clash = entry.fields.intersection(&changed);
        if !clash.is_empty() {
            conflicts.push((entry.describe(), clash.paths()));
            if request.force {
                entry.fields = entry.fields.difference(&clash);
            }
        }
        entry.fields = entry.fields.difference(&removed);
    }
    if !conflicts.is_empty() && !request.force {
        return Err(conflict_error(conflicts));
    }
    managed.drop_empty();
    Ok(merged)
}

fn set_field(object: &mut Value, name: &str, value: Value) {
    if let Value::Object(map) = object {
        map.insert(name.to_string(), value);
    }
}

fn remove_field(object: &mut Value, name: &str) {
    if let Value::Object(map) = object {
        map.shift_remove(name);
    }
}

/// The 409 the API server answers: `Apply failed with 2 conflicts:
/// conflicts with "m" using apps/v1:\n- .spec.replicas...`.
fn conflict_error(mut conflicts: Vec<(String, Vec<Vec<PathElement>>)>) -> ApiError {
    conflicts.sort_by(|a, b| a.0.cmp(&b.0));
    let total: usize = conflicts.iter().map(|(_, paths)| paths.len()).sum();
    let mut causes = Vec::new();
    for (manager, paths) in &conflicts {
        for path in paths {
            causes.push(Cause {
                reason: "FieldManagerConflict",
                message: format!("conflict with {manager}"),
                field: display_path(path),
            });
        }
    }
    let message = if total == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            conflicts[0].0, causes[0].field
        )
    } else {
        let mut lines = Vec::new();
        for (manager, paths) in &conflicts {
            lines.push(format!("conflicts with {manager}:"));
            for path in paths {
                lines.push(format!("- {}", display_path(path)));
            }
        }
        format!("Apply failed with {total} conflicts: {}", lines.join("\n"))
    };
    ApiError::apply_conflict(message, causes)
}

/// Merges `config` into `live`: maps key by key, keyed lists item by item
/// (keeping live-only items in place), everything else replaced. A `null`
/// in the configuration removes the field.
pub fn merge(live: &Value, config: &Value, shape: &Shape) -> Value {
    match (shape.classify(config), live, config) {
        (NodeKind::Fields { .. }, Value::Object(live_map), Value::Object(config_map)) => {
            let mut out = live_map.clone();
            for (key, config_child) in config_map {
                if config_child.is_null() {
                    out.shift_remove(key);
                    continue;
                }
                let merged = match live_map.get(key) {
                    Some(live_child) => merge(live_child, config_child, shape.field(key)),
                    None => drop_nulls(config_child),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (NodeKind::List(list), Value::Array(live_items), Value::Array(config_items)) => {
            let element = |item: &Value, index: usize| item_element_or_index(list, item, index);
            let merged = merge_lists(live_items, config_items, element, |l, c| {
                if list.merge == ListMerge::Set {
                    c.clone()
                } else {
                    merge(l, c, &list.item)
                }
            });
            Value::Array(merged)
        }
        _ => drop_nulls(config),
    }
}

fn drop_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), drop_nulls(v)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// structured-merge-diff's list merge: items both sides have come in the
/// configuration's order, live-only items stay where they were, new items
/// follow the configuration item before them.
fn merge_lists(
    live: &[Value],
    config: &[Value],
    element: impl Fn(&Value, usize) -> PathElement,
    merge_item: impl Fn(&Value, &Value) -> Value,
) -> Vec<Value> {
    let live_elements: Vec<PathElement> = live
        .iter()
        .enumerate()
        .map(|(i, v)| element(v, i))
        .collect();
    let config_elements: Vec<PathElement> = config
        .iter()
        .enumerate()
        .map(|(i, v)| element(v, i))
        .collect();
    let mut live_index: HashMap<&PathElement, usize> = HashMap::new();
    for (i, e) in live_elements.iter().enumerate() {
        live_index.entry(e).or_insert(i);
    }
    let config_present: HashSet<&PathElement> = config_elements.iter().collect();
    let mut shared = config_elements
        .iter()
        .filter(|e| live_index.contains_key(e))
        .peekable();
    let mut next_shared = shared.next();
    let mut merged_config: HashSet<&PathElement> = HashSet::new();
    let mut out = Vec::with_capacity(live.len().max(config.len()));
    let (mut li, mut ci) = (0, 0);
    while li < live.len() || ci < config.len() {
        if li < live.len() && ci < config.len() {
            let le = &live_elements[li];
            if *le == config_elements[ci] {
                merged_config.insert(le);
                out.push(merge_item(&live[li], &config[ci]));
                li += 1;
                ci += 1;
                next_shared = shared.next();
                continue;
            }
            if config_present.contains(le) && next_shared.is_some_and(|n| n != le) {
                li += 1;
                continue;
            }
        }
        if li < live.len() {
            let le = &live_elements[li];
            if !config_present.contains(le) {
                out.push(live[li].clone());
                li += 1;
                continue;
            }
            if merged_config.contains(le) {
                li += 1;
                continue;
            }
        }
        if ci < config.len() {
            let ce = &config_elements[ci];
            merged_config.insert(ce);
            out.push(match live_index.get(ce) {
                Some(&i) => merge_item(&live[i], &config[ci]),
                None => drop_nulls(&config[ci]),
            });
            ci += 1;
            if next_shared == Some(ce) {
                next_shared = shared.next();
            }
        }
    }
    out
}

/// Removes the `dropped` paths from `value`, except where someone still
/// owns something at or below them.
fn prune(value: &mut Value, dropped: &FieldSet, owned: &FieldSet, shape: &Shape) {
    prune_node(value, dropped, Some(owned), shape);
}

fn prune_node(value: &mut Value, dropped: &FieldSet, owned: Option<&FieldSet>, shape: &Shape) {
    match shape.classify(value) {
        NodeKind::Fields { .. } => {
            let Value::Object(map) = value else { return };
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let element = field(&key);
                let Some(dropped_child) = dropped.child(&element) else {
                    continue;
                };
                let owned_child = owned.and_then(|o| o.child(&element));
                if removable(dropped_child, owned_child) {
                    map.shift_remove(&key);
                } else if let Some(child) = map.get_mut(&key) {
                    prune_node(child, dropped_child, owned_child, shape.field(&key));
                }
            }
        }
        NodeKind::List(list) => {
            let Value::Array(items) = value else { return };
            let mut kept = Vec::with_capacity(items.len());
            for (index, mut item) in std::mem::take(items).into_iter().enumerate() {
                let element = item_element_or_index(list, &item, index);
                match dropped.child(&element) {
                    None => kept.push(item),
                    Some(dropped_child) => {
                        let owned_child = owned.and_then(|o| o.child(&element));
                        if !removable(dropped_child, owned_child) {
                            prune_node(&mut item, dropped_child, owned_child, &list.item);
                            kept.push(item);
                        }
                    }
                }
            }
            *items = kept;
        }
        NodeKind::Leaf => {}
    }
}

fn removable(dropped: &FieldSet, owned: Option<&FieldSet>) -> bool {
    dropped.contains(&[]) && owned.is_none_or(FieldSet::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::schema::builtin;
    use serde_json::json;

    fn request<'a>(
        config: &'a Value,
        shape: &'a Shape,
        manager: &'a str,
        force: bool,
        untracked: &'a Untracked,
    ) -> ApplyRequest<'a> {
        ApplyRequest {
            config,
            shape,
            force,
            writer: Writer {
                manager,
                api_version: "apps/v1",
                subresource: "",
                now: "2025-01-01T00:00:00Z",
            },
            untracked,
            reset_fields: &["status"],
        }
    }

    fn config(replicas: Option<i64>, containers: Value) -> Value {
        let mut spec = json!({"template": {"spec": {"containers": containers}}});
        if let Some(r) = replicas {
            spec["replicas"] = json!(r);
        }
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec})
    }

    #[test]
    fn reapplying_without_a_field_removes_it_when_nobody_else_owns_it() {
        let shape = builtin("apps", "Deployment");
        let untracked = Untracked::main_resource(true);
        let mut managed = ManagedFields::default();
        let first = config(
            Some(3),
            json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]),
        );
        let live = apply(
            &json!({}),
            &mut managed,
            &request(&first, &shape, "me", false, &untracked),
        )
        .unwrap();
        let second = config(None, json!([{"name": "a", "image": "x"}]));
        let live = apply(
            &live,
            &mut managed,
            &request(&second, &shape, "me", false, &untracked),
        )
        .unwrap();
        assert!(live["spec"].get("replicas").is_none());
        assert_eq!(
            live["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn changing_a_field_another_manager_owns_conflicts_unless_forced() {
        let shape = builtin("apps", "Deployment");
        let untracked = Untracked::main_resource(true);
        let mut managed = ManagedFields::default();
        let mine = config(Some(3), json!([{"name": "a", "image": "x"}]));
        let live = apply(
            &json!({}),
            &mut managed,
            &request(&mine, &shape, "me", false, &untracked),
        )
        .unwrap();
        let theirs = config(Some(5), json!([{"name": "a", "image": "z"}]));
        let error = apply(
            &live,
            &mut managed.clone(),
            &request(&theirs, &shape, "you", false, &untracked),
        )
        .unwrap_err();
        assert_eq!(error.code, 409);
        assert!(
            error
                .message
                .starts_with("Apply failed with 2 conflicts: conflicts with \"me\":"),
            "{}",
            error.message
        );
        assert!(error.message.contains("- .spec.replicas"));
        assert!(
            error
                .message
                .contains("- .spec.template.spec.containers[name=\"a\"].image")
        );
        let forced = apply(
            &live,
            &mut managed,
            &request(&theirs, &shape, "you", true, &untracked),
        )
        .unwrap();
        assert_eq!(forced["spec"]["replicas"], 5);
        let me = managed.find("me", Operation::Apply, "").unwrap();
        assert!(!me.fields.contains(&[field("spec"), field("replicas")]));
    }

    #[test]
    fn applying_the_same_value_shares_ownership_without_conflict() {
        let shape = builtin("apps", "Deployment");
        let untracked = Untracked::main_resource(true);
        let mut managed = ManagedFields::default();
        let mine = config(Some(3), json!([{"name": "a", "image": "x"}]));
        let live = apply(
            &json!({}),
            &mut managed,
            &request(&mine, &shape, "me", false, &untracked),
        )
        .unwrap();
        let again = apply(
            &live,
            &mut managed,
            &request(&mine, &shape, "you", false, &untracked),
        )
        .unwrap();
        assert_eq!(again, live);
        assert_eq!(managed.entries.len(), 2);
    }

    #[test]
    fn list_merge_keeps_live_only_items_in_place() {
        let live = vec![
            json!({"name": "a"}),
            json!({"name": "side"}),
            json!({"name": "b"}),
        ];
        let config = vec![
            json!({"name": "b"}),
            json!({"name": "a"}),
            json!({"name": "c"}),
        ];
        let element = |v: &Value, _| PathElement::key(&[("name".into(), v["name"].clone())]);
        let merged = merge_lists(&live, &config, element, |_, c| c.clone());
        let names: Vec<&str> = merged.iter().map(|v| v["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["side", "b", "a", "c"]);
    }
}
