//! The diff pane: what differs between Git and the cluster for the selected app.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{hint, pane_frame, title};
use crate::tui::report::{DiffLine, DiffLineKind};
use crate::tui::state::{Pane, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let app = state.selected_app();
    let detail = app
        .map(|app| vec![Span::styled(app.name.clone(), state.theme.muted)])
        .unwrap_or_default();
    let inner = pane_frame(frame, area, state, Pane::Diff, title(state, "Diff", detail));
    let Some(app) = app else {
        hint(
            frame,
            inner,
            state,
            vec![Line::from("The drift of the selected app appears here.")],
        );
        return;
    };
    match &app.diff {
        None => hint(
            frame,
            inner,
            state,
            vec![
                Line::from(format!(
                    "What differs between Git and the cluster for {} appears here, field by field:",
                    app.name
                )),
                Line::from("+ in Git, not live   - live, not in Git"),
            ],
        ),
        Some(lines) if lines.is_empty() => {
            hint(
                frame,
                inner,
                state,
                vec![Line::from("No drift: the cluster matches Git.")],
            );
        }
        Some(lines) => {
            let shown: Vec<Line> = lines
                .iter()
                .skip(state.cursors.diff.offset)
                .take(usize::from(inner.height))
                .map(|line| styled(state, line))
                .collect();
            for (i, line) in shown.into_iter().enumerate() {
                let y = inner.y.saturating_add(u16::try_from(i).unwrap_or(u16::MAX));
                frame.render_widget(
                    line,
                    Rect {
                        y,
                        height: 1,
                        ..inner
                    },
                );
            }
        }
    }
}

/// The marker in front says what a line is, so the diff reads without colour.
fn styled(state: &State, line: &DiffLine) -> Line<'static> {
    let theme = &state.theme;
    let (marker, style) = match line.kind {
        DiffLineKind::Header => ("", theme.diff_header),
        DiffLineKind::Context => ("  ", theme.text),
        DiffLineKind::Added => ("+ ", theme.diff_added),
        DiffLineKind::Removed => ("- ", theme.diff_removed),
    };
    Line::styled(format!("{marker}{}", line.text), style)
}
