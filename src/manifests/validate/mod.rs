//! Checks loaded manifests the way the API server and the cluster would:
//! object shape, names and labels, duplicates (errors), and references that
//! Git does not resolve (warnings).

mod duplicates;
mod names;
mod pod_template;
mod references;
mod shape;

use serde_json::Value;

use super::DesiredState;
use super::load::Manifest;
use super::problems::Problems;

/// The objects of `manifests` with their identity, and every problem found.
/// `namespace` is the app's, for namespaced objects that name none.
pub fn validate(manifests: Vec<Manifest>, namespace: &str) -> (DesiredState, Problems) {
    let mut problems = Problems::default();
    let crd_scopes = shape::crd_scopes(&manifests);
    let objects: Vec<_> = manifests
        .into_iter()
        .filter_map(|manifest| shape::identify(manifest, namespace, &crd_scopes, &mut problems))
        .collect();
    for object in &objects {
        names::check(object, &mut problems);
    }
    duplicates::check(&objects, &mut problems);
    references::check(&objects, &mut problems);
    (DesiredState { objects }, problems)
}

/// `value.pointer(pointer)` without the two strings `Value::pointer` makes
/// for every segment: validation looks up a dozen fields in every object.
fn lookup<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    if pointer.contains('~') {
        return value.pointer(pointer);
    }
    let segments = pointer.strip_prefix('/')?;
    segments
        .split('/')
        .try_fold(value, |target, segment| match target {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => {
                let leading_zero = segment.starts_with('0') && segment.len() != 1;
                if segment.starts_with('+') || leading_zero {
                    return None;
                }
                items.get(segment.parse::<usize>().ok()?)
            }
            _ => None,
        })
}

/// "a list", "a number"…: what a value is, for messages.
fn kind_of_value(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lookups_find_what_json_pointers_find() {
        let value = json!({"a": {"b": [10, {"c": "d"}], "e/f": 1, "": 2}, "01": 3});
        for pointer in [
            "",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1/c",
            "/a/b/01",
            "/a/b/+1",
            "/a/b/2",
            "/a/e~1f",
            "/a/",
            "/01",
            "/a/b/1/c/x",
            "a",
            "/x/y",
        ] {
            assert_eq!(lookup(&value, pointer), value.pointer(pointer), "{pointer}");
        }
    }
}
