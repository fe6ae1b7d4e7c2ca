//! Sync in a context's task: planned from the live store and the app's last
//! verdict, run in a task of its own whose progress and outcome go out as
//! engine events.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::{Context, ToContext};
use crate::cluster::{ClusterClient, KindCatalog, LiveStore};
use crate::engine::{EngineEvent, SyncCommand, SyncRefused};
use crate::resource::ResourceKey;
use crate::sync::{PlanRequest, SyncError, SyncOptions, SyncPlan, SyncRequest, SyncTrigger};

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
            ToContext::Plan { app, prune, only } => {
                let plan = self
                    .plan(&app, prune, only.as_ref(), store)
                    .map(Arc::new)
                    .map_err(|refused| refused.message);
                let _ = self.events.send(EngineEvent::Planned { app, plan });
                None
            }
            ToContext::Sync { app, request } => {
                let manual = SyncTrigger::Manual;
                if let Err(refused) = self.start_sync(&app, request, manual, store, client, catalog)
                {
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
            other => Some(other),
        }
    }

    /// The plan for a sync of the app at the revision last compared, of
    /// one object only with `only`.
    fn plan(
        &self,
        app: &str,
        prune: bool,
        only: Option<&ResourceKey>,
        store: &LiveStore,
    ) -> Result<SyncPlan, SyncRefused> {
        let could_not_run = |message: String| SyncRefused {
            message,
            could_not_run: true,
        };
        let slot = self
            .apps
            .get(app)
            .ok_or_else(|| could_not_run(format!("app \"{app}\" is not followed")))?;
        if let Some(cause) = &slot.failure {
            return Err(could_not_run(format!("app \"{app}\": {cause}")));
        }
        let (Some((revision, checked)), Some(report)) = (&slot.desired, &slot.last) else {
            return Err(could_not_run(format!("app \"{app}\" has no verdict yet")));
        };
        let view = store.app_view(app, &slot.wanted);
        crate::sync::plan(&PlanRequest {
            app: &slot.config,
            revision,
            checked,
            results: &report.resources,
            live: &view.objects,
            prune: prune || slot.config.sync.prune,
            manual: &self.manual,
            signature: slot.signature.as_ref(),
        })
        .map(|plan| match only {
            Some(key) => plan.only(key),
            None => plan,
        })
        .map_err(|err| SyncRefused {
            message: err.to_string(),
            could_not_run: false,
        })
    }

    /// Plans afresh and starts the sync in a task of its own; its progress
    /// and outcome go out as events.
    pub(super) fn start_sync(
        &mut self,
        app: &str,
        request: SyncCommand,
        trigger: SyncTrigger,
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
        let plan = self.plan(app, request.prune, request.only.as_ref(), store)?;
        let Some(slot) = self.apps.get_mut(app) else {
            return Ok(());
        };
        let options = SyncOptions {
            trigger,
            ..SyncOptions::for_app(&slot.config, &self.drift, request.force, request.dry_run)
        };
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
            let _ = events.send(EngineEvent::SyncEnded { app, outcome });
        });
        Ok(())
    }
}
