//! A Flux Kustomization's or HelmRelease's status as driftdeck shows it.
//! Flux has no "OutOfSync": an app is Synced when its last run applied what
//! it last tried (Ready=True, or a run in progress on the applied
//! revision), OutOfSync when the run failed or a newer revision is not
//! applied, Unknown before any run. Health follows kstatus, as Argo CD's
//! health checks for Flux kinds do: Stalled or Ready=False is Degraded,
//! Reconciling or Ready=Unknown is Progressing, suspend is Suspended.

use serde_json::Value;

use super::Engine;
use super::status::{
    ControllerResource, ControllerState, Deployment, LastOperation, condition, owned, text,
};
use crate::drift::{AppStatus, Health, ResourceStatus};
use crate::resource::ResourceKey;

/// The annotation that asks Flux to reconcile now; any new value does.
pub(super) const RECONCILE_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";

pub(super) fn kustomization_state(object: &Value) -> ControllerState {
    let history = object
        .pointer("/status/history")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| Deployment {
                    revision: owned(e, "/metadata/revision").unwrap_or_default(),
                    deployed_at: owned(e, "/lastReconciled"),
                    note: owned(e, "/lastReconciledStatus"),
                    id: None,
                    rollback_to: None,
                })
                .collect()
        })
        .unwrap_or_default();
    let source = object
        .pointer("/spec/sourceRef")
        .map(|r| source_ref(object, r));
    common(
        object,
        "Kustomization",
        owned(object, "/status/lastAppliedRevision"),
        history,
        source.flatten(),
    )
}

pub(super) fn helm_release_state(object: &Value) -> ControllerState {
    let history: Vec<Deployment> = object
        .pointer("/status/history")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| Deployment {
                    revision: owned(e, "/chartVersion").unwrap_or_default(),
                    deployed_at: owned(e, "/lastDeployed"),
                    note: owned(e, "/status"),
                    id: e.get("version").and_then(Value::as_i64),
                    rollback_to: None,
                })
                .collect()
        })
        .unwrap_or_default();
    let deployed = history
        .iter()
        .find(|d| d.note.as_deref() == Some("deployed"))
        .map(|d| d.revision.clone());
    let source = object
        .pointer("/spec/chartRef")
        .or_else(|| object.pointer("/spec/chart/spec/sourceRef"))
        .and_then(|r| source_ref(object, r));
    common(object, "HelmRelease", deployed, history, source)
}

/// `GitRepository flux-system/flux-system`: the source an object reads.
fn source_ref(object: &Value, reference: &Value) -> Option<String> {
    let kind = text(reference, "/kind")?;
    let name = text(reference, "/name")?;
    let namespace = text(reference, "/namespace")
        .or_else(|| text(object, "/metadata/namespace"))
        .unwrap_or_default();
    Some(format!("{kind} {namespace}/{name}"))
}

