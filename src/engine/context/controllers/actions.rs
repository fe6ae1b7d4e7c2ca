//! Asking an Argo CD or Flux app's engine to act (sync, refresh,
//! rollback): the checks, the app's Lease, the audit log's records, the
//! patches written in a task, and the engine's answer followed on the
//! watch of its object until it is done.

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Controllers, Followed};
use crate::cluster::{
    ClusterClient, KindCatalog, LEASE_DURATION, LeaseRequest, LiveStore, ServedKind, SyncLease,
    merge_patch,
};
use crate::engine::EngineEvent;
use crate::engines::{ActionKind, ActionProgress, ActionRequest, follow_action, request_action};
use crate::resource::ResourceKey;
use crate::sync::{AuditLog, AuditRecord, Operator, SyncCompleted, SyncStarted, SyncStatus};

/// What the task writing an action's patches sends back.
pub(in crate::engine::context) struct Written {
    app: String,
    result: Result<(Option<Value>, SyncLease), String>,
}

/// An action written (or being written) and not yet answered.
pub(super) struct Running {
    request: ActionRequest,
    audit_id: String,
    started: Instant,
    /// The object's resourceVersion once the patches are written: older
    /// states are not the engine's answer.
    written_version: Option<String>,
    lease: Option<SyncLease>,
    last: Option<ActionProgress>,
}

impl Controllers {
    /// The channel the writing tasks answer on.
    pub(in crate::engine::context) async fn next_written(&mut self) -> Option<Written> {
        self.written.1.recv().await
    }

    /// Asks the app's engine to act: checks as the engine would, takes the
    /// app's Lease, records the action in the audit log and writes its
    /// patches in a task; the engine's answer is followed on the watch.
    pub(in crate::engine::context) fn act(&mut self, request: ActionOrder<'_>) {
        let ActionOrder {
            app,
            action,
            client,
            catalog,
            operator,
            audit,
        } = request;
        let Some(followed) = self.apps.get_mut(app) else {
            return; // another context's app, or none
        };
        let refuse = |why: String| {
            let _ = self.events.send(EngineEvent::ControllerActed {
                app: app.to_string(),
                progress: Err(why),
            });
        };
        if followed.action.is_some() {
            return refuse(format!(
                "app \"{app}\": an action driftdeck asked is still running"
            ));
        }
        let token = jiff::Timestamp::now().to_string();
        let request = match request_action(&followed.app, &action, &operator.identity(), &token) {
            Ok(request) => request,
            Err(why) => return refuse(why),
        };
        let mut targets = Vec::new();
        for (key, patch) in &request.patches {
            match catalog.preferred(&key.group, &key.kind) {
                Some(kind) => targets.push((kind.clone(), key.clone(), patch.clone())),
                None => {
                    return refuse(format!(
                        "app \"{app}\": the cluster does not serve {} ({})",
                        key.kind, key.group
                    ));
                }
            }
        }
        let audit_id = uuid::Uuid::new_v4().to_string();
        let start = AuditRecord::Start(SyncStarted {
            id: audit_id.clone(),
            time: jiff::Timestamp::now(),
            operator: operator.clone(),
            app: app.to_string(),
            context: client.context().to_string(),
            revision: request.revision.clone().unwrap_or_default(),
            automatic: false,
            trigger: crate::sync::SyncTrigger::Manual,
            operation: match action {
                ActionKind::Rollback { .. } => crate::sync::SyncOperation::Rollback,
                _ => crate::sync::SyncOperation::Sync,
            },
            from_revision: None,
            plan: json!({
                "engine": followed.app.kind.engine(),
                "object": followed.app.object_label(),
                "request": &request,
            }),
        });
        if let Err(err) = audit.append(&start) {
            return refuse(format!("app \"{app}\": {err}"));
        }
        followed.action = Some(Running {
            request,
            audit_id,
            started: Instant::now(),
            written_version: None,
            lease: None,
            last: None,
        });
        let (client, answer, holder) =
            (client.clone(), self.written.0.clone(), operator.identity());
        let (name, namespace) = (app.to_string(), followed.app.namespace.clone());
        // A Lease name holds no '/': `argocd.web` in the app's namespace.
        let lease_app = format!(
            "{}.{}",
            followed.app.kind.engine().name(),
            followed.app.object_name
        );
        tokio::spawn(async move {
            let result = write(&client, &lease_app, &namespace, &holder, targets).await;
            let _ = answer.send(Written { app: name, result });
        });
    }

