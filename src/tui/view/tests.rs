//! `view` through `TestBackend`: snapshots at 80x24 and 160x48, every size
//! down to 1x1 without a panic, and state shown without colour.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

use super::*;
use crate::tui::msg::{Generation, Msg, Reply, ReplyBody};
use crate::tui::report::{
    AppStatus, CommitRow, DiffLine, DiffLineKind, Health, RequestCounts, ResourceRow,
    ResourceStatus, SyncStatus,
};
use crate::tui::test_support::state_with_apps;
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

fn send(state: &mut State, app: &str, body: ReplyBody) {
    let reply = Reply {
        app: app.to_string(),
        generation: Generation(0),
        body,
    };
    assert!(update(state, Msg::Reply(reply)).changed);
}

fn row(
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    status: ResourceStatus,
    health: Option<Health>,
) -> ResourceRow {
    ResourceRow {
        kind: kind.into(),
        namespace: namespace.map(Into::into),
        name: name.into(),
        status,
        health,
    }
}

fn diff(kind: DiffLineKind, text: &str) -> DiffLine {
    DiffLine {
        kind,
        text: text.into(),
    }
}

/// What the engine will send, fed through `update` as it will be: the test
/// of how reports look, not data the binary shows.
fn reported() -> State {
    let mut state = state_with_apps(&["guestbook", "podinfo", "redis"]);
    let deployed = "3f2a91c0d4e5f60718293a4b5c6d7e8f90a1b2c3";
    send(
        &mut state,
        "guestbook",
        ReplyBody::Status(AppStatus {
            sync: SyncStatus::OutOfSync,
            health: Health::Progressing,
            deployed: Some(deployed.into()),
        }),
    );
    send(
        &mut state,
        "guestbook",
        ReplyBody::Resources(vec![
            row("Namespace", None, "guestbook", ResourceStatus::Synced, None),
            row(
                "Deployment",
                Some("guestbook"),
                "frontend",
                ResourceStatus::OutOfSync,
                Some(Health::Progressing),
            ),
            row(
                "Service",
                Some("guestbook"),
                "frontend",
                ResourceStatus::Synced,
                Some(Health::Healthy),
            ),
            row(
                "ConfigMap",
                Some("guestbook"),
                "settings",
                ResourceStatus::Extra,
                None,
            ),
            row(
                "PersistentVolumeClaim",
                Some("guestbook"),
                "data",
                ResourceStatus::Missing,
                Some(Health::Missing),
            ),
        ]),
    );
    send(
        &mut state,
        "guestbook",
        ReplyBody::Diff(vec![
            diff(DiffLineKind::Header, "Deployment guestbook/frontend"),
            diff(
                DiffLineKind::Header,
                "spec.template.spec.containers[frontend].image",
            ),
            diff(DiffLineKind::Removed, "image: nginx:1.25"),
            diff(DiffLineKind::Added, "image: nginx:1.27"),
            diff(DiffLineKind::Context, "imagePullPolicy: IfNotPresent"),
        ]),
    );
    send(
        &mut state,
        "guestbook",
        ReplyBody::Commits(vec![
            CommitRow {
                id: "9c1e0b27aa".into(),
                summary: "bump frontend image to 1.27".into(),
            },
            CommitRow {
                id: deployed.into(),
                summary: "scale frontend to 3 replicas".into(),
            },
            CommitRow {
                id: "1a2b3c4d5e".into(),
                summary: "add the settings config map".into(),
            },
        ]),
    );
    send(
        &mut state,
        "podinfo",
        ReplyBody::Status(AppStatus {
            sync: SyncStatus::Synced,
            health: Health::Healthy,
            deployed: None,
        }),
    );
    send(
        &mut state,
        "redis",
        ReplyBody::Failed("context prod-eu: connection refused".into()),
    );
    update(
        &mut state,
        Msg::RequestCounts(RequestCounts {
            git: 3,
            cluster: 41,
        }),
    );
    state
}

fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn snapshot_no_apps_configured() {
    for (w, h) in [(80, 24), (160, 48)] {
        let state = sized(state_with_apps(&[]), w, h);
        insta::assert_snapshot!(format!("no_apps_{w}x{h}"), render(&state, w, h).backend());
    }
}

#[test]
fn snapshot_apps_not_known_yet() {
    for (w, h) in [(80, 24), (160, 48)] {
        let state = sized(state_with_apps(&["guestbook", "podinfo", "redis"]), w, h);
        insta::assert_snapshot!(
            format!("apps_unknown_{w}x{h}"),
            render(&state, w, h).backend()
        );
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
fn snapshot_engine_reports() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = sized(reported(), w, h);
        press(&mut state, KeyCode::Tab);
        press(&mut state, KeyCode::Char('j'));
        insta::assert_snapshot!(format!("reported_{w}x{h}"), render(&state, w, h).backend());
    }
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
fn snapshot_too_small() {
    let state = sized(state_with_apps(&["guestbook"]), 39, 9);
    insta::assert_snapshot!("too_small_39x9", render(&state, 39, 9).backend());
}

#[test]
fn no_panic_at_any_size() {
    let empty = state_with_apps(&[]);
    let mut busy = reported();
    busy.notice = Some("a warning long enough to be cut at small sizes".into());
    press(&mut busy, KeyCode::Char('?'));
    let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
    for (width, height) in (1..=100).flat_map(|w| (1..=40).map(move |h| (w, h))) {
        terminal.backend_mut().resize(width, height);
        terminal.resize(Rect::new(0, 0, width, height)).unwrap();
        for state in [&empty, &busy] {
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
    for title in ["Apps", "Resources", "Diff", "Commits", "quit"] {
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
    let resources_x = layout::Areas::of(Rect::new(0, 0, 80, 24), false)
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
    for symbol in ["✗ ◐", "✓ ●", "▶ guestbook", "✗ OutOfSync", "+ Extra"] {
        assert!(screen.contains(symbol), "{symbol} missing:\n{screen}");
    }
    // The selected app's row is reversed.
    assert!(buffer[(3, 1)].modifier.contains(Modifier::REVERSED));
    assert!(!buffer[(3, 2)].modifier.contains(Modifier::REVERSED));
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
        status_line.contains("tab pane  f1 help  x quit"),
        "{status_line}"
    );
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
            "{:<16}{:<12}{}",
            keys.join(" "),
            spec.name,
            spec.description
        );
        assert!(screen.contains(&entry), "{entry} missing:\n{screen}");
    }
}
