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
    /// Argo CD: an operation syncing what the history entry `id` deployed,
    /// as `argocd app rollback` asks (refused while auto-sync is on).
    Rollback {
        id: i64,
        prune: bool,
    },
}

impl ActionKind {
    pub fn verb(&self) -> &'static str {
        match self {
            ActionKind::Sync { .. } => "sync",
            ActionKind::Refresh { .. } => "refresh",
            ActionKind::Suspend => "suspend",
            ActionKind::Resume => "resume",
            ActionKind::Rollback { .. } => "rollback",
        }
    }

    /// What asking it does, in words: `sync Application argocd/web at
    /// 3f2a91c (prune: no)`, `reconcile Kustomization flux-system/apps and
    /// its source now`. `object` is the app's object as `object_label`
    /// writes it; `revision` the one an Argo CD sync goes to.
    pub fn describe(&self, object: &str, revision: Option<&str>) -> String {
        match self {
            ActionKind::Sync { prune } if object.starts_with("Application") => format!(
                "sync {object} at {} (prune: {})",
                revision.unwrap_or("its target revision"),
                if *prune { "yes" } else { "no" }
            ),
            ActionKind::Sync { .. } => format!("reconcile {object} and its source now"),
            ActionKind::Refresh { hard: true } => format!("hard-refresh {object}"),
            ActionKind::Refresh { hard: false } => format!("refresh {object}"),
            ActionKind::Suspend => format!("suspend {object}"),
            ActionKind::Resume => format!("resume {object}"),
            ActionKind::Rollback { id, prune } => format!(
                "roll back {object} to its history entry #{id}{} (prune: {})",
                revision.map(|r| format!(", {r}")).unwrap_or_default(),
                if *prune { "yes" } else { "no" }
            ),
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
        (Engine::Argocd, ActionKind::Rollback { id, prune }) => {
            // As Argo CD's API server refuses and writes it (`Rollback`).
            if state.auto_sync {
                return refuse("rollback cannot be initiated when auto-sync is enabled");
            }
            if state.operation_pending {
                return refuse("another operation is already in progress");
            }
            let Some(entry) = state.history.iter().find(|d| d.id == Some(*id)) else {
                return refuse(&format!(
                    "application {} does not have deployment with id {id}",
                    app.object_name
                ));
            };
            let Some(Value::Object(to)) = &entry.rollback_to else {
                return refuse(
                    "cannot rollback to revision deployed with Argo CD v0.11 or lower. sync to revision instead.",
                );
            };
            let mut sync = json!({"prune": prune, "syncStrategy": {"apply": {}}});
            for (field, value) in to {
                sync[field] = value.clone();
            }
            if !state.sync_options.is_empty() {
                sync["syncOptions"] = json!(state.sync_options);
            }
            let patch = json!({
                "operation": {"initiatedBy": {"username": operator}, "sync": sync},
                "status": {"operationState": null}
            });
            request(vec![(own_key, patch)], None, Some(entry.revision.clone()))
        }
        (Engine::Flux, ActionKind::Rollback { .. }) => {
            refuse("Flux has no rollback to a history entry; roll back in Git")
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

impl ActionKind {
    /// What tells, after the writes, that the engine has done it.
    pub fn followed_by(&self, engine: Engine) -> &'static str {
        match (self, engine) {
            (ActionKind::Sync { .. } | ActionKind::Rollback { .. }, Engine::Argocd) => {
                "then follows status.operationState to its end"
            }
            (ActionKind::Rollback { .. }, Engine::Flux) => "",
            (ActionKind::Sync { .. }, Engine::Flux) => {
                "then follows status.lastHandledReconcileAt and the Ready condition"
            }
            (ActionKind::Refresh { .. }, _) => "then waits for Argo CD to remove the annotation",
            (ActionKind::Suspend | ActionKind::Resume, _) => "then waits for the change to show",
        }
    }
}

impl ActionRequest {
    /// What it writes, for a person to read before it is: per object, a
    /// line naming it, then one line per field (`  spec.suspend: true`;
    /// `null` removes a field).
    pub fn written_fields(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (key, patch) in &self.patches {
            lines.push(format!("{key}:"));
            flatten(patch, &mut String::new(), &mut lines);
        }
        lines
    }
}

/// `path: value` for every leaf of a merge patch; an empty object is a
/// leaf (`syncStrategy.hook: {}`).
fn flatten(value: &Value, path: &mut String, lines: &mut Vec<String>) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (name, child) in fields {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                // Annotation names hold dots: quoted, as the drift paths do.
                if name.contains(['.', '[', ']']) {
                    path.push_str(&format!("\"{name}\""));
                } else {
                    path.push_str(name);
                }
                flatten(child, path, lines);
                path.truncate(length);
            }
        }
        leaf => lines.push(format!("  {path}: {leaf}")),
    }
}

