//! The diff pane's other views of a resource: its YAML (live, desired, or
//! both side by side) and the side-by-side diff (desired | live) with the
//! changed words marked. Both read the two sides back from the report's
//! diff (`sides`); a pane too narrow for two columns gets the unified diff.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::diff::{Row, Rows};
use crate::drift::{ResourceResult, ResourceStatus};
use crate::text;
use crate::tui::sides::{self, DiffLine, PairRow};
use crate::tui::state::{Detail, DiffMode, State, YamlSide};

/// Two columns need at least this many cells in the pane.
pub const MIN_SIDE_BY_SIDE: usize = 60;
const DIVIDER: &str = " │ ";

/// The view's name for the pane title, when it is not the plain diff.
pub fn mode_name(state: &State) -> Option<String> {
    if !matches!(state.detail(), Detail::Resource(_)) {
        return None;
    }
    let two_columns = super::diff::pane_width(state) >= MIN_SIDE_BY_SIDE;
    let name = match state.reading.mode {
        DiffMode::Changes => return None,
        DiffMode::Yaml(YamlSide::Live) => "YAML live",
        DiffMode::Yaml(YamlSide::Desired) => "YAML desired",
        DiffMode::Yaml(YamlSide::Both) if two_columns => "YAML live | desired",
        DiffMode::SideBySide if two_columns => "desired | live",
        DiffMode::Yaml(YamlSide::Both) | DiffMode::SideBySide => "unified (narrow)",
    };
    Some(name.to_string())
}

pub fn rows<'a>(
    state: &State,
    resource: &'a ResourceResult,
    mode: DiffMode,
    width: usize,
) -> Rows<'a> {
    let theme = &state.theme;
    let lines = sides::parse(&resource.diff);
    let mut head = Vec::new();
    if resource.diff.is_empty() {
        let why = match resource.status {
            ResourceStatus::Synced => "It matches Git",
            _ => "Its live state could not be read",
        };
        head.push(Line::styled(
            format!("{why}: the verdict carries no copy of the object."),
            theme.muted,
        ));
    } else if resource.status == ResourceStatus::OutOfSync {
        head.push(Line::styled(
            "The changed parts, as the verdict carries them:",
            theme.muted,
        ));
    }
    let head = head.into_iter().map(Row::Built);
    let two_columns = width >= MIN_SIDE_BY_SIDE;
    match mode {
        DiffMode::Yaml(YamlSide::Live) | DiffMode::Yaml(YamlSide::Desired) => {
            let live = mode == DiffMode::Yaml(YamlSide::Live);
            let side = lines.into_iter().filter(move |line| match line {
                DiffLine::Live(_) => live,
                DiffLine::Desired(_) => !live,
                DiffLine::Same(_) | DiffLine::Gap(_) => true,
            });
            Box::new(head.chain(side.map(Row::Side)))
        }
        DiffMode::Yaml(YamlSide::Both) if two_columns => {
            let pairs = sides::pair(&lines, true);
            Box::new(head.chain(pairs.into_iter().map(|p| Row::Pair(p, false))))
        }
        DiffMode::SideBySide if two_columns => {
            let pairs = sides::pair(&lines, false);
            Box::new(head.chain(pairs.into_iter().map(|p| Row::Pair(p, true))))
        }
        // Too narrow for two columns: the unified diff, which shows both.
        _ => Box::new(
            head.chain(
                resource
                    .diff
                    .lines()
                    .enumerate()
                    .map(|(i, text)| Row::Diff(i, text)),
            ),
        ),
    }
}

/// A line of one side, in the colour of the side it differs on.
pub fn side_line(state: &State, line: DiffLine<'_>) -> Line<'static> {
    let theme = &state.theme;
    match line {
        DiffLine::Gap(count) => Line::styled(sides::gap_text(count), theme.muted),
        DiffLine::Same(text) => Line::styled(text.to_string(), theme.text),
        DiffLine::Live(text) => Line::styled(text.to_string(), theme.diff_removed),
        DiffLine::Desired(text) => Line::styled(text.to_string(), theme.diff_added),
    }
}

/// Two columns across the pane; the sideways scroll applies to each.
pub fn pair_line(state: &State, pair: &PairRow<'_>, words: bool, width: usize) -> Line<'static> {
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
        let line = super::long_lines::shift(Line::from(spans), state.reading.column, column);
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
