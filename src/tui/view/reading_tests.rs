//! Snapshots of the views for finding and reading, at 80x24 and 160x48:
//! a filter being typed, the command line, the YAML views, the
//! side-by-side diff, wrapped lines; and the same without colour.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

use super::*;
use crate::tui::msg::Msg;
use crate::tui::test_support::reported;
use crate::tui::theme::{ColorDepth, Theme};
use crate::tui::update::update;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn render(state: &State) -> Terminal<TestBackend> {
    let (width, height) = (state.size.width, state.size.height);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view(frame, state)).unwrap();
    terminal
}

fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typed(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

/// The guestbook's Deployment selected, at this size.
fn on_deployment(width: u16, height: u16) -> State {
    let mut state = reported();
    update(&mut state, Msg::Resize { width, height });
    press(&mut state, KeyCode::Enter);
    while state.selected_resource().unwrap().key.kind != "Deployment" {
        press(&mut state, KeyCode::Char('j'));
    }
    state
}

#[test]
fn snapshot_a_filter_being_typed() {
    for (w, h) in SIZES {
        let mut state = on_deployment(w, h);
        press(&mut state, KeyCode::Char('/'));
        typed(&mut state, "status:out");
        let screen = render(&state);
        let text = screen.backend().to_string();
        assert!(text.contains("2/6"), "{text}");
        insta::assert_snapshot!(format!("filter_{w}x{h}"), screen.backend());
    }
}

#[test]
fn snapshot_the_command_line_after_a_completion() {
    for (w, h) in SIZES {
        let mut state = on_deployment(w, h);
        press(&mut state, KeyCode::Char(':'));
        typed(&mut state, "th");
        press(&mut state, KeyCode::Tab);
        insta::assert_snapshot!(format!("command_line_{w}x{h}"), render(&state).backend());
    }
}

#[test]
fn snapshot_yaml_live_desired_and_both() {
    for (w, h) in SIZES {
        let mut state = on_deployment(w, h);
        for side in ["live", "desired", "both"] {
            press(&mut state, KeyCode::Char('y'));
            insta::assert_snapshot!(format!("yaml_{side}_{w}x{h}"), render(&state).backend());
        }
    }
}

#[test]
fn snapshot_side_by_side_diff_or_unified_when_narrow() {
    for (w, h) in SIZES {
        let mut state = on_deployment(w, h);
        press(&mut state, KeyCode::Char('D'));
        insta::assert_snapshot!(format!("side_by_side_{w}x{h}"), render(&state).backend());
    }
}

#[test]
fn snapshot_long_lines_wrapped_and_scrolled() {
    let mut state = on_deployment(80, 24);
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Char('w'));
    insta::assert_snapshot!("wrapped_80x24", render(&state).backend());
    press(&mut state, KeyCode::Char('w'));
    press(&mut state, KeyCode::Char('l'));
    press(&mut state, KeyCode::Char('l'));
    insta::assert_snapshot!("scrolled_80x24", render(&state).backend());
}

#[test]
fn without_colour_changed_words_are_reversed_and_views_still_read() {
    let mut state = on_deployment(160, 48);
    state.theme = Theme::load(
        None,
        std::path::Path::new("/nonexistent"),
        ColorDepth::NoColor,
    )
    .0;
    press(&mut state, KeyCode::Char('D'));
    let terminal = render(&state);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
    }
    let text = terminal.backend().to_string();
    let row = text
        .lines()
        .position(|l| l.contains("nginx:1.27") && l.contains("nginx:1.25"))
        .unwrap();
    let y = u16::try_from(row).unwrap();
    let line: String = (0..160).map(|x| buffer[(x, y)].symbol()).collect();
    let x = line
        .find("1.27")
        .map(|b| line[..b].chars().count())
        .unwrap();
    let x = u16::try_from(x).unwrap();
    assert!(buffer[(x, y)].modifier.contains(Modifier::REVERSED));
    insta::assert_snapshot!("side_by_side_mono_160x48", terminal.backend());
}
