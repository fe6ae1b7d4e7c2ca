//! Health of a live object by Argo CD's rules per kind (gitops-engine's
//! built-in checks and Argo CD's CronJob and CRD checks), and from
//! `status.conditions` for every other kind.

mod api;
mod autoscaling;
mod batch;
mod conditions;
mod network;
mod pod;
mod storage;
mod workloads;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lookup::at;
use crate::resource::group_of;

/// How healthy an object is. The order is from best to worst, so an app's
/// health is the `max` of its resources'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Health {
    Healthy,
    /// Paused or suspended on purpose.
    Suspended,
    Progressing,
    /// In Git, not in the cluster.
    Missing,
    Degraded,
    /// Could not be assessed.
    Unknown,
}

/// A health and the one-line reason for it (empty when there is nothing to say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthAssessment {
    pub status: Health,
    pub message: String,
}

impl HealthAssessment {
    pub fn new(status: Health, message: impl Into<String>) -> HealthAssessment {
        HealthAssessment {
            status,
            message: message.into(),
        }
    }
}

impl Health {
    /// The state's word, as the screen shows it and the filter matches it.
    pub fn word(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Progressing => "Progressing",
            Health::Suspended => "Suspended",
            Health::Missing => "Missing",
            Health::Degraded => "Degraded",
            Health::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The health of a live object.
pub fn health(live: &Value) -> HealthAssessment {
    if live
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|t| !t.is_null())
    {
        return HealthAssessment::new(Health::Progressing, "pending deletion");
    }
    let group = group_of(text(live, "/apiVersion"));
    match (group, text(live, "/kind")) {
        ("apps", "Deployment") => workloads::deployment(live),
        ("apps", "StatefulSet") => workloads::stateful_set(live),
        ("apps", "DaemonSet") => workloads::daemon_set(live),
        ("apps", "ReplicaSet") => workloads::replica_set(live),
        ("", "Pod") => pod::pod(live),
        ("", "Service") => network::service(live),
        ("networking.k8s.io" | "extensions", "Ingress") => network::ingress(live),
        ("", "PersistentVolumeClaim") => storage::persistent_volume_claim(live),
        ("batch", "Job") => batch::job(live),
        ("batch", "CronJob") => batch::cron_job(live),
        ("autoscaling", "HorizontalPodAutoscaler") => autoscaling::horizontal_pod_autoscaler(live),
        ("apiregistration.k8s.io", "APIService") => api::api_service(live),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            api::custom_resource_definition(live)
        }
        _ => conditions::from_conditions(live),
    }
}

/// The string at a path, `""` when absent.
fn text<'v>(object: &'v Value, path: &str) -> &'v str {
    at(object, path).and_then(Value::as_str).unwrap_or("")
}

/// The integer at a path, 0 when absent (as Go's typed structs read it).
fn int(object: &Value, path: &str) -> i64 {
    at(object, path).and_then(Value::as_i64).unwrap_or(0)
}

/// The integer at a path, `None` when absent.
fn optional_int(object: &Value, path: &str) -> Option<i64> {
    at(object, path).and_then(Value::as_i64)
}

/// The entries of `status.conditions` (or of another list of conditions).
fn condition_list(list: Option<&Value>) -> &[Value] {
    list.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The condition of the given type in `status.conditions`.
fn condition<'v>(object: &'v Value, kind: &str) -> Option<&'v Value> {
    condition_list(at(object, "/status/conditions"))
        .iter()
        .find(|c| text(c, "/type") == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn health_order_puts_the_worst_last() {
        let mut all = vec![
            Health::Unknown,
            Health::Degraded,
            Health::Missing,
            Health::Progressing,
            Health::Suspended,
            Health::Healthy,
        ];
        all.sort();
        assert_eq!(
            all,
            vec![
                Health::Healthy,
                Health::Suspended,
                Health::Progressing,
                Health::Missing,
                Health::Degraded,
                Health::Unknown
            ]
        );
    }

    #[test]
    fn an_object_being_deleted_is_progressing() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "deletionTimestamp": "2024-01-01T00:00:00Z"},
            "status": {"phase": "Running"}});
        assert_eq!(health(&pod).status, Health::Progressing);
    }

    #[test]
    fn a_kind_without_health_signals_is_healthy() {
        let config_map =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(
            health(&config_map),
            HealthAssessment::new(Health::Healthy, "")
        );
    }

    #[test]
    fn health_never_panics_on_odd_shapes() {
        for odd in [
            json!(null),
            json!([]),
            json!({"kind": "Deployment", "apiVersion": "apps/v1", "spec": "x", "status": 3}),
            json!({"kind": "Pod", "apiVersion": "v1", "status": {"containerStatuses": "x"}}),
            json!({"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v1",
                "metadata": {"annotations": {"autoscaling.alpha.kubernetes.io/conditions": "["}}}),
        ] {
            let _ = health(&odd);
        }
    }
}
