//! Acting on Argo CD and Flux apps through `update`: `s` opens a dialog
//! saying what will be written and `y` asks the engine (never driftdeck's
//! own sync), the prune choice follows Tab; `r`/`:refresh hard` refresh
//! in Argo CD; `S` suspends or resumes a Flux app; the engine's answers reach the
//! row, the status bar and the notice; `--readonly` asks nothing; the
//! engine's history in the Commits pane.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use super::update;
use crate::engine::EngineCommand;
use crate::engine::EngineEvent;
use crate::engines::{ActionKind, ActionProgress};
use crate::tui::dialog::{Planning, Purpose};
use crate::tui::msg::{Command, Msg, Outcome};
use crate::tui::pane::Pane;
use crate::tui::state::State;
use crate::tui::test_support::{argocd_web, flux_apps, state_with_apps, with_engine_apps};

fn press(state: &mut State, code: KeyCode, modifiers: KeyModifiers) -> Outcome {
    update(state, Msg::Key(KeyEvent::new(code, modifiers)))
}

fn key(state: &mut State, c: char) -> Outcome {
    press(state, KeyCode::Char(c), KeyModifiers::NONE)
}

/// A state listing `argocd/web` and `flux/flux-system/apps` (as given), the
/// first selected.
fn engine_apps(objects: &[serde_json::Value]) -> State {
    let mut state = state_with_apps(&[]);
    state.operator = Some("ada@box".to_string());
    with_engine_apps(&mut state, objects);
    state
}

fn select(state: &mut State, app: &str) {
    while state.selected_app().map(|a| a.name.as_str()) != Some(app) {
        assert!(key(state, 'j').changed, "{app} is not listed");
    }
}

fn written(state: &State) -> Vec<String> {
    match &state.dialog.as_ref().expect("a dialog").dialog.planning {
        Planning::Writes(lines) => lines.clone(),
        other => panic!("no writes: {other:?}"),
    }
}

fn acted(app: &str, progress: Result<ActionProgress, String>) -> Msg {
    Msg::Engine(EngineEvent::ControllerActed {
        app: app.to_string(),
        progress,
    })
}

#[test]
fn s_on_an_argocd_app_shows_the_operation_and_y_asks_argocd_with_the_prune_chosen() {
    let mut state = engine_apps(&[argocd_web()]);
    let asked = key(&mut state, 's');
    assert!(asked.commands.is_empty(), "no plan of driftdeck's own");
    let open = state.dialog.as_ref().unwrap();
    assert_eq!(open.dialog.title, "Sync argocd/web through Argo CD");
    let lines = written(&state);
    for line in [
        "Argo CD is asked to sync Application argocd/web at abc1234 (prune: no).",
        "Application argocd/web:",
        "  operation.initiatedBy.username: \"ada@box\"",
        "  operation.sync.prune: false",
        "  operation.sync.revision: \"abc1234abc1234abc1234abc1234abc1234abc12\"",
        "  status.operationState: null",
        "driftdeck then follows status.operationState to its end.",
    ] {
        assert!(
            lines.iter().any(|l| l == line),
            "{line} missing: {lines:#?}"
        );
    }
    // Tab chooses to prune: the fields shown follow.
    assert!(press(&mut state, KeyCode::Tab, KeyModifiers::NONE).changed);
    assert!(written(&state).contains(&"  operation.sync.prune: true".to_string()));
    let go = key(&mut state, 'y');
    assert_eq!(
        go.commands,
        vec![Command::Engine(EngineCommand::ControllerAction {
            app: "argocd/web".into(),
            action: ActionKind::Sync { prune: true },
        })]
    );
    assert!(state.dialog.is_none());
    let run = state.apps[0].engine_action.as_ref().unwrap();
    assert_eq!(run.verb, "sync");
    // A second `s` while it runs asks nothing.
    key(&mut state, 's');
    assert!(state.dialog.is_none());
    assert!(state.notice.as_deref().unwrap().contains("running"));
}

