//! `update` transitions: keys through the keymap, focus and cursors, help,
//! refresh, and engine events (stale ones dropped, selections kept).

use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::*;
use crate::config::Config;
use crate::drift::{ResourceResult, summarize};
use crate::engine::EngineEvent;
use crate::report::AppReport;
use crate::tui::app_state::Pending;
use crate::tui::keymap::Keymap;
use crate::tui::state::Detail;
use crate::tui::test_support::{
    commit, commits_event, engine, guestbook_commits, guestbook_report, key as resource_key,
    report_event, source_failed, source_ok, state_with_apps,
};

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn char_key(c: char) -> Msg {
    key(KeyCode::Char(c))
}

/// A verdict on `app` with these resources, each in sync.
fn report_of(app: &str, names: &[&str]) -> AppReport {
    let resources: Vec<ResourceResult> = names
        .iter()
        .map(|name| {
            let object = serde_json::json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": "default"}});
            ResourceResult::compared(
                resource_key("Service", Some("default"), name),
                &object,
                &object,
                &[],
            )
        })
        .collect();
    AppReport {
        app: app.to_string(),
        desired_revision: None,
        pinned: None,
        summary: summarize(&resources),
        resources,
        problems: Vec::new(),
        stale_since: None,
        stale_cause: None,
        engine: None,
        controller: None,
        driftdeck: None,
    }
}

/// Moves the resources cursor to the first resource of that kind.
fn select_kind(state: &mut State, kind: &str) {
    state.focus = Pane::Resources;
    update(state, key(KeyCode::Home));
    while state.selected_resource().unwrap().key.kind != kind {
        assert!(update(state, char_key('j')).changed, "no {kind}");
    }
}

fn commit_ids(ids: &[char]) -> Vec<crate::source::LogEntry> {
    ids.iter()
        .map(|c| commit(&c.to_string().repeat(40), "a change", "Ada", 9))
        .collect()
}

fn many_apps(count: usize) -> State {
    let names: Vec<String> = (0..count).map(|i| format!("app-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    state_with_apps(&names)
}

#[test]
fn q_and_ctrl_c_ask_to_quit() {
    let mut state = state_with_apps(&["guestbook"]);
    assert_eq!(
        update(&mut state, char_key('q')).commands,
        vec![Command::Quit]
    );
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut state, ctrl_c).commands, vec![Command::Quit]);
}

#[test]
fn key_releases_and_unbound_keys_change_nothing() {
    let mut state = state_with_apps(&["guestbook"]);
    let before = state.clone();
    let release = KeyEvent::new_with_kind(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
        KeyEventKind::Release,
    );
    assert_eq!(update(&mut state, Msg::Key(release)), Outcome::unchanged());
    assert_eq!(update(&mut state, char_key('x')), Outcome::unchanged());
    assert_eq!(state, before);
}

#[test]
fn remapped_keys_drive_the_same_actions() {
    let config = Config::parse(
        Path::new("config.toml"),
        "[keys]\nquit = \"x\"\ndown = \"J\"\n[[app]]\nname = \"a\"\nrepo = \"r\"\n[[app]]\nname = \"b\"\nrepo = \"r\"\n",
    )
    .unwrap();
    let keymap = Keymap::from_config(&config).unwrap();
    let mut state = State::new(
        &config,
        Path::new("config.toml"),
        keymap,
        Default::default(),
    );
    state.size = ratatui::layout::Size::new(80, 24);
    assert_eq!(update(&mut state, char_key('q')), Outcome::unchanged());
    assert_eq!(update(&mut state, char_key('j')), Outcome::unchanged());
    assert!(update(&mut state, char_key('J')).changed);
    assert_eq!(state.cursors.apps.selected, 1);
    assert_eq!(
        update(&mut state, char_key('x')).commands,
        vec![Command::Quit]
    );
}

#[test]
fn tab_and_shift_tab_move_the_focus_round() {
    let mut state = state_with_apps(&["guestbook"]);
    for expected in [Pane::Resources, Pane::Diff, Pane::Commits, Pane::Apps] {
        assert!(update(&mut state, key(KeyCode::Tab)).changed);
        assert_eq!(state.focus, expected);
    }
    update(&mut state, key(KeyCode::BackTab));
    assert_eq!(state.focus, Pane::Commits);
}

