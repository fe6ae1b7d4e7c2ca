//! Is it a Kubernetes object at all, and what is its identity: group,
//! version, kind, namespace (defaulted for namespaced kinds), name.

use std::collections::HashMap;

use serde_json::Value;

use super::{kind_of_value, lookup};
use crate::manifests::DesiredObject;
use crate::manifests::identity::{ObjectId, Scope, built_in_scope};
use crate::manifests::load::Manifest;
use crate::manifests::problems::{Problem, Problems, Severity};

/// Scopes of the kinds that CustomResourceDefinitions in the desired state
/// define, by group and kind.
pub(super) fn crd_scopes(manifests: &[Manifest]) -> HashMap<(String, String), Scope> {
    manifests
        .iter()
        .filter(|m| {
            m.value.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
                && m.value
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.starts_with("apiextensions.k8s.io/"))
        })
        .filter_map(|m| {
            let spec = m.value.get("spec")?;
            let group = spec.get("group")?.as_str()?;
            let kind = spec.get("names")?.get("kind")?.as_str()?;
            let scope = match spec.get("scope")?.as_str()? {
                "Cluster" => Scope::Cluster,
                "Namespaced" => Scope::Namespaced,
                _ => return None,
            };
            Some(((group.to_string(), kind.to_string()), scope))
        })
        .collect()
}

/// The object a manifest describes, or `None` (after an error) when it is
/// not one.
pub(super) fn identify(
    manifest: Manifest,
    default_namespace: &str,
    crd_scopes: &HashMap<(String, String), Scope>,
    problems: &mut Problems,
) -> Option<crate::manifests::DesiredObject> {
    let not_an_object = |why: String| {
        Problem::at(
            Severity::Error,
            &manifest.origin,
            format!("not a Kubernetes object: {why}"),
        )
    };
    let Value::Object(fields) = &manifest.value else {
        let what = kind_of_value(&manifest.value);
        problems.push(not_an_object(format!(
            "the document is {what}, not a mapping"
        )));
        return None;
    };
    let mut reasons = Vec::new();
    let api_version = required_string(fields.get("apiVersion"), "apiVersion", &mut reasons);
    let kind = required_string(fields.get("kind"), "kind", &mut reasons);
    let name = match fields.get("metadata") {
        None => {
            reasons.push("\"metadata.name\" is missing".to_string());
            None
        }
        Some(Value::Object(metadata)) => {
            required_string(metadata.get("name"), "metadata.name", &mut reasons)
        }
        Some(other) => {
            reasons.push(format!(
                "\"metadata\" is {}, not a mapping",
                kind_of_value(other)
            ));
            None
        }
    };
    let (Some(api_version), Some(kind), Some(name), true) =
        (api_version, kind, name, reasons.is_empty())
    else {
        problems.push(not_an_object(reasons.join("; ")));
        return None;
    };
    let (group, version) = crate::resource::split_api_version(api_version);
    let scope = built_in_scope(group, kind)
        .or_else(|| {
            crd_scopes
                .get(&(group.to_string(), kind.to_string()))
                .copied()
        })
        .unwrap_or(Scope::Unknown);
    let written_namespace = lookup(&manifest.value, "/metadata/namespace")
        .filter(|ns| !matches!(ns, Value::Null) && ns.as_str() != Some(""));
    let written_namespace = match written_namespace {
        None => None,
        Some(Value::String(ns)) => Some(ns.as_str()),
        Some(other) => {
            problems.push(not_an_object(format!(
                "\"metadata.namespace\" is {}, not a string",
                kind_of_value(other)
            )));
            return None;
        }
    };
    let namespace = match scope {
        Scope::Cluster => None,
        Scope::Namespaced | Scope::Unknown => {
            Some(written_namespace.unwrap_or(default_namespace).to_string())
        }
    };
    let id = ObjectId {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        namespace,
        name: name.to_string(),
    };
    let warning = match (scope, written_namespace) {
        (Scope::Cluster, Some(written)) => Some(format!(
            "metadata.namespace \"{written}\" is ignored: {kind} is not namespaced"
        )),
        _ => None,
    };
    let object = DesiredObject::new(id, scope, manifest.value, manifest.origin, manifest.source);
    if let Some(warning) = warning {
        problems.push(Problem::on_field(
            Severity::Warning,
            &object,
            "/metadata/namespace",
            warning,
        ));
    }
    Some(object)
}

/// A non-empty string field, or a reason why not.
fn required_string<'a>(
    value: Option<&'a Value>,
    field: &str,
    reasons: &mut Vec<String>,
) -> Option<&'a str> {
    match value {
        None | Some(Value::Null) => reasons.push(format!("\"{field}\" is missing")),
        Some(Value::String(s)) if s.is_empty() => reasons.push(format!("\"{field}\" is empty")),
        Some(Value::String(s)) => return Some(s),
        Some(other) => reasons.push(format!(
            "\"{field}\" is {}, not a string",
            kind_of_value(other)
        )),
    }
    None
}
