//! Acting on an Argo CD or Flux app from the TUI: through its engine, never
//! around it. `s` asks it to sync (Argo CD: an operation, prune as chosen
//! in the dialog; Flux: a reconcile of the object and its source), `S` to
//! suspend or resume a Flux app, each after a dialog showing the fields
//! that will be written (`engines::request_action`, as the command line
//! writes them), and `R` on an Argo CD app's history entry rolls back to it
//! (while auto-sync is off); `r` and `:refresh hard` ask Argo CD to compare again
//! (hard: without its caches). The engine's context writes and follows them, with
//! the Lease and the audit log; its answers (`ControllerActed`) go to the
//! app's row, the status bar and, when it failed, the notice line.

use crate::config::READ_ONLY;
use crate::engine::EngineCommand;
use crate::engines::{
    ActionKind, ActionProgress, ControllerApp, Engine, engine_of_name, request_action,
};
use crate::resource::short_revision_text;
use crate::tui::app_state::AppState;
use crate::tui::commit_log;
use crate::tui::dialog::{OpenDialog, PlanDialog, Planning, Purpose};
use crate::tui::msg::{Command, Outcome};
use crate::tui::pane::Pane;
use crate::tui::state::State;
use crate::tui::syncing::{EngineRun, SyncResult};

/// An Argo CD sync's choices, in this order: whether to prune.
const PRUNE_CHOICES: [&str; 2] = ["keep extra objects", "prune"];

/// The engine of the selected app, if it is an Argo CD or Flux app.
pub(super) fn selected_engine(state: &State) -> Option<Engine> {
    engine_of_name(&state.selected_app()?.name)
}

/// `s` on an engine app.
pub(super) fn sync(state: &mut State) -> Outcome {
    ask(state, ActionKind::Sync { prune: false })
}

/// `S`: suspend a Flux app, or resume it if it is suspended.
pub(super) fn toggle_suspend(state: &mut State) -> Outcome {
    let suspended = match selected_engine(state) {
        Some(Engine::Flux) => state.selected_app().and_then(|app| {
            app.report
                .as_ref()?
                .controller
                .as_ref()
                .map(|c| c.suspended)
        }),
        Some(Engine::Argocd) => {
            return notice(
                state,
                "Argo CD apps have no suspend; turn auto-sync off in the Application instead",
            );
        }
        None => return notice(state, "suspend and resume are for Flux apps"),
    };
    let action = if suspended == Some(true) {
        ActionKind::Resume
    } else {
        ActionKind::Suspend
    };
    ask(state, action)
}

/// `R` on an Argo CD app's history entry (the Commits pane): roll back
/// to it, offered only while auto-sync is off, as Argo CD allows.
pub(super) fn rollback(state: &mut State) -> Outcome {
    if state.readonly {
        return notice(state, &format!("rollback is off: {READ_ONLY}"));
    }
    if selected_engine(state) == Some(Engine::Flux) {
        return notice(
            state,
            "a Flux app rolls back in Git: Flux has no rollback to a history entry",
        );
    }
    let Some(app) = state.selected_app() else {
        return Outcome::unchanged();
    };
    let auto_sync = app
        .report
        .as_ref()
        .and_then(|r| r.controller.as_ref())
        .is_some_and(|c| c.auto_sync);
    if auto_sync {
        return notice(
            state,
            &format!(
                "{}: Argo CD refuses a rollback while auto-sync is on; turn it off in the Application, or roll back in Git",
                app.name
            ),
        );
    }
    let entry = match state.focus {
        Pane::Commits => commit_log::engine_history(app)
            .and_then(|history| history.get(state.cursors.commits.selected)),
        _ => None,
    };
    match entry.and_then(|e| e.id) {
        Some(id) => ask(state, ActionKind::Rollback { id, prune: false }),
        None => notice(
            state,
            "select an entry of Argo CD's history in the Commits pane to roll back to",
        ),
    }
}

