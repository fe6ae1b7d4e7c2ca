//! Sync in a context's task: planned from the live store and the app's last
//! verdict, run in a task of its own whose progress and outcome go out as
//! engine events.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use super::{Context, ToContext};
use crate::cluster::{ClusterClient, KindCatalog, LiveStore};
use crate::engine::assess::{assess, live_queries};
use crate::engine::{EngineEvent, SyncCommand, SyncRefused};
use crate::manifests::Checked;
use crate::resource::ResourceKey;
use crate::sync::{
    PlanRequest, SyncError, SyncOperation, SyncOptions, SyncPlan, SyncRequest, SyncStatus,
};

/// A revision to plan or sync at other than the one compared, rendered.
pub(in crate::engine) struct At {
    /// The full commit id.
    pub revision: String,
    pub checked: Arc<Checked>,
    /// A rollback: the pin the objects are stamped with (the revision).
    pub pin: Option<String>,
}

/// A plan, and for a rollback the revision the app followed before.
struct Planned {
    plan: SyncPlan,
    rollback_from: Option<String>,
}

impl Context {
    /// Plans or runs a sync, or stops one; gives back any other message.
    pub(super) fn act(
        &mut self,
        message: ToContext,
        store: &LiveStore,
        client: &ClusterClient,
        catalog: &KindCatalog,
    ) -> Option<ToContext> {
        match message {
            ToContext::Plan {
                app,
                prune,
                at,
                only,
            } => {
                let plan = self
                    .plan(&app, prune, at.as_deref(), only.as_ref(), store)
                    .map(|planned| Arc::new(planned.plan))
                    .map_err(|refused| refused.message);
                let _ = self.events.send(EngineEvent::Planned { app, plan });
                None
            }
            ToContext::Sync {
                app,
                request,
                at,
                finished,
            } => {
                let at = at.as_deref();
                let started = self.start_sync(&app, request, at, finished, store, client, catalog);
                if let Err(refused) = started {
                    let _ = self.events.send(EngineEvent::SyncEnded {
                        app,
                        outcome: Err(refused),
                    });
                }
                None
            }
            ToContext::CancelSync { app } => {
                if let Some(cancel) = self.apps.get(&app).and_then(|s| s.sync_cancel.as_ref()) {
                    let _ = cancel.send(true);
                }
                None
            }
            ToContext::ControllerAction { app, action } => {
                self.controllers.act(super::controllers::ActionOrder {
                    app: &app,
                    action,
                    client,
                    catalog,
                    operator: &self.operator,
                    audit: &self.audit,
                });
                None
            }
            other => Some(other),
        }
    }

    /// The plan for a sync of the app at `at`, else at the revision last
    /// compared (stamped with the app's pin if it is pinned there), of one
    /// object only with `only`.
    fn plan(
        &self,
        app: &str,
        prune: bool,
        at: Option<&At>,
        only: Option<&ResourceKey>,
        store: &LiveStore,
    ) -> Result<Planned, SyncRefused> {
        let could_not_run = |message: String| SyncRefused {
            message,
            could_not_run: true,
        };
        let slot = self
            .apps
            .get(app)
            .ok_or_else(|| could_not_run(format!("app \"{app}\" is not followed")))?;
        // The head failing to render is no reason to refuse another revision.
        if let (Some(cause), None) = (&slot.failure, at) {
            return Err(could_not_run(format!("app \"{app}\": {cause}")));
        }
        let (Some((compared, compared_checked)), Some(report)) = (&slot.desired, &slot.last) else {
            return Err(could_not_run(format!("app \"{app}\" has no verdict yet")));
        };
        // Another revision is compared afresh: the verdict at hand is not of it.
        let view;
        let fresh;
        let (revision, checked, results, pin, rollback_from) = match at {
            None => {
                view = store.app_view(app, &slot.wanted);
                let pin = slot.pinned.as_deref().filter(|pin| pin == compared);
                (compared, compared_checked, &report.resources, pin, None)
            }
            Some(at) => {
                view = store.app_view(app, &live_queries(&at.checked).0);
                fresh = assess(&slot.config, &at.revision, &at.checked, &view, &self.manual);
                // Rolled back from what the app followed: its head or earlier pin.
                let from = at.pin.is_some().then(|| compared.clone());
                (
                    &at.revision,
                    &at.checked,
                    &fresh.resources,
                    at.pin.as_deref(),
                    from,
                )
            }
        };
        let plan = crate::sync::plan(&PlanRequest {
            app: &slot.config,
            revision,
            checked,
            results,
            live: &view.objects,
            prune: prune || slot.config.sync.prune,
            manual: &self.manual,
            pin,
            // Every object of a pinned app, or of a sync at a chosen
            // revision, says the revision it is at.
            restamp: pin.is_some() || at.is_some(),
        })
        .map(|plan| match only {
            Some(key) => plan.only(key),
            None => plan,
        })
        .map_err(|err| SyncRefused {
            message: err.to_string(),
            could_not_run: false,
        })?;
        Ok(Planned {
            plan,
            rollback_from,
        })
    }

