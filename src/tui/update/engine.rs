//! What the engine says, taken into the state: verdicts and histories unless
//! they answer an older generation, a source's state, the request counts,
//! plans and syncs (`sync.rs`).
//! A newer list keeps the operator's selection on the same object.

use super::keep_cursors_in_view;
use crate::engine::{EngineEvent, Generation};
use crate::tui::listing::{self, Selection};
use crate::tui::msg::Outcome;
use crate::tui::state::{AppState, RequestCounts, State};

pub(super) fn receive(state: &mut State, event: EngineEvent) -> Outcome {
    match event {
        EngineEvent::Report {
            app,
            generation,
            report,
            ..
        } => {
            let selection = Selection::of(state);
            let Some(target) = current(&mut state.apps, &app, generation) else {
                return Outcome::unchanged();
            };
            target.refreshing = false;
            target.report = Some(report);
            listing::sort_app(target, state.sort);
            listing::relist_keeping(state, selection);
        }
        EngineEvent::Commits {
            app,
            generation,
            commits,
        } => {
            let selected = state
                .selected_app()
                .and_then(|a| a.commits.as_ref())
                .and_then(|c| c.get(state.cursors.commits.selected))
                .map(|c| c.id);
            let is_selected = is_selected(state, &app);
            let Some(target) = current(&mut state.apps, &app, generation) else {
                return Outcome::unchanged();
            };
            if is_selected
                && let Some(index) = selected.and_then(|id| commits.iter().position(|c| c.id == id))
            {
                state.cursors.commits.selected = index;
            }
            target.commits = Some(commits);
            target.history_error = None;
        }
        EngineEvent::HistoryFailed {
            app,
            generation,
            cause,
        } => {
            let Some(target) = current(&mut state.apps, &app, generation) else {
                return Outcome::unchanged();
            };
            target.history_error = Some(cause);
        }
        EngineEvent::Source { app, source } => {
            let Some(target) = state.apps.iter_mut().find(|a| a.name == app) else {
                return Outcome::unchanged();
            };
            // Git cannot be read: no verdict will answer a refresh until it can.
            let gave_up = source.error.is_some() && target.refreshing;
            if gave_up {
                target.refreshing = false;
            }
            let changed = target.source.as_ref() != Some(&source);
            let error_changed = target.source_error() != source.error.as_deref();
            target.source = Some(source);
            if error_changed {
                // Git that cannot be read moves the app up the list.
                listing::relist(state);
            }
            return Outcome::changed_if(changed || gave_up);
        }
        EngineEvent::Requests { git, cluster } => {
            let counts = Some(RequestCounts { git, cluster });
            let changed = state.requests != counts;
            state.requests = counts;
            return Outcome::changed_if(changed);
        }
        EngineEvent::Planned { app, plan } => return super::sync::planned(state, &app, plan),
        EngineEvent::Syncing { app, progress } => {
            return super::sync::progressed(state, &app, &progress);
        }
        EngineEvent::SyncEnded { app, outcome } => {
            let mut outcome = super::sync::ended(state, &app, &outcome);
            keep_cursors_in_view(state);
            outcome.changed = true;
            return outcome;
        }
        EngineEvent::Pinned { app, pinned } => return super::rollback::pinned(state, &app, pinned),
        EngineEvent::GitRollbackPrepared { app, message } => {
            return super::rollback::message_prepared(state, &app, message);
        }
        EngineEvent::GitRolledBack { app, outcome } => {
            return super::rollback::rolled_back_in_git(state, &app, outcome);
        }
    }
    keep_cursors_in_view(state);
    Outcome::changed()
}

fn is_selected(state: &State, app: &str) -> bool {
    state.selected_app().is_some_and(|a| a.name == app)
}

/// The app an answer is for, unless it answers an older generation (a
/// refresh has been asked for since) or names no configured app.
fn current<'a>(
    apps: &'a mut [AppState],
    app: &str,
    generation: Generation,
) -> Option<&'a mut AppState> {
    let Some(target) = apps.iter_mut().find(|a| a.name == app) else {
        tracing::debug!(
            app,
            "engine event for an app that is not configured, dropped"
        );
        return None;
    };
    if generation < target.generation {
        tracing::debug!(
            app,
            generation,
            current = target.generation,
            "stale answer dropped"
        );
        return None;
    }
    Some(target)
}
