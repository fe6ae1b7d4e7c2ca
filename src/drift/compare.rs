//! Desired against live, by the rules of README "Drift and health" (map in
//! docs/ARCHITECTURE.md): a field Git sets must have the
//! same meaning live; a field only live is drift only with evidence that Git
//! set it before; lists with a merge key pair item by item in any order.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::evidence::Evidence;
use super::field_path::{self, Item, Locator, Segment, is_quantity_path};
use super::ignore_rules::{pointers_for, remove_pointer};
use super::lookup::field;
use super::manual_changes::ManualManagers;
use super::merge_keys::{ListKind, list_kind, same_key};
use super::normalize::{Normalization, display_form};
use super::secret_mask;
use super::value_eq::{is_empty_like, scalars_equal, values_equal};
use super::yaml_diff;
use crate::config::IgnoreRule;
use crate::resource::ResourceKey;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// RFC 6901 pointer. List indexes are the item's index in the live list,
    /// or in the desired list for an item only Git has.
    pub pointer: String,
    /// The same place for people, list items named by their merge key:
    /// `spec.template.spec.containers[web].image`.
    pub path: String,
    pub change: ChangeKind,
    /// The live value; `None` when the field is not live. Masked for Secrets.
    pub live: Option<Value>,
    /// The value in Git; `None` when Git no longer sets it. Masked for Secrets.
    pub desired: Option<Value>,
    /// The manual-change manager (`kubectl-set`, …) that set a field Git
    /// does not have: a change made by hand, which a sync removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_hand: Option<String>,
}

/// What a sync would do to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// Both sides have it, with different values.
    Changed,
    /// Git sets it, the cluster does not have it.
    Added,
    /// The cluster has it, Git set it before and no longer does.
    Removed,
}

/// The drift of one object: empty when desired and live agree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceDiff {
    pub changes: Vec<FieldChange>,
    /// Unified YAML diff (live → what a sync would make it), 3 lines of
    /// context; empty when there is no drift.
    pub diff: String,
}

impl ResourceDiff {
    pub fn is_drift(&self) -> bool {
        !self.changes.is_empty()
    }
}

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

/// One walk over a desired/live pair. Each step returns what the live value
/// becomes after a sync when `build` is set (`None`: the field goes away),
/// and nothing otherwise, so a pair in sync costs no copies.
struct Walk<'a, 'v> {
    rules: &'a Normalization<'a>,
    evidence: &'a Evidence<'a>,
    build: bool,
    /// Where the walk is; field names borrow from the objects.
    path: Vec<Segment<'v>>,
    /// Where the path is in driftdeck's field sets, level by level, as deep
    /// as evidence was last asked for, so that each level is looked up once:
    /// the nodes for `path[..i]` start at `owned_levels[i]` in `owned_nodes`.
    owned_nodes: Vec<&'a Value>,
    owned_levels: Vec<usize>,
    changes: Vec<FieldChange>,
}

impl<'a, 'v> Walk<'a, 'v> {
    fn new(rules: &'a Normalization<'a>, evidence: &'a Evidence<'a>, build: bool) -> Self {
        Walk {
            rules,
            evidence,
            build,
            path: Vec::new(),
            owned_nodes: evidence.owned_roots().to_vec(),
            owned_levels: vec![0],
            changes: Vec::new(),
        }
    }

    fn enter(&mut self, segment: Segment<'v>) {
        self.path.push(segment);
    }

    fn leave(&mut self) {
        self.path.pop();
        if let Some(&cut) = self.owned_levels.get(self.path.len() + 1) {
            self.owned_levels.truncate(self.path.len() + 1);
            self.owned_nodes.truncate(cut);
        }
    }

    /// Whether Git once set the field being walked.
    fn has_evidence(&mut self) -> bool {
        while self.owned_levels.len() <= self.path.len() {
            let depth = self.owned_levels.len() - 1;
            let (start, end) = (self.owned_levels[depth], self.owned_nodes.len());
            self.owned_levels.push(end);
            for index in start..end {
                if let Some(child) =
                    Evidence::owned_child(self.owned_nodes[index], &self.path[depth])
                {
                    self.owned_nodes.push(child);
                }
            }
        }
        let owned = self.owned_nodes.len() > self.owned_levels[self.path.len()];
        self.evidence.has_at(&self.path, owned)
    }