fn common(
    object: &Value,
    kind: &str,
    revision: Option<String>,
    history: Vec<Deployment>,
    source: Option<String>,
) -> ControllerState {
    let suspended = object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let ready = condition(object, "Ready");
    let ready_status = ready.and_then(|c| text(c, "/status"));
    let holds = |kind: &str| condition(object, kind).filter(|c| text(c, "/status") == Some("True"));
    let stalled = holds("Stalled");
    let reconciling = holds("Reconciling");
    let attempted = owned(object, "/status/lastAttemptedRevision");
    let behind = attempted.is_some() && revision.is_some() && attempted != revision
        // A HelmRelease's attempt is a chart version with its digest.
        && kind == "Kustomization";
    let sync = match ready_status {
        Some("True") if !behind => AppStatus::Synced,
        Some("True") | Some("False") => AppStatus::OutOfSync,
        Some(_) if revision.is_some() && !behind => AppStatus::Synced,
        Some(_) if revision.is_some() => AppStatus::OutOfSync,
        _ => AppStatus::Unknown,
    };
    let health = if suspended {
        Health::Suspended
    } else if stalled.is_some() || ready_status == Some("False") {
        Health::Degraded
    } else if reconciling.is_some() || ready_status != Some("True") {
        Health::Progressing
    } else {
        Health::Healthy
    };
    let ready_message = ready.and_then(|c| owned(c, "/message"));
    let message = {
        let why = stalled
            .and_then(|c| owned(c, "/message"))
            .or_else(|| match (sync, health) {
                (AppStatus::Synced, Health::Healthy | Health::Suspended) => None,
                (AppStatus::Unknown, _) if ready.is_none() => {
                    Some("not reconciled yet (no Ready condition)".to_string())
                }
                (_, Health::Progressing) => reconciling
                    .and_then(|c| owned(c, "/message"))
                    .or_else(|| ready_message.clone()),
                _ if behind => Some(format!(
                    "{} (applied {}, tried {})",
                    ready_message.clone().unwrap_or_default(),
                    revision.as_deref().unwrap_or("-"),
                    attempted.as_deref().unwrap_or("-")
                )),
                _ => ready_message.clone(),
            });
        match (suspended, why) {
            (true, Some(why)) => Some(format!("suspended; last run: {why}")),
            (true, None) => Some("suspended: Flux does not reconcile it".to_string()),
            (false, why) => why,
        }
    };
    let operation = ready.map(|c| LastOperation {
        phase: owned(c, "/reason").unwrap_or_else(|| "Unknown".to_string()),
        message: owned(c, "/message").unwrap_or_default(),
        started_at: None,
        finished_at: owned(c, "/lastTransitionTime"),
        initiated_by: None,
    });
    ControllerState {
        engine: Engine::Flux,
        kind: kind.to_string(),
        namespace: owned(object, "/metadata/namespace").unwrap_or_default(),
        name: owned(object, "/metadata/name").unwrap_or_default(),
        sync,
        health,
        message,
        revision,
        target_revision: attempted,
        suspended,
        auto_sync: !suspended,
        operation,
        history,
        resources: inventory(object),
        source,
        reconcile_requested: object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(RECONCILE_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_string),
        reconcile_handled: owned(object, "/status/lastHandledReconcileAt"),
        operation_pending: false,
        refresh_pending: None,
        sync_options: Vec::new(),
    }
}

/// `status.inventory.entries`: ids `NAMESPACE_NAME_GROUP_KIND` (namespace
/// empty for cluster-scoped objects). Flux applied them; whether they still
/// match is for the live cache to say.
fn inventory(object: &Value) -> Vec<ControllerResource> {
    object
        .pointer("/status/inventory/entries")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| {
                    let key = inventory_key(text(entry, "/id")?)?;
                    Some(ControllerResource {
                        key,
                        version: owned(entry, "/v").unwrap_or_default(),
                        status: ResourceStatus::Synced,
                        health: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Names hold no `_` (DNS names), so the id splits unambiguously from both
/// ends: the kind is last, the namespace first, then the name; the group
/// is what is left.
pub(super) fn inventory_key(id: &str) -> Option<ResourceKey> {
    let (namespace, rest) = id.split_once('_')?;
    let (name, rest) = rest.split_once('_')?;
    let (group, kind) = rest.rsplit_once('_')?;
    if name.is_empty() || kind.is_empty() {
        return None;
    }
    Some(ResourceKey {
        group: group.to_string(),
        kind: kind.to_string(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_ids_split_into_keys() {
        let cluster = inventory_key("_podinfo__Namespace").unwrap();
        assert_eq!(cluster.namespace, None);
        assert_eq!(cluster.group, "");
        assert_eq!(cluster.kind, "Namespace");
        let ingress = inventory_key("podinfo_podinfo_networking.k8s.io_Ingress").unwrap();
        assert_eq!(ingress.group, "networking.k8s.io");
        assert_eq!(ingress.namespace.as_deref(), Some("podinfo"));
        assert!(inventory_key("garbage").is_none());
        assert!(inventory_key("a__").is_none());
    }
}
