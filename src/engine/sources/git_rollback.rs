//! The TUI's Git rollback, run off the UI thread: the default message first,
//! then the commit and its push, by the same functions as
//! `driftdeck rollback --git`. The sync of a commit pushed to the app's
//! branch is then asked for by the UI like any other.

use super::Sources;
use crate::engine::EngineEvent;
use crate::source::{RollbackMode, prepare_rollback, publish_rollback};

impl Sources {
    /// Works out the default message of a rollback of `app` to `revision`.
    pub(super) fn prepare_git_rollback(&self, app: &str, revision: String) {
        let Some(rollback_app) = self.rollback_app(app) else {
            return;
        };
        let events = self.events.clone();
        tokio::spawn(async move {
            let message = prepare_rollback(&rollback_app, &revision)
                .await
                .map(|prepared| prepared.default_message(&rollback_app.name))
                .map_err(|err| err.to_string());
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
        let Some(rollback_app) = self.rollback_app(app) else {
            return;
        };
        let events = self.events.clone();
        tokio::spawn(async move {
            let outcome = match prepare_rollback(&rollback_app, &revision).await {
                Ok(prepared) => publish_rollback(&rollback_app, prepared, message, mode).await,
                Err(err) => Err(err),
            };
            let _ = events.send(EngineEvent::GitRolledBack {
                app: rollback_app.name,
                outcome: outcome.map_err(|err| err.to_string()),
            });
        });
    }

    fn rollback_app(&self, app: &str) -> Option<crate::source::RollbackApp> {
        let followed = self.followed.iter().find(|f| f.config.name == app)?;
        Some(followed.config.rollback_app(&self.paths.cache_dir))
    }
}
