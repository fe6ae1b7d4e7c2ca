//! Lines wider than their pane: wrapped over several rows, or shown from a
//! column with `‹` and `›` where text goes on out of sight, so a value is
//! never cut without a sign.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::text;

/// Marks text cut at the left and at the right edge.
pub const MORE_LEFT: char = '‹';
pub const MORE_RIGHT: char = '›';

/// The line from cell `column`, `width` cells of it, marked where cut.
pub fn shift(line: Line<'static>, column: usize, width: usize) -> Line<'static> {
    let total = line.width();
    if column == 0 && total <= width {
        return line;
    }
    let style = line.style;
    let mut spans = Vec::new();
    let mut at = 0;
    let end = column + width;
    for span in line.spans {
        let mut kept = String::new();
        for c in span.content.chars() {
            let cells = text::char_width(c);
            if at >= column && at + cells <= end {
                kept.push(c);
            }
            at += cells;
        }
        if !kept.is_empty() {
            spans.push(Span::styled(kept, span.style));
        }
    }
    if column > 0 {
        replace_edge(&mut spans, MORE_LEFT, true);
    }
    if total > end {
        replace_edge(&mut spans, MORE_RIGHT, false);
    }
    Line::from(spans).style(style)
}

/// Puts `mark` in place of the first (or last) character shown.
fn replace_edge(spans: &mut [Span<'static>], mark: char, first: bool) {
    let span = if first {
        spans.first_mut()
    } else {
        spans.last_mut()
    };
    let Some(span) = span else {
        return;
    };
    let mut content: Vec<char> = span.content.chars().collect();
    let replaced = if first {
        content.first_mut()
    } else {
        content.last_mut()
    };
    if let Some(c) = replaced {
        *c = mark;
    }
    span.content = content.into_iter().collect::<String>().into();
}

/// The line in rows of at most `width` cells, continuation rows indented
/// by two and led by `↪`.
pub fn wrap(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    if line.width() <= width || width < 4 {
        return vec![line];
    }
    let style = line.style;
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for span in line.spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let cells = text::char_width(c);
            if used + cells > width {
                if let Some(row) = rows.last_mut() {
                    row.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(vec![Span::styled("↪ ", Style::default())]);
                used = 2;
            }
            piece.push(c);
            used += cells;
        }
        if let Some(row) = rows.last_mut() {
            row.push(Span::styled(piece, span.style));
        }
    }
    rows.into_iter()
        .map(|spans| Line::from(spans).style(style))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_line_marks_both_cut_edges() {
        let line = Line::from("0123456789abcdef");
        assert_eq!(shift(line.clone(), 0, 8).to_string(), "0123456›");
        assert_eq!(shift(line.clone(), 4, 8).to_string(), "‹56789a›");
        assert_eq!(shift(line.clone(), 8, 8).to_string(), "‹9abcdef");
        assert_eq!(shift(Line::from("short"), 0, 8).to_string(), "short");
    }

    #[test]
    fn wrapping_keeps_every_character() {
        let rows = wrap(Line::from("0123456789abcdef"), 8);
        let texts: Vec<String> = rows.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["01234567", "↪ 89abcd", "↪ ef"]);
    }
}
