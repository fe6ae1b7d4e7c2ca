//! Rollback and unpin from the TUI: `R` on a commit plans a rollback of the
//! app to it and opens the plan dialog (the sync's); confirmed, the engine
//! syncs there and pins the app — or, with the dialog's Git choices, the
//! operator edits the message of a rollback commit that the engine pushes
//! to the branch (then syncs) or to a merge-request branch. `p` asks, in the notice line, whether to
//! unpin the selected app, and the answer unpins it or keeps the pin.

use std::sync::Arc;

use crate::config::READ_ONLY;
use crate::engine::{EngineCommand, SyncCommand, SyncTarget};
use crate::resource::short_revision;
use crate::source::{RollbackMode, RollbackOutcome};
use crate::sync::{SyncPlan, pin_kept_for_review, unpinned_by_git_rollback};
use crate::tui::dialog::{EditReply, MessageEditor, OpenDialog, PlanDialog, Purpose};
use crate::tui::keymap::Action;
use crate::tui::msg::{Command, Outcome};
use crate::tui::pane::Pane;
use crate::tui::state::State;
use ratatui::crossterm::event::KeyEvent;

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
    // The app's `rollback = "merge-request"` preselects the branch choice.
    let preselected = match app.rollback_mode {
        RollbackMode::OnBranch => 0,
        RollbackMode::MergeRequest => 2,
    };
    // The Git choices commit even when the cluster is already at the
    // revision (pinned there): that is how a pin is made permanent.
    let mut dialog = PlanDialog::new(format!("Roll back {name} to {}", short_revision(&revision)))
        .with_choices(ROLLBACK_CHOICES.map(str::to_string).to_vec())
        .acting_beyond_the_plan(&[1, 2]);
    dialog.choice = preselected;
    state.dialog = Some(OpenDialog {
        dialog,
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

/// The rollback dialog's choices, in order.
pub const ROLLBACK_CHOICES: [&str; 3] = [
    "roll back the cluster (pin)",
    "revert in Git",
    "merge-request branch",
];

/// The operator said yes. Pin: the engine plans afresh at the revision,
/// syncs, and pins the app once everything is applied. Git: the message
/// editor opens while the engine works out the default message.
pub(super) fn start(
    state: &mut State,
    app: String,
    revision: String,
    choice: Option<usize>,
    plan: &Arc<SyncPlan>,
) -> Outcome {
    let mode = match choice {
        Some(1) => Some(RollbackMode::OnBranch),
        Some(2) => Some(RollbackMode::MergeRequest),
        _ => None,
    };
    if let Some(mode) = mode {
        state.rollback_message = Some(MessageEditor::new(
            app.clone(),
            revision.clone(),
            mode,
            plan.clone(),
        ));
        return Outcome {
            changed: true,
            commands: vec![Command::Engine(EngineCommand::PrepareGitRollback {
                app,
                revision,
            })],
        };
    }
    let target = SyncTarget::Pin(revision);
    super::sync::run(state, app, SyncCommand::default(), target, Some(plan))
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

/// The engine's default message for the rollback being written.
pub(super) fn message_prepared(
    state: &mut State,
    app: &str,
    message: Result<String, String>,
) -> Outcome {
    match state.rollback_message.as_mut() {
        Some(editor) if editor.app == app && editor.text.is_none() => {
            editor.prepared(message);
            Outcome::changed()
        }
        _ => Outcome::unchanged(),
    }
}

/// A key in the message editor: edit, drop (Esc) or commit (Ctrl-S).
pub(super) fn edit_message(state: &mut State, key: KeyEvent) -> Outcome {
    let Some(editor) = state.rollback_message.as_mut() else {
        return Outcome::unchanged();
    };
    match editor.key(key) {
        EditReply::Unchanged => Outcome::unchanged(),
        EditReply::Changed => Outcome::changed(),
        EditReply::Cancelled => {
            state.rollback_message = None;
            Outcome::changed()
        }
        EditReply::Confirmed(message) => {
            let Some(editor) = state.rollback_message.take() else {
                return Outcome::unchanged();
            };
            state.notice = Some(format!(
                "committing the rollback of {} to {} and pushing it…",
                editor.app,
                short_revision(&editor.revision)
            ));
            if editor.mode == RollbackMode::OnBranch {
                // The sync of the pushed commit shows the plan's objects.
                state.pending_git_sync = Some((editor.app.clone(), editor.plan.clone()));
            }
            Outcome {
                changed: true,
                commands: vec![Command::Engine(EngineCommand::GitRollback {
                    app: editor.app,
                    revision: editor.revision,
                    message,
                    mode: editor.mode,
                })],
            }
        }
    }
}

/// The rollback commit was pushed (or not): said in the notice line. Pushed
/// to the app's branch, it is synced there, as `driftdeck rollback --git`
/// does (the engine has unpinned a pinned app: the commit replaces the pin);
/// on a merge-request branch the cluster, and a pin, wait for the merge.
pub(super) fn rolled_back_in_git(
    state: &mut State,
    app: &str,
    outcome: Result<RollbackOutcome, String>,
    pinned: Option<String>,
) -> Outcome {
    let plan = state
        .pending_git_sync
        .take_if(|(pending, _)| pending == app)
        .map(|(_, plan)| plan);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(why) => {
            state.notice = Some(format!("{app}: not rolled back in Git: {why}"));
            return Outcome::changed();
        }
    };
    let commit = outcome.commit.to_hex_with_len(7).to_string();
    if let Some(request) = &outcome.merge_request {
        let fell_back = request
            .fell_back
            .as_ref()
            .map(|why| format!(" (\"{}\" refused it: {why})", request.target))
            .unwrap_or_default();
        let pin = pinned
            .map(|pinned| format!("; {}", pin_kept_for_review(app, &pinned)))
            .unwrap_or_default();
        let pushed = format!("commit {commit} pushed to branch \"{}\"", outcome.branch);
        // The URL first: the notice shows three rows at most, and a URL is
        // often wider than one.
        state.notice = Some(match (&request.url, &request.no_url) {
            (Some(url), _) => {
                format!("{app}: open the merge request: {url} ({pushed}{fell_back}){pin}")
            }
            (None, Some(why)) => {
                format!("{app}: {pushed}{fell_back}; no merge-request URL: {why}{pin}")
            }
            (None, None) => format!("{app}: {pushed}{fell_back}{pin}"),
        });
        return Outcome::changed();
    }
    let unpinned = pinned
        .map(|pinned| format!("; {}", unpinned_by_git_rollback(&pinned)))
        .unwrap_or_default();
    state.notice = Some(format!(
        "{app}: commit {commit} pushed to \"{}\"{unpinned}; syncing it…",
        outcome.branch
    ));
    let target = SyncTarget::Revision(outcome.commit.to_string());
    super::sync::run(
        state,
        app.to_string(),
        SyncCommand::default(),
        target,
        plan.as_ref(),
    )
}
