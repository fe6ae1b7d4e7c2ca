//! Manual changes: fields a person set by hand (`kubectl edit`, `kubectl set
//! env`, k9s, …) are drift even where Git never set them, and a sync takes
//! them over and removes them, as Flux does. A field manager counts as
//! manual when it is one of `MANUAL_MANAGERS` or named in the config's
//! `[drift] manual_managers`; controllers' fields stay theirs.

use serde_json::Value;

/// The field managers of tools people change objects with by hand.
pub const MANUAL_MANAGERS: &[&str] = &[
    "kubectl-edit",
    "kubectl-patch",
    "kubectl-set",
    "kubectl-scale",
    "kubectl-label",
    "kubectl-annotate",
    "kubectl-client-side-apply",
    "kubectl-rollout",
    "k9s",
];

/// `kubectl apply` without `--server-side` writes as this manager. When it
/// created the object its entry also owns the server's defaults, so its
/// fields count only where kubectl's last-applied annotation holds them too.
pub const CLIENT_SIDE_APPLY: &str = "kubectl-client-side-apply";

/// The managers whose fields are manual changes: `MANUAL_MANAGERS` and those
/// the config adds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManualManagers {
    extra: Vec<String>,
}

impl ManualManagers {
    /// The built-in managers and `extra`.
    pub fn with_extra(extra: impl IntoIterator<Item = String>) -> ManualManagers {
        ManualManagers {
            extra: extra.into_iter().collect(),
        }
    }

    /// The built-in managers and those of the config's `[drift]` table.
    pub fn of(drift: &crate::config::DriftConfig) -> ManualManagers {
        ManualManagers::with_extra(drift.manual_managers.iter().cloned())
    }

    pub fn contains(&self, manager: &str) -> bool {
        MANUAL_MANAGERS.contains(&manager) || self.extra.iter().any(|m| m == manager)
    }

