//! Asking an engine to act, through its own objects (never around it), and
//! telling from the object when it has: the merge patches `argocd app sync`,
//! `argocd app get --refresh`, `flux reconcile` and `flux suspend/resume`
//! write, and the fields each is followed by. Shapes and sources:
//! `../shared/conformance/engines/README.md`.

use serde::Serialize;
use serde_json::{Value, json};

use super::argocd::REFRESH_ANNOTATION;
use super::flux::RECONCILE_ANNOTATION;
use super::status::{condition, owned, text};
use super::{ControllerApp, ControllerKind, Engine};
use crate::resource::ResourceKey;

/// What the operator asks of an engine app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionKind {
    /// Argo CD: an operation syncing the revision last compared; Flux: a
    /// reconcile of the object and its source.
    Sync {
        prune: bool,
    },
    /// Argo CD: compare again (`hard` also drops the manifest cache).
    Refresh {
        hard: bool,
    },
    /// Flux: `spec.suspend`.
    Suspend,
    Resume,
}

impl ActionKind {
    pub fn verb(&self) -> &'static str {
        match self {
            ActionKind::Sync { .. } => "sync",
            ActionKind::Refresh { .. } => "refresh",
            ActionKind::Suspend => "suspend",
            ActionKind::Resume => "resume",
        }
    }
}

/// The writes one action makes, and what to wait for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRequest {
    pub action: ActionKind,
    /// The app's object first, then (Flux sync) its source.
    pub patches: Vec<(ResourceKey, Value)>,
    /// The token a Flux reconcile waits to see handled.
    pub token: Option<String>,
    /// The Argo CD revision asked for, if one.
    pub revision: Option<String>,
}

/// How an action goes, as its object shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ActionProgress {
    /// Not finished; what the engine says meanwhile.
    Waiting {
        message: String,
    },
    Done {
        succeeded: bool,
        message: String,
    },
}

/// The writes for `action` on `app`, or why the engine would refuse it.
/// `operator` is written as the Argo CD operation's initiator; `token`
/// (a time, as `flux reconcile` writes) as the reconcile request.
pub fn request_action(
    app: &ControllerApp,
    action: &ActionKind,
    operator: &str,
    token: &str,
) -> Result<ActionRequest, String> {
    let state = &app.state;
    let own_key = ResourceKey {
        group: app.kind.group().to_string(),
        kind: app.kind.kind().to_string(),
        namespace: Some(app.namespace.clone()),
        name: app.object_name.clone(),
    };
    let refuse = |why: &str| {
        Err(format!(
            "app \"{}\": {} refused: {why}",
            app.name,
            action.verb()
        ))
    };
    let request = |patches, token: Option<&str>, revision: Option<String>| {
        Ok(ActionRequest {
            action: action.clone(),
            patches,
            token: token.map(str::to_string),
            revision,
        })
    };
    match (app.kind.engine(), action) {
        (Engine::Argocd, ActionKind::Sync { prune }) => {
            if state.operation_pending {
                // As Argo CD's API server says (util/argo/argo.go).
                return refuse("another operation is already in progress");
            }
            // The revision the app was last compared at, so what is synced
            // is what the operator saw; several sources sync at their specs'.
            let revision = state.target_revision.clone().filter(|r| !r.contains(", "));
            let mut sync = json!({"prune": prune, "syncStrategy": {"hook": {}}});
            if let Some(revision) = &revision {
                sync["revision"] = json!(revision);
            }
            // The API server clears the last operation's state when it sets
            // a new one, so that what follows is this operation's.
            let patch = json!({
                "operation": {"initiatedBy": {"username": operator}, "sync": sync},
                "status": {"operationState": null}
            });
            request(vec![(own_key, patch)], None, revision)
        }
        (Engine::Argocd, ActionKind::Refresh { hard }) => {
            let level = if *hard { "hard" } else { "normal" };
            let patch = json!({"metadata": {"annotations": {REFRESH_ANNOTATION: level}}});
            request(vec![(own_key, patch)], None, None)
        }
        (Engine::Flux, ActionKind::Sync { .. }) => {
            if state.suspended {
                // As `flux reconcile` says of a suspended object.
                return refuse("the object is suspended; resume it first");
            }
            let patch = json!({"metadata": {"annotations": {RECONCILE_ANNOTATION: token}}});
            let mut patches = vec![(own_key, patch.clone())];
            if let Some(source) = source_key(app) {
                patches.push((source, patch));
            }
            request(patches, Some(token), None)
        }
        (Engine::Flux, ActionKind::Suspend | ActionKind::Resume) => {
            let suspend = *action == ActionKind::Suspend;
            if state.suspended == suspend {
                return refuse(if suspend {
                    "already suspended"
                } else {
                    "not suspended"
                });
            }
            let patch = json!({"spec": {"suspend": suspend}});
            request(vec![(own_key, patch)], None, None)
        }
        (Engine::Argocd, ActionKind::Suspend | ActionKind::Resume) => {
            refuse("Argo CD apps have no suspend; turn auto-sync off in the Application instead")
        }
        (Engine::Flux, ActionKind::Refresh { .. }) => {
            refuse("Flux has no refresh apart from a reconcile; sync it instead")
        }
    }
}