#[test]
fn the_engines_answers_go_to_the_row_the_status_bar_and_a_failure_to_the_notice() {
    let mut state = engine_apps(&[argocd_web()]);
    key(&mut state, 's');
    key(&mut state, 'y');
    let waiting = Ok(ActionProgress::Waiting {
        message: "Running: waiting for healthy state of apps/Deployment/web".into(),
    });
    assert!(update(&mut state, acted("argocd/web", waiting.clone())).changed);
    assert!(!update(&mut state, acted("argocd/web", waiting)).changed);
    let run = state.apps[0].engine_action.as_ref().unwrap();
    assert!(run.message.as_deref().unwrap().starts_with("Running:"));
    let done = Ok(ActionProgress::Done {
        succeeded: true,
        message: "successfully synced (all tasks run)".into(),
    });
    update(&mut state, acted("argocd/web", done));
    assert!(state.apps[0].engine_action.is_none());
    let result = state.sync_result.as_ref().unwrap();
    assert_eq!(
        result.text,
        "argocd/web: sync done: successfully synced (all tasks run)"
    );
    assert!(!result.failed);
    assert!(state.notice.is_none());

    key(&mut state, 's');
    key(&mut state, 'y');
    let failed = Ok(ActionProgress::Done {
        succeeded: false,
        message: "Failed: one or more objects failed to apply".into(),
    });
    update(&mut state, acted("argocd/web", failed));
    assert!(state.sync_result.as_ref().unwrap().failed);
    assert_eq!(
        state.notice.as_deref(),
        Some("argocd/web: sync FAILED: Failed: one or more objects failed to apply")
    );
    // A refusal (the Lease held elsewhere) is a notice too.
    key(&mut state, 's');
    key(&mut state, 'y');
    let held = Err("app \"argocd/web\": the Lease is held by bob@elsewhere".to_string());
    update(&mut state, acted("argocd/web", held));
    assert!(state.notice.as_deref().unwrap().contains("bob@elsewhere"));
    assert!(state.apps[0].engine_action.is_none());
}

#[test]
fn an_operation_in_progress_is_refused_in_the_dialog_and_y_writes_nothing() {
    let mut object = argocd_web();
    object["operation"] = json!({"sync": {"revision": "HEAD"}});
    let mut state = engine_apps(&[object]);
    key(&mut state, 's');
    let open = state.dialog.as_ref().unwrap();
    assert_eq!(
        open.dialog.planning,
        Planning::Failed(
            "app \"argocd/web\": sync refused: another operation is already in progress".into()
        )
    );
    assert!(key(&mut state, 'y').commands.is_empty());
}

#[test]
fn r_and_refresh_hard_ask_argocd_to_refresh_and_flux_has_none() {
    let mut state = engine_apps(&[argocd_web(), flux_apps()]);
    select(&mut state, "argocd/web");
    assert_eq!(
        key(&mut state, 'r').commands,
        vec![Command::Engine(EngineCommand::ControllerAction {
            app: "argocd/web".into(),
            action: ActionKind::Refresh { hard: false },
        })]
    );
    update(
        &mut state,
        acted(
            "argocd/web",
            Ok(ActionProgress::Done {
                succeeded: true,
                message: "refreshed".into(),
            }),
        ),
    );
    key(&mut state, ':');
    for c in "refresh hard".chars() {
        key(&mut state, c);
    }
    let hard = press(&mut state, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        hard.commands,
        vec![Command::Engine(EngineCommand::ControllerAction {
            app: "argocd/web".into(),
            action: ActionKind::Refresh { hard: true },
        })]
    );
    select(&mut state, "flux/flux-system/apps");
    assert!(key(&mut state, 'r').commands.is_empty());
    assert!(
        state
            .notice
            .as_deref()
            .unwrap()
            .contains("s asks Flux for one"),
        "{:?}",
        state.notice
    );
}

#[test]
fn capital_s_suspends_a_flux_app_after_confirmation_and_resumes_a_suspended_one() {
    let mut state = engine_apps(&[flux_apps()]);
    key(&mut state, 'S');
    let open = state.dialog.as_ref().unwrap();
    assert_eq!(open.dialog.title, "Suspend flux/flux-system/apps");
    assert!(written(&state).contains(&"  spec.suspend: true".to_string()));
    assert!(open.dialog.choices.is_empty());
    assert_eq!(
        key(&mut state, 'y').commands,
        vec![Command::Engine(EngineCommand::ControllerAction {
            app: "flux/flux-system/apps".into(),
            action: ActionKind::Suspend,
        })]
    );

    let mut suspended = flux_apps();
    suspended["spec"]["suspend"] = json!(true);
    let mut state = engine_apps(&[suspended]);
    key(&mut state, 'S');
    let open = state.dialog.as_ref().unwrap();
    assert_eq!(open.dialog.title, "Resume flux/flux-system/apps");
    assert_eq!(
        open.purpose,
        Purpose::Engine {
            app: "flux/flux-system/apps".into(),
            action: ActionKind::Resume
        }
    );
    // A suspended object is not reconciled: the dialog says why.
    press(&mut state, KeyCode::Esc, KeyModifiers::NONE);
    key(&mut state, 's');
    let open = state.dialog.as_ref().unwrap();
    assert!(
        matches!(&open.dialog.planning, Planning::Failed(why) if why.contains("resume it first")),
        "{:?}",
        open.dialog.planning
    );
}

