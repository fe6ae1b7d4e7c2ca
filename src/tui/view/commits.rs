//! The commits pane: the selected app's branch, newest first, the deployed
//! commit marked ● and the one the verdict compares with marked HEAD;
//! author, day and signature where the pane is wide enough.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::symbols::{self, DEPLOYED, HEAD};
use super::{day, hint, pane_frame, render_rows, selection_style, title};
use crate::source::LogEntry;
use crate::text::{self, fit};
use crate::tui::state::{Pane, State};

/// From this inner width on, rows show the author, the day and the signature.
const WIDE: usize = 56;
const AUTHOR_WIDTH: usize = 14;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let app = state.selected_app();
    let count = app
        .and_then(|a| a.commits.as_ref())
        .map(|c| vec![Span::styled(c.len().to_string(), state.theme.muted)])
        .unwrap_or_default();
    let inner = pane_frame(
        frame,
        area,
        state,
        Pane::Commits,
        title(state, "Commits", count),
    );
    let Some(app) = app else {
        hint(
            frame,
            inner,
            state,
            vec![Line::from("The commits of the selected app appear here.")],
        );
        return;
    };
    let report = app.report.as_deref();
    let deployed = report.and_then(|r| r.summary.revision.as_deref());
    let head = report.and_then(|r| r.desired_revision.as_deref());
    match (
        app.commits.as_deref().map(Vec::as_slice),
        &app.history_error,
    ) {
        (None, Some(cause)) => hint(
            frame,
            inner,
            state,
            vec![Line::from(format!("Cannot read the history: {cause}"))],
        ),
        (None, None) => hint(
            frame,
            inner,
            state,
            vec![Line::from(format!(
                "The commits on {}'s branch appear here, newest first, the deployed one marked {DEPLOYED}.",
                app.name
            ))],
        ),
        (Some([]), _) => hint(
            frame,
            inner,
            state,
            vec![Line::from("No commits on the branch.")],
        ),
        (Some(commits), _) => {
            let cursor = state.cursors.commits;
            let width = usize::from(inner.width);
            let rows = commits
                .iter()
                .skip(cursor.offset)
                .take(usize::from(inner.height))
                .map(|commit| {
                    let id = commit.id.to_string();
                    let marks = Marks {
                        deployed: deployed == Some(id.as_str()),
                        head: head == Some(id.as_str()),
                        undeployable: app.undeployable(commit).is_some(),
                    };
                    row(state, commit, marks, width)
                })
                .collect();
            let selected = cursor.selected.checked_sub(cursor.offset);
            render_rows(
                frame,
                inner,
                rows,
                selected,
                selection_style(state, Pane::Commits),
            );
        }
    }
}

#[derive(Clone, Copy)]
struct Marks {
    deployed: bool,
    head: bool,
    /// Its signature keeps it from being deployed (`require_signed`).
    undeployable: bool,
}

/// `● 3f2a91c HEAD bump the image        Ada Lovelace  2025-03-14 ✓`
fn row(state: &State, commit: &LogEntry, marks: Marks, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let (marker, id_style) = if marks.deployed {
        (DEPLOYED, theme.deployed)
    } else {
        (" ", theme.text)
    };
    let mut spans = vec![
        Span::styled(format!("{marker} "), theme.deployed),
        Span::styled(commit.short_id.clone(), id_style),
        Span::raw(" "),
    ];
    let mut used = 2 + text::width(&commit.short_id) + 1;
    if marks.undeployable {
        let mark = symbols::undeployable(theme);
        spans.push(mark.symbol_span());
        spans.push(Span::raw(" "));
        used += text::width(mark.symbol) + 1;
    }
    if marks.head {
        spans.push(Span::styled(format!("{HEAD} "), theme.key_hint));
        used += HEAD.len() + 1;
    }
    if width < WIDE {
        spans.push(Span::raw(commit.subject.clone()));
        return Line::from(spans);
    }
    // Subject, then author, day and signature in columns at the right.
    let day = day(state, commit.time);
    let right = 1 + AUTHOR_WIDTH + 1 + text::width(&day) + 2;
    let subject_width = width.saturating_sub(used + right);
    spans.push(Span::raw(fit(&commit.subject, subject_width)));
    spans.push(Span::styled(
        format!(" {} {day} ", fit(&commit.author, AUTHOR_WIDTH)),
        theme.muted,
    ));
    if let Some(mark) = symbols::signature(theme, &commit.signature) {
        spans.push(mark.symbol_span());
    }
    Line::from(spans)
}
