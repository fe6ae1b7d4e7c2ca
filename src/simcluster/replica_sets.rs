//! The ReplicaSets of Deployments, kept as the Deployment controller keeps
//! them: one per pod template, owned by its Deployment, numbered with the
//! revision annotation that `kubectl rollout history` lists and `rollout
//! undo` goes back to. Going back to an older template takes its
//! ReplicaSet again under the next revision. Only the newest one has
//! replicas; old ones past `revisionHistoryLimit` are deleted.

use std::sync::Arc;

use serde_json::{Value, json};

use super::catalog::ResourceType;
use super::lifecycle::{self, Endpoint, Propagation, WriteContext};
use super::status::ApiError;
use super::store::State;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH_LABEL: &str = "pod-template-hash";

fn text<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn revision_of(object: &Value) -> i64 {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Which revision a Deployment's current template is, given the revisions
/// of its ReplicaSets: that of its own ReplicaSet when it is the newest,
/// else the next one. With no ReplicaSets yet, the revision the
/// Deployment already carries, or 1.
pub fn next_revision(own: Option<i64>, newest: Option<i64>, annotated: Option<i64>) -> i64 {
    match (own, newest) {
        (Some(own), Some(newest)) if own == newest => own,
        (_, Some(newest)) => newest + 1,
        (_, None) => annotated.unwrap_or(1),
    }
}

/// The ReplicaSet of a Deployment's current template.
fn replica_set(deployment: &Value, name: &str, hash: &str, revision: i64, replicas: i64) -> Value {
    let mut template = deployment
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    if let Some(metadata) = template
        .as_object_mut()
        .map(|t| t.entry("metadata").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    {
        let labels = metadata.entry("labels").or_insert_with(|| json!({}));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(HASH_LABEL.into(), json!(hash));
        }
    }
    let labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    let mut selector = deployment
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or(json!({}));
    if let Some(selector) = selector.as_object_mut() {
        let match_labels = selector.entry("matchLabels").or_insert_with(|| json!({}));
        if let Some(match_labels) = match_labels.as_object_mut() {
            match_labels.insert(HASH_LABEL.into(), json!(hash));
        }
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": text(deployment, "/metadata/namespace"),
            "labels": labels,
            "annotations": {
                REVISION: revision.to_string(),
                "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                "deployment.kubernetes.io/max-replicas": replicas.to_string(),
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": text(deployment, "/metadata/name"),
                "uid": text(deployment, "/metadata/uid"),
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
    })
}

/// Sets an old or reused ReplicaSet's replicas and revision, writing only
/// when they change.
fn adjust(
    state: &mut State,
    rt: &Arc<ResourceType>,
    mut current: Value,
    revision: i64,
    replicas: i64,
    ctx: &WriteContext<'_>,
) -> Result<(), ApiError> {
    if revision_of(&current) == revision
        && current.pointer("/spec/replicas").and_then(Value::as_i64) == Some(replicas)
    {
        return Ok(());
    }
    let namespace = text(&current, "/metadata/namespace").to_string();
    let name = text(&current, "/metadata/name").to_string();
    if let Some(annotations) = current
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.insert(REVISION.into(), json!(revision.to_string()));
    }
    if let Some(spec) = current.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("replicas".into(), json!(replicas));
    }
    lifecycle::update(state, rt, &namespace, &name, current, Endpoint::Main, ctx).map(|_| ())
}

/// Brings a Deployment's ReplicaSets in line with its template (whose
/// hash is `hash`) and says which revision that template is.
pub fn reconcile(
    state: &mut State,
    deployment: &Value,
    hash: &str,
    ctx: &WriteContext<'_>,
) -> Result<i64, ApiError> {
    let rt = state
        .catalog
        .find("apps", "v1", "replicasets")
        .ok_or_else(ApiError::no_such_resource)?;
    let namespace = text(deployment, "/metadata/namespace").to_string();
    let uid = text(deployment, "/metadata/uid");
    let name = format!("{}-{hash}", text(deployment, "/metadata/name"));
    let owned: Vec<Value> = state
        .list(&rt.key(), Some(&namespace), None)
        .filter(|o| o.owners.iter().any(|owner| owner == uid))
        .map(|o| o.value())
        .collect();
    let own = owned.iter().find(|o| text(o, "/metadata/name") == name);
    let annotated = deployment
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok());
    let revision = next_revision(
        own.map(revision_of),
        owned.iter().map(revision_of).max(),
        annotated,
    );
    let replicas = deployment
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    match own {
        Some(current) => adjust(state, &rt, current.clone(), revision, replicas, ctx)?,
        None => {
            let object = replica_set(deployment, &name, hash, revision, replicas);
            lifecycle::create(state, &rt, &namespace, object, ctx)?;
        }
    }
    let mut old: Vec<&Value> = owned
        .iter()
        .filter(|o| text(o, "/metadata/name") != name)
        .collect();
    old.sort_by_key(|o| revision_of(o));
    for current in &old {
        adjust(state, &rt, (*current).clone(), revision_of(current), 0, ctx)?;
    }
    let limit = deployment
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .unwrap_or(10);
    let excess = usize::try_from(i64::try_from(old.len()).unwrap_or(0) - limit).unwrap_or(0);
    for current in old.iter().take(excess) {
        let old_name = text(current, "/metadata/name");
        lifecycle::remove_with_effects(state, &rt, &namespace, old_name, Propagation::Background);
    }
    Ok(revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_template_is_revision_one_or_what_the_deployment_says() {
        assert_eq!(next_revision(None, None, None), 1);
        assert_eq!(next_revision(None, None, Some(4)), 4);
    }

    #[test]
    fn a_new_template_is_the_next_revision() {
        assert_eq!(next_revision(None, Some(2), Some(2)), 3);
    }

    #[test]
    fn the_newest_template_keeps_its_revision() {
        assert_eq!(next_revision(Some(3), Some(3), Some(3)), 3);
    }

    #[test]
    fn going_back_to_an_old_template_takes_the_next_revision() {
        assert_eq!(next_revision(Some(1), Some(3), Some(3)), 4);
    }

    #[test]
    fn a_replica_set_selects_its_template_by_hash_and_names_its_owner() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u-1"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
        });
        let rs = replica_set(&deployment, "web-abc", "abc", 3, 2);
        assert_eq!(
            rs["spec"]["selector"]["matchLabels"],
            json!({"app": "web", "pod-template-hash": "abc"})
        );
        assert_eq!(
            rs["spec"]["template"]["metadata"]["labels"],
            json!({"app": "web", "pod-template-hash": "abc"})
        );
        assert_eq!(rs["metadata"]["annotations"][REVISION], "3");
        assert_eq!(rs["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(rs["metadata"]["namespace"], "shop");
    }
}