/// The source a Flux object reads (`spec.sourceRef`, `spec.chartRef` or
/// the chart template's `sourceRef`), in the object's namespace unless it
/// names one.
pub fn source_key(app: &ControllerApp) -> Option<ResourceKey> {
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
        (ActionKind::Sync { .. } | ActionKind::Rollback { .. }, Engine::Argocd) => {
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
        (ActionKind::Sync { .. } | ActionKind::Rollback { .. }, Engine::Flux) => {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::EnginesConfig;

    fn app(object: Value) -> ControllerApp {
        let app = ControllerApp::of(&object, &EnginesConfig::default()).unwrap();
        // What the TUI rebuilds from the report is the same app.
        assert_eq!(
            ControllerApp::of_state(&app.name, &app.state),
            Some(app.clone())
        );
        app
    }

    #[test]
    fn an_argocd_sync_is_shown_field_by_field_as_it_will_be_written() {
        let web = app(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd"},
            "status": {"sync": {"status": "OutOfSync", "revision": "abc123"}}
        }));
        let request =
            request_action(&web, &ActionKind::Sync { prune: true }, "ada@box", "t").unwrap();
        assert_eq!(
            request.written_fields(),
            [
                "Application argocd/web:",
                "  operation.initiatedBy.username: \"ada@box\"",
                "  operation.sync.prune: true",
                "  operation.sync.syncStrategy.hook: {}",
                "  operation.sync.revision: \"abc123\"",
                "  status.operationState: null",
            ]
        );
        assert_eq!(
            request
                .action
                .describe(&web.object_label(), request.revision.as_deref()),
            "sync Application argocd/web at abc123 (prune: yes)"
        );
    }

    #[test]
    fn a_flux_reconcile_names_the_object_and_its_source_with_the_quoted_annotation() {
        let apps = app(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "flux-system"}}
        }));
        let request =
            request_action(&apps, &ActionKind::Sync { prune: false }, "ada@box", "T1").unwrap();
        let lines = request.written_fields();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert_eq!(
            lines[1],
            "  metadata.annotations.\"reconcile.fluxcd.io/requestedAt\": \"T1\""
        );
        assert!(
            lines[2].contains("GitRepository flux-system/flux-system"),
            "{lines:#?}"
        );
    }
}

#[cfg(test)]
mod rollback_tests {
    use serde_json::json;

    use super::*;
    use crate::config::EnginesConfig;

    fn guestbook(automated: bool) -> ControllerApp {
        let mut object = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "guestbook", "namespace": "argocd"},
            "spec": {"syncPolicy": {"syncOptions": ["CreateNamespace=true"]}},
            "status": {"history": [
                {"id": 0, "revision": "ba93d48", "deployedAt": "2026-08-18T14:02:12Z"},
                {"id": 1, "revision": "29d0e77", "deployedAt": "2026-08-19T09:30:43Z",
                 "source": {"repoURL": "https://example.com/apps.git", "path": "guestbook",
                            "targetRevision": "HEAD"}}
            ]}
        });
        if automated {
            object["spec"]["syncPolicy"]["automated"] = json!({"prune": true});
        }
        ControllerApp::of(&object, &EnginesConfig::default()).unwrap()
    }

    #[test]
    fn a_rollback_syncs_the_entrys_revision_and_source_with_the_apply_strategy() {
        let action = ActionKind::Rollback {
            id: 1,
            prune: false,
        };
        let request = request_action(&guestbook(false), &action, "ada@box", "t").unwrap();
        assert_eq!(request.revision.as_deref(), Some("29d0e77"));
        assert_eq!(
            request.patches[0].1,
            json!({
                "operation": {"initiatedBy": {"username": "ada@box"}, "sync": {
                    "prune": false, "syncStrategy": {"apply": {}}, "revision": "29d0e77",
                    "source": {"repoURL": "https://example.com/apps.git", "path": "guestbook",
                               "targetRevision": "HEAD"},
                    "syncOptions": ["CreateNamespace=true"]
                }},
                "status": {"operationState": null}
            })
        );
    }

    #[test]
    fn a_rollback_is_refused_as_argo_cd_refuses_it() {
        let refused = |app: &ControllerApp, id| {
            request_action(
                app,
                &ActionKind::Rollback { id, prune: false },
                "ada@box",
                "t",
            )
            .unwrap_err()
        };
        assert_eq!(
            refused(&guestbook(true), 1),
            "app \"argocd/guestbook\": rollback refused: rollback cannot be initiated when auto-sync is enabled"
        );
        assert!(refused(&guestbook(false), 7).contains("does not have deployment with id 7"));
        assert!(refused(&guestbook(false), 0).contains("v0.11 or lower"));
    }
}
