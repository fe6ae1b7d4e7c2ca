//! The TUI's Git rollback, run off the UI thread: the default message first,
//! then the commit and its push, by the same functions as
//! `driftdeck rollback --git`. A commit pushed to the app's branch replaces
//! the app's pin, which is removed before the UI is told (the UI then asks
//! for the sync of the pushed commit like any other).

use super::{Done, Sources};
use crate::config::SignatureRequirement;
use crate::engine::EngineEvent;
use crate::source::{
    PreparedRollback, RollbackApp, RollbackMode, RollbackOutcome, SourceError, prepare_rollback,
    publish_rollback,
};
use crate::sync::unsignable_rollback;

impl Sources {
    /// Works out the default message of a rollback of `app` to `revision`.
    pub(super) fn prepare_git_rollback(&self, app: &str, revision: String) {
        let Some((rollback_app, requirement)) = self.rollback_app(app) else {
            return;
        };
        let events = self.events.clone();
        tokio::spawn(async move {
            let message = prepare_signable(&rollback_app, requirement, &revision)
                .await
                .map(|prepared| prepared.default_message(&rollback_app.name));
            let _ = events.send(EngineEvent::GitRollbackPrepared {
                app: rollback_app.name,
                message,
            });
        });
    }

    /// Commits the rollback with the operator's message and publishes it.
    pub(super) fn git_rollback(
        &self,
        app: &str,
        revision: String,
        message: String,
        mode: RollbackMode,
    ) {
        let Some(index) = self.state.index_of(app) else {
            return;
        };
        let Some((rollback_app, requirement)) = self.rollback_app(app) else {
            return;
        };
        let done = self.done.clone();
        tokio::spawn(async move {
            let outcome = match prepare_signable(&rollback_app, requirement, &revision).await {
                Ok(prepared) => publish_rollback(&rollback_app, prepared, message, mode)
                    .await
                    .map_err(|err| err.to_string()),
                Err(why) => Err(why),
            };
            let _ = done.send(Done::GitRolledBack {
                app: index,
                outcome,
            });
        });
    }

    /// The rollback was published (or not). Pushed to the app's branch, it
    /// replaces the app's pin: the pin is removed first, so that the sync
    /// the UI asks for next goes to the pushed commit.
    pub(super) fn on_git_rolled_back(
        &mut self,
        index: usize,
        outcome: Result<RollbackOutcome, String>,
    ) {
        let followed = &self.state.followed[index];
        let (app, pinned) = (followed.config.name.clone(), followed.pinned.clone());
        let on_branch = matches!(&outcome, Ok(o) if o.merge_request.is_none());
        if on_branch
            && pinned.is_some()
            && let Err(cause) = self.clear_pin(index)
        {
            let _ = self.events.send(EngineEvent::Pinned {
                app: app.clone(),
                pinned: Err(cause),
            });
        }
        let _ = self.events.send(EngineEvent::GitRolledBack {
            app,
            outcome,
            pinned,
        });
    }

    fn rollback_app(&self, app: &str) -> Option<(RollbackApp, SignatureRequirement)> {
        let followed = &self.state.followed[self.state.index_of(app)?];
        let config = &followed.config;
        Some((
            config.rollback_app(&self.paths.cache_dir),
            config.sync.require_signed,
        ))
    }
}

/// Prepares the rollback, refused when git would not sign its commit as
/// the app's `require_signed` asks: before anything is committed.
async fn prepare_signable(
    app: &RollbackApp,
    requirement: SignatureRequirement,
    revision: &str,
) -> Result<PreparedRollback, String> {
    let prepared = prepare_rollback(app, revision)
        .await
        .map_err(|err: SourceError| err.to_string())?;
    match unsignable_rollback(&app.name, requirement, &prepared.signing) {
        Some(why) => Err(why),
        None => Ok(prepared),
    }
}