/// The source a Flux object reads (`spec.sourceRef`, `spec.chartRef` or
/// the chart template's `sourceRef`), in the object's namespace unless it
/// names one.
pub(super) fn source_key(app: &ControllerApp) -> Option<ResourceKey> {
    let source = app.state.source.as_deref()?;
    let (kind, qualified) = source.split_once(' ')?;
    let (namespace, name) = qualified.split_once('/')?;
    Some(ResourceKey {
        group: "source.toolkit.fluxcd.io".to_string(),
        kind: kind.to_string(),
        namespace: Some(namespace.to_string()),
        name: name.to_string(),
    })
}

/// How `request` goes, as the app's object now shows it.
pub fn follow_action(
    kind: ControllerKind,
    request: &ActionRequest,
    object: &Value,
) -> ActionProgress {
    let waiting = |message: &str| ActionProgress::Waiting {
        message: message.to_string(),
    };
    match (&request.action, kind.engine()) {
        (ActionKind::Sync { .. }, Engine::Argocd) => {
            let Some(state) = object
                .pointer("/status/operationState")
                .filter(|s| !s.is_null())
            else {
                return waiting("waiting for Argo CD to start the operation");
            };
            let phase = text(state, "/phase").unwrap_or("Unknown");
            let message = owned(state, "/message").unwrap_or_default();
            match phase {
                "Succeeded" => ActionProgress::Done {
                    succeeded: true,
                    message,
                },
                "Failed" | "Error" => ActionProgress::Done {
                    succeeded: false,
                    message: format!("{phase}: {message}"),
                },
                _ => waiting(&format!("{phase}: {message}")),
            }
        }
        (ActionKind::Refresh { .. }, _) => {
            let pending = object
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(REFRESH_ANNOTATION))
                .is_some();
            if pending {
                waiting("waiting for Argo CD to compare again")
            } else {
                ActionProgress::Done {
                    succeeded: true,
                    message: "refreshed".to_string(),
                }
            }
        }
        (ActionKind::Sync { .. }, Engine::Flux) => {
            let handled = text(object, "/status/lastHandledReconcileAt");
            if handled.is_none() || handled != request.token.as_deref() {
                return waiting("waiting for Flux to handle the reconcile request");
            }
            let ready = condition(object, "Ready");
            let message = ready.and_then(|c| owned(c, "/message")).unwrap_or_default();
            match ready.and_then(|c| text(c, "/status")) {
                Some("True") => ActionProgress::Done {
                    succeeded: true,
                    message,
                },
                Some("False") => ActionProgress::Done {
                    succeeded: false,
                    message,
                },
                _ => waiting(&message),
            }
        }
        (ActionKind::Suspend | ActionKind::Resume, _) => {
            let wanted = request.action == ActionKind::Suspend;
            let suspended = object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
            if suspended == wanted {
                ActionProgress::Done {
                    succeeded: true,
                    message: if wanted { "suspended" } else { "resumed" }.to_string(),
                }
            } else {
                waiting("waiting for the change to show")
            }
        }
    }
}
