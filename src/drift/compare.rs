//! Desired against live, by the rules of README "Drift and health" (map in
//! docs/ARCHITECTURE.md): a field Git sets must have the
//! same meaning live; a field only live is drift only with evidence that Git
//! set it before; lists with a merge key pair item by item in any order.
//! The walk that applies the rules is `walk.rs`.

use std::borrow::Cow;

use serde_json::Value;

use super::evidence::Evidence;
use super::field_change::ResourceDiff;
use super::ignore_rules::{pointers_for, remove_pointer};
use super::manual_changes::ManualManagers;
use super::normalize::{Normalization, display_form};
use super::secret_mask;
use super::walk::Walk;
use super::yaml_diff;
use crate::config::IgnoreRule;
use crate::resource::ResourceKey;

/// Compares a desired object with its live counterpart. The app's ignore
/// rules that match the object (group, kind, name, namespace) take their
/// pointers out of both sides, whatever the other rules would say.
/// Fields that the built-in manual-change managers set are drift.
pub fn compare(desired: &Value, live: &Value, ignore: &[IgnoreRule]) -> ResourceDiff {
    compare_with(desired, live, ignore, &ManualManagers::default())
}

/// `compare`, with the config's list of manual-change managers.
pub fn compare_with(
    desired: &Value,
    live: &Value,
    ignore: &[IgnoreRule],
    manual: &ManualManagers,
) -> ResourceDiff {
    let evidence = Evidence::with_manual(live, manual);
    let (mut desired, mut live) = if secret_mask::is_secret(desired) || secret_mask::is_secret(live)
    {
        let (desired, live) = secret_mask::mask_pair(desired, live);
        (Cow::Owned(desired), Cow::Owned(live))
    } else {
        (Cow::Borrowed(desired), Cow::Borrowed(live))
    };
    if !ignore.is_empty()
        && let Ok(key) = ResourceKey::of(&live).or_else(|_| ResourceKey::of(&desired))
    {
        for pointer in pointers_for(&key, ignore) {
            remove_pointer(desired.to_mut(), pointer);
            remove_pointer(live.to_mut(), pointer);
        }
    }
    let rules = Normalization::for_pair(&desired, &live);
    let mut walk = Walk::new(&rules, &evidence, false);
    walk.both(&desired, &live);
    if walk.changes.is_empty() {
        return ResourceDiff::default();
    }
    // Drift: walk again, building what live would be after a sync, for the diff.
    let mut walk = Walk::new(&rules, &evidence, true);
    let after_sync = walk.both(&desired, &live).unwrap_or(Value::Null);
    let diff = yaml_diff::unified(
        &diff_label(&live),
        &display_form(rules.strip(&live), &live),
        &display_form(after_sync, &live),
    );
    ResourceDiff {
        changes: walk.changes,
        diff,
    }
}