    /// The `managedFields` entries of manual managers in a live object.
    pub fn entries_in<'v>(&self, live: &'v Value) -> Vec<&'v Value> {
        live.pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| {
                        e.get("manager")
                            .and_then(Value::as_str)
                            .is_some_and(|m| self.contains(m))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a live object carries fields set by hand.
    pub fn changed_by_hand(&self, live: &Value) -> bool {
        !self.entries_in(live).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::compare::compare_with;
    use crate::drift::evidence::LAST_APPLIED_ANNOTATION;
    use crate::drift::field_change::ChangeKind;
    use serde_json::json;

    fn deployment(env: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.27", "env": env}]}}}})
    }

    fn owned_by(mut live: Value, manager: &str, fields: Value) -> Value {
        let entries = live["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut entries = entries;
        entries.push(json!({"manager": manager, "operation": "Update", "fieldsV1": fields}));
        live["metadata"]["managedFields"] = Value::Array(entries);
        live
    }

    fn backdoor_fields() -> Value {
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {"f:env": {
                "k:{\"name\":\"DEBUG_BACKDOOR\"}": {".": {}, "f:name": {}, "f:value": {}}}}}}}}})
    }

    fn with_backdoor() -> Value {
        deployment(json!([{"name": "LOG_LEVEL", "value": "info"},
            {"name": "DEBUG_BACKDOOR", "value": "1"}]))
    }

    #[test]
    fn field_set_by_hand_is_drift_naming_the_manager() {
        let desired = deployment(json!([{"name": "LOG_LEVEL", "value": "info"}]));
        let live = owned_by(with_backdoor(), "kubectl-set", backdoor_fields());
        let diff = compare_with(&desired, &live, &[], &ManualManagers::default());
        assert_eq!(diff.changes.len(), 1, "{:?}", diff.changes);
        let change = &diff.changes[0];
        assert_eq!(
            change.path,
            "spec.template.spec.containers[web].env[DEBUG_BACKDOOR]"
        );
        assert_eq!(change.change, ChangeKind::Removed);
        assert_eq!(change.by_hand.as_deref(), Some("kubectl-set"));
        assert!(
            diff.diff.contains("-        - name: DEBUG_BACKDOOR"),
            "{}",
            diff.diff
        );
    }

    #[test]
    fn controller_fields_are_not_drift() {
        let desired = deployment(json!([{"name": "LOG_LEVEL", "value": "info"}]));
        let live = owned_by(
            with_backdoor(),
            "kube-controller-manager",
            backdoor_fields(),
        );
        assert!(!compare_with(&desired, &live, &[], &ManualManagers::default()).is_drift());
        let hpa = owned_by(
            deployment(json!([{"name": "LOG_LEVEL", "value": "info"}])),
            "horizontal-pod-autoscaler",
            json!({"f:spec": {"f:replicas": {}}}),
        );
        let mut no_replicas = desired.clone();
        no_replicas["spec"]
            .as_object_mut()
            .unwrap()
            .remove("replicas");
        assert!(!compare_with(&no_replicas, &hpa, &[], &ManualManagers::default()).is_drift());
    }

    #[test]
    fn managers_from_the_config_count_as_manual() {
        let desired = deployment(json!([{"name": "LOG_LEVEL", "value": "info"}]));
        let live = owned_by(with_backdoor(), "lens", backdoor_fields());
        assert!(!compare_with(&desired, &live, &[], &ManualManagers::default()).is_drift());
        let manual = ManualManagers::with_extra(["lens".to_string()]);
        let diff = compare_with(&desired, &live, &[], &manual);
        assert_eq!(diff.changes[0].by_hand.as_deref(), Some("lens"));
    }

    #[test]
    fn labels_and_maps_set_by_hand_are_found_below_unowned_parents() {
        let desired = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "shop"}, "data": {"a": "1"}});
        let mut live = desired.clone();
        live["metadata"]["labels"] = json!({"hacked": "yes"});
        let live = owned_by(
            live,
            "kubectl-label",
            json!({"f:metadata": {"f:labels": {"f:hacked": {}}}}),
        );
        let diff = compare_with(&desired, &live, &[], &ManualManagers::default());
        assert_eq!(diff.changes.len(), 1);
        assert_eq!(diff.changes[0].path, "metadata.labels.hacked");
        assert_eq!(diff.changes[0].by_hand.as_deref(), Some("kubectl-label"));
    }

    #[test]
    fn client_side_apply_counts_only_where_last_applied_has_the_field() {
        // A `kubectl apply` that created the object owns the server's
        // defaults too; those are not changes by hand.
        let desired = deployment(json!([{"name": "LOG_LEVEL", "value": "info"}]));
        let mut live = desired.clone();
        live["spec"]["progressDeadlineSeconds"] = json!(600);
        live["spec"]["paused"] = json!(true);
        let live = owned_by(
            live,
            CLIENT_SIDE_APPLY,
            json!({"f:spec": {"f:progressDeadlineSeconds": {}, "f:paused": {}}}),
        );
        let manual = ManualManagers::default();
        assert!(!compare_with(&desired, &live, &[], &manual).is_drift());
        let mut applied = live.clone();
        applied["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION:
            json!({"spec": {"paused": true}}).to_string()});
        let diff = compare_with(&desired, &applied, &[], &manual);
        assert_eq!(diff.changes.len(), 1, "{:?}", diff.changes);
        assert_eq!(diff.changes[0].path, "spec.paused");
        assert_eq!(diff.changes[0].by_hand.as_deref(), Some(CLIENT_SIDE_APPLY));
    }

    #[test]
    fn entries_of_manual_managers_are_found() {
        let live = owned_by(with_backdoor(), "kubectl-set", backdoor_fields());
        let live = owned_by(live, "kube-controller-manager", json!({}));
        let manual = ManualManagers::default();
        assert_eq!(manual.entries_in(&live).len(), 1);
        assert!(manual.changed_by_hand(&live));
        assert!(!manual.changed_by_hand(&with_backdoor()));
    }
}
