//! `update` for finding and reading: sort, filter, command line, the diff
//! pane's views and long lines, the clock, the external viewer.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::memory::Memory;
use crate::tui::order::SortMode;
use crate::tui::state::{DiffMode, YamlSide};
use crate::tui::test_support::{at, engine, guestbook_report, report_event, reported};

fn press(state: &mut State, code: KeyCode) -> Outcome {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

fn listed_names(state: &State) -> Vec<String> {
    state
        .listed_resources()
        .map(|r| format!("{}/{}", r.key.kind, r.key.name))
        .collect()
}

/// The guestbook's resources in focus, at 160x48.
fn on_resources() -> State {
    let mut state = reported();
    update(
        &mut state,
        Msg::Resize {
            width: 160,
            height: 48,
        },
    );
    while state.selected_app().unwrap().name != "guestbook" {
        press(&mut state, KeyCode::Char('j'));
    }
    press(&mut state, KeyCode::Enter);
    state
}

fn select_kind(state: &mut State, kind: &str) {
    press(state, KeyCode::Home);
    while state.selected_resource().unwrap().key.kind != kind {
        assert!(press(state, KeyCode::Char('j')).changed, "no {kind}");
    }
}

#[test]
fn the_sort_key_cycles_the_order_and_asks_to_remember_it() {
    let mut state = on_resources();
    assert_eq!(listed_names(&state)[0], "PersistentVolumeClaim/data");
    let outcome = press(&mut state, KeyCode::Char('o'));
    assert_eq!(state.sort, SortMode::Name);
    assert_eq!(
        outcome.commands,
        vec![Command::Remember(Memory {
            sort: SortMode::Name
        })]
    );
    assert_eq!(listed_names(&state)[0], "PersistentVolumeClaim/data");
    assert_eq!(listed_names(&state)[1], "Secret/db");
    press(&mut state, KeyCode::Char('o'));
    assert_eq!(state.sort, SortMode::Kind);
    assert_eq!(listed_names(&state)[0], "ConfigMap/settings");
}

#[test]
fn a_resort_keeps_the_cursor_on_the_same_resource() {
    let mut state = on_resources();
    select_kind(&mut state, "Service");
    press(&mut state, KeyCode::Char('o'));
    press(&mut state, KeyCode::Char('o'));
    assert_eq!(state.selected_resource().unwrap().key.kind, "Service");
}

#[test]
fn typing_a_filter_narrows_the_list_and_esc_clears_it() {
    let mut state = on_resources();
    press(&mut state, KeyCode::Char('/'));
    assert!(state.prompt.is_some());
    typed(&mut state, "status:outofsync");
    assert_eq!(listed_names(&state), ["Secret/db", "Deployment/frontend"]);
    // Enter keeps the filter and leaves the line.
    press(&mut state, KeyCode::Enter);
    assert!(state.prompt.is_none());
    assert_eq!(state.filters.resources, "status:outofsync");
    // Keys are actions again: j moves within what is listed.
    press(&mut state, KeyCode::Char('j'));
    assert_eq!(state.selected_resource().unwrap().key.kind, "Deployment");
    // Esc in the pane clears the filter first, the cursor staying put.
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.filters.resources, "");
    assert_eq!(listed_names(&state).len(), 6);
    assert_eq!(state.selected_resource().unwrap().key.kind, "Deployment");
    assert_eq!(state.focus, Pane::Resources);
}

#[test]
fn a_filter_that_matches_nothing_leaves_no_selection() {
    let mut state = on_resources();
    press(&mut state, KeyCode::Char('/'));
    typed(&mut state, "zzz");
    assert!(listed_names(&state).is_empty());
    assert!(state.selected_resource().is_none());
    assert!(press(&mut state, KeyCode::Esc).changed);
    assert!(state.selected_resource().is_some());
}

#[test]
fn the_apps_filter_hides_apps_and_keeps_the_selection_when_it_can() {
    let mut state = reported();
    press(&mut state, KeyCode::Char('/'));
    typed(&mut state, "pod");
    assert_eq!(state.listing.apps.len(), 1);
    assert_eq!(state.selected_app().unwrap().name, "podinfo");
}

