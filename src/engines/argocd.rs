//! An Argo CD Application's status as driftdeck shows it: sync and health
//! as Argo CD computed them, the last operation, the history (stored
//! oldest first, shown newest first), and the resources it lists.

use serde_json::{Value, json};

use super::Engine;
use super::status::{
    ControllerResource, ControllerState, Deployment, LastOperation, condition, health_named, owned,
    text,
};
use crate::drift::{AppStatus, Health, HealthAssessment, ResourceStatus};
use crate::resource::ResourceKey;

/// The annotation that asks Argo CD to compare again (`normal` or `hard`).
pub(super) const REFRESH_ANNOTATION: &str = "argocd.argoproj.io/refresh";

/// Conditions that say why an app cannot be compared or synced.
const ERROR_CONDITIONS: &[&str] = &[
    "ComparisonError",
    "InvalidSpecError",
    "SyncError",
    "UnknownError",
];

pub(super) fn application_state(app: &Value) -> ControllerState {
    let sync = match text(app, "/status/sync/status") {
        Some("Synced") => AppStatus::Synced,
        Some("OutOfSync") => AppStatus::OutOfSync,
        _ => AppStatus::Unknown,
    };
    let health = text(app, "/status/health/status").map_or(Health::Unknown, health_named);
    let operation = last_operation(app);
    let history: Vec<Deployment> = app
        .pointer("/status/history")
        .and_then(Value::as_array)
        .map(|entries| entries.iter().rev().map(deployment).collect())
        .unwrap_or_default();
    let resources = resources(app);
    let revision = history
        .first()
        .map(|d| d.revision.clone())
        .or_else(|| revisions(app, "/status/sync"));
    ControllerState {
        engine: Engine::Argocd,
        kind: "Application".to_string(),
        namespace: owned(app, "/metadata/namespace").unwrap_or_default(),
        name: owned(app, "/metadata/name").unwrap_or_default(),
        message: message(app, sync, health, &operation, &resources),
        sync,
        health,
        revision,
        target_revision: revisions(app, "/status/sync"),
        suspended: false,
        auto_sync: app.pointer("/spec/syncPolicy/automated").is_some_and(|a| {
            !a.is_null() && a.get("enabled").and_then(Value::as_bool) != Some(false)
        }),
        operation,
        history,
        resources,
        source: source(app),
        reconcile_requested: None,
        reconcile_handled: None,
        operation_pending: app.get("operation").is_some_and(|o| !o.is_null()),
        refresh_pending: app
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(REFRESH_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_string),
        sync_options: app
            .pointer("/spec/syncPolicy/syncOptions")
            .and_then(Value::as_array)
            .map(|options| {
                options
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// `revision`, or the multi-source `revisions` joined, under `at`.
fn revisions(object: &Value, at: &str) -> Option<String> {
    let base = object.pointer(at)?;
    if let Some(revision) = text(base, "/revision") {
        return Some(revision.to_string());
    }
    let list: Vec<&str> = base
        .get("revisions")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

fn initiator(operation: &Value) -> Option<String> {
    if let Some(user) = text(operation, "/initiatedBy/username") {
        return Some(user.to_string());
    }
    operation
        .pointer("/initiatedBy/automated")
        .and_then(Value::as_bool)
        .filter(|a| *a)
        .map(|_| "automated".to_string())
}

fn last_operation(app: &Value) -> Option<LastOperation> {
    let state = app.pointer("/status/operationState")?;
    Some(LastOperation {
        phase: owned(state, "/phase").unwrap_or_else(|| "Unknown".to_string()),
        message: owned(state, "/message").unwrap_or_default(),
        started_at: owned(state, "/startedAt"),
        finished_at: owned(state, "/finishedAt"),
        initiated_by: state.get("operation").and_then(initiator),
    })
}

fn deployment(entry: &Value) -> Deployment {
    Deployment {
        revision: revisions(entry, "").unwrap_or_default(),
        deployed_at: owned(entry, "/deployedAt"),
        note: initiator(entry),
        id: entry.get("id").and_then(Value::as_i64),
        rollback_to: rollback_to(entry),
    }
}

/// The sync fields Argo CD's API server copies from a history entry for a
/// rollback (server/application: `Rollback`), if the entry has a source.
fn rollback_to(entry: &Value) -> Option<Value> {
    let present = |field: &str| {
        entry
            .get(field)
            .filter(|v| !v.is_null() && *v != &json!({}))
    };
    let mut to = serde_json::Map::new();
    if let Some(source) = present("source") {
        to.insert("revision".into(), entry.get("revision")?.clone());
        to.insert("source".into(), source.clone());
    } else {
        to.insert("revisions".into(), present("revisions")?.clone());
        to.insert("sources".into(), present("sources")?.clone());
    }
    Some(Value::Object(to))
}

fn resources(app: &Value) -> Vec<ControllerResource> {
    let Some(entries) = app.pointer("/status/resources").and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        // Hooks are the operation's, not the app's desired state.
        .filter(|r| r.get("hook").and_then(Value::as_bool) != Some(true))
        .filter_map(|r| {
            let health = r.get("health").map(|h| {
                HealthAssessment::new(
                    text(h, "/status").map_or(Health::Unknown, health_named),
                    text(h, "/message").unwrap_or_default(),
                )
            });
            let status = match text(r, "/status") {
                Some("Synced") => ResourceStatus::Synced,
                Some("OutOfSync")
                    if r.get("requiresPruning").and_then(Value::as_bool) == Some(true) =>
                {
                    ResourceStatus::Extra
                }
                Some("OutOfSync")
                    if health.as_ref().is_some_and(|h| h.status == Health::Missing) =>
                {
                    ResourceStatus::Missing
                }
                Some("OutOfSync") => ResourceStatus::OutOfSync,
                _ => ResourceStatus::Unknown,
            };
            Some(ControllerResource {
                key: ResourceKey {
                    group: owned(r, "/group").unwrap_or_default(),
                    kind: owned(r, "/kind")?,
                    namespace: owned(r, "/namespace"),
                    name: owned(r, "/name")?,
                },
                version: owned(r, "/version").unwrap_or_default(),
                status,
                health,
            })
        })
        .collect()
}

fn source(app: &Value) -> Option<String> {
    let describe = |source: &Value| {
        let url = text(source, "/repoURL")?;
        Some(match (text(source, "/chart"), text(source, "/path")) {
            (Some(chart), _) => format!("{url} chart {chart}"),
            (None, Some(path)) => format!("{url} {path}"),
            (None, None) => url.to_string(),
        })
    };
    if let Some(source) = app.pointer("/spec/source") {
        return describe(source);
    }
    let all: Vec<String> = app
        .pointer("/spec/sources")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(describe)
        .collect();
    (!all.is_empty()).then(|| all.join(", "))
}

/// Why the app is not Synced and Healthy, in Argo CD's words: a failed
/// operation, an error condition, the resources out of sync, the health.
fn message(
    app: &Value,
    sync: AppStatus,
    health: Health,
    operation: &Option<LastOperation>,
    resources: &[ControllerResource],
) -> Option<String> {
    if let Some(operation) = operation
        && matches!(operation.phase.as_str(), "Failed" | "Error")
    {
        return Some(format!("sync {}: {}", operation.phase, operation.message));
    }
    for kind in ERROR_CONDITIONS {
        if let Some(message) = condition(app, kind).and_then(|c| text(c, "/message")) {
            return Some(message.to_string());
        }
    }
    if sync == AppStatus::OutOfSync {
        let drifted: Vec<String> = resources
            .iter()
            .filter(|r| r.status != ResourceStatus::Synced)
            .map(|r| format!("{} {}", r.key, r.status))
            .collect();
        let listed = drifted
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        return Some(match drifted.len() {
            0 => "OutOfSync".to_string(),
            n if n > 3 => format!("{n} resources differ: {listed}, …"),
            _ => format!("{} differ: {listed}", drifted.len()),
        });
    }
    if let Some(operation) = operation
        && operation.phase == "Running"
    {
        return Some(format!("sync Running: {}", operation.message));
    }
    match health {
        Health::Healthy => None,
        _ => Some(match text(app, "/status/health/message") {
            Some(message) => format!("{health}: {message}"),
            None => health.to_string(),
        }),
    }
}
