//! What an engine app's status says, in one shape for both engines: the
//! `controller` entry of a report (README "Argo CD and Flux").

use serde::Serialize;
use serde_json::Value;

use super::Engine;
use crate::drift::{AppStatus, Health, HealthAssessment, ResourceStatus};
use crate::resource::ResourceKey;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControllerState {
    pub engine: Engine,
    /// `Application`, `Kustomization`, `HelmRelease`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub sync: AppStatus,
    pub health: Health,
    /// One line on why the app is not Synced and Healthy (the engine's own
    /// words); `None` when it is.
    pub message: Option<String>,
    /// What runs: the revision last synced (Argo CD), applied
    /// (Kustomization) or released (HelmRelease chart version).
    pub revision: Option<String>,
    /// What the engine compares with or last tried.
    pub target_revision: Option<String>,
    pub suspended: bool,
    /// The engine syncs by itself (Argo CD `syncPolicy.automated`; Flux
    /// always, unless suspended).
    pub auto_sync: bool,
    pub operation: Option<LastOperation>,
    /// Newest first.
    pub history: Vec<Deployment>,
    /// The resources the engine lists: Argo CD's `status.resources`, Flux's
    /// inventory.
    pub resources: Vec<ControllerResource>,
    /// The source the engine reads: `GitRepository flux-system/flux-system`,
    /// or a repository URL.
    pub source: Option<String>,
    /// Flux: the reconcile request asked (`reconcile.fluxcd.io/requestedAt`)
    /// and the last one handled (`status.lastHandledReconcileAt`).
    pub reconcile_requested: Option<String>,
    pub reconcile_handled: Option<String>,
    /// Argo CD: an operation is asked for and not finished (`operation` set).
    pub operation_pending: bool,
    /// Argo CD: the refresh annotation still there (not yet done).
    pub refresh_pending: Option<String>,
    /// Argo CD: `spec.syncPolicy.syncOptions`, which a rollback carries.
    #[serde(skip)]
    pub sync_options: Vec<String>,
}

/// The last operation: an Argo CD sync, a Flux reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastOperation {
    /// Argo CD's phase (`Running`, `Succeeded`, `Failed`, `Error`,
    /// `Terminating`); Flux's Ready reason.
    pub phase: String,
    pub message: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The user, or `automated`.
    pub initiated_by: Option<String>,
}

/// One history entry: a deployed revision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub revision: String,
    pub deployed_at: Option<String>,
    /// Who (Argo CD) or how it ended (Flux).
    pub note: Option<String>,
    /// Argo CD's history id (what a rollback names).
    pub id: Option<i64>,
    /// Argo CD: what a rollback to it syncs, as its API server takes it
    /// from the entry (`revision` and `source`, or `revisions` and
    /// `sources`); `None` when the entry has no source to roll back to.
    #[serde(skip)]
    pub rollback_to: Option<Value>,
}

/// One resource as the engine lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControllerResource {
    #[serde(flatten)]
    pub key: ResourceKey,
    pub version: String,
    pub status: ResourceStatus,
    /// As the engine says it, when it does.
    pub health: Option<HealthAssessment>,
}

/// Text at a JSON pointer, or `None`.
pub(super) fn text<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(super) fn owned(object: &Value, pointer: &str) -> Option<String> {
    text(object, pointer).map(str::to_string)
}

/// The condition of this type in `status.conditions`.
pub(super) fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

pub(super) fn health_named(name: &str) -> Health {
    match name {
        "Healthy" => Health::Healthy,
        "Suspended" => Health::Suspended,
        "Progressing" => Health::Progressing,
        "Missing" => Health::Missing,
        "Degraded" => Health::Degraded,
        _ => Health::Unknown,
    }
}
