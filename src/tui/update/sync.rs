//! Syncing from the TUI: the sync action plans and opens the confirm
//! dialog (its keys are in `dialog.rs`), the engine's sync events taken into the
//! state, and quitting that lets a running sync finish its objects in
//! flight first.

use std::sync::Arc;

use crate::config::READ_ONLY;
use crate::engine::{EngineCommand, SyncCommand, SyncRefused, SyncTarget};
use crate::sync::{SyncOutcome, SyncPlan, SyncProgress};
use crate::tui::dialog::{OpenDialog, PlanDialog, Planning, Purpose};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Outcome};
use crate::tui::state::{Detail, State};
use crate::tui::syncing::{SyncResult, SyncRun};

/// `s`: asks the engine for the plan of the selected app, or of the
/// selected resource alone when a resource is shown, and opens the dialog
/// that will show it.
pub(super) fn open(state: &mut State) -> Outcome {
    if state.readonly {
        state.notice = Some(format!("sync is off: {READ_ONLY}"));
        return Outcome::changed();
    }
    let only = match state.detail() {
        Detail::Resource(resource) => Some(resource.key.clone()),
        Detail::App | Detail::Commit(_) => None,
    };
    let Some(app) = state.selected_app() else {
        return Outcome::unchanged();
    };
    let name = app.name.clone();
    if app.sync.is_some() {
        state.notice = Some(format!("a sync of {name} is running; wait for it to end"));
        return Outcome::changed();
    }
    let title = match &only {
        Some(key) => format!("Sync {key} of {name}"),
        None => format!("Sync {name}"),
    };
    state.dialog = Some(OpenDialog {
        dialog: PlanDialog::new(title),
        purpose: Purpose::Sync {
            app: name.clone(),
            only: only.clone(),
        },
    });
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::Plan {
            app: name,
            prune: false,
            target: SyncTarget::Compared,
            only,
        })],
    }
}

/// The operator said yes: the engine plans afresh and runs the sync.
pub(super) fn start(
    state: &mut State,
    app: String,
    only: Option<crate::resource::ResourceKey>,
    plan: &Arc<SyncPlan>,
) -> Outcome {
    let request = SyncCommand {
        only,
        ..SyncCommand::default()
    };
    run(state, app, request, SyncTarget::Compared, Some(plan))
}

/// Asks the engine to sync the app at `target`, its row showing the sync
/// running with the objects of `plan` (the plan the operator confirmed);
/// every confirmed sync starts here (sync, rollback, Git rollback).
pub(super) fn run(
    state: &mut State,
    app: String,
    request: SyncCommand,
    target: SyncTarget,
    plan: Option<&Arc<SyncPlan>>,
) -> Outcome {
    let Some(shown) = state.apps.iter_mut().find(|a| a.name == app) else {
        return Outcome::changed();
    };
    shown.sync = Some(plan.map(|plan| SyncRun::of(plan)).unwrap_or_default());
    state.sync_result = None;
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::Sync {
            app,
            request,
            target,
        })],
    }
}

/// The engine's plan, for the dialog that asked for it.
pub(super) fn planned(
    state: &mut State,
    app: &str,
    plan: Result<Arc<SyncPlan>, String>,
) -> Outcome {
    let Some(open) = state.dialog.as_mut() else {
        return Outcome::unchanged();
    };
    if open.purpose.app() != app || open.dialog.planning != Planning::Waiting {
        return Outcome::unchanged();
    }
    open.dialog.planned(plan);
    Outcome::changed()
}

/// One object done, or the sync moving to its next phase.
pub(super) fn progressed(state: &mut State, app: &str, progress: &SyncProgress) -> Outcome {
    let Some(target) = state.apps.iter_mut().find(|a| a.name == app) else {
        return Outcome::unchanged();
    };
    let run = target.sync.get_or_insert_with(SyncRun::default);
    Outcome::changed_if(run.record(progress))
}

/// The sync ended: its result goes to the status bar (and a failure, in
/// full, to the notice line); a quit waiting for it goes ahead.
pub(super) fn ended(
    state: &mut State,
    app: &str,
    outcome: &Result<SyncOutcome, SyncRefused>,
) -> Outcome {
    if let Some(target) = state.apps.iter_mut().find(|a| a.name == app) {
        target.sync = None;
    }
    let result = SyncResult::of(app, outcome);
    if result.failed {
        let detail = match outcome {
            Ok(outcome) => outcome.error.clone(),
            Err(refused) => Some(refused.message.clone()),
        };
        state.notice = Some(detail.unwrap_or_else(|| result.text.clone()));
    }
    state.sync_result = Some(result);
    if state.quitting && state.apps.iter().all(|a| a.sync.is_none()) {
        return Outcome::command(Command::Quit);
    }
    Outcome::changed()
}

/// Quit: at once when no sync runs (or when asked a second time); else the
/// running syncs are told to stop after their objects in flight, and the
/// UI quits when the last one has ended.
pub(super) fn quit(state: &mut State) -> Outcome {
    if state.quitting || state.apps.iter().all(|a| a.sync.is_none()) {
        return Outcome::command(Command::Quit);
    }
    state.quitting = true;
    let mut commands = Vec::new();
    let mut names = Vec::new();
    for app in &mut state.apps {
        if let Some(run) = &mut app.sync {
            run.cancelling = true;
            names.push(app.name.clone());
            commands.push(Command::Engine(EngineCommand::CancelSync {
                app: app.name.clone(),
            }));
        }
    }
    let again = match state.keymap.hint_key(Action::Quit) {
        key if key.is_empty() => String::new(),
        key => format!("; {key} again quits at once"),
    };
    state.notice = Some(format!(
        "stopping the sync of {} after the objects in flight, then quitting{again}",
        names.join(", ")
    ));
    Outcome {
        changed: true,
        commands,
    }
}
