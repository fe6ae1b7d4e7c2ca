//! The commits pane: the selected app's branch, newest first, the deployed
//! commit marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::symbols::DEPLOYED;
use super::{hint, pane_frame, render_rows, selection_style, short_id, title};
use crate::tui::state::{Pane, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    let app = state.selected_app();
    let inner = pane_frame(
        frame,
        area,
        state,
        Pane::Commits,
        title(state, "Commits", vec![]),
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
    let deployed = app
        .status
        .as_ref()
        .and_then(|status| status.deployed.as_deref());
    match &app.commits {
        None => hint(
            frame,
            inner,
            state,
            vec![Line::from(format!(
                "The commits on {}'s branch appear here, newest first, the deployed one marked {DEPLOYED}.",
                app.name
            ))],
        ),
        Some(commits) if commits.is_empty() => {
            hint(
                frame,
                inner,
                state,
                vec![Line::from("No commits on the branch.")],
            );
        }
        Some(commits) => {
            let cursor = state.cursors.commits;
            let rows = commits
                .iter()
                .skip(cursor.offset)
                .take(usize::from(inner.height))
                .map(|commit| {
                    let is_deployed = deployed == Some(commit.id.as_str());
                    let (marker, style) = if is_deployed {
                        (DEPLOYED, theme.deployed)
                    } else {
                        (" ", theme.text)
                    };
                    Line::from(vec![
                        Span::styled(format!("{marker} "), style),
                        Span::styled(short_id(&commit.id).to_string(), style),
                        Span::raw(" "),
                        Span::raw(commit.summary.clone()),
                    ])
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