/// `r` or `:refresh` (normal), `:refresh hard` on the selected app: Argo CD compares
/// again. Writes an annotation, so under `--readonly` only driftdeck reads
/// again; Flux has no refresh apart from the reconcile `s` asks for.
pub(super) fn refresh(state: &mut State, hard: bool) -> Outcome {
    match selected_engine(state) {
        Some(Engine::Argocd) if state.readonly => {
            if hard {
                notice(state, &format!("refresh in Argo CD is off: {READ_ONLY}"))
            } else {
                super::refresh(state)
            }
        }
        Some(Engine::Argocd) => {
            let Some(app) = state.selected_app() else {
                return Outcome::unchanged();
            };
            if let Some(why) = in_several_contexts(app) {
                return notice(state, &why);
            }
            let name = app.name.clone();
            start(state, name, ActionKind::Refresh { hard })
        }
        Some(Engine::Flux) => {
            let sync = state.keymap.hint_key(crate::tui::keymap::Action::Sync);
            notice(
                state,
                &format!("Flux has no refresh apart from a reconcile: {sync} asks Flux for one"),
            )
        }
        None if hard => notice(state, "a hard refresh is for Argo CD apps"),
        None => super::refresh(state),
    }
}

/// Why no engine is asked to act on an app whose name is in several
/// contexts (each context's engine would act); `None` when it is in one.
pub(super) fn in_several_contexts(app: &AppState) -> Option<String> {
    if app.also_in.is_empty() {
        return None;
    }
    let mut names: Vec<String> = std::iter::once(&app.context)
        .chain(&app.also_in)
        .map(|c| {
            c.clone()
                .unwrap_or_else(|| "the current context".to_string())
        })
        .collect();
    names.sort();
    Some(format!(
        "{} is in the contexts {}: no engine is asked to act on it here; start driftdeck with --context to act on one",
        app.name,
        names.join(" and ")
    ))
}

/// Opens the dialog saying what asking `action` writes, or why it cannot
/// be asked (the dialog then writes nothing).
fn ask(state: &mut State, action: ActionKind) -> Outcome {
    if state.readonly {
        return notice(state, &format!("{} is off: {READ_ONLY}", action.verb()));
    }
    let Some(app) = state.selected_app() else {
        return Outcome::unchanged();
    };
    let name = app.name.clone();
    if let Some(why) = in_several_contexts(app) {
        return notice(state, &why);
    }
    if let Some(run) = &app.engine_action {
        let verb = run.verb;
        return notice(
            state,
            &format!("a {verb} of {name} is running; wait for its end"),
        );
    }
    let Some(controller) = app.report.as_ref().and_then(|r| r.controller.as_deref()) else {
        return notice(state, &format!("{name}: its object is not read yet"));
    };
    let engine = controller.engine;
    let title = match &action {
        ActionKind::Sync { .. } => format!("Sync {name} through {}", engine.title()),
        ActionKind::Rollback { id, .. } => {
            format!("Roll back {name} to #{id} through {}", engine.title())
        }
        other => format!("{} {name}", capitalized(other.verb())),
    };
    let mut dialog = PlanDialog::new(title);
    if prune(&action).is_some() && engine == Engine::Argocd {
        dialog = dialog.with_choices(PRUNE_CHOICES.map(String::from).to_vec());
    }
    dialog.planning = planning(state, &name, &action);
    state.dialog = Some(OpenDialog {
        dialog,
        purpose: Purpose::Engine { app: name, action },
    });
    Outcome::changed()
}

