//! The diff pane's rows: each held as what it is drawn from (`Row`), cheap
//! to count and to search, and drawn only when shown. The pane's views
//! (`diff.rs`, `reading.rs`, a commit's preview in `commits.rs`) make them.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use serde_json::Value;

use super::{long_lines, symbols};
use crate::drift::{FieldChange, ResourceResult};
use crate::text;
use crate::tui::sides::{self, DiffLine, PairRow};
use crate::tui::state::State;

const DIVIDER: &str = " │ ";

/// One line of the pane, held as what it is drawn from: cheap to count and
/// to skip, styled only when it is shown.
pub(super) enum Row<'a> {
    /// A short line, built already (statuses, wrapped messages).
    Built(Line<'static>),
    /// A resource that differs, in the app's list.
    Differing(&'a ResourceResult),
    Change(&'a FieldChange),
    /// A line of the unified diff and its index (the first two may be file headers).
    Diff(usize, &'a str),
    /// A line of one side's YAML.
    Side(DiffLine<'a>),
    /// Two columns; changed words marked when set.
    Pair(PairRow<'a>, bool),
}

impl Row<'_> {
    pub(super) fn line(self, state: &State, width: usize) -> Line<'static> {
        match self {
            Row::Built(line) => line,
            Row::Differing(resource) => differing_line(state, resource),
            Row::Change(change) => change_line(state, change),
            Row::Diff(index, text) => diff_line(state, index, text),
            Row::Side(line) => side_line(state, line),
            Row::Pair(pair, words) => pair_line(state, &pair, words, width),
        }
    }

    /// The row's text, unstyled: what the search and the sideways scroll read.
    pub(super) fn text(&self, state: &State, width: usize) -> String {
        match self {
            Row::Diff(_, text) => (*text).to_string(),
            Row::Side(line) => side_line(state, *line).to_string(),
            Row::Built(line) => line.to_string(),
            Row::Differing(resource) => differing_line(state, resource).to_string(),
            Row::Change(change) => change_line(state, change).to_string(),
            Row::Pair(pair, words) => pair_line(state, pair, *words, width).to_string(),
        }
    }

    /// Two columns are laid out to the pane's width already.
    pub(super) fn is_fitted(&self) -> bool {
        matches!(self, Row::Pair(..))
    }
}

pub(super) type Rows<'a> = Box<dyn Iterator<Item = Row<'a>> + 'a>;

/// `✗ Deployment guestbook/frontend · OutOfSync`, a resource in the app's list.
fn differing_line(state: &State, resource: &ResourceResult) -> Line<'static> {
    let status = symbols::resource(&state.theme, resource.status);
    Line::from(vec![
        Span::styled(status.symbol, status.style),
        Span::styled(format!(" {}", resource.key), state.theme.diff_header),
        Span::styled(format!(" · {}", status.word), status.style),
    ])
}

/// `  spec.replicas: 2 → 3`, the live value in the diff's `-` colour and
/// Git's in its `+` colour.
fn change_line(state: &State, change: &FieldChange) -> Line<'static> {
    let theme = &state.theme;
    Line::from(vec![
        Span::raw(format!("  {}: ", change.path)),
        Span::styled(value(change.live.as_ref()), theme.diff_removed),
        Span::raw(" → "),
        Span::styled(value(change.desired.as_ref()), theme.diff_added),
    ])
}

/// A value as JSON, so `"1"` and `1` read apart; `(not set)` for a field one side lacks.
fn value(value: Option<&Value>) -> String {
    match value {
        Some(value) => serde_json::to_string(value).unwrap_or_default(),
        None => "(not set)".to_string(),
    }
}

/// One line of the unified diff, coloured by its marker; the marker stays,
/// so the diff reads without colour.
fn diff_line(state: &State, index: usize, text: &str) -> Line<'static> {
    let theme = &state.theme;
    let file_header = index < 2 && (text.starts_with("--- ") || text.starts_with("+++ "));
    let style = if file_header || text.starts_with("@@") {
        theme.diff_header
    } else if text.starts_with('+') {
        theme.diff_added
    } else if text.starts_with('-') {
        theme.diff_removed
    } else {
        theme.text
    };
    Line::styled(text.to_string(), style)
}

/// A line of one side, in the colour of the side it differs on.
fn side_line(state: &State, line: DiffLine<'_>) -> Line<'static> {
    let theme = &state.theme;
    match line {
        DiffLine::Gap(count) => Line::styled(sides::gap_text(count), theme.muted),
        DiffLine::Same(text) => Line::styled(text.to_string(), theme.text),
        DiffLine::Live(text) => Line::styled(text.to_string(), theme.diff_removed),
        DiffLine::Desired(text) => Line::styled(text.to_string(), theme.diff_added),
    }
}

/// Two columns across the pane; the sideways scroll applies to each.
fn pair_line(state: &State, pair: &PairRow<'_>, words: bool, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let column = width.saturating_sub(text::width(DIVIDER)) / 2;
    let (left, right) = match pair {
        PairRow::Gap(count) => {
            return Line::styled(sides::gap_text(*count), theme.muted);
        }
        PairRow::Pair { left, right } => (*left, *right),
    };
    // Left is desired in the side-by-side diff (words set), live in the YAML view.
    let left_live = !words;
    let changed = left != right;
    let cell = |this: Option<&str>, other: Option<&str>, is_live: bool| -> Vec<Span<'static>> {
        let style = match (changed, is_live) {
            (false, _) => theme.text,
            (true, true) => theme.diff_removed,
            (true, false) => theme.diff_added,
        };
        let Some(this) = this else {
            return vec![Span::raw(" ".repeat(column))];
        };
        let pieces: Vec<(bool, &str)> = match (words && changed, other) {
            (true, Some(other)) => sides::word_changes(this, other, is_live),
            _ => vec![(false, this)],
        };
        let marked = style.add_modifier(Modifier::REVERSED);
        let spans: Vec<Span<'static>> = pieces
            .into_iter()
            .map(|(hit, piece)| Span::styled(piece.to_string(), if hit { marked } else { style }))
            .collect();
        let line = long_lines::shift(Line::from(spans), state.reading.column, column);
        let mut spans = line.spans;
        let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
        spans.push(Span::raw(" ".repeat(column.saturating_sub(used))));
        spans
    };
    let mut spans = cell(left, right, left_live);
    spans.push(Span::styled(DIVIDER, Style::default().patch(theme.muted)));
    spans.extend(cell(right, left, !left_live));
    Line::from(spans)
}