#[test]
fn j_and_k_move_within_the_list_and_stop_at_its_ends() {
    let mut state = state_with_apps(&["a", "b", "c"]);
    assert!(update(&mut state, char_key('j')).changed);
    assert!(update(&mut state, key(KeyCode::Down)).changed);
    assert_eq!(state.cursors.apps.selected, 2);
    assert_eq!(update(&mut state, char_key('j')), Outcome::unchanged());
    update(&mut state, char_key('k'));
    assert_eq!(state.cursors.apps.selected, 1);
    update(&mut state, key(KeyCode::Up));
    assert_eq!(update(&mut state, key(KeyCode::Up)), Outcome::unchanged());
    assert_eq!(state.cursors.apps.selected, 0);
}

#[test]
fn pages_are_as_tall_as_the_pane() {
    // At 80x24 the apps pane shows 9 rows.
    let mut state = many_apps(30);
    update(&mut state, key(KeyCode::PageDown));
    assert_eq!(state.cursors.apps.selected, 9);
    update(&mut state, key(KeyCode::End));
    assert_eq!(
        state.cursors.apps,
        Cursor {
            selected: 29,
            offset: 21
        }
    );
    update(&mut state, key(KeyCode::PageUp));
    assert_eq!(
        state.cursors.apps,
        Cursor {
            selected: 20,
            offset: 20
        }
    );
    update(&mut state, char_key('g'));
    assert_eq!(
        state.cursors.apps,
        Cursor {
            selected: 0,
            offset: 0
        }
    );
    update(&mut state, char_key('G'));
    assert_eq!(state.cursors.apps.selected, 29);
}

#[test]
fn a_bigger_terminal_pulls_the_list_back_into_view() {
    let mut state = many_apps(30);
    update(&mut state, key(KeyCode::End));
    assert_eq!(state.cursors.apps.offset, 21);
    assert!(
        update(
            &mut state,
            Msg::Resize {
                width: 160,
                height: 48
            }
        )
        .changed
    );
    // 21 rows at 160x48: the last page is full and the selection stays.
    assert_eq!(
        state.cursors.apps,
        Cursor {
            selected: 29,
            offset: 9
        }
    );
}

#[test]
fn choosing_another_app_resets_its_lists_to_the_top() {
    let mut state = state_with_apps(&["a", "b"]);
    engine(
        &mut state,
        report_event("a", 0, report_of("a", &["s0", "s1", "s2", "s3", "s4"])),
    );
    update(&mut state, Msg::Action(Action::FocusNext));
    update(&mut state, Msg::Action(Action::Bottom));
    assert_eq!(state.cursors.resources.selected, 4);
    update(&mut state, Msg::Action(Action::FocusPrev));
    update(&mut state, Msg::Action(Action::Down));
    assert_eq!(state.cursors.resources, Cursor::default());
}

#[test]
fn moving_in_an_empty_pane_changes_nothing() {
    let mut state = state_with_apps(&["guestbook"]);
    state.focus = Pane::Commits;
    assert_eq!(update(&mut state, char_key('j')), Outcome::unchanged());
    assert_eq!(update(&mut state, key(KeyCode::End)), Outcome::unchanged());
}

#[test]
fn the_diff_scrolls_and_keeps_its_last_page_full() {
    let mut state = state_with_apps(&["guestbook"]);
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    // The Deployment: its fields, then its diff.
    update(&mut state, key(KeyCode::Enter));
    select_kind(&mut state, "Deployment");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.focus, Pane::Diff);
    assert!(matches!(state.detail(), Detail::Resource(r) if r.key.kind == "Deployment"));
    // The diff pane shows 10 lines at 80x24.
    let lines = view::diff_line_count(&state);
    assert!(lines > 12, "{lines}");
    update(&mut state, char_key('j'));
    assert_eq!(state.cursors.diff.offset, 1);
    update(&mut state, key(KeyCode::End));
    assert_eq!(state.cursors.diff.offset, lines - 10);
    update(&mut state, char_key('j'));
    assert_eq!(state.cursors.diff.offset, lines - 10);
    update(&mut state, key(KeyCode::PageUp));
    assert_eq!(state.cursors.diff.offset, lines.saturating_sub(20));
    update(&mut state, key(KeyCode::Home));
    assert_eq!(state.cursors.diff.offset, 0);
}

