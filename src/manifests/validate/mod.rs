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
