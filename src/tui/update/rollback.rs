//! Rollback and unpin from the TUI: `R` on a commit plans a rollback of the
//! app to it and opens the plan dialog (the sync's); confirmed, the engine
//! syncs there and pins the app. `p` asks, in the notice line, whether to
//! unpin the selected app, and the answer unpins it or keeps the pin.

use std::sync::Arc;

use crate::engine::{EngineCommand, SyncCommand, SyncTarget};
use crate::resource::short_revision;
use crate::sync::SyncPlan;
use crate::tui::dialog::{OpenDialog, PlanDialog, Purpose};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Outcome};
use crate::tui::state::{Pane, State};
use crate::tui::syncing::SyncRun;

const READ_ONLY: &str = "driftdeck is read-only (--readonly or [ui] readonly = true)";

/// `R`: the rollback dialog for the commit selected in the Commits pane.
pub(super) fn open(state: &mut State) -> Outcome {
    if state.readonly {
        state.notice = Some(format!("rollback is off: {READ_ONLY}"));
        return Outcome::changed();
    }
    let commit = match state.focus {
        Pane::Commits => state.selected_commit().map(|c| c.id.to_string()),
        _ => None,
    };
    let (Some(app), Some(revision)) = (state.selected_app(), commit) else {
        state.notice = Some("select a commit in the Commits pane to roll back to".to_string());
        return Outcome::changed();
    };
    let name = app.name.clone();
    if app.sync.is_some() {
        state.notice = Some(format!("a sync of {name} is running; wait for it to end"));
        return Outcome::changed();
    }
    state.dialog = Some(OpenDialog {
        dialog: PlanDialog::new(format!("Roll back {name} to {}", short_revision(&revision))),
        purpose: Purpose::Rollback {
            app: name.clone(),
            revision: revision.clone(),
        },
    });
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::Plan {
            app: name,
            prune: false,
            target: SyncTarget::Pin(revision),
            only: None,
        })],
    }
}

/// The operator said yes: the engine plans afresh at the revision, syncs,
/// and pins the app once everything is applied.
pub(super) fn start(
    state: &mut State,
    app: String,
    revision: String,
    plan: &Arc<SyncPlan>,
) -> Outcome {
    let Some(target) = state.apps.iter_mut().find(|a| a.name == app) else {
        return Outcome::changed();
    };
    target.sync = Some(SyncRun::of(plan));
    state.sync_result = None;
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::Sync {
            app,
            request: SyncCommand::default(),
            target: SyncTarget::Pin(revision),
        })],
    }
}

/// `p`: asks whether to unpin the selected app, if it is pinned.
pub(super) fn ask_unpin(state: &mut State) -> Outcome {
    if state.readonly {
        state.notice = Some(format!("unpin is off: {READ_ONLY}"));
        return Outcome::changed();
    }
    let Some(app) = state.selected_app() else {
        return Outcome::unchanged();
    };
    let name = app.name.clone();
    let pinned = app.report.as_ref().and_then(|r| r.pinned.clone());
    let Some(pinned) = pinned else {
        state.notice = Some(format!("{name} is not pinned"));
        return Outcome::changed();
    };
    let key = |action| {
        state
            .keymap
            .keys(action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    state.notice = Some(format!(
        "unpin {name} from {}, to follow its branch's head again? {} unpins, {} keeps the pin",
        short_revision(&pinned),
        key(Action::Confirm),
        key(Action::Back)
    ));
    state.unpin_asked = Some(name);
    Outcome::changed()
}

/// The answer to the unpin question: confirm unpins, anything else keeps
/// the pin.
pub(super) fn answer_unpin(state: &mut State, action: Option<Action>) -> Outcome {
    let Some(app) = state.unpin_asked.take() else {
        return Outcome::unchanged();
    };
    state.notice = None;
    if action != Some(Action::Confirm) {
        return Outcome::changed();
    }
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::Unpin { app })],
    }
}

/// The engine kept or removed a pin (or could not): said in the notice line.
pub(super) fn pinned(
    state: &mut State,
    app: &str,
    pinned: Result<Option<String>, String>,
) -> Outcome {
    state.notice = Some(match pinned {
        Ok(Some(revision)) => format!("{app} is pinned to {}", short_revision(&revision)),
        Ok(None) => format!("{app} is unpinned: it follows its branch's head again"),
        Err(cause) => format!("{app}: the pin could not be kept: {cause}"),
    });
    Outcome::changed()
}