#[test]
fn the_diff_search_jumps_between_matching_lines() {
    let mut state = on_resources();
    // Small enough that the diff scrolls.
    update(
        &mut state,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    select_kind(&mut state, "Deployment");
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Char('/'));
    typed(&mut state, "image");
    press(&mut state, KeyCode::Enter);
    // The first line already names the field.
    let first = state.cursors.diff.offset;
    assert_eq!(first, 0);
    assert!(press(&mut state, KeyCode::Char('n')).changed);
    let second = state.cursors.diff.offset;
    assert!(second > first);
    press(&mut state, KeyCode::Char('N'));
    assert_eq!(state.cursors.diff.offset, first);
    // Past the last match: a notice says so.
    for _ in 0..10 {
        press(&mut state, KeyCode::Char('n'));
    }
    assert!(state.notice.as_deref().unwrap_or("").contains("not found"));
}

#[test]
fn command_line_runs_app_sort_exact_and_quit() {
    let mut state = reported();
    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "app podinfo");
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.selected_app().unwrap().name, "podinfo");
    assert_eq!(state.focus, Pane::Resources);

    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "exact");
    let outcome = press(&mut state, KeyCode::Enter);
    assert!(state.exact);
    assert_eq!(
        outcome.commands,
        vec![Command::Engine(EngineCommand::SetExact { exact: true })]
    );

    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "sort kind");
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.sort, SortMode::Kind);

    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "q");
    assert_eq!(
        press(&mut state, KeyCode::Enter).commands,
        vec![Command::Quit]
    );
}

#[test]
fn command_line_completes_with_tab_and_recalls_with_up() {
    let mut state = reported();
    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "ap");
    press(&mut state, KeyCode::Tab);
    typed(&mut state, "pod");
    press(&mut state, KeyCode::Tab);
    assert_eq!(state.prompt.as_ref().unwrap().input.text(), "app podinfo");
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "sort name");
    press(&mut state, KeyCode::Enter);

    press(&mut state, KeyCode::Char(':'));
    press(&mut state, KeyCode::Up);
    assert_eq!(state.prompt.as_ref().unwrap().input.text(), "sort name");
    press(&mut state, KeyCode::Up);
    assert_eq!(state.prompt.as_ref().unwrap().input.text(), "app podinfo");
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Down);
    assert_eq!(state.prompt.as_ref().unwrap().input.text(), "");
    // Esc leaves the line; nothing is run.
    assert!(press(&mut state, KeyCode::Esc).commands.is_empty());
    assert!(state.prompt.is_none());
}

#[test]
fn an_unknown_command_or_context_is_a_notice_that_names_the_choices() {
    let mut state = reported();
    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "snyc");
    press(&mut state, KeyCode::Enter);
    assert!(
        state
            .notice
            .as_deref()
            .unwrap()
            .contains("commands: app, ctx")
    );
    state.apps[0].context = Some("prod-eu".into());
    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "ctx staging");
    press(&mut state, KeyCode::Enter);
    assert_eq!(
        state.notice.as_deref(),
        Some("no app uses the context \"staging\"; contexts: prod-eu")
    );
}

#[test]
fn ctx_lists_only_the_apps_of_that_context_until_cleared() {
    let mut state = reported();
    state.apps[0].context = Some("prod-eu".into());
    state.apps[2].context = Some("prod-eu".into());
    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "ctx prod-eu");
    press(&mut state, KeyCode::Enter);
    let names: Vec<&str> = state
        .listing
        .apps
        .iter()
        .map(|&i| state.apps[i].name.as_str())
        .collect();
    assert_eq!(names, ["redis", "guestbook"]);
    press(&mut state, KeyCode::Char(':'));
    typed(&mut state, "ctx");
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.listing.apps.len(), 3);
}

