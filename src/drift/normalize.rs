//! What the comparison leaves out on both sides: status, bookkeeping the API
//! server writes, annotations controllers write, what driftdeck stamps on
//! apply, and fields a controller owns for certain kinds.

use serde_json::{Map, Value};

use super::evidence::LAST_APPLIED_ANNOTATION;
use super::field_path::Segment;
use super::lookup::metadata_field;
use crate::resource::{APP_LABEL, MANAGED_BY_LABEL, PINNED_ANNOTATION, REVISION_ANNOTATION};

/// Top-level fields that are not configuration. `apiVersion` and `kind` are
/// the pairing's business: the API server answers in the version asked for.
const IGNORED_TOP_LEVEL: &[&str] = &["apiVersion", "kind", "status"];

/// Metadata the API server writes; name and namespace are the pairing's.
const IGNORED_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "name",
    "namespace",
];

/// Annotations that controllers and tools write, never Git.
const CONTROLLER_ANNOTATIONS: &[&str] = &[
    LAST_APPLIED_ANNOTATION,
    REVISION_ANNOTATION,
    PINNED_ANNOTATION,
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "autoscaling.alpha.kubernetes.io/conditions",
    "autoscaling.alpha.kubernetes.io/current-metrics",
    "endpoints.kubernetes.io/last-change-trigger-time",
    "control-plane.alpha.kubernetes.io/leader",
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "pv.kubernetes.io/provisioned-by",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
    "kubernetes.io/service-account.uid",
];

/// Labels driftdeck stamps on apply: not drift unless Git sets them itself.
const STAMPED_LABELS: &[&str] = &[APP_LABEL, MANAGED_BY_LABEL];

/// The rules for one desired/live pair.
pub(crate) struct Normalization<'a> {
    desired_labels: Option<&'a Map<String, Value>>,
    /// The rules of an aggregated ClusterRole are written by a controller
    /// from the roles its selectors match.
    aggregated_cluster_role: bool,
}

