//! `view` through `TestBackend`: snapshots at 80x24 and 160x48 of states
//! built from real verdicts, every size down to 1x1 without a panic, and
//! state shown without colour.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

use super::*;
use crate::tui::msg::Msg;
use crate::tui::state::Detail;
use crate::tui::test_support::{
    at, engine, guestbook_report, report_event, reported, source_failed, source_ok, state_with_apps,
};
use crate::tui::theme::{ColorDepth, Theme};
use crate::tui::update::update;

fn render(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view(frame, state)).unwrap();
    terminal
}

fn sized(mut state: State, width: u16, height: u16) -> State {
    update(&mut state, Msg::Resize { width, height });
    state
}

fn screen(state: &State) -> String {
    render(state, state.size.width, state.size.height)
        .backend()
        .to_string()
}

fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Moves the resources cursor to the first resource of that kind.
fn select_kind(state: &mut State, kind: &str) {
    press(state, KeyCode::Home);
    while state.selected_resource().unwrap().key.kind != kind {
        press(state, KeyCode::Char('j'));
    }
}

#[test]
fn snapshot_no_apps_configured() {
    for (w, h) in [(80, 24), (160, 48)] {
        let state = sized(state_with_apps(&[]), w, h);
        insta::assert_snapshot!(format!("no_apps_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn snapshot_waiting_for_the_first_verdicts() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = sized(state_with_apps(&["guestbook", "podinfo", "redis"]), w, h);
        engine(&mut state, source_ok("guestbook"));
        engine(
            &mut state,
            source_failed("redis", "cannot open /srv/git/redis: not a repository"),
        );
        insta::assert_snapshot!(format!("pending_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn snapshot_help_overlay() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = sized(state_with_apps(&["guestbook"]), w, h);
        press(&mut state, KeyCode::Char('?'));
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn snapshot_an_app_out_of_sync() {
    for (w, h) in [(80, 24), (160, 48)] {
        let state = sized(reported(), w, h);
        insta::assert_snapshot!(format!("reported_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn snapshot_a_resource_diff() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = sized(reported(), w, h);
        press(&mut state, KeyCode::Enter);
        select_kind(&mut state, "Deployment");
        press(&mut state, KeyCode::Enter);
        insta::assert_snapshot!(
            format!("resource_diff_{w}x{h}"),
            render(&state, w, h).backend()
        );
    }
}

/// The text of one row of the screen between two columns, trailing blanks dropped.
fn row_text(terminal: &Terminal<TestBackend>, y: u16, xs: std::ops::Range<u16>) -> String {
    let buffer = terminal.backend().buffer();
    let text: String = xs.map(|x| buffer[(x, y)].symbol()).collect();
    text.trim_end().to_string()
}

#[test]
fn a_diff_scrolled_to_its_end_shows_its_last_lines_on_the_pane_s_last_rows() {
    let mut state = sized(reported(), 80, 24);
    press(&mut state, KeyCode::Enter);
    select_kind(&mut state, "Deployment");
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::End);
    let Detail::Resource(resource) = state.detail() else {
        panic!("no resource in the diff pane");
    };
    let diff: Vec<&str> = resource.diff.lines().collect();
    assert!(diff.len() >= 3, "{diff:?}");
    assert!(
        state.cursors.diff.offset > 0,
        "the pane holds more than fits"
    );
    let pane = Areas::of(Rect::new(0, 0, 80, 24), 0).unwrap().diff;
    let inside = pane.x + 1..pane.x + pane.width - 1;
    let terminal = render(&state, 80, 24);
    // The count `update` scrolls by is the count drawn: at the end, the
    // diff's last line sits on the last row, not below it or above a gap.
    let last_row = pane.y + pane.height - 2;
    for (back, line) in diff.iter().rev().take(3).enumerate() {
        let y = last_row - u16::try_from(back).unwrap();
        let shown = row_text(&terminal, y, inside.clone());
        assert!(
            !shown.is_empty() && line.starts_with(&shown),
            "row {y}: {shown:?}, want {line:?}"
        );
    }
}

#[test]
fn snapshot_a_secret_drift_names_the_key_and_no_value() {
    let mut state = sized(reported(), 160, 48);
    press(&mut state, KeyCode::Enter);
    select_kind(&mut state, "Secret");
    let text = screen(&state);
    for value in [
        "c2VjcmV0LWluLWdpdA==",
        "Y2hhbmdlZC1saXZl",
        "secret-in-git",
        "changed-live",
    ] {
        assert!(!text.contains(value), "{value} on screen:\n{text}");
    }
    assert!(text.contains("data.password"), "{text}");
    insta::assert_snapshot!("secret_diff_160x48", render(&state, 160, 48).backend());
}

#[test]
fn snapshot_an_app_in_sync() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = sized(reported(), w, h);
        press(&mut state, KeyCode::Char('j'));
        insta::assert_snapshot!(format!("synced_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn snapshot_stale_live_state_and_git_unreadable() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = sized(reported(), w, h);
        let mut report = guestbook_report();
        report.stale_since = Some(at(12, 3, 5));
        report.stale_cause = Some("watch of apps/Deployment: connection refused".into());
        engine(&mut state, report_event("guestbook", 0, report));
        engine(
            &mut state,
            source_failed(
                "guestbook",
                "cannot fetch https://example.com/org/deploy.git: timed out",
            ),
        );
        // Three minutes and a half later: the age is in whole minutes.
        assert!(update(&mut state, Msg::Clock(at(12, 6, 35))).changed);
        insta::assert_snapshot!(format!("stale_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn the_reason_of_an_out_of_sync_app_names_its_fields() {
    let state = sized(reported(), 160, 48);
    let text = screen(&state);
    assert!(
        text.contains("✗ 4 of 6 resources differ: ConfigMap guestbook/settings: extra"),
        "{text}"
    );
    // Missing is the worst health here: the claim is not created yet.
    assert!(
        text.contains("guestbook · OutOfSync · Missing · deployed 3f2a91c"),
        "{text}"
    );
    assert!(
        text.contains(
            "spec.template.spec.containers[frontend].image: \"nginx:1.25\" → \"nginx:1.27\""
        ),
        "{text}"
    );
}

#[test]
fn the_commits_mark_the_deployed_commit_the_pending_one_and_the_head() {
    let state = sized(reported(), 160, 48);
    let text = screen(&state);
    assert!(text.contains("Commits · 3 · 1 behind"), "{text}");
    assert!(
        text.contains("↑ 9c1e0b2 HEAD bump frontend t…   1h"),
        "{text}"
    );
    assert!(
        text.contains("● 3f2a91c scale frontend to 3 …   2h"),
        "{text}"
    );
    assert!(
        text.contains("  1a2b3c4 add the settings con…   3h ✓"),
        "{text}"
    );
}

#[test]
fn a_history_that_cannot_be_read_says_why_until_commits_come() {
    let mut state = sized(state_with_apps(&["guestbook"]), 160, 48);
    engine(
        &mut state,
        crate::engine::EngineEvent::HistoryFailed {
            app: "guestbook".into(),
            generation: 0,
            cause: "object 9c1e0b2 is missing".into(),
        },
    );
    let text = screen(&state);
    assert!(
        text.contains("Cannot read the history: object") && text.contains("9c1e0b2 is missing"),
        "{text}"
    );
    engine(
        &mut state,
        crate::tui::test_support::commits_event("guestbook", 0, Vec::new()),
    );
    let text = screen(&state);
    assert!(!text.contains("Cannot read the history"), "{text}");
    assert!(text.contains("No commits on the branch."), "{text}");
}

#[test]
fn snapshot_a_commit_in_detail() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = sized(reported(), w, h);
        press(&mut state, KeyCode::BackTab);
        press(&mut state, KeyCode::Char('j'));
        insta::assert_snapshot!(format!("commit_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn refreshing_shows_in_the_status_bar() {
    let mut state = sized(reported(), 160, 48);
    press(&mut state, KeyCode::Char('r'));
    let text = screen(&state);
    let status_line = text.lines().last().unwrap();
    assert!(
        status_line.contains("⠋ refreshing guestbook"),
        "{status_line}"
    );
    assert!(status_line.contains("git 12 · api 40 req"), "{status_line}");
}

#[test]
fn snapshot_theme_warning_and_read_only() {
    let mut state = state_with_apps(&["guestbook"]);
    state.readonly = true;
    state.notice = Some("/home/op/.config/driftdeck/themes/mine.toml:3:9: invalid colour \"bleu\"; using the built-in default theme".into());
    let state = sized(state, 80, 24);
    insta::assert_snapshot!("notice_80x24", render(&state, 80, 24).backend());
}

#[test]
fn the_banner_stays_above_the_status_bar_and_a_notice_wins_over_it() {
    let mut state = state_with_apps(&["guestbook"]);
    state.banner = Some("driftdeck demo · q quits and removes it all".into());
    let text = screen(&sized(state.clone(), 80, 24));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[lines.len() - 2].contains("driftdeck demo · q quits"),
        "{text}"
    );
    assert!(
        !text.contains("dismisses"),
        "the banner cannot be dismissed: {text}"
    );
    state.notice = Some("a bad theme".into());
    let text = screen(&sized(state.clone(), 80, 24));
    assert!(
        text.contains("⚠ a bad theme") && !text.contains("driftdeck demo"),
        "{text}"
    );
    press(&mut state, KeyCode::Esc);
    assert!(screen(&sized(state, 80, 24)).contains("driftdeck demo"));
}

#[test]
fn snapshot_too_small() {
    let state = sized(state_with_apps(&["guestbook"]), 39, 9);
    insta::assert_snapshot!("too_small_39x9", render(&state, 39, 9).backend());
}

#[test]
fn no_panic_at_any_size() {
    let empty = state_with_apps(&[]);
    let mut full = reported();
    full.notice = Some("a warning long enough to be cut at small sizes".into());
    full.readonly = true;
    let mut stale = guestbook_report();
    stale.stale_since = Some(at(12, 3, 5));
    stale.stale_cause = Some("watch failed".into());
    engine(&mut full, report_event("guestbook", 0, stale));
    engine(&mut full, source_failed("guestbook", "timed out"));
    press(&mut full, KeyCode::Char('r'));
    let mut diff = full.clone();
    press(&mut diff, KeyCode::Enter);
    select_kind(&mut diff, "Deployment");
    press(&mut diff, KeyCode::Enter);
    press(&mut diff, KeyCode::PageDown);
    let mut help = full.clone();
    press(&mut help, KeyCode::Char('?'));
    let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
    for (width, height) in (1..=100).flat_map(|w| (1..=40).map(move |h| (w, h))) {
        terminal.backend_mut().resize(width, height);
        terminal.resize(Rect::new(0, 0, width, height)).unwrap();
        for state in [&empty, &full, &diff, &help] {
            let state = sized(state.clone(), width, height);
            terminal.draw(|frame| view(frame, &state)).unwrap();
        }
    }
}

#[test]
fn every_pane_has_its_title_at_the_smallest_usable_size() {
    let state = sized(reported(), layout::MIN_WIDTH, layout::MIN_HEIGHT);
    let screen = render(&state, layout::MIN_WIDTH, layout::MIN_HEIGHT)
        .backend()
        .to_string();
    for title in ["Apps", "guestbook", "Diff", "Commits", "quit"] {
        assert!(screen.contains(title), "{title} missing:\n{screen}");
    }
}

#[test]
fn the_focused_pane_has_a_thick_border() {
    let mut state = sized(state_with_apps(&["guestbook"]), 80, 24);
    let screen = render(&state, 80, 24);
    assert_eq!(screen.backend().buffer()[(0, 0)].symbol(), "┏");
    press(&mut state, KeyCode::Tab);
    let screen = render(&state, 80, 24);
    assert_eq!(screen.backend().buffer()[(0, 0)].symbol(), "┌");
    let resources_x = layout::Areas::of(Rect::new(0, 0, 80, 24), 0)
        .unwrap()
        .resources
        .x;
    assert_eq!(screen.backend().buffer()[(resources_x, 0)].symbol(), "┏");
}

#[test]
fn mono_shows_state_by_symbols_and_reverse_without_any_colour() {
    let mut state = reported();
    let (mono, _) = Theme::load(
        None,
        std::path::Path::new("/nonexistent"),
        ColorDepth::NoColor,
    );
    state.theme = mono;
    let state = sized(state, 80, 24);
    let terminal = render(&state, 80, 24);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "{cell:?}");
    }
    let screen = terminal.backend().to_string();
    for symbol in [
        "✗ ○",
        "✓ ●",
        "▶ guestbook",
        "✗ OutOfSync",
        "+ Extra",
        "○ Missing",
    ] {
        assert!(screen.contains(symbol), "{symbol} missing:\n{screen}");
    }
    // The selected app's row is reversed: guestbook, below redis whose Git
    // cannot be read.
    assert!(buffer[(3, 2)].modifier.contains(Modifier::REVERSED));
    assert!(!buffer[(3, 1)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn the_status_bar_hints_follow_the_keymap() {
    let config = crate::config::Config::parse(
        std::path::Path::new("c.toml"),
        "[keys]\nquit = \"x\"\nhelp = \"f1\"\n",
    )
    .unwrap();
    let mut state = state_with_apps(&[]);
    state.keymap = crate::tui::keymap::Keymap::from_config(&config).unwrap();
    let state = sized(state, 80, 24);
    let screen = render(&state, 80, 24).backend().to_string();
    let status_line = screen.lines().last().unwrap();
    assert!(
        status_line.contains("tab pane  / filter  : cmd  f1 help  x quit"),
        "{status_line}"
    );
}

#[test]
fn every_help_line_fits_the_help_at_80_columns() {
    let state = sized(state_with_apps(&["guestbook"]), 80, 24);
    // 80 less the margins (4) and the border (2).
    for line in help::lines(&state) {
        assert!(line.width() <= 74, "{} cells: {line}", line.width());
    }
}

#[test]
fn the_help_lists_every_action_with_its_keys() {
    let mut state = sized(state_with_apps(&[]), 160, 48);
    press(&mut state, KeyCode::Char('?'));
    let screen = render(&state, 160, 48).backend().to_string();
    for action in crate::tui::keymap::Action::ALL {
        let spec = action.spec();
        let keys: Vec<String> = state
            .keymap
            .keys(action)
            .iter()
            .map(ToString::to_string)
            .collect();
        let entry = format!(
            "{:<16}{:<14}{}",
            keys.join(" "),
            spec.name,
            spec.description
        );
        assert!(screen.contains(&entry), "{entry} missing:\n{screen}");
    }
}