#[test]
fn y_cycles_live_desired_both_and_back_and_d_toggles_side_by_side() {
    let mut state = on_resources();
    select_kind(&mut state, "Deployment");
    let mut modes = Vec::new();
    for _ in 0..4 {
        press(&mut state, KeyCode::Char('y'));
        modes.push(state.reading.mode);
    }
    assert_eq!(
        modes,
        [
            DiffMode::Yaml(YamlSide::Live),
            DiffMode::Yaml(YamlSide::Desired),
            DiffMode::Yaml(YamlSide::Both),
            DiffMode::Changes
        ]
    );
    press(&mut state, KeyCode::Char('D'));
    assert_eq!(state.reading.mode, DiffMode::SideBySide);
    press(&mut state, KeyCode::Char('D'));
    assert_eq!(state.reading.mode, DiffMode::Changes);
    // From the apps there is no resource to show.
    state.focus = Pane::Apps;
    assert_eq!(press(&mut state, KeyCode::Char('y')), Outcome::unchanged());
}

#[test]
fn long_lines_scroll_sideways_until_the_widest_shows_and_wrap_toggles() {
    let mut state = reported();
    update(
        &mut state,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    press(&mut state, KeyCode::Enter);
    select_kind(&mut state, "Deployment");
    assert!(press(&mut state, KeyCode::Char('l')).changed);
    assert_eq!(state.reading.column, 8);
    for _ in 0..100 {
        press(&mut state, KeyCode::Char('l'));
    }
    let end = state.reading.column;
    assert!(end > 8 && end < 200, "{end}");
    assert_eq!(press(&mut state, KeyCode::Char('l')), Outcome::unchanged());
    press(&mut state, KeyCode::Char('h'));
    assert_eq!(state.reading.column, end - 8);
    press(&mut state, KeyCode::Char('w'));
    assert!(state.reading.wrap);
    assert_eq!(state.reading.column, 0);
    // Wrapped lines do not scroll sideways.
    assert_eq!(press(&mut state, KeyCode::Char('l')), Outcome::unchanged());
}

#[test]
fn the_clock_redraws_only_while_an_age_is_shown() {
    let mut state = reported();
    // Commit ages turn by the minute.
    assert!(state.shows_ages());
    assert_eq!(
        update(&mut state, Msg::Clock(at(12, 0, 30))),
        Outcome::unchanged()
    );
    assert!(update(&mut state, Msg::Clock(at(12, 1, 0))).changed);
    state.apps.iter_mut().for_each(|app| app.commits = None);
    assert!(!state.shows_ages());
    assert_eq!(
        update(&mut state, Msg::Clock(at(12, 2, 0))),
        Outcome::unchanged()
    );
    let mut report = guestbook_report();
    report.stale_since = Some(at(12, 0, 0));
    engine(&mut state, report_event("guestbook", 0, report));
    assert!(state.shows_ages());
    assert!(update(&mut state, Msg::Clock(at(12, 0, 1))).changed);
    assert!(!update(&mut state, Msg::Clock(at(12, 0, 1))).changed);
}

#[test]
fn the_external_viewer_gets_both_sides_with_secrets_masked() {
    let mut state = on_resources();
    select_kind(&mut state, "Secret");
    assert_eq!(press(&mut state, KeyCode::Char('e')).commands, vec![]);
    assert!(
        state
            .notice
            .take()
            .unwrap()
            .contains("DRIFTDECK_EXTERNAL_DIFF")
    );
    state.diff_viewer = Some("delta".into());
    let outcome = press(&mut state, KeyCode::Char('e'));
    let [Command::ExternalDiff(diff)] = outcome.commands.as_slice() else {
        panic!("{outcome:?}");
    };
    assert_eq!(diff.viewer, "delta");
    assert_eq!(diff.label, "Secret_guestbook_db");
    for side in [&diff.live, &diff.desired] {
        assert!(side.contains("password"), "{side}");
        for value in ["c2VjcmV0LWluLWdpdA==", "Y2hhbmdlZC1saXZl"] {
            assert!(!side.contains(value), "{side}");
        }
    }
    assert_ne!(diff.live, diff.desired);
}