impl<'a> Normalization<'a> {
    pub(crate) fn for_pair(desired: &'a Value, live: &Value) -> Normalization<'a> {
        let is_aggregated = |object: &Value| {
            object.get("kind").and_then(Value::as_str) == Some("ClusterRole")
                && object
                    .get("aggregationRule")
                    .is_some_and(|rule| !rule.is_null())
        };
        Normalization {
            desired_labels: metadata_field(desired, "labels").and_then(Value::as_object),
            aggregated_cluster_role: is_aggregated(desired) || is_aggregated(live),
        }
    }

    /// Whether the child `key` of the map at `parents` is left out.
    pub(crate) fn is_ignored(&self, parents: &[Segment<'_>], key: &str) -> bool {
        match parents {
            [] => {
                IGNORED_TOP_LEVEL.contains(&key) || (key == "rules" && self.aggregated_cluster_role)
            }
            [Segment::Field("metadata")] => IGNORED_METADATA.contains(&key),
            [Segment::Field("metadata"), Segment::Field(map)] => match *map {
                "annotations" => CONTROLLER_ANNOTATIONS.contains(&key),
                "labels" => {
                    STAMPED_LABELS.contains(&key)
                        && !self.desired_labels.is_some_and(|l| l.contains_key(key))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether fields below `path` can be left out: every rule lives in the
    /// first three levels of maps.
    pub(crate) fn has_rules_below(&self, path: &[Segment<'_>]) -> bool {
        path.len() < 3
    }

    /// A copy of `object` without what is left out.
    pub(crate) fn strip(&self, object: &Value) -> Value {
        let mut path = Vec::new();
        self.strip_at(object, &mut path)
    }

    fn strip_at<'v>(&self, value: &'v Value, path: &mut Vec<Segment<'v>>) -> Value {
        let (Value::Object(map), true) = (value, self.has_rules_below(path)) else {
            return value.clone();
        };
        let mut out = Map::with_capacity(map.len());
        for (key, child) in map {
            if self.is_ignored(path, key) {
                continue;
            }
            path.push(Segment::Field(key));
            out.insert(key.clone(), self.strip_at(child, path));
            path.pop();
        }
        Value::Object(out)
    }
}

/// An object as people read it in a diff: the compared fields of `compared`
/// under the identity of `original` (apiVersion, kind, name, namespace,
/// which pairing settles and comparison leaves out), without the empty
/// annotations and labels that normalizing leaves behind.
pub(crate) fn display_form(compared: Value, original: &Value) -> Value {
    let Value::Object(mut fields) = compared else {
        return compared;
    };
    let mut metadata = match fields.shift_remove("metadata") {
        Some(Value::Object(metadata)) => metadata,
        _ => Map::new(),
    };
    for map in ["annotations", "labels"] {
        if metadata
            .get(map)
            .is_some_and(|m| m.as_object().is_some_and(Map::is_empty))
        {
            metadata.shift_remove(map);
        }
    }
    let mut shown = Map::with_capacity(fields.len() + 3);
    for key in ["apiVersion", "kind"] {
        if let Some(value) = original.get(key) {
            shown.insert(key.to_string(), value.clone());
        }
    }
    let mut identity = Map::with_capacity(metadata.len() + 2);
    for key in ["name", "namespace"] {
        if let Some(value) = metadata_field(original, key) {
            identity.insert(key.to_string(), value.clone());
        }
    }
    identity.extend(metadata);
    if !identity.is_empty() {
        shown.insert("metadata".to_string(), Value::Object(identity));
    }
    shown.extend(fields);
    Value::Object(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_bookkeeping_and_controller_annotations_are_stripped() {
        let live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "1", "resourceVersion": "2", "generation": 3,
                "annotations": {"deployment.kubernetes.io/revision": "4", "team": "a"},
                "labels": {"driftdeck.dev/app": "shop", "tier": "web"}},
            "spec": {"replicas": 1, "status": "kept below the top level"},
            "status": {"replicas": 1}
        });
        let desired = json!({"metadata": {"labels": {"tier": "web"}}});
        let stripped = Normalization::for_pair(&desired, &live).strip(&live);
        assert_eq!(
            stripped,
            json!({
                "metadata": {"annotations": {"team": "a"}, "labels": {"tier": "web"}},
                "spec": {"replicas": 1, "status": "kept below the top level"}
            })
        );
    }

    #[test]
    fn display_form_shows_identity_first_and_drops_emptied_maps() {
        let original = json!({"spec": {}, "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"namespace": "shop", "name": "a", "annotations": {"x": "y"}}});
        let compared =
            json!({"metadata": {"annotations": {}, "labels": {"k": "v"}}, "data": {"k": "v"}});
        let shown = display_form(compared, &original);
        assert_eq!(
            serde_json::to_string(&shown).unwrap(),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"shop","labels":{"k":"v"}},"data":{"k":"v"}}"#
        );
    }

    #[test]
    fn stamped_labels_count_when_git_sets_them() {
        let live = json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "driftdeck"}}});
        let desired = json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "helm"}}});
        let stripped = Normalization::for_pair(&desired, &live).strip(&live);
        assert_eq!(stripped, live);
    }

    #[test]
    fn aggregated_cluster_role_rules_are_the_controllers() {
        let live =
            json!({"kind": "ClusterRole", "aggregationRule": {}, "rules": [{"verbs": ["get"]}]});
        let desired = json!({"kind": "ClusterRole", "rules": []});
        let stripped = Normalization::for_pair(&desired, &live).strip(&live);
        assert_eq!(stripped, json!({"aggregationRule": {}}));
        let plain = json!({"kind": "ClusterRole", "rules": [{"verbs": ["get"]}]});
        let stripped = Normalization::for_pair(&plain, &plain).strip(&plain);
        assert_eq!(stripped, json!({"rules": [{"verbs": ["get"]}]}));
    }
}
