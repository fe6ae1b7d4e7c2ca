//! Argo CD and Flux apps as drawn at 80x24: the dialog that says what
//! asking their engine writes (a snapshot), the action's progress in the
//! row and the status bar, the engine's history in the Commits pane.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::engine::EngineEvent;
use crate::engines::ActionProgress;
use crate::tui::msg::Msg;
use crate::tui::pane::Pane;
use crate::tui::test_support::{argocd_web, flux_apps, state_with_apps, with_engine_apps};
use crate::tui::update::update;

fn render(state: &State) -> Terminal<TestBackend> {
    let mut terminal =
        Terminal::new(TestBackend::new(state.size.width, state.size.height)).unwrap();
    terminal.draw(|frame| view(frame, state)).unwrap();
    terminal
}

fn screen(state: &State) -> String {
    render(state).backend().to_string()
}

fn key(state: &mut State, c: char) {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

fn engine_apps() -> State {
    let mut state = state_with_apps(&[]);
    state.operator = Some("ada@box".to_string());
    with_engine_apps(&mut state, &[argocd_web(), flux_apps()]);
    state
}

#[test]
fn snapshot_the_argocd_sync_dialog_with_the_fields_it_writes() {
    let mut state = engine_apps();
    key(&mut state, 's');
    let terminal = render(&state);
    let screen = terminal.backend().to_string();
    for wanted in [
        "Sync argocd/web through Argo CD",
        "Application argocd/web:",
        "operation.initiatedBy.username: \"ada@box\"",
        "operation.sync.prune: false",
        "status.operationState: null",
        "(•) keep extra objects",
        "( ) prune",
        "y go · esc cancel",
    ] {
        assert!(screen.contains(wanted), "{wanted} missing:\n{screen}");
    }
    insta::assert_snapshot!("argocd_sync_dialog_80x24", terminal.backend());
}

#[test]
fn an_action_shows_in_the_row_and_the_status_bar_until_its_result() {
    let mut state = engine_apps();
    key(&mut state, 's');
    key(&mut state, 'y');
    let message = "Running: waiting for healthy state of apps/Deployment/web";
    update(
        &mut state,
        Msg::Engine(EngineEvent::ControllerActed {
            app: "argocd/web".into(),
            progress: Ok(ActionProgress::Waiting {
                message: message.into(),
            }),
        }),
    );
    let shown = screen(&state);
    assert!(shown.contains("argocd/w… sync…"), "{shown}");
    assert!(
        shown.contains("sync argocd/web: Running: waiting"),
        "{shown}"
    );
    update(
        &mut state,
        Msg::Engine(EngineEvent::ControllerActed {
            app: "argocd/web".into(),
            progress: Ok(ActionProgress::Done {
                succeeded: true,
                message: "successfully synced".into(),
            }),
        }),
    );
    let shown = screen(&state);
    assert!(!shown.contains("sync…"), "{shown}");
    assert!(
        shown.contains("argocd/web: sync done: successfully synced"),
        "{shown}"
    );
}

#[test]
fn the_commits_pane_of_an_engine_app_lists_its_history_the_running_one_marked() {
    let mut state = engine_apps();
    state.focus = Pane::Commits;
    let shown = screen(&state);
    assert!(shown.contains("┃● 3f2a91c #2 2026-08-"), "{shown}");
    assert!(shown.contains("┃  1111111 #1 2026-08-"), "{shown}");
    // A Kustomization keeps no history: the pane says so.
    key(&mut state, 'j');
    state.focus = Pane::Apps;
    key(&mut state, 'j');
    let shown = screen(&state);
    assert!(shown.contains("Flux keeps no history"), "{shown}");
}