    fn keep(&self, value: &Value) -> Option<Value> {
        self.build.then(|| value.clone())
    }

    fn record(&mut self, change: ChangeKind, live: Option<&Value>, desired: Option<&Value>) {
        self.record_by(change, live, desired, None);
    }

    fn record_by(
        &mut self,
        change: ChangeKind,
        live: Option<&Value>,
        desired: Option<&Value>,
        by_hand: Option<&str>,
    ) {
        self.changes.push(FieldChange {
            pointer: field_path::pointer(&self.path),
            path: field_path::display(&self.path),
            change,
            live: live.cloned(),
            desired: desired.cloned(),
            by_hand: by_hand.map(str::to_string),
        });
    }

    /// The name of the field being walked, for list rules.
    fn field_name(&self) -> &str {
        match self.path.last() {
            Some(Segment::Field(name)) => name,
            _ => "",
        }
    }

    /// A value Git sets (or leaves empty, which means unset) against live.
    fn both(&mut self, desired: &'v Value, live: &'v Value) -> Option<Value> {
        if is_empty_like(desired) {
            return self.live_only(live);
        }
        match (desired, live) {
            (_, Value::Null) => self.desired_only(desired),
            (Value::Object(d), Value::Object(l)) => self.maps(Some(d), l),
            (Value::Array(d), Value::Array(l)) => self.lists(d, l),
            _ => {
                if scalars_equal(desired, live, is_quantity_path(&self.path)) {
                    self.keep(live)
                } else {
                    self.record(ChangeKind::Changed, Some(live), Some(desired));
                    self.keep(desired)
                }
            }
        }
    }

    /// A value only Git has.
    fn desired_only(&mut self, desired: &Value) -> Option<Value> {
        if is_empty_like(desired) {
            return None;
        }
        self.record(ChangeKind::Added, None, Some(desired));
        self.keep(desired)
    }

    /// A value only live has: drift only where there is evidence.
    fn live_only(&mut self, live: &'v Value) -> Option<Value> {
        if is_empty_like(live) {
            return self.keep(live);
        }
        match live {
            Value::Object(map) => {
                // A field Git set has every parent in the evidence too.
                if self.rules.has_rules_below(&self.path)
                    || self.has_evidence()
                    || self.evidence.set_by_hand(&self.path).is_some()
                {
                    self.maps(None, map)
                } else {
                    self.keep(live)
                }
            }
            Value::Array(items) => match list_kind(self.field_name(), &[], items) {
                ListKind::Keyed(fields) => self.keyed_lists(fields, &[], items),
                ListKind::Set => self.sets(&[], items),
                ListKind::Atomic => self.live_only_leaf(live),
            },
            _ => self.live_only_leaf(live),
        }
    }

    /// A scalar, an atomic list or a list item only live has.
    /// A field set by hand counts even without evidence that Git set it.
    fn live_only_leaf(&mut self, live: &'v Value) -> Option<Value> {
        let by_hand = self.evidence.set_by_hand(&self.path);
        if by_hand.is_some() || self.has_evidence() {
            self.record_by(ChangeKind::Removed, Some(live), None, by_hand);
            None
        } else {
            self.keep(live)
        }
    }

    fn maps(
        &mut self,
        desired: Option<&'v Map<String, Value>>,
        live: &'v Map<String, Value>,
    ) -> Option<Value> {
        let mut after = Map::new();
        for (key, live_value) in live {
            if self.rules.is_ignored(&self.path, key) {
                continue;
            }
            self.enter(Segment::Field(key));
            let kept = match desired.and_then(|d| field(d, key)) {
                Some(desired_value) => self.both(desired_value, live_value),
                None => self.live_only(live_value),
            };
            self.leave();
            if let Some(value) = kept {
                after.insert(key.clone(), value);
            }
        }
        for (key, desired_value) in desired.into_iter().flatten() {
            if field(live, key).is_some() || self.rules.is_ignored(&self.path, key) {
                continue;
            }
            self.enter(Segment::Field(key));
            let added = self.desired_only(desired_value);
            self.leave();
            if let Some(value) = added {
                after.insert(key.clone(), value);
            }
        }
        self.build.then_some(Value::Object(after))
    }

