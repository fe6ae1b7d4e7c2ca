//! Draws the state: a pure function from `State` to a frame, one file per pane.

mod apps;
mod commits;
mod diff;
pub(crate) mod help;
pub(crate) mod layout;
mod resources;
mod status_bar;
mod symbols;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::state::{Pane, Pending, State};
use layout::{Areas, MIN_HEIGHT, MIN_WIDTH};

pub(crate) use diff::line_count as diff_line_count;

/// Draws the whole screen.
pub fn view(frame: &mut Frame, state: &State) {
    let screen = frame.area();
    frame.render_widget(Block::new().style(state.theme.text), screen);
    let Some(areas) = Areas::of(screen, state.notice.is_some()) else {
        too_small(frame, screen, state);
        return;
    };
    apps::render(frame, areas.apps, state);
    resources::render(frame, areas.resources, state);
    diff::render(frame, areas.diff, state);
    commits::render(frame, areas.commits, state);
    if let (Some(area), Some(notice)) = (areas.notice, &state.notice) {
        status_bar::render_notice(frame, area, state, notice);
    }
    status_bar::render(frame, areas.status, state);
    if let Some(scroll) = state.help {
        help::render(frame, screen, state, scroll);
    }
}

fn too_small(frame: &mut Frame, screen: Rect, state: &State) {
    let text = format!(
        "driftdeck needs {MIN_WIDTH}x{MIN_HEIGHT}, this is {}x{}",
        screen.width, screen.height
    );
    let line = Rect::new(screen.x, screen.y, screen.width, screen.height.min(1));
    frame.render_widget(Line::styled(text, state.theme.warning), line);
}

/// A pane's frame: thick and highlighted when it has the focus, so the focus
/// shows without colour too. Returns the area inside.
fn pane_frame(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    pane: Pane,
    title: Vec<Span<'static>>,
) -> Rect {
    let theme = &state.theme;
    let focused = state.focus == pane;
    let block = Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// A pane's title: its name, then what it shows.
fn title(state: &State, name: &str, detail: Vec<Span<'static>>) -> Vec<Span<'static>> {
    let mut spans = vec![Span::styled(format!(" {name} "), state.theme.title)];
    for span in detail {
        spans.push(Span::styled("· ", state.theme.muted));
        spans.push(span);
        spans.push(Span::raw(" "));
    }
    spans
}

/// What an empty pane says: what will appear, or what to do.
fn hint(frame: &mut Frame, area: Rect, state: &State, lines: Vec<Line<'static>>) {
    let paragraph = Paragraph::new(lines)
        .style(state.theme.muted)
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}

/// The style of a selected row: strong in the focused pane, quiet elsewhere.
fn selection_style(state: &State, pane: Pane) -> Style {
    if state.focus == pane {
        state.theme.selected
    } else {
        state.theme.selected_unfocused
    }
}

/// Draws list rows one per line, from `offset`, the selected one highlighted
/// across the pane's width.
fn render_rows(
    frame: &mut Frame,
    area: Rect,
    rows: Vec<Line<'static>>,
    selected: Option<usize>,
    style: Style,
) {
    for (i, line) in rows.into_iter().enumerate().take(usize::from(area.height)) {
        let y = area.y.saturating_add(u16::try_from(i).unwrap_or(u16::MAX));
        let row = Rect::new(area.x, y, area.width, 1);
        let line = if Some(i) == selected {
            line.style(style)
        } else {
            line
        };
        frame.render_widget(line, row);
    }
}

/// Rows a pane has for its items at the state's size: what `update` pages by.
pub(crate) fn list_rows(state: &State, pane: Pane) -> usize {
    let screen = Rect::new(0, 0, state.size.width, state.size.height);
    let rows = layout::item_rows(pane, screen, state.notice.is_some());
    if pane == Pane::Resources {
        let above = state
            .selected_app()
            .map_or(0, |app| resources::preamble(state, app).len());
        rows.saturating_sub(above).max(1)
    } else {
        rows
    }
}

/// A time of day in the state's zone: `12:03:05`.
fn clock(state: &State, time: jiff::Timestamp) -> String {
    time.to_zoned(state.time_zone.clone())
        .strftime("%H:%M:%S")
        .to_string()
}

/// A day in the state's zone: `2025-03-14`.
fn day(state: &State, time: jiff::Timestamp) -> String {
    time.to_zoned(state.time_zone.clone())
        .strftime("%Y-%m-%d")
        .to_string()
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner's current frame.
fn spinner(state: &State) -> &'static str {
    SPINNER[state.spinner % SPINNER.len()]
}

/// What is being done for an app that has no verdict yet, with the spinner.
fn pending_line(state: &State, pending: Pending) -> Line<'static> {
    let what = match pending {
        Pending::ReadingGit => "reading Git…",
        Pending::ReadingCluster => "reading the cluster…",
    };
    Line::styled(format!("{} {what}", spinner(state)), state.theme.muted)
}

#[cfg(test)]
mod tests;
