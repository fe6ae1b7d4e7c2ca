//! The bottom lines: key hints for what works now, and what the engine
//! says (the selected app's source, request counts); a notice line above
//! them when there is a warning.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use super::{clock, spinner};
use crate::text::truncate;
use crate::tui::keymap::Action;
use crate::tui::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    frame.render_widget(Block::new().style(theme.status_bar), area);
    let mut hints = vec![Span::raw(" ")];
    for action in Action::ALL {
        let spec = action.spec();
        if action == Action::Refresh && state.selected_app().is_none() {
            continue;
        }
        if let (Some(label), Some(key)) = (spec.hint, state.keymap.keys(action).first()) {
            hints.push(Span::styled(key.to_string(), theme.key_hint));
            hints.push(Span::raw(format!(" {label}  ")));
        }
    }
    let hints = Line::from(hints);
    // A space at each end of the facts.
    let room = usize::from(area.width).saturating_sub(hints.width() + 2);
    frame.render_widget(hints, area);
    // The hints matter more; the facts where there is room, the most
    // important at the right.
    let mut facts: Vec<Span<'static>> = vec![Span::raw(" ")];
    let mut used = 0;
    for mut fact in facts_of(state) {
        let separator = if used == 0 { 0 } else { 3 };
        let left = room.saturating_sub(used + separator);
        if fact.width() > left {
            // A long fact (an error) is cut to what is left, if that says enough.
            if left < 20 {
                break;
            }
            fact = Span::styled(truncate(&fact.content, left).into_owned(), fact.style);
        }
        if separator > 0 {
            facts.insert(0, Span::raw(" · "));
        }
        used += fact.width() + separator;
        facts.insert(0, fact);
    }
    facts.insert(0, Span::raw(" "));
    frame.render_widget(Line::from(facts).right_aligned(), area);
}

/// What the status bar says beside the hints, most important first.
fn facts_of(state: &State) -> Vec<Span<'static>> {
    let theme = &state.theme;
    let mut facts = Vec::new();
    if state.readonly {
        facts.push(Span::styled("read-only", theme.warning));
    }
    if let Some(app) = state.selected_app() {
        if app.refreshing {
            facts.push(Span::raw(format!(
                "{} refreshing {}",
                spinner(state),
                app.name
            )));
        }
        let source = app.source.as_ref();
        let next_poll = source
            .and_then(|s| s.next_poll)
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .map(|t| clock(state, t));
        match (app.source_error(), next_poll) {
            (Some(error), retry) => {
                let retry = retry.map(|t| format!(", retry {t}")).unwrap_or_default();
                let text = format!("git: {error}{retry}");
                facts.push(Span::styled(text, theme.error));
            }
            (None, Some(at)) => facts.push(Span::styled(format!("next poll {at}"), theme.muted)),
            (None, None) => {}
        }
    }
    if let Some(requests) = state.requests {
        facts.push(Span::raw(format!(
            "git {} · api {} req",
            requests.git, requests.cluster
        )));
    }
    facts
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