#[test]
fn help_opens_scrolls_within_its_text_and_closes() {
    let mut state = state_with_apps(&["guestbook"]);
    assert!(update(&mut state, char_key('?')).changed);
    assert_eq!(state.help, Some(0));
    // Tab means nothing over the help.
    assert_eq!(update(&mut state, key(KeyCode::Tab)), Outcome::unchanged());
    assert_eq!(state.focus, Pane::Apps);
    update(&mut state, char_key('j'));
    assert_eq!(state.help, Some(1));
    update(&mut state, key(KeyCode::End));
    let bottom = state.help.unwrap();
    assert_eq!(bottom, help::max_scroll(&state));
    assert!(bottom > 1, "the help is taller than 80x24");
    assert_eq!(update(&mut state, char_key('j')), Outcome::unchanged());
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.help, None);
    update(&mut state, char_key('?'));
    update(&mut state, char_key('?'));
    assert_eq!(state.help, None);
    update(&mut state, char_key('?'));
    assert_eq!(
        update(&mut state, char_key('q')).commands,
        vec![Command::Quit]
    );
}

#[test]
fn help_fits_a_big_terminal_without_scrolling() {
    let mut state = state_with_apps(&["guestbook"]);
    update(
        &mut state,
        Msg::Resize {
            width: 160,
            height: 48,
        },
    );
    update(&mut state, char_key('?'));
    assert_eq!(update(&mut state, key(KeyCode::End)), Outcome::unchanged());
}

#[test]
fn esc_dismisses_the_notice_then_goes_back_a_pane_at_a_time() {
    let mut state = state_with_apps(&["guestbook"]);
    state.notice = Some("theme".into());
    state.focus = Pane::Diff;
    update(&mut state, key(KeyCode::Esc));
    assert_eq!((state.notice.as_deref(), state.focus), (None, Pane::Diff));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.focus, Pane::Resources);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.focus, Pane::Apps);
    assert_eq!(update(&mut state, key(KeyCode::Esc)), Outcome::unchanged());
    state.focus = Pane::Commits;
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.focus, Pane::Apps);
}

#[test]
fn enter_opens_an_apps_resources_then_a_resources_diff() {
    let mut state = state_with_apps(&["guestbook"]);
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.focus, Pane::Resources);
    // No verdict yet: no resource to open.
    assert_eq!(
        update(&mut state, key(KeyCode::Enter)),
        Outcome::unchanged()
    );
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.focus, Pane::Diff);
    assert_eq!(
        update(&mut state, key(KeyCode::Enter)),
        Outcome::unchanged()
    );
    let mut empty = state_with_apps(&[]);
    assert_eq!(
        update(&mut empty, key(KeyCode::Enter)),
        Outcome::unchanged()
    );
}

#[test]
fn configured_apps_start_unknown_and_reading_git() {
    let state = state_with_apps(&["guestbook", "podinfo"]);
    let names: Vec<&str> = state.apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["guestbook", "podinfo"]);
    for app in &state.apps {
        assert!(app.report.is_none() && app.commits.is_none() && app.source.is_none());
        assert_eq!(app.pending(), Some(Pending::ReadingGit));
    }
    assert!(state.is_busy());
}

#[test]
fn pending_follows_the_engine_until_the_first_verdict() {
    let mut state = state_with_apps(&["guestbook"]);
    assert!(engine(&mut state, source_ok("guestbook")));
    assert_eq!(state.apps[0].pending(), Some(Pending::ReadingCluster));
    assert!(engine(
        &mut state,
        report_event("guestbook", 0, guestbook_report())
    ));
    assert_eq!(state.apps[0].pending(), None);
    assert!(!state.is_busy());
    // Git that cannot be read is not pending: nothing comes until it can.
    let mut failing = state_with_apps(&["redis"]);
    engine(&mut failing, source_failed("redis", "connection refused"));
    assert_eq!(failing.apps[0].pending(), None);
    assert_eq!(failing.apps[0].source_error(), Some("connection refused"));
    assert!(!failing.is_busy());
}

#[test]
fn the_spinner_turns_only_while_something_is_pending() {
    let mut state = state_with_apps(&["guestbook"]);
    assert!(update(&mut state, Msg::Tick).changed);
    assert!(update(&mut state, Msg::Tick).changed);
    assert_eq!(state.spinner, 2);
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    assert_eq!(update(&mut state, Msg::Tick), Outcome::unchanged());
    assert_eq!(state.spinner, 2);
}