/// `Deployment/shop/web` for diff headers.
pub(crate) fn diff_label(object: &Value) -> String {
    match ResourceKey::of(object) {
        Ok(key) => format!("{}/{}", key.kind, key.qualified_name()),
        Err(_) => "object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::evidence::LAST_APPLIED_ANNOTATION;
    use crate::drift::field_change::ChangeKind;
    use crate::drift::secret_mask::{MASK_GIT_DIFFERS, MASK_LIVE_DIFFERS};
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": spec})
    }

    fn with_last_applied(mut live: Value, applied: &Value) -> Value {
        live["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: applied.to_string()});
        live
    }

    fn paths(diff: &ResourceDiff) -> Vec<&str> {
        diff.changes.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn server_defaults_and_status_are_not_drift() {
        let desired = deployment(json!({"replicas": 2, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}));
        let mut live = deployment(json!({"replicas": 2, "progressDeadlineSeconds": 600,
            "template": {"metadata": {"creationTimestamp": null}, "spec": {"dnsPolicy": "ClusterFirst",
            "containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {}}]}}}));
        live["metadata"]["uid"] = json!("1234");
        live["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "7"});
        live["status"] = json!({"replicas": 2});
        let diff = compare(&desired, &live, &[]);
        assert!(!diff.is_drift(), "{:?}", diff.changes);
        assert_eq!(diff.diff, "");
    }

    #[test]
    fn field_set_in_git_must_match_live() {
        let desired = deployment(json!({"replicas": 3, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.27"}]}}}));
        let live = deployment(json!({"replicas": 2, "template": {"spec": {"containers": [
            {"name": "sidecar", "image": "envoy"}, {"name": "web", "image": "nginx:1.25"}]}}}));
        let diff = compare(&desired, &live, &[]);
        assert_eq!(
            paths(&diff),
            vec!["spec.replicas", "spec.template.spec.containers[web].image"]
        );
        let image = &diff.changes[1];
        assert_eq!(image.pointer, "/spec/template/spec/containers/1/image");
        assert_eq!(image.change, ChangeKind::Changed);
        assert_eq!(image.live, Some(json!("nginx:1.25")));
        assert_eq!(image.desired, Some(json!("nginx:1.27")));
        assert!(
            diff.diff
                .contains("-        image: nginx:1.25\n+        image: nginx:1.27\n"),
            "{}",
            diff.diff
        );
        assert!(
            diff.diff.contains("-  replicas: 2\n+  replicas: 3\n"),
            "{}",
            diff.diff
        );
    }

    #[test]
    fn live_only_field_is_drift_only_with_evidence() {
        let desired = deployment(json!({"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "A", "value": "1"}]}]}}}));
        let live = deployment(json!({"paused": true, "template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]}]}}}));
        assert!(!compare(&desired, &live, &[]).is_drift());

        let applied = deployment(json!({"paused": true, "template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}}}));
        let diff = compare(&desired, &with_last_applied(live.clone(), &applied), &[]);
        assert_eq!(
            paths(&diff),
            vec!["spec.paused", "spec.template.spec.containers[web].env[B]"]
        );
        assert!(diff.changes.iter().all(|c| c.change == ChangeKind::Removed));
        assert_eq!(
            diff.changes[1].pointer,
            "/spec/template/spec/containers/0/env/0"
        );

        let mut owned = live;
        owned["metadata"]["managedFields"] = json!([{"manager": "driftdeck", "operation": "Apply",
            "fieldsV1": {"f:spec": {"f:paused": {}}}}]);
        assert_eq!(paths(&compare(&desired, &owned, &[])), vec!["spec.paused"]);
    }

    #[test]
    fn null_equals_absent_and_empty() {
        let desired = json!({"kind": "ClusterRole", "metadata": {"name": "r", "creationTimestamp": null},
            "rules": [], "aggregationRule": null});
        let live = json!({"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": null});
        assert!(!compare(&desired, &live, &[]).is_drift());
    }

    #[test]
    fn numbers_and_quantities_compare_by_meaning() {
        let desired = deployment(
            json!({"replicas": 1.0, "template": {"spec": {"containers": [
            {"name": "web", "resources": {"limits": {"cpu": 1, "memory": "1Gi"},
                "requests": {"cpu": "0.5"}}}]}}}),
        );
        let live = deployment(json!({"replicas": 1, "template": {"spec": {"containers": [
            {"name": "web", "resources": {"limits": {"cpu": "1000m", "memory": "1024Mi"},
                "requests": {"cpu": "500m"}}}]}}}));
        assert!(!compare(&desired, &live, &[]).is_drift());
        let mut more = live.clone();
        more["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] =
            json!("2");
        assert_eq!(
            paths(&compare(&desired, &more, &[])),
            vec!["spec.template.spec.containers[web].resources.limits.cpu"]
        );
    }

    #[test]
    fn int_or_string_compares_as_written() {
        let service = |target: Value| {
            json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": target}]}})
        };
        let diff = compare(&service(json!("8080")), &service(json!(8080)), &[]);
        assert_eq!(paths(&diff), vec!["spec.ports[80/TCP].targetPort"]);
    }

    #[test]
    fn merge_keyed_lists_compare_in_any_order() {
        let desired = deployment(json!({"template": {"spec": {"volumes": [
            {"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "c"}}]}}}));
        let live = deployment(json!({"template": {"spec": {"volumes": [
            {"name": "b", "configMap": {"name": "c", "defaultMode": 420}}, {"name": "a", "emptyDir": {}}]}}}));
        assert!(!compare(&desired, &live, &[]).is_drift());
    }

    #[test]
    fn items_added_in_git_are_drift() {
        let service = |ports: Value| {
            json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s"}, "spec": {"ports": ports}})
        };
        let desired = service(json!([{"port": 53}, {"port": 53, "protocol": "UDP"}]));
        let live = service(json!([{"port": 53, "protocol": "TCP"}]));
        let diff = compare(&desired, &live, &[]);
        assert_eq!(paths(&diff), vec!["spec.ports[53/UDP]"]);
        assert_eq!(diff.changes[0].change, ChangeKind::Added);
        assert_eq!(diff.changes[0].pointer, "/spec/ports/1");
    }

    #[test]
    fn other_lists_compare_as_a_whole() {
        let desired = deployment(json!({"template": {"spec": {"containers": [
            {"name": "web", "args": ["--a", "--b"]}]}}}));
        let reordered = deployment(json!({"template": {"spec": {"containers": [
            {"name": "web", "args": ["--b", "--a"]}]}}}));
        assert_eq!(compare(&desired, &reordered, &[]).changes.len(), 2);
        let longer = deployment(json!({"template": {"spec": {"containers": [
            {"name": "web", "args": ["--a", "--b", "--c"]}]}}}));
        let diff = compare(&desired, &longer, &[]);
        assert_eq!(
            paths(&diff),
            vec!["spec.template.spec.containers[web].args"]
        );
    }

    #[test]
    fn finalizers_compare_as_a_set() {
        let object = |finalizers: Value| {
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "c", "finalizers": finalizers}})
        };
        let desired = object(json!(["example.com/a"]));
        let live = object(json!(["kubernetes.io/pvc-protection", "example.com/a"]));
        assert!(!compare(&desired, &live, &[]).is_drift());
    }

    #[test]
    fn ignore_rules_are_applied_last() {
        let desired = deployment(json!({"replicas": 3}));
        let live = deployment(json!({"replicas": 5}));
        let rule = IgnoreRule {
            group: Some("apps".to_string()),
            kind: Some("Deployment".to_string()),
            name: None,
            namespace: Some("shop".to_string()),
            pointers: vec!["/spec/replicas".to_string()],
        };
        assert!(!compare(&desired, &live, std::slice::from_ref(&rule)).is_drift());
        let other = IgnoreRule {
            kind: Some("StatefulSet".to_string()),
            ..rule
        };
        assert!(compare(&desired, &live, &[other]).is_drift());
    }

    #[test]
    fn driftdeck_stamps_are_not_drift() {
        let desired = deployment(json!({"replicas": 1}));
        let mut live = deployment(json!({"replicas": 1}));
        live["metadata"]["labels"] =
            json!({"driftdeck.dev/app": "shop", "app.kubernetes.io/managed-by": "driftdeck"});
        live["metadata"]["annotations"] = json!({"driftdeck.dev/revision": "3f2a91c"});
        live["metadata"]["managedFields"] = json!([{"manager": "driftdeck", "operation": "Apply", "fieldsV1": {"f:metadata": {
            "f:labels": {"f:driftdeck.dev/app": {}, "f:app.kubernetes.io/managed-by": {}},
            "f:annotations": {"f:driftdeck.dev/revision": {}}}}}]);
        assert!(!compare(&desired, &live, &[]).is_drift());
    }

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
            "data": data})
    }

    #[test]
    fn secret_diff_names_keys_never_values() {
        let mut desired = secret(json!({"password": "bmV3LXBhc3N3b3Jk", "user": "YWRtaW4="}));
        desired["stringData"] = json!({"token": "plain-token-value"});
        let applied =
            secret(json!({"password": "b2xkLXBhc3N3b3Jk", "user": "YWRtaW4=", "old": "Z29uZQ=="}));
        let live = with_last_applied(
            secret(json!({"password": "b2xkLXBhc3N3b3Jk", "user": "YWRtaW4=", "old": "Z29uZQ=="})),
            &applied,
        );
        let diff = compare(&desired, &live, &[]);
        assert_eq!(
            paths(&diff),
            vec!["data.password", "data.old", "data.token"]
        );
        let kinds: Vec<ChangeKind> = diff.changes.iter().map(|c| c.change).collect();
        assert_eq!(
            kinds,
            vec![ChangeKind::Changed, ChangeKind::Removed, ChangeKind::Added]
        );
        assert_eq!(diff.changes[0].live, Some(json!(MASK_LIVE_DIFFERS)));
        assert_eq!(diff.changes[0].desired, Some(json!(MASK_GIT_DIFFERS)));
        let everything = format!("{}{}", serde_json::to_string(&diff).unwrap(), diff.diff);
        for value in [
            "bmV3LXBhc3N3b3Jk",
            "new-password",
            "b2xkLXBhc3N3b3Jk",
            "old-password",
            "YWRtaW4=",
            "admin",
            "Z29uZQ==",
            "gone",
            "plain-token-value",
        ] {
            assert!(!everything.contains(value), "{value} leaked:\n{everything}");
        }
        assert!(diff.diff.contains("password"), "{}", diff.diff);
    }

    #[test]
    fn secret_string_data_matching_live_data_is_not_drift() {
        let mut desired = secret(json!(null));
        desired["stringData"] = json!({"user": "admin"});
        let live = secret(json!({"user": "YWRtaW4="}));
        assert!(!compare(&desired, &live, &[]).is_drift());
    }

    #[test]
    fn diff_shows_live_defaults_as_context_not_as_changes() {
        let desired = deployment(json!({"replicas": 3}));
        let live = deployment(json!({"replicas": 2, "revisionHistoryLimit": 10}));
        let diff = compare(&desired, &live, &[]);
        assert!(
            diff.diff
                .contains(" spec:\n-  replicas: 2\n+  replicas: 3\n   revisionHistoryLimit: 10\n"),
            "{}",
            diff.diff
        );
        assert!(
            !diff.diff.contains("-  revisionHistoryLimit"),
            "{}",
            diff.diff
        );
    }

    #[test]
    fn diff_never_shows_what_is_left_out() {
        let desired = deployment(json!({"replicas": 3}));
        let mut live = deployment(json!({"replicas": 2}));
        live["metadata"]["annotations"] = json!({"driftdeck.dev/revision": "abc",
            "deployment.kubernetes.io/revision": "4"});
        live["metadata"]["managedFields"] = json!([{"manager": "kubectl", "fieldsV1": {}}]);
        live["metadata"]["resourceVersion"] = json!("99");
        live["status"] = json!({"replicas": 2});
        let diff = compare(&desired, &live, &[]);
        for hidden in [
            "revision",
            "managedFields",
            "resourceVersion",
            "status",
            "annotations",
        ] {
            assert!(
                !diff.diff.contains(hidden),
                "{hidden} shown:\n{}",
                diff.diff
            );
        }
        assert!(
            diff.diff.contains("-  replicas: 2\n+  replicas: 3\n"),
            "{}",
            diff.diff
        );
    }

    #[test]
    fn compare_never_panics_on_odd_shapes() {
        let odd = [
            json!(null),
            json!(1),
            json!("x"),
            json!([1, {"a": null}]),
            json!({"spec": {"containers": [1, "x", {"name": null}]}}),
            json!({"kind": "Secret", "apiVersion": "v1", "data": [1], "stringData": "x"}),
            json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: 5}, "managedFields": "x"}}),
        ];
        for desired in &odd {
            for live in &odd {
                let _ = compare(desired, live, &[]);
            }
        }
    }
}
