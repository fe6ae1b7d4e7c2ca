//! The apps pane: every configured app with its sync status and health.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::symbols::{self, Mark};
use super::{hint, pane_frame, render_rows, selection_style, spinner, title};
use crate::text::fit;
use crate::tui::state::{AppState, Pane, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let count = Span::styled(state.apps.len().to_string(), state.theme.muted);
    let detail = if state.apps.is_empty() {
        vec![]
    } else {
        vec![count]
    };
    let inner = pane_frame(frame, area, state, Pane::Apps, title(state, "Apps", detail));
    if state.apps.is_empty() {
        let lines = vec![
            Line::from("No apps configured yet."),
            Line::from(""),
            Line::from("How to add one is shown on the right."),
        ];
        hint(frame, inner, state, lines);
        return;
    }
    let cursor = state.cursors.apps;
    let width = usize::from(inner.width);
    let rows = state
        .apps
        .iter()
        .enumerate()
        .skip(cursor.offset)
        .take(usize::from(inner.height))
        .map(|(i, app)| row(state, app, i == cursor.selected, width))
        .collect();
    let selected = cursor.selected.checked_sub(cursor.offset);
    render_rows(
        frame,
        inner,
        rows,
        selected,
        selection_style(state, Pane::Apps),
    );
}

/// `▶ guestbook     ✗ ◐`: the marker shows the selection without colour;
/// the last column turns while a verdict is on its way, and is `!` while
/// the app's repository cannot be read.
fn row(state: &State, app: &AppState, selected: bool, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let (sync, health): (Mark, Mark) = match &app.report {
        Some(report) => (
            symbols::sync(theme, report.summary.status),
            symbols::health(theme, report.summary.health),
        ),
        None => (symbols::not_known(theme), symbols::not_known(theme)),
    };
    let marker = if selected { "▶ " } else { "  " };
    let activity = if app.is_busy() {
        Span::styled(spinner(state), theme.muted)
    } else if app.source_error().is_some() {
        Span::styled("!", theme.error)
    } else {
        Span::raw(" ")
    };
    // Two for the marker, five for " ✗ ◐!" at the right.
    let name = fit(&app.name, width.saturating_sub(7));
    Line::from(vec![
        Span::raw(marker),
        Span::raw(name),
        Span::raw(" "),
        sync.symbol_span(),
        Span::raw(" "),
        health.symbol_span(),
        activity,
    ])
}