#[test]
fn a_picked_app_keeps_the_cursor_when_the_order_changes() {
    let mut state = state_with_apps(&["guestbook", "podinfo", "redis"]);
    update(&mut state, char_key('j'));
    assert_eq!(state.selected_app().unwrap().name, "podinfo");
    engine(
        &mut state,
        report_event("redis", 0, report_of("redis", &["a"])),
    );
    engine(&mut state, source_failed("guestbook", "gone"));
    assert_eq!(state.selected_app().unwrap().name, "podinfo");
    assert_eq!(state.cursors.apps.selected, 2);
}

#[test]
fn an_app_opened_and_left_keeps_the_cursor_when_the_order_changes() {
    let mut state = state_with_apps(&["guestbook", "podinfo"]);
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, key(KeyCode::Esc));
    engine(
        &mut state,
        report_event("podinfo", 0, report_of("podinfo", &["a"])),
    );
    assert_eq!(state.selected_app().unwrap().name, "guestbook");
}

#[test]
fn refresh_raises_the_generation_and_asks_the_engine() {
    let mut state = state_with_apps(&["guestbook", "podinfo"]);
    engine(
        &mut state,
        report_event("podinfo", 0, report_of("podinfo", &["a"])),
    );
    // podinfo has a verdict and guestbook waits for one: podinfo is listed
    // first, and with no app picked yet the cursor is on it.
    assert_eq!(state.selected_app().unwrap().name, "podinfo");
    let outcome = update(&mut state, char_key('r'));
    assert!(outcome.changed);
    assert_eq!(
        outcome.commands,
        vec![Command::Engine(EngineCommand::Refresh {
            app: "podinfo".into(),
            generation: 1
        })]
    );
    assert_eq!(
        (state.apps[1].generation, state.apps[1].refreshing),
        (1, true)
    );
    assert_eq!(state.apps[0].generation, 0, "only the selected app");
    assert!(state.is_busy());
    // The old verdict stays on screen until the new one comes.
    assert!(state.apps[1].report.is_some());
    let again = update(&mut state, char_key('r'));
    assert_eq!(
        again.commands,
        vec![Command::Engine(EngineCommand::Refresh {
            app: "podinfo".into(),
            generation: 2
        })]
    );
    engine(
        &mut state,
        report_event("podinfo", 2, report_of("podinfo", &["b"])),
    );
    assert!(!state.apps[1].refreshing);
    assert!(!state.apps[1].is_busy());
}

#[test]
fn refresh_with_no_app_does_nothing() {
    let mut state = state_with_apps(&[]);
    assert_eq!(update(&mut state, char_key('r')), Outcome::unchanged());
}

#[test]
fn a_refresh_that_finds_git_unreadable_stops_waiting() {
    let mut state = state_with_apps(&["guestbook"]);
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    update(&mut state, char_key('r'));
    assert!(state.apps[0].refreshing);
    engine(&mut state, source_failed("guestbook", "connection refused"));
    assert!(!state.apps[0].refreshing);
    // Backing off, the poller repeats the same state: that ends a refresh too.
    update(&mut state, char_key('r'));
    assert!(engine(
        &mut state,
        source_failed("guestbook", "connection refused")
    ));
    assert!(!state.apps[0].refreshing);
    assert!(!state.is_busy());
}

#[test]
fn answers_to_an_older_generation_are_dropped() {
    let mut state = state_with_apps(&["guestbook"]);
    update(&mut state, char_key('r'));
    update(&mut state, char_key('r'));
    assert_eq!(state.apps[0].generation, 2);
    let before = state.clone();
    let stale = report_event("guestbook", 1, guestbook_report());
    assert_eq!(update(&mut state, Msg::Engine(stale)), Outcome::unchanged());
    let stale = commits_event("guestbook", 0, guestbook_commits());
    assert_eq!(update(&mut state, Msg::Engine(stale)), Outcome::unchanged());
    assert_eq!(state, before);
    assert!(engine(
        &mut state,
        report_event("guestbook", 2, guestbook_report())
    ));
    assert_eq!(state.apps[0].report.as_deref(), Some(&guestbook_report()));
    assert!(engine(
        &mut state,
        commits_event("guestbook", 2, guestbook_commits())
    ));
    assert_eq!(state.apps[0].commits.as_ref().map(|c| c.len()), Some(3));
}

#[test]
fn events_about_an_app_not_configured_are_dropped() {
    let mut state = state_with_apps(&["guestbook"]);
    let before = state.clone();
    let other = report_event("other", 0, guestbook_report());
    assert_eq!(update(&mut state, Msg::Engine(other)), Outcome::unchanged());
    assert_eq!(
        update(&mut state, Msg::Engine(source_ok("other"))),
        Outcome::unchanged()
    );
    assert_eq!(state, before);
}

