//! The order a sync applies objects in (DESIGN.md §10): by sync wave, then by
//! kind (what others depend on first), then by name.

use serde_json::Value;

/// driftdeck's sync-wave annotation.
pub const SYNC_WAVE_ANNOTATION: &str = "driftdeck.dev/sync-wave";
/// Argo CD's, honoured for repositories that migrate.
pub const ARGOCD_SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

/// Kinds in apply order; every other kind comes after them.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "Job",
    "CronJob",
    "Ingress",
    "APIService",
];

/// Where a kind goes in the apply order.
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// The sync wave an object asks for: driftdeck's annotation, else Argo
/// CD's, else 0. `Err` holds the text that is not a whole number.
pub fn wave_of(object: &Value) -> Result<i64, String> {
    let annotations = object.pointer("/metadata/annotations");
    let written = [SYNC_WAVE_ANNOTATION, ARGOCD_SYNC_WAVE_ANNOTATION]
        .iter()
        .find_map(|name| annotations?.get(*name));
    match written {
        None => Ok(0),
        Some(Value::String(text)) => text.trim().parse().map_err(|_| text.clone()),
        Some(Value::Number(number)) => number.as_i64().ok_or_else(|| number.to_string()),
        Some(other) => Err(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_rank_in_design_order_and_unknown_kinds_last() {
        assert!(kind_rank("Namespace") < kind_rank("Secret"));
        assert!(kind_rank("ConfigMap") < kind_rank("Deployment"));
        assert!(kind_rank("CustomResourceDefinition") < kind_rank("Service"));
        assert_eq!(kind_rank("Widget"), kind_rank("Gadget"));
        assert!(kind_rank("APIService") < kind_rank("Widget"));
    }

    #[test]
    fn wave_comes_from_driftdecks_annotation_then_argo_cds() {
        let with = |annotations: Value| json!({"metadata": {"annotations": annotations}});
        assert_eq!(wave_of(&json!({"metadata": {}})), Ok(0));
        assert_eq!(
            wave_of(&with(json!({"argocd.argoproj.io/sync-wave": "-2"}))),
            Ok(-2)
        );
        assert_eq!(
            wave_of(&with(json!({"argocd.argoproj.io/sync-wave": "-2",
                "driftdeck.dev/sync-wave": "5"}))),
            Ok(5)
        );
        assert_eq!(
            wave_of(&with(json!({"driftdeck.dev/sync-wave": "soon"}))),
            Err("soon".to_string())
        );
    }
}
