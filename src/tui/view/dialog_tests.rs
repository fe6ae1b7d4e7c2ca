//! The plan dialog and a sync's progress as drawn: snapshots at 80x24 (and
//! without colour, where prunes still stand out), a planning error, the
//! progress in the app's row and the Resources pane, the result in the
//! status bar.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};

use super::*;
use crate::engine::EngineEvent;
use crate::sync::test_support::shop_plan;
use crate::sync::{ObjectResult, SyncOutcome, SyncStatus};
use crate::tui::msg::Msg;
use crate::tui::syncing::SyncRun;
use crate::tui::test_support::{engine, reported, source_ok, state_with_apps};
use crate::tui::theme::{ColorDepth, Theme};
use crate::tui::update::update;

fn render(state: &State) -> Terminal<TestBackend> {
    let mut terminal =
        Terminal::new(TestBackend::new(state.size.width, state.size.height)).unwrap();
    terminal.draw(|frame| view(frame, state)).unwrap();
    terminal
}

fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// The app shop with its sync dialog open on a plan that creates, updates
/// and prunes one object each.
fn dialog_open(theme: Option<Theme>) -> State {
    let mut state = state_with_apps(&["shop"]);
    if let Some(theme) = theme {
        state.theme = theme;
    }
    engine(&mut state, source_ok("shop"));
    press(&mut state, KeyCode::Char('s'));
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "shop".into(),
            plan: Ok(Arc::new(shop_plan())),
        },
    );
    state
}

fn mono() -> Theme {
    Theme::load(
        None,
        std::path::Path::new("/nonexistent"),
        ColorDepth::NoColor,
    )
    .0
}

#[test]
fn snapshot_the_sync_dialog_with_create_update_and_prune() {
    let state = dialog_open(None);
    let terminal = render(&state);
    let screen = terminal.backend().to_string();
    for wanted in [
        "Sync shop",
        "at 3f2a91c: 1 to create · 1 to update · 1 to prune",
        "+ create Deployment shop/web",
        "~ update ConfigMap shop/settings: data.k",
        "- prune  Service shop/old",
        "y go · esc cancel",
    ] {
        assert!(screen.contains(wanted), "{wanted} missing:\n{screen}");
    }
    insta::assert_snapshot!("sync_dialog_80x24", terminal.backend());
}

#[test]
fn snapshot_the_sync_dialog_without_colour_prunes_in_bold() {
    let state = dialog_open(Some(mono()));
    let terminal = render(&state);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    let screen = terminal.backend().to_string();
    let (y, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("- prune"))
        .unwrap();
    let x = line.chars().position(|c| c == '-').unwrap();
    let (x, y) = (u16::try_from(x).unwrap() - 1, u16::try_from(y).unwrap());
    assert!(
        buffer[(x + 3, y)].modifier.contains(Modifier::BOLD),
        "the prune stands out without colour"
    );
    insta::assert_snapshot!("sync_dialog_mono_80x24", terminal.backend());
}

#[test]
fn a_long_plan_scrolls_inside_the_dialog() {
    let mut state = state_with_apps(&["shop"]);
    engine(&mut state, source_ok("shop"));
    press(&mut state, KeyCode::Char('s'));
    let mut plan = shop_plan();
    let step = plan.steps[0].clone();
    plan.steps = (0..40)
        .map(|i| {
            let mut step = step.clone();
            step.key.name = format!("web-{i:02}");
            step
        })
        .collect();
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "shop".into(),
            plan: Ok(Arc::new(plan)),
        },
    );
    let screen = render(&state).backend().to_string();
    assert!(screen.contains("web-00") && !screen.contains("web-39"));
    assert!(screen.contains("j/k scroll"), "{screen}");
    press(&mut state, KeyCode::End);
    let screen = render(&state).backend().to_string();
    assert!(
        screen.contains("web-39") && !screen.contains("web-00"),
        "{screen}"
    );
}

#[test]
fn a_planning_error_is_shown_in_full_in_the_dialog() {
    let mut state = state_with_apps(&["shop"]);
    engine(&mut state, source_ok("shop"));
    press(&mut state, KeyCode::Char('s'));
    let why = "app \"shop\": Git renders no object at 3f2a91c; a sync would prune all 4 of the app's objects, so it is refused (set allow_empty = true for the app to allow it)";
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "shop".into(),
            plan: Err(why.into()),
        },
    );
    let screen = render(&state).backend().to_string();
    assert!(screen.contains("set allow_empty = true"), "{screen}");
    assert!(screen.contains("Nothing will be written."), "{screen}");
    assert!(
        screen.contains("esc close") && !screen.contains("y go"),
        "{screen}"
    );
}

#[test]
fn progress_shows_in_the_row_and_the_resources_then_the_result_in_the_status_bar() {
    let mut state = reported();
    press(&mut state, KeyCode::Enter);
    let keys: Vec<_> = state.listed_resources().map(|r| r.key.clone()).collect();
    let mut run = SyncRun::default();
    run.objects
        .insert(keys[0].clone(), Some(ObjectResult::Updated));
    run.objects.insert(keys[1].clone(), None);
    let index = state.selected_app_index().unwrap();
    state.apps[index].sync = Some(run);
    let screen = render(&state).backend().to_string();
    assert!(screen.contains("sync 1/2"), "{screen}");
    assert!(screen.contains("✓ updated"), "{screen}");
    assert!(screen.contains("… syncing"), "{screen}");

    engine(
        &mut state,
        EngineEvent::SyncEnded {
            app: "guestbook".into(),
            outcome: Ok(SyncOutcome {
                app: "guestbook".into(),
                revision: "9c1e0b27aa41".into(),
                status: SyncStatus::Succeeded,
                dry_run: false,
                objects: Vec::new(),
                duration_ms: 1200,
                error: None,
            }),
        },
    );
    let screen = render(&state).backend().to_string();
    assert!(!screen.contains("sync 1/2"), "{screen}");
    assert!(
        screen.contains("guestbook: synced: 0 created, 0 updated"),
        "{screen}"
    );
}

#[test]
fn read_only_hides_sync_from_the_help_and_the_hints() {
    let mut state = state_with_apps(&["shop"]);
    engine(&mut state, source_ok("shop"));
    let screen = render(&state).backend().to_string();
    assert!(screen.contains("s sync"), "{screen}");
    state.readonly = true;
    let screen = render(&state).backend().to_string();
    assert!(!screen.contains("s sync"), "{screen}");
    let help: Vec<String> = help::lines(&state)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(!help.iter().any(|l| l.contains(" sync ")), "{help:#?}");
}