    /// Plans afresh and starts the sync in a task of its own; its progress
    /// and outcome go out as events.
    #[allow(clippy::too_many_arguments)]
    fn start_sync(
        &mut self,
        app: &str,
        request: SyncCommand,
        at: Option<&At>,
        finished: Option<oneshot::Sender<bool>>,
        store: &LiveStore,
        client: &ClusterClient,
        catalog: &KindCatalog,
    ) -> Result<(), SyncRefused> {
        let running = self
            .apps
            .get(app)
            .and_then(|s| s.sync_cancel.as_ref())
            .is_some_and(|cancel| !cancel.is_closed());
        if running {
            return Err(SyncRefused {
                message: format!("app \"{app}\": a sync is running already"),
                could_not_run: true,
            });
        }
        let Planned {
            plan,
            rollback_from,
        } = self.plan(app, request.prune, at, request.only.as_ref(), store)?;
        let Some(slot) = self.apps.get_mut(app) else {
            return Ok(());
        };
        let mut options =
            SyncOptions::for_app(&slot.config, &self.drift, request.force, request.dry_run);
        if let Some(from) = rollback_from {
            options.operation = SyncOperation::Rollback;
            options.from_revision = Some(from);
        }
        let (cancel, cancelled) = watch::channel(false);
        slot.sync_cancel = Some(cancel);
        let (client, mut catalog, audit, operator, events, app) = (
            client.clone(),
            catalog.clone(),
            self.audit.clone(),
            self.operator.clone(),
            self.events.clone(),
            app.to_string(),
        );
        tokio::spawn(async move {
            let (progress, mut reports) = mpsc::unbounded_channel();
            let sync = async {
                let request = SyncRequest {
                    client: &client,
                    plan: &plan,
                    options: &options,
                    operator: &operator,
                    audit: Some(&audit),
                };
                let outcome = crate::sync::run(request, &mut catalog, &progress, cancelled).await;
                drop(progress);
                outcome
            };
            let forward = async {
                while let Some(progress) = reports.recv().await {
                    let _ = events.send(EngineEvent::Syncing {
                        app: app.clone(),
                        progress,
                    });
                }
            };
            let (outcome, ()) = tokio::join!(sync, forward);
            let outcome = outcome.map_err(|err| SyncRefused {
                could_not_run: matches!(
                    err,
                    SyncError::Lease(_)
                        | SyncError::Cluster { .. }
                        | SyncError::Unserved { .. }
                        | SyncError::Audit(_)
                ),
                message: err.to_string(),
            });
            let applied = matches!(&outcome, Ok(done) if done.status == SyncStatus::Succeeded && !done.dry_run);
            let _ = events.send(EngineEvent::SyncEnded { app, outcome });
            if let Some(finished) = finished {
                let _ = finished.send(applied);
            }
        });
        Ok(())
    }
}