#[test]
fn a_newer_report_keeps_the_selection_on_the_same_resource() {
    let mut state = state_with_apps(&["guestbook"]);
    engine(
        &mut state,
        report_event("guestbook", 0, report_of("guestbook", &["a", "b", "c"])),
    );
    state.focus = Pane::Resources;
    update(&mut state, key(KeyCode::End));
    assert_eq!(state.cursors.resources.selected, 2);
    let newer = report_of("guestbook", &["0", "1", "a", "b", "c"]);
    engine(&mut state, report_event("guestbook", 0, newer));
    assert_eq!(state.cursors.resources.selected, 4);
    assert_eq!(state.selected_resource().unwrap().key.name, "c");
    // The object gone, the index stays, within the list.
    engine(
        &mut state,
        report_event("guestbook", 0, report_of("guestbook", &["y"])),
    );
    assert_eq!(state.cursors.resources.selected, 0);
}

#[test]
fn the_diff_keeps_its_scroll_while_its_resource_stays_and_resets_when_it_changes() {
    let mut state = state_with_apps(&["guestbook"]);
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    update(&mut state, key(KeyCode::Enter));
    select_kind(&mut state, "Deployment");
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, char_key('j'));
    update(&mut state, char_key('j'));
    assert_eq!(state.cursors.diff.offset, 2);
    // The same verdict again, the Deployment still selected: the scroll stays.
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    assert_eq!(state.cursors.diff.offset, 2);
    // Another resource: its diff starts at the top.
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, char_key('k'));
    assert_eq!(state.selected_resource().unwrap().key.kind, "Secret");
    assert_eq!(state.cursors.diff.offset, 0);
}

#[test]
fn the_diff_pane_follows_the_focus_to_the_app_resource_or_commit() {
    let mut state = state_with_apps(&["guestbook"]);
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    assert_eq!(state.detail(), Detail::App);
    update(&mut state, key(KeyCode::Enter));
    // The first listed: the claim not created yet, as it needs attention.
    assert!(matches!(state.detail(), Detail::Resource(r) if r.key.kind == "PersistentVolumeClaim"));
    update(&mut state, key(KeyCode::Tab));
    assert!(matches!(state.detail(), Detail::Resource(_)));
    // No history yet: the commits pane has nothing to show, so the app is.
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.detail(), Detail::App);
    engine(
        &mut state,
        commits_event("guestbook", 0, guestbook_commits()),
    );
    assert!(matches!(state.detail(), Detail::Commit(c) if c.subject.starts_with("bump")));
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.detail(), Detail::App);
}

#[test]
fn a_newer_commit_log_keeps_the_selected_commit() {
    let mut state = state_with_apps(&["guestbook"]);
    engine(
        &mut state,
        commits_event("guestbook", 0, commit_ids(&['b', 'a'])),
    );
    state.focus = Pane::Commits;
    update(&mut state, char_key('j'));
    let newer = commit_ids(&['d', 'c', 'b', 'a']);
    engine(&mut state, commits_event("guestbook", 0, newer));
    assert_eq!(state.cursors.commits.selected, 3);
}

#[test]
fn an_event_for_another_app_leaves_the_selection_alone() {
    let mut state = state_with_apps(&["a", "b"]);
    engine(&mut state, commits_event("a", 0, commit_ids(&['2', '1'])));
    state.focus = Pane::Commits;
    update(&mut state, char_key('j'));
    engine(&mut state, commits_event("b", 0, commit_ids(&['9', '1'])));
    assert_eq!(state.cursors.commits.selected, 1);
}

#[test]
fn a_source_status_redraws_only_when_it_changes() {
    let mut state = state_with_apps(&["guestbook"]);
    assert!(engine(&mut state, source_ok("guestbook")));
    assert!(!engine(&mut state, source_ok("guestbook")));
    assert!(engine(&mut state, source_failed("guestbook", "refused")));
}

#[test]
fn request_counts_redraw_only_when_they_change() {
    let mut state = state_with_apps(&[]);
    let counts = || EngineEvent::Requests { git: 1, cluster: 4 };
    assert!(engine(&mut state, counts()));
    assert!(!engine(&mut state, counts()));
    assert_eq!(
        state.requests,
        Some(crate::tui::state::RequestCounts { git: 1, cluster: 4 })
    );
}