    /// The patches are written (or not): follow the engine's answer from
    /// the object as it now is.
    pub(in crate::engine::context) fn on_written(
        &mut self,
        written: Written,
        store: &LiveStore,
        audit: &AuditLog,
    ) {
        let Some(followed) = self.apps.get_mut(&written.app) else {
            return;
        };
        let Some(running) = followed.action.as_mut() else {
            return;
        };
        match written.result {
            Err(why) => {
                let why = format!("app \"{}\": {why}", written.app);
                finish(&written.app, followed, audit, false, Some(why.clone()));
                let _ = self.events.send(EngineEvent::ControllerActed {
                    app: written.app,
                    progress: Err(why),
                });
            }
            Ok((object, lease)) => {
                running.lease = Some(lease);
                running.written_version = Some(
                    object
                        .as_ref()
                        .and_then(|o| o.pointer("/metadata/resourceVersion"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                );
                let key = self
                    .by_key
                    .iter()
                    .find(|(_, name)| **name == written.app)
                    .map(|(key, _)| key.clone());
                let seen = key.and_then(|k| store.object(&k));
                let newest = match (seen, object) {
                    (Some(seen), Some(patched)) => Some(newer(seen, patched)),
                    (seen, patched) => seen.or(patched),
                };
                if let Some(object) = newest {
                    self.follow_with(&written.app, &object, audit);
                }
            }
        }
    }

    /// Follows the app's running action on its object as now seen.
    pub(super) fn follow_with(&mut self, app: &str, object: &Value, audit: &AuditLog) {
        let Some(followed) = self.apps.get_mut(app) else {
            return;
        };
        let kind = followed.app.kind;
        let Some(running) = followed.action.as_mut() else {
            return;
        };
        let Some(written) = &running.written_version else {
            return;
        };
        if !at_or_after(object, written) {
            return;
        }
        let progress = follow_action(kind, &running.request, object);
        if running.last.as_ref() == Some(&progress) {
            return;
        }
        running.last = Some(progress.clone());
        let lease = match &progress {
            ActionProgress::Done { succeeded, message } => {
                let error = (!succeeded).then(|| message.clone());
                finish(app, followed, audit, *succeeded, error)
            }
            ActionProgress::Waiting { .. } => None,
        };
        let done = EngineEvent::ControllerActed {
            app: app.to_string(),
            progress: Ok(progress),
        };
        match lease {
            // The end is told once the Lease is given back, so that a
            // process that stops then leaves none behind.
            Some(lease) => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    let _ = lease.release().await;
                    let _ = events.send(done);
                });
            }
            None => {
                let _ = self.events.send(done);
            }
        }
    }
}

/// What `Controllers::act` needs from the context.
pub(in crate::engine::context) struct ActionOrder<'a> {
    pub app: &'a str,
    pub action: ActionKind,
    pub client: &'a ClusterClient,
    pub catalog: &'a KindCatalog,
    pub operator: &'a Operator,
    pub audit: &'a AuditLog,
}

/// Takes the Lease and writes the patches, in order.
async fn write(
    client: &ClusterClient,
    lease_app: &str,
    namespace: &str,
    holder: &str,
    targets: Vec<(ServedKind, ResourceKey, Value)>,
) -> Result<(Option<Value>, SyncLease), String> {
    let lease = SyncLease::acquire(
        client,
        &LeaseRequest {
            app: lease_app,
            namespace,
            holder,
            duration: LEASE_DURATION,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut first = None;
    for (index, (kind, key, patch)) in targets.iter().enumerate() {
        match merge_patch(client, kind, key, patch).await {
            Ok(written) if index == 0 => first = written,
            Ok(_) => {}
            Err(refused) => {
                let _ = lease.release().await;
                return Err(format!("{key}: {refused}"));
            }
        }
    }
    Ok((first, lease))
}

/// Ends the app's action with the audit log's completion record; gives
/// the Lease to release.
fn finish(
    app: &str,
    followed: &mut Followed,
    audit: &AuditLog,
    succeeded: bool,
    error: Option<String>,
) -> Option<SyncLease> {
    let running = followed.action.take()?;
    let record = AuditRecord::Completion(SyncCompleted {
        id: running.audit_id,
        time: jiff::Timestamp::now(),
        app: app.to_string(),
        status: if succeeded {
            SyncStatus::Succeeded
        } else {
            SyncStatus::Failed
        },
        duration_ms: u64::try_from(running.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        objects: Vec::new(),
        error,
    });
    if let Err(err) = audit.append(&record) {
        tracing::warn!(app, %err, "the end of an engine action is not in the audit log");
    }
    running.lease
}

fn version(object: &Value) -> Option<u64> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
}

/// Whether `object` is the written version or a later one. API servers'
/// resourceVersions are opaque but, from etcd, increasing integers; any
/// other form is taken as later.
fn at_or_after(object: &Value, written: &str) -> bool {
    match (version(object), written.parse::<u64>().ok()) {
        (Some(seen), Some(written)) => seen >= written,
        _ => true,
    }
}

fn newer(a: Value, b: Value) -> Value {
    if version(&a) >= version(&b) { a } else { b }
}
