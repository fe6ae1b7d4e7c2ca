//! Which fields an object declares that its kind does not: a built-in kind
//! is read through k8s-openapi's v1.33 types (a field they drop on a round
//! trip is one the API server does not know), a custom resource through its
//! CRD schema. The API server drops such fields with a warning, refuses
//! them under `fieldValidation=Strict`, and refuses them in server-side
//! apply; so does the simulated cluster.

use k8s_openapi::api::{apps, autoscaling, batch, coordination, core, networking, policy, rbac};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::catalog::ResourceType;
use super::defaults;

/// One step of a path into an object.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A field the kind does not declare.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownField {
    pub path: Vec<Step>,
}

impl UnknownField {
    /// As the API server names it: `spec.template.spec.containers[0].imagee`.
    pub fn display(&self) -> String {
        let mut text = String::new();
        for step in &self.path {
            match step {
                Step::Key(key) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(key);
                }
                Step::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        text
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(object: &Value) -> Option<Value> {
    let typed: T = serde_json::from_value(object.clone()).ok()?;
    serde_json::to_value(typed).ok()
}

/// The object as k8s-openapi's type for the kind reads it back, or `None`
/// for a kind without one or a value the type cannot read (the check is
/// then skipped rather than guessed).
fn typed_round_trip(group: &str, kind: &str, object: &Value) -> Option<Value> {
    match (group, kind) {
        ("", "Namespace") => round_trip::<core::v1::Namespace>(object),
        ("", "ConfigMap") => round_trip::<core::v1::ConfigMap>(object),
        ("", "Secret") => round_trip::<core::v1::Secret>(object),
        ("", "Service") => round_trip::<core::v1::Service>(object),
        ("", "ServiceAccount") => round_trip::<core::v1::ServiceAccount>(object),
        ("", "Pod") => round_trip::<core::v1::Pod>(object),
        ("", "PersistentVolumeClaim") => round_trip::<core::v1::PersistentVolumeClaim>(object),
        ("", "Endpoints") => round_trip::<core::v1::Endpoints>(object),
        ("", "Event") => round_trip::<core::v1::Event>(object),
        ("apps", "Deployment") => round_trip::<apps::v1::Deployment>(object),
        ("apps", "StatefulSet") => round_trip::<apps::v1::StatefulSet>(object),
        ("apps", "DaemonSet") => round_trip::<apps::v1::DaemonSet>(object),
        ("apps", "ReplicaSet") => round_trip::<apps::v1::ReplicaSet>(object),
        ("batch", "Job") => round_trip::<batch::v1::Job>(object),
        ("batch", "CronJob") => round_trip::<batch::v1::CronJob>(object),
        ("networking.k8s.io", "Ingress") => round_trip::<networking::v1::Ingress>(object),
        ("networking.k8s.io", "NetworkPolicy") => {
            round_trip::<networking::v1::NetworkPolicy>(object)
        }
        ("rbac.authorization.k8s.io", "Role") => round_trip::<rbac::v1::Role>(object),
        ("rbac.authorization.k8s.io", "RoleBinding") => round_trip::<rbac::v1::RoleBinding>(object),
        ("rbac.authorization.k8s.io", "ClusterRole") => round_trip::<rbac::v1::ClusterRole>(object),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            round_trip::<rbac::v1::ClusterRoleBinding>(object)
        }
        ("policy", "PodDisruptionBudget") => round_trip::<policy::v1::PodDisruptionBudget>(object),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            round_trip::<autoscaling::v2::HorizontalPodAutoscaler>(object)
        }
        ("coordination.k8s.io", "Lease") => round_trip::<coordination::v1::Lease>(object),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            round_trip::<CustomResourceDefinition>(object)
        }
        _ => None,
    }
}

/// Every field of `object` its kind does not declare, in document order.
pub fn unknown_fields(rt: &ResourceType, object: &Value) -> Vec<UnknownField> {
    if let Some(custom) = &rt.crd {
        return custom
            .schema
            .as_ref()
            .map(|schema| {
                defaults::unknown_fields(schema, object)
                    .into_iter()
                    .map(|path| UnknownField {
                        path: parse_path(&path),
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    let Some(known) = typed_round_trip(&rt.group, &rt.kind, object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    missing(object, &known, &mut Vec::new(), &mut out);
    out
}

fn parse_path(text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in text.split('.') {
        let (key, indexes) = part
            .split_once('[')
            .map_or((part, ""), |(k, rest)| (k, rest));
        steps.push(Step::Key(key.to_string()));
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                steps.push(Step::Index(i));
            }
        }
    }
    steps
}

/// Paths in `given` (with a value) that `known` lacks.
fn missing(given: &Value, known: &Value, path: &mut Vec<Step>, out: &mut Vec<UnknownField>) {
    match (given, known) {
        (Value::Object(given), Value::Object(known)) => {
            for (key, value) in given {
                if value.is_null() {
                    continue;
                }
                path.push(Step::Key(key.clone()));
                match known.get(key) {
                    Some(known_value) => missing(value, known_value, path, out),
                    None => out.push(UnknownField { path: path.clone() }),
                }
                path.pop();
            }
        }
        (Value::Array(given), Value::Array(known)) if given.len() == known.len() => {
            for (index, (g, k)) in given.iter().zip(known).enumerate() {
                path.push(Step::Index(index));
                missing(g, k, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Removes the unknown fields from the object, as the API server drops
/// them when it decodes a request.
pub fn drop_fields(object: &mut Value, fields: &[UnknownField]) {
    for field in fields {
        remove_path(object, &field.path);
    }
}

fn remove_path(value: &mut Value, path: &[Step]) {
    match path {
        [] => {}
        [Step::Key(key)] => {
            if let Value::Object(map) = value {
                map.shift_remove(key);
            }
        }
        [first, rest @ ..] => {
            let child = match (first, value) {
                (Step::Key(key), Value::Object(map)) => map.get_mut(key),
                (Step::Index(index), Value::Array(items)) => items.get_mut(*index),
                _ => None,
            };
            if let Some(child) = child {
                remove_path(child, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::catalog::Catalog;
    use serde_json::json;

    #[test]
    fn a_typo_in_a_deployment_is_an_unknown_field() {
        let rt = Catalog::builtin()
            .find("apps", "v1", "deployments")
            .unwrap();
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "b"}},
            "spec": {"replica": 2, "selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "imagee": "x", "image": "y"}]}}}});
        let unknown = unknown_fields(&rt, &d);
        let shown: Vec<String> = unknown.iter().map(UnknownField::display).collect();
        assert_eq!(
            shown,
            vec!["spec.replica", "spec.template.spec.containers[0].imagee"]
        );
        drop_fields(&mut d, &unknown);
        assert!(d["spec"].get("replica").is_none());
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "c", "image": "y"})
        );
    }

    #[test]
    fn a_valid_service_has_no_unknown_fields() {
        let rt = Catalog::builtin().find("", "v1", "services").unwrap();
        let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "creationTimestamp": null},
                       "spec": {"ports": [{"port": 80, "targetPort": "http"}], "selector": {"app": "web"}}});
        assert!(unknown_fields(&rt, &s).is_empty());
    }
}