/// What the dialog shows for `action` on `app`: the fields written, as the
/// engine's context will write them, or why the engine would refuse.
fn planning(state: &State, app: &str, action: &ActionKind) -> Planning {
    let Some(controller) = state
        .apps
        .iter()
        .find(|a| a.name == app)
        .and_then(|a| a.report.as_ref()?.controller.as_deref())
    else {
        return Planning::Failed(format!("{app}: its object is not read yet"));
    };
    let Some(object) = ControllerApp::of_state(app, controller) else {
        return Planning::Failed(format!("{app}: not an Argo CD or Flux app"));
    };
    let operator = state.operator.as_deref().unwrap_or("<you>");
    // The engine's context stamps the time it writes.
    match request_action(&object, action, operator, "<the time of asking>") {
        Err(why) => Planning::Failed(why),
        Ok(request) => {
            let engine = controller.engine;
            // In full in the fields below.
            let revision = request.revision.as_deref().map(short_revision_text);
            let mut lines = vec![
                format!(
                    "{} is asked to {}.",
                    engine.title(),
                    action.describe(&object.object_label(), revision.as_deref())
                ),
                String::new(),
            ];
            lines.extend(request.written_fields());
            lines.push(String::new());
            lines.push(format!("driftdeck {}.", action.followed_by(engine)));
            Planning::Writes(lines)
        }
    }
}

/// Another choice in an Argo CD sync's dialog: what it writes follows it.
pub(super) fn choice_changed(state: &mut State) {
    let Some(open) = state.dialog.as_ref() else {
        return;
    };
    let Purpose::Engine { app, action } = &open.purpose else {
        return;
    };
    let prune = open.dialog.choice == 1;
    let action = match action {
        ActionKind::Sync { .. } => ActionKind::Sync { prune },
        ActionKind::Rollback { id, .. } => ActionKind::Rollback { id: *id, prune },
        other => other.clone(),
    };
    let (app, scroll) = (app.clone(), open.dialog.scroll);
    let planning = planning(state, &app, &action);
    if let Some(open) = state.dialog.as_mut() {
        open.dialog.planning = planning;
        open.dialog.scroll = scroll;
        open.purpose = Purpose::Engine { app, action };
    }
}

/// The operator said yes (or pressed `r`): the engine's context takes the
/// Lease, records the action and writes it.
pub(super) fn start(state: &mut State, app: String, action: ActionKind) -> Outcome {
    let Some(target) = state.apps.iter_mut().find(|a| a.name == app) else {
        return Outcome::changed();
    };
    target.engine_action = Some(EngineRun {
        verb: action.verb(),
        message: None,
    });
    state.sync_result = None;
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::ControllerAction {
            app,
            action,
        })],
    }
}

/// How an action asked of an engine goes: its progress in the row, its end
/// in the status bar, a refusal or a failure in the notice line too.
pub(super) fn acted(
    state: &mut State,
    app: &str,
    progress: Result<ActionProgress, String>,
) -> Outcome {
    let Some(target) = state.apps.iter_mut().find(|a| a.name == app) else {
        return Outcome::unchanged();
    };
    let verb = target
        .engine_action
        .as_ref()
        .map_or("action", |run| run.verb);
    let (text, failed) = match progress {
        Ok(ActionProgress::Waiting { message }) => {
            let Some(run) = target.engine_action.as_mut() else {
                // Not asked by this UI's operator (or already ended).
                return Outcome::unchanged();
            };
            let changed = run.message.as_ref() != Some(&message);
            run.message = Some(message);
            return Outcome::changed_if(changed);
        }
        Ok(ActionProgress::Done { succeeded, message }) => {
            let verdict = if succeeded { "done" } else { "FAILED" };
            (format!("{app}: {verb} {verdict}: {message}"), !succeeded)
        }
        Err(why) => (why, true),
    };
    target.engine_action = None;
    let text = crate::text::printable(&text).into_owned();
    if failed {
        state.notice = Some(text.clone());
    }
    state.sync_result = Some(SyncResult { text, failed });
    Outcome::changed()
}

/// Whether the action prunes, for those that may.
fn prune(action: &ActionKind) -> Option<bool> {
    match action {
        ActionKind::Sync { prune } | ActionKind::Rollback { prune, .. } => Some(*prune),
        _ => None,
    }
}

fn notice(state: &mut State, text: &str) -> Outcome {
    state.notice = Some(text.to_string());
    Outcome::changed()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