#[test]
fn a_flux_reconcile_names_the_object_and_its_source() {
    let mut state = engine_apps(&[flux_apps()]);
    key(&mut state, 's');
    let open = state.dialog.as_ref().unwrap();
    assert_eq!(open.dialog.title, "Sync flux/flux-system/apps through Flux");
    let lines = written(&state);
    assert!(
        lines.contains(&"GitRepository flux-system/flux-system:".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &"  metadata.annotations.\"reconcile.fluxcd.io/requestedAt\": \"<the time of asking>\""
                .to_string()
        )
    );
}

#[test]
fn read_only_asks_no_engine_anything() {
    let mut state = engine_apps(&[argocd_web(), flux_apps()]);
    state.readonly = true;
    select(&mut state, "argocd/web");
    for (code, modifiers) in [
        (KeyCode::Char('s'), KeyModifiers::NONE),
        (KeyCode::Char('S'), KeyModifiers::NONE),
    ] {
        let outcome = press(&mut state, code, modifiers);
        assert!(outcome.commands.is_empty(), "{code:?}");
        assert!(state.dialog.is_none());
        assert!(state.notice.take().is_some());
    }
    key(&mut state, ':');
    for c in "refresh hard".chars() {
        key(&mut state, c);
    }
    let hard = press(&mut state, KeyCode::Enter, KeyModifiers::NONE);
    assert!(hard.commands.is_empty());
    assert!(state.notice.take().unwrap().contains("read-only"));
    // `r` only reads again, in driftdeck.
    let refresh = key(&mut state, 'r');
    assert!(matches!(
        refresh.commands.as_slice(),
        [Command::Engine(EngineCommand::Refresh { app, .. })] if app == "argocd/web"
    ));
}

#[test]
fn the_commits_pane_lists_the_engines_history_and_moves_over_it() {
    let mut state = engine_apps(&[argocd_web()]);
    let history = crate::tui::commit_log::engine_history(&state.apps[0]).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].id, Some(2), "newest first");
    state.focus = Pane::Commits;
    assert!(key(&mut state, 'j').changed);
    assert_eq!(state.cursors.commits.selected, 1);
    assert!(!key(&mut state, 'j').changed, "two entries");
}

#[test]
fn an_app_in_two_contexts_asks_neither_engine() {
    let mut state = engine_apps(&[argocd_web()]);
    update(
        &mut state,
        Msg::Engine(EngineEvent::ControllerApps {
            context: Some("kind-b".into()),
            apps: vec!["argocd/web".into()],
            unreadable: Vec::new(),
        }),
    );
    state.notice = None;
    for c in ['s', 'r'] {
        assert!(key(&mut state, c).commands.is_empty(), "{c}");
        assert!(state.dialog.is_none());
        let notice = state.notice.take().unwrap();
        assert!(
            notice.contains("is in the contexts kind-b and the current context"),
            "{notice}"
        );
    }
}

#[test]
fn capital_r_on_a_history_entry_rolls_back_through_argocd_while_auto_sync_is_off() {
    let mut state = engine_apps(&[argocd_web()]);
    key(&mut state, 'R');
    assert!(state.dialog.is_none(), "no entry selected");
    state.focus = Pane::Commits;
    key(&mut state, 'j');
    key(&mut state, 'R');
    let open = state.dialog.as_ref().unwrap();
    assert_eq!(
        open.dialog.title,
        "Roll back argocd/web to #1 through Argo CD"
    );
    let lines = written(&state);
    for line in [
        "  operation.sync.syncStrategy.apply: {}",
        "  operation.sync.revision: \"1111111111111111111111111111111111111111\"",
        "  operation.sync.source.path: \"web\"",
    ] {
        assert!(
            lines.iter().any(|l| l == line),
            "{line} missing: {lines:#?}"
        );
    }
    press(&mut state, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(
        key(&mut state, 'y').commands,
        vec![Command::Engine(EngineCommand::ControllerAction {
            app: "argocd/web".into(),
            action: ActionKind::Rollback { id: 1, prune: true },
        })]
    );

    let mut automated = argocd_web();
    automated["spec"]["syncPolicy"] = json!({"automated": {"selfHeal": true}});
    let mut state = engine_apps(&[automated]);
    state.focus = Pane::Commits;
    key(&mut state, 'R');
    assert!(state.dialog.is_none());
    assert!(
        state
            .notice
            .as_deref()
            .unwrap()
            .contains("refuses a rollback while auto-sync is on"),
        "{:?}",
        state.notice
    );
}
