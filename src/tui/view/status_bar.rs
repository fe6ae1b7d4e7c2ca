//! The bottom lines: key hints and what the engine counts, and a notice
//! line above them when there is a warning.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use crate::tui::keymap::Action;
use crate::tui::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    frame.render_widget(Block::new().style(theme.status_bar), area);
    let mut hints = vec![Span::raw(" ")];
    for action in Action::ALL {
        let spec = action.spec();
        if let (Some(label), Some(key)) = (spec.hint, state.keymap.keys(action).first()) {
            hints.push(Span::styled(key.to_string(), theme.key_hint));
            hints.push(Span::raw(format!(" {label}  ")));
        }
    }
    let hints = Line::from(hints);
    let hints_width = hints.width();
    frame.render_widget(hints, area);
    let mut facts = Vec::new();
    if let Some(requests) = state.requests {
        facts.push(Span::raw(format!(
            "requests: git {} · cluster {} ",
            requests.git, requests.cluster
        )));
    }
    if state.readonly {
        facts.push(Span::styled("read-only ", theme.warning));
    }
    let facts = Line::from(facts);
    // The hints matter more; the facts show where there is room.
    if hints_width + facts.width() <= usize::from(area.width) {
        frame.render_widget(facts.right_aligned(), area);
    }
}

/// A warning, with the key that dismisses it.
pub fn render_notice(frame: &mut Frame, area: Rect, state: &State, notice: &str) {
    let dismiss = state
        .keymap
        .keys(Action::Back)
        .first()
        .map(|key| format!("  ({key} dismisses)"))
        .unwrap_or_default();
    let line = Line::styled(format!(" ⚠ {notice}{dismiss}"), state.theme.warning);
    frame.render_widget(line, area);
}
