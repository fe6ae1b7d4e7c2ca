//! Draws the state: a pure function from `State` to a frame, one file per pane.

mod apps;
mod commits;
pub(crate) mod dialog;
mod diff;
pub(crate) mod help;
pub(crate) mod layout;
mod long_lines;
mod message;
mod reading;
mod resources;
mod rows;
mod status_bar;
pub(crate) mod symbols;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::app_state::Pending;
use super::pane::Pane;
use super::state::State;
use layout::{Areas, MIN_HEIGHT, MIN_WIDTH};

pub(crate) use diff::find as find_in_diff;
pub(crate) use diff::line_count as diff_line_count;
pub(crate) use diff::widest_line as diff_widest_line;

/// Draws the whole screen.
pub fn view(frame: &mut Frame, state: &State) {
    let screen = frame.area();
    frame.render_widget(Block::new().style(state.theme.text), screen);
    let Some(areas) = Areas::of(screen, notice_rows(state)) else {
        too_small(frame, screen, state);
        return;
    };
    apps::render(frame, areas.apps, state);
    resources::render(frame, areas.resources, state);
    diff::render(frame, areas.diff, state);
    commits::render(frame, areas.commits, state);
    if let Some(area) = areas.notice {
        status_bar::render_notice(frame, area, state);
    }
    match &state.prompt {
        Some(prompt) => status_bar::render_prompt(frame, areas.status, state, prompt),
        None => status_bar::render(frame, areas.status, state),
    }
    if let Some(open) = &state.dialog {
        dialog::render(frame, screen, state, &open.dialog);
    }
    if let Some(editor) = &state.rollback_message {
        message::render(frame, screen, state, editor);
    }
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

/// A list's title detail: its count, `12/501` and the filter when one
/// narrows it (or while it is typed).
fn list_title(state: &State, pane: Pane, shown: usize, total: usize) -> Vec<Span<'static>> {
    let filter = state.filters.of(pane);
    if filter.is_empty() {
        return vec![Span::styled(total.to_string(), state.theme.muted)];
    }
    vec![
        Span::styled(format!("{shown}/{total}"), state.theme.muted),
        Span::styled(format!("/{filter}"), state.theme.key_hint),
    ]
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

/// A list pane's rows (from its cursor's offset on), the one its cursor
/// is on in the pane's selection style.
fn render_list(frame: &mut Frame, area: Rect, state: &State, pane: Pane, rows: Vec<Line<'static>>) {
    let cursor = match pane {
        Pane::Apps => state.cursors.apps,
        Pane::Resources => state.cursors.resources,
        Pane::Diff => state.cursors.diff,
        Pane::Commits => state.cursors.commits,
    };
    let selected = cursor.selected.checked_sub(cursor.offset);
    render_rows(frame, area, rows, selected, selection_style(state, pane));
}

/// Rows a pane has for its items at the state's size: what `update` pages by.
pub(crate) fn list_rows(state: &State, pane: Pane) -> usize {
    let screen = Rect::new(0, 0, state.size.width, state.size.height);
    let rows = layout::item_rows(pane, screen, notice_rows(state));
    if pane == Pane::Resources {
        let above = state
            .selected_app()
            .map_or(0, |app| resources::preamble(state, app).len());
        rows.saturating_sub(above).max(1)
    } else {
        rows
    }
}

/// The diff pane's inner width at the state's size.
pub(crate) fn diff_room(state: &State) -> usize {
    let screen = Rect::new(0, 0, state.size.width, state.size.height);
    Areas::of(screen, notice_rows(state))
        .map_or(0, |areas| usize::from(areas.diff.width.saturating_sub(2)))
}

/// The rows the notice takes, wrapped to the screen's width (at most three).
pub(crate) fn notice_rows(state: &State) -> u16 {
    let lines = status_bar::notice_lines(state, usize::from(state.size.width));
    u16::try_from(lines.len()).unwrap_or(u16::MAX).min(3)
}

/// An age in its largest unit: `42s`, `3m`, `5h`, `2d`.
fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// How old stale data is, as of the state's clock; `None` before it has one.
fn stale_age(state: &State, since: jiff::Timestamp) -> Option<String> {
    let now = state.now?;
    Some(age(now.as_second() - since.as_second()))
}

/// A time of day in the state's zone: `12:03:05`.
fn clock(state: &State, time: jiff::Timestamp) -> String {
    time.to_zoned(state.time_zone.clone())
        .strftime("%H:%M:%S")
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
mod commits_tests;
#[cfg(test)]
mod dialog_tests;
#[cfg(test)]
mod engine_apps_tests;
#[cfg(test)]
mod engine_diff_tests;
#[cfg(test)]
mod reading_tests;
#[cfg(test)]
mod tests;
