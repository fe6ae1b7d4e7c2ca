//! Automatic syncing in a context's task: after each round of reports and
//! when a wait ends, every app's decision (`engine/auto.rs`, pure) is
//! taken and acted on through the sync path a person's sync takes.

use std::time::Duration;

use tokio::time::Instant;

use super::Context;
use crate::cluster::{ClusterClient, KindCatalog, LiveStore};
use crate::engine::auto::{AutoDecision, AutoStatus, Guards};
use crate::engine::{EngineEvent, SyncCommand};
use crate::sync::{SyncTrigger, signature_refusal};

/// While a sync runs, look again this often: one that wrote nothing
/// changes no verdict that would wake the task.
const RECHECK_WHILE_SYNCING: Duration = Duration::from_secs(1);

impl Context {
    /// Decides for every app and starts the syncs that are due; gives when
    /// to decide again.
    pub(super) fn run_auto(
        &mut self,
        store: &LiveStore,
        client: &ClusterClient,
        catalog: &KindCatalog,
    ) -> Option<Instant> {
        if !self.auto_sync {
            return None;
        }
        let now = Instant::now();
        let mut due: Option<Instant> = None;
        let names: Vec<String> = self.apps.keys().cloned().collect();
        for app in names {
            let Some(slot) = self.apps.get_mut(&app) else {
                continue;
            };
            let policy = slot.config.sync.auto;
            if !policy.auto_sync {
                continue;
            }
            let Some(report) = slot.last.clone() else {
                continue;
            };
            let sync_running = slot
                .sync_cancel
                .as_ref()
                .is_some_and(|cancel| !cancel.is_closed());
            let guards = Guards {
                readonly: self.readonly,
                // A rollback pins the app: auto-sync must not undo it.
                pinned: slot.pinned.is_some(),
                sync_running,
                undeployable: signature_refusal(
                    slot.config.sync.require_signed,
                    slot.signature.as_ref(),
                ),
            };
            slot.auto.observe(&report, now);
            let decision = slot
                .auto
                .decide(&report, slot.last_settled, &policy, &guards, now);
            let status = AutoStatus::of(&decision, now, jiff::Timestamp::now());
            if sync_running {
                due = earliest(due, now + RECHECK_WHILE_SYNCING);
            }
            match &decision {
                AutoDecision::Wait { until, .. } => due = earliest(due, *until),
                AutoDecision::Sync { revision, trigger } => {
                    slot.auto.started(revision, *trigger, &policy, now);
                    tracing::info!(%app, %revision, trigger = trigger.word(), "automatic sync");
                    // Self-heal is Git's word over changes by hand: fields a
                    // person took (`kubectl scale`) are taken back. A new
                    // commit conflicts as a person's sync would.
                    let request = SyncCommand {
                        force: *trigger == SyncTrigger::SelfHeal,
                        ..SyncCommand::default()
                    };
                    if let Err(refused) =
                        self.start_sync(&app, request, None, None, *trigger, store, client, catalog)
                    {
                        tracing::warn!(%app, reason = %refused.message, "automatic sync refused");
                        let _ = self.events.send(EngineEvent::SyncEnded {
                            app: app.clone(),
                            outcome: Err(refused),
                        });
                    }
                    due = earliest(due, now + RECHECK_WHILE_SYNCING);
                }
                AutoDecision::Nothing(_) => {}
            }
            self.show_auto(&app, status);
        }
        due
    }

    /// Sends the app's automatic syncing status, and logs it, when it changed.
    fn show_auto(&mut self, app: &str, status: AutoStatus) {
        let Some(slot) = self.apps.get_mut(app) else {
            return;
        };
        if slot.auto_shown.same_as(&status) {
            return;
        }
        match &status {
            AutoStatus::Waiting {
                trigger,
                at,
                backoff_seconds: Some(backoff),
            } => {
                tracing::info!(%app, trigger = trigger.word(), %at, backoff_seconds = backoff, "self-heal backing off")
            }
            AutoStatus::Held { reason } => tracing::info!(%app, %reason, "automatic sync held"),
            _ => {}
        }
        slot.auto_shown = status.clone();
        let _ = self.events.send(EngineEvent::Auto {
            app: app.to_string(),
            status,
        });
    }
}

fn earliest(due: Option<Instant>, at: Instant) -> Option<Instant> {
    Some(due.map_or(at, |due| due.min(at)))
}
