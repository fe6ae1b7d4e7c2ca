//! What the engine says, taken into the state: verdicts and histories unless
//! they answer an older generation, a source's state, the request counts,
//! plans and syncs (`sync.rs`).
//! A newer list keeps the operator's selection on the same object.

use super::keep_cursors_in_view;
use crate::engine::{EngineEvent, Generation};
use crate::tui::app_state::AppState;
use crate::tui::listing::{self, Selection};
use crate::tui::msg::Outcome;
use crate::tui::state::{RequestCounts, State};

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
            let selected = state.selected_commit().map(|c| c.id);
            let is_selected = is_selected(state, &app);
            let Some(target) = current(&mut state.apps, &app, generation) else {
                return Outcome::unchanged();
            };
            target.commits = Some(commits);
            target.history_error = None;
            if is_selected {
                keep_commit(state, selected);
            }
        }
        EngineEvent::PathCommits {
            app,
            generation,
            touching,
        } => {
            let selected = state.selected_commit().map(|c| c.id);
            let is_selected = is_selected(state, &app);
            let Some(target) = current(&mut state.apps, &app, generation) else {
                return Outcome::unchanged();
            };
            target.touching = Some(touching);
            if is_selected {
                keep_commit(state, selected);
            }
        }
        EngineEvent::Previewed { app, preview } => {
            let Some(target) = state.apps.iter_mut().find(|a| a.name == app) else {
                return Outcome::unchanged();
            };
            // Only the answer to the last Enter.
            if target.previewing.is_none_or(|id| !preview.is_for(&id)) {
                return Outcome::unchanged();
            }
            target.previewing = None;
            target.preview = Some(preview);
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
        EngineEvent::ControllerApps {
            context,
            apps,
            unreadable,
        } => {
            // Sent again only when something changed: a kind it cannot
            // list (RBAC) is said once, and its apps are missing meanwhile.
            let said = !unreadable.is_empty();
            if said {
                state.notice = Some(format!(
                    "{}; its apps are not listed until it can be",
                    unreadable.join("; ")
                ));
            }
            let selection = Selection::of(state);
            if !take_controller_apps(state, context, apps) {
                return Outcome::changed_if(said);
            }
            listing::relist_keeping(state, selection);
        }
        EngineEvent::ControllerActed { app, progress } => {
            return super::controller::acted(state, &app, progress);
        }
        EngineEvent::Auto { app, status } => {
            let Some(target) = state.apps.iter_mut().find(|a| a.name == app) else {
                return Outcome::unchanged();
            };
            let changed = target.auto != status;
            target.auto = status;
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
        EngineEvent::GitRolledBack {
            app,
            outcome,
            pinned,
        } => {
            return super::rollback::rolled_back_in_git(state, &app, outcome, pinned);
        }
    }
    keep_cursors_in_view(state);
    Outcome::changed()
}

/// Puts the commits cursor back on the commit it was on, in the new list.
fn keep_commit(state: &mut State, selected: Option<gix::ObjectId>) {
    let Some(id) = selected else {
        return;
    };
    let Some(commits) = state.selected_app().and_then(|a| a.commits.clone()) else {
        return;
    };
    if let Some(position) = state
        .listed_commits()
        .iter()
        .position(|&index| commits.get(index).is_some_and(|c| c.id == id))
    {
        state.cursors.commits.selected = position;
    }
}

/// The engine apps a context now has, listed beside the configured ones
/// (those gone are dropped); true when the list changed. A name another
/// context has already listed stays that context's row, marked as in both
/// (with a notice): one name cannot say which engine to ask.
fn take_controller_apps(state: &mut State, context: Option<String>, apps: Vec<String>) -> bool {
    let before = state.apps.len();
    state.apps.retain(|a| {
        !(a.context == context
            && crate::engines::is_controller_app_name(&a.name)
            && !apps.contains(&a.name))
    });
    let mut changed = state.apps.len() != before;
    for app in &mut state.apps {
        if app.context != context && !apps.contains(&app.name) {
            app.also_in.retain(|c| *c != context);
        }
    }
    for name in apps {
        match state.apps.iter_mut().find(|a| a.name == name) {
            Some(listed) if listed.context != context => {
                if !listed.also_in.contains(&context) {
                    listed.also_in.push(context.clone());
                    state.notice = super::controller::in_several_contexts(listed);
                    changed = true;
                }
            }
            Some(_) => {}
            None => {
                state.apps.push(AppState {
                    context: context.clone(),
                    ..AppState::new(name)
                });
                changed = true;
            }
        }
    }
    changed
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

#[cfg(test)]
mod tests {
    use crate::engine::EngineEvent;
    use crate::tui::test_support::{engine, guestbook_report, report_event, state_with_apps};

    fn found(context: Option<&str>, apps: &[&str]) -> EngineEvent {
        EngineEvent::ControllerApps {
            context: context.map(str::to_string),
            apps: apps.iter().map(|a| a.to_string()).collect(),
            unreadable: Vec::new(),
        }
    }

    fn names(state: &crate::tui::state::State) -> Vec<&str> {
        state.apps.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn engine_apps_join_the_list_and_leave_it_with_their_objects() {
        let mut state = state_with_apps(&["guestbook"]);
        assert!(engine(
            &mut state,
            found(None, &["argocd/web", "flux/flux-system/apps"])
        ));
        assert_eq!(
            names(&state),
            ["guestbook", "argocd/web", "flux/flux-system/apps"]
        );
        assert!(!engine(
            &mut state,
            found(None, &["argocd/web", "flux/flux-system/apps"])
        ));
        let mut report = guestbook_report();
        report.app = "argocd/web".to_string();
        assert!(engine(&mut state, report_event("argocd/web", 0, report)));
        assert!(state.apps[1].report.is_some(), "its verdicts are taken in");
        // Another context's list leaves this one's apps alone.
        assert!(engine(&mut state, found(Some("prod"), &["argocd/api"])));
        assert!(engine(&mut state, found(None, &["argocd/web"])));
        assert_eq!(names(&state), ["guestbook", "argocd/web", "argocd/api"]);
        assert_eq!(state.apps[2].context.as_deref(), Some("prod"));
    }

    #[test]
    fn the_same_engine_app_in_two_contexts_is_listed_once_and_named_in_both() {
        let mut state = state_with_apps(&[]);
        engine(&mut state, found(Some("kind-a"), &["argocd/guestbook"]));
        assert!(engine(
            &mut state,
            found(Some("kind-b"), &["argocd/guestbook"])
        ));
        assert_eq!(names(&state), ["argocd/guestbook"]);
        assert_eq!(
            state.notice.as_deref(),
            Some(
                "argocd/guestbook is in the contexts kind-a and kind-b: no engine is asked to act on it here; start driftdeck with --context to act on one"
            )
        );
        assert_eq!(state.apps[0].also_in, [Some("kind-b".to_string())]);
        // Gone from kind-b: kind-a's alone again.
        engine(&mut state, found(Some("kind-b"), &[]));
        assert!(state.apps[0].also_in.is_empty());
        assert_eq!(names(&state), ["argocd/guestbook"]);
    }
}