    fn lists(&mut self, desired: &'v [Value], live: &'v [Value]) -> Option<Value> {
        match list_kind(self.field_name(), desired, live) {
            ListKind::Keyed(fields) => self.keyed_lists(fields, desired, live),
            ListKind::Set => self.sets(desired, live),
            ListKind::Atomic if desired.len() == live.len() => {
                let mut after = Vec::new();
                for (index, (d, l)) in desired.iter().zip(live).enumerate() {
                    self.enter(Segment::Item(Item {
                        locator: Locator::Position(index),
                        live_index: Some(index),
                        desired_index: Some(index),
                    }));
                    let kept = self.both(d, l);
                    self.leave();
                    after.push(kept.unwrap_or(Value::Null));
                }
                self.build.then_some(Value::Array(after))
            }
            ListKind::Atomic if live.is_empty() => {
                self.desired_only(&Value::from(desired.to_vec()))
            }
            ListKind::Atomic => {
                let (live, desired) = (Value::from(live.to_vec()), Value::from(desired.to_vec()));
                self.record(ChangeKind::Changed, Some(&live), Some(&desired));
                self.keep(&desired)
            }
        }
    }

    /// Items pair by key; live order is kept and Git's new items go last.
    fn keyed_lists(
        &mut self,
        fields: &'static [&'static str],
        desired: &'v [Value],
        live: &'v [Value],
    ) -> Option<Value> {
        let mut paired = vec![false; desired.len()];
        let mut after = Vec::new();
        for (live_index, live_item) in live.iter().enumerate() {
            let desired_index = desired
                .iter()
                .position(|desired_item| same_key(fields, desired_item, live_item));
            self.enter(Segment::Item(Item {
                locator: Locator::Keyed {
                    fields,
                    item: live_item,
                },
                live_index: Some(live_index),
                desired_index,
            }));
            let kept = match desired_index {
                Some(index) => {
                    paired[index] = true;
                    self.both(&desired[index], live_item)
                }
                None => self.live_only_leaf(live_item),
            };
            self.leave();
            after.extend(kept);
        }
        for (desired_index, desired_item) in desired.iter().enumerate() {
            if paired[desired_index] {
                continue;
            }
            self.enter(Segment::Item(Item {
                locator: Locator::Keyed {
                    fields,
                    item: desired_item,
                },
                live_index: None,
                desired_index: Some(desired_index),
            }));
            after.extend(self.desired_only(desired_item));
            self.leave();
        }
        self.build.then_some(Value::Array(after))
    }

    /// Scalars as a set: order does not matter.
    fn sets(&mut self, desired: &'v [Value], live: &'v [Value]) -> Option<Value> {
        let mut after = Vec::new();
        for (live_index, member) in live.iter().enumerate() {
            let desired_index = desired.iter().position(|d| values_equal(d, member));
            self.enter(Segment::Item(Item {
                locator: Locator::Member(member),
                live_index: Some(live_index),
                desired_index,
            }));
            let kept = match desired_index {
                Some(_) => self.keep(member),
                None => self.live_only_leaf(member),
            };
            self.leave();
            after.extend(kept);
        }
        for (desired_index, member) in desired.iter().enumerate() {
            if live.iter().any(|l| values_equal(l, member)) {
                continue;
            }
            self.enter(Segment::Item(Item {
                locator: Locator::Member(member),
                live_index: None,
                desired_index: Some(desired_index),
            }));
            after.extend(self.desired_only(member));
            self.leave();
        }
        self.build.then_some(Value::Array(after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::evidence::LAST_APPLIED_ANNOTATION;
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
