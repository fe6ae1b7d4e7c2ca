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
use super::cores;
use super::load::Manifest;
use super::problems::Problems;

/// Objects are checked in parts of this many, spread over the cores.
const PART: usize = 256;

/// The objects of `manifests` with their identity, and every problem found.
/// `namespace` is the app's, for namespaced objects that name none.
/// Problems come in the order of the checks, and within each check in the
/// order of the objects.
pub fn validate(manifests: Vec<Manifest>, namespace: &str) -> (DesiredState, Problems) {
    let crd_scopes = shape::crd_scopes(&manifests);
    let mut problems = Problems::default();
    let mut objects = Vec::with_capacity(manifests.len());
    let identified = each_part(in_parts(manifests), |part| {
        let mut found = Problems::default();
        let identified: Vec<_> = part
            .into_iter()
            .filter_map(|manifest| shape::identify(manifest, namespace, &crd_scopes, &mut found))
            .collect();
        (identified, found)
    });
    for (identified, found) in identified {
        objects.extend(identified);
        problems.extend(found);
    }
    let defined = references::Defined::new(&objects);
    let checked = each_part(objects.chunks(PART).collect(), |part| {
        let (mut named, mut referred) = (Problems::default(), Problems::default());
        for object in part {
            names::check(object, &mut named);
            references::check(object, &defined, &mut referred);
        }
        (named, referred)
    });
    let mut unresolved = Problems::default();
    for (named, referred) in checked {
        problems.extend(named);
        unresolved.extend(referred);
    }
    duplicates::check(&objects, &mut problems);
    problems.extend(unresolved);
    (DesiredState { objects }, problems)
}

/// `items` in parts of [`PART`].
fn in_parts<T>(items: Vec<T>) -> Vec<Vec<T>> {
    let mut items = items.into_iter();
    std::iter::from_fn(|| Some(items.by_ref().take(PART).collect::<Vec<_>>()))
        .take_while(|part| !part.is_empty())
        .collect()
}

/// `work` on every part, on the cores when there is more than one part;
/// results in the order of the parts.
fn each_part<P: Send, R: Send>(parts: Vec<P>, work: impl Fn(P) -> R + Sync) -> Vec<R> {
    if parts.len() < 2 {
        return parts.into_iter().map(work).collect();
    }
    cores::in_order(parts, std::thread::Builder::new, &work)
        .into_iter()
        // A part no thread could take is checked here.
        .map(|result| result.unwrap_or_else(&work))
        .collect()
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
