//! The Diff pane and the Apps row of an engine app: driftdeck's own
//! comparison of its source beside the engine's verdict, or why there is
//! none (README "Argo CD and Flux").

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use super::view;
use crate::config::EnginesConfig;
use crate::engine::EngineEvent;
use crate::engines::ControllerApp;
use crate::report::AppReport;
use crate::report::{OwnVerdict, controller_report, with_own_verdict};
use crate::tui::msg::Msg;
use crate::tui::state::State;
use crate::tui::test_support::{engine, guestbook_report, report_event, state_with_apps};
use crate::tui::update::update;

/// `argocd/web` as its Application says: Synced and Healthy.
fn engine_report() -> AppReport {
    let object = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "git://127.0.0.1:9/deploy.git", "path": "apps/guestbook"}},
        "status": {"sync": {"status": "Synced", "revision": "9c1e0b27aa41b3c5d6e7f8091a2b3c4d5e6f7081"},
                   "health": {"status": "Healthy"}}
    });
    let app = ControllerApp::of(&object, &EnginesConfig::default()).unwrap();
    controller_report(&app, |_| None)
}

/// The state with `argocd/web` reported as `report`, selected, at 120x40.
fn showing(report: AppReport) -> State {
    let mut state = state_with_apps(&[]);
    engine(
        &mut state,
        EngineEvent::ControllerApps {
            context: None,
            apps: vec!["argocd/web".to_string()],
            unreadable: Vec::new(),
        },
    );
    engine(&mut state, report_event("argocd/web", 0, report));
    update(
        &mut state,
        Msg::Resize {
            width: 120,
            height: 40,
        },
    );
    for _ in 0..3 {
        if state.selected_app().is_some() {
            break;
        }
        update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
        );
    }
    assert_eq!(
        state.selected_app().map(|a| a.name.as_str()),
        Some("argocd/web")
    );
    state
}

fn screen(state: &State) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| view(frame, state)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn the_diff_pane_of_an_engine_app_shows_driftdeck_s_diffs_and_the_disagreement() {
    let mut own = guestbook_report();
    own.app = "argocd/web".to_string();
    let report = with_own_verdict(
        engine_report(),
        OwnVerdict::Compared {
            report: Box::new(own),
            source: "git://127.0.0.1:9/deploy.git apps/guestbook".to_string(),
        },
    );
    let state = showing(report);
    let screen = screen(&state);
    assert!(
        screen.contains("Argo CD says Synced; driftdeck sees OutOfSync at 9c1e0b2"),
        "{screen}"
    );
    // driftdeck's per-object verdicts, with the fields that differ.
    assert!(screen.contains("Deployment guestbook/frontend"), "{screen}");
    let row = screen
        .lines()
        .find(|line| line.contains("▶ argocd/web"))
        .unwrap();
    assert!(
        row.contains('≠'),
        "the Apps row marks the disagreement: {row}"
    );
}

#[test]
fn an_unreadable_source_is_said_and_the_engine_s_verdict_shown() {
    let report = with_own_verdict(
        engine_report(),
        OwnVerdict::NotCompared(
            "cannot read the source git://127.0.0.1:9/deploy.git: connection refused".to_string(),
        ),
    );
    let state = showing(report);
    let screen = screen(&state);
    assert!(
        screen.contains("cannot read the source git://127.0.0.1:9/deploy.git: connection"),
        "{screen}"
    );
    assert!(screen.contains("showing Argo CD's verdict"), "{screen}");
    let row = screen
        .lines()
        .find(|line| line.contains("▶ argocd/web"))
        .unwrap();
    assert!(
        !row.contains('≠'),
        "no disagreement without a comparison: {row}"
    );
}
