//! `update` transitions: keys through the keymap, focus and cursors, help,
//! and engine replies (stale ones dropped, selections kept).

use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::*;
use crate::config::Config;
use crate::tui::keymap::Keymap;
use crate::tui::msg::Generation;
use crate::tui::report::{
    AppStatus, CommitRow, DiffLine, DiffLineKind, Health, RequestCounts, ResourceRow,
    ResourceStatus, SyncStatus,
};
use crate::tui::test_support::state_with_apps;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn char_key(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn reply(app: &str, generation: u64, body: ReplyBody) -> Msg {
    Msg::Reply(Reply {
        app: app.to_string(),
        generation: Generation(generation),
        body,
    })
}

fn resource(kind: &str, name: &str) -> ResourceRow {
    ResourceRow {
        kind: kind.to_string(),
        namespace: Some("default".to_string()),
        name: name.to_string(),
        status: ResourceStatus::Synced,
        health: Some(Health::Healthy),
    }
}

fn commit(id: &str) -> CommitRow {
    CommitRow {
        id: id.to_string(),
        summary: format!("commit {id}"),
    }
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
        "[keys]\nquit = \"x\"\ndown = \"n\"\n[[app]]\nname = \"a\"\nrepo = \"r\"\n[[app]]\nname = \"b\"\nrepo = \"r\"\n",
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
    assert!(update(&mut state, char_key('n')).changed);
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
    let rows = (0..5)
        .map(|i| resource("Service", &format!("s{i}")))
        .collect();
    update(&mut state, reply("a", 0, ReplyBody::Resources(rows)));
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
    let lines = (0..50)
        .map(|i| DiffLine {
            kind: DiffLineKind::Context,
            text: format!("line {i}"),
        })
        .collect();
    update(&mut state, reply("guestbook", 0, ReplyBody::Diff(lines)));
    state.focus = Pane::Diff;
    update(&mut state, char_key('j'));
    assert_eq!(state.cursors.diff.offset, 1);
    update(&mut state, key(KeyCode::End));
    // The diff pane shows 10 lines at 80x24.
    assert_eq!(state.cursors.diff.offset, 40);
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
fn esc_dismisses_the_notice_then_goes_back_to_the_apps() {
    let mut state = state_with_apps(&["guestbook"]);
    state.notice = Some("theme".into());
    state.focus = Pane::Diff;
    update(&mut state, key(KeyCode::Esc));
    assert_eq!((state.notice.as_deref(), state.focus), (None, Pane::Diff));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.focus, Pane::Apps);
    assert_eq!(update(&mut state, key(KeyCode::Esc)), Outcome::unchanged());
}

#[test]
fn enter_opens_the_next_pane_when_there_is_an_app() {
    let mut state = state_with_apps(&["guestbook"]);
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.focus, Pane::Resources);
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
fn configured_apps_start_unknown() {
    let state = state_with_apps(&["guestbook", "podinfo"]);
    let names: Vec<&str> = state.apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["guestbook", "podinfo"]);
    assert!(
        state
            .apps
            .iter()
            .all(|a| a.status.is_none() && a.resources.is_none() && a.commits.is_none())
    );
}

#[test]
fn replies_to_an_older_request_are_dropped() {
    let mut state = state_with_apps(&["guestbook"]);
    // The UI has asked again since generation 1.
    state.apps[0].generation = Generation(2);
    let status = AppStatus {
        sync: SyncStatus::OutOfSync,
        health: Health::Degraded,
        deployed: None,
    };
    let stale = reply("guestbook", 1, ReplyBody::Status(status.clone()));
    assert_eq!(update(&mut state, stale), Outcome::unchanged());
    assert_eq!(state.apps[0].status, None);
    assert!(
        update(
            &mut state,
            reply("guestbook", 2, ReplyBody::Status(status.clone()))
        )
        .changed
    );
    assert_eq!(state.apps[0].status, Some(status));
}

#[test]
fn replies_about_an_app_not_configured_are_dropped() {
    let mut state = state_with_apps(&["guestbook"]);
    let before = state.clone();
    assert_eq!(
        update(&mut state, reply("other", 0, ReplyBody::Failed("x".into()))),
        Outcome::unchanged()
    );
    assert_eq!(state, before);
}

#[test]
fn a_newer_resource_list_keeps_the_selection_on_the_same_object() {
    let mut state = state_with_apps(&["guestbook"]);
    let first = vec![
        resource("Service", "a"),
        resource("Service", "b"),
        resource("Deployment", "c"),
    ];
    update(
        &mut state,
        reply("guestbook", 0, ReplyBody::Resources(first)),
    );
    state.focus = Pane::Resources;
    update(&mut state, key(KeyCode::End));
    assert_eq!(state.cursors.resources.selected, 2);
    let mut moved = resource("Deployment", "c");
    moved.status = ResourceStatus::OutOfSync;
    let second = vec![
        moved,
        resource("Service", "x"),
        resource("Service", "a"),
        resource("Service", "b"),
    ];
    update(
        &mut state,
        reply("guestbook", 0, ReplyBody::Resources(second)),
    );
    assert_eq!(state.cursors.resources.selected, 0);
    // The object gone, the index stays, within the list.
    update(
        &mut state,
        reply(
            "guestbook",
            0,
            ReplyBody::Resources(vec![resource("Service", "y")]),
        ),
    );
    assert_eq!(state.cursors.resources.selected, 0);
}

#[test]
fn a_newer_commit_log_keeps_the_selected_commit() {
    let mut state = state_with_apps(&["guestbook"]);
    update(
        &mut state,
        reply(
            "guestbook",
            0,
            ReplyBody::Commits(vec![commit("b2"), commit("a1")]),
        ),
    );
    state.focus = Pane::Commits;
    update(&mut state, char_key('j'));
    let newer = vec![commit("d4"), commit("c3"), commit("b2"), commit("a1")];
    update(&mut state, reply("guestbook", 0, ReplyBody::Commits(newer)));
    assert_eq!(state.cursors.commits.selected, 3);
}

#[test]
fn a_reply_for_another_app_leaves_the_selection_alone() {
    let mut state = state_with_apps(&["a", "b"]);
    update(
        &mut state,
        reply("a", 0, ReplyBody::Commits(vec![commit("2"), commit("1")])),
    );
    state.focus = Pane::Commits;
    update(&mut state, char_key('j'));
    update(
        &mut state,
        reply("b", 0, ReplyBody::Commits(vec![commit("9"), commit("1")])),
    );
    assert_eq!(state.cursors.commits.selected, 1);
}

#[test]
fn a_failure_is_shown_until_a_status_arrives() {
    let mut state = state_with_apps(&["guestbook"]);
    update(
        &mut state,
        reply(
            "guestbook",
            0,
            ReplyBody::Failed("cannot reach the cluster".into()),
        ),
    );
    assert_eq!(
        state.apps[0].error.as_deref(),
        Some("cannot reach the cluster")
    );
    let status = AppStatus {
        sync: SyncStatus::Synced,
        health: Health::Healthy,
        deployed: Some("3f2a91c".into()),
    };
    update(&mut state, reply("guestbook", 0, ReplyBody::Status(status)));
    assert_eq!(state.apps[0].error, None);
}

#[test]
fn request_counts_redraw_only_when_they_change() {
    let mut state = state_with_apps(&[]);
    let counts = RequestCounts { git: 1, cluster: 4 };
    assert!(update(&mut state, Msg::RequestCounts(counts)).changed);
    assert!(!update(&mut state, Msg::RequestCounts(counts)).changed);
}
