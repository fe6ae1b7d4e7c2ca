//! Draws the Git rollback's message editor (`tui/dialog/message.rs`) over
//! the panes: the text area, or what it waits for, and its keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::spinner;
use crate::resource::short_revision;
use crate::source::RollbackMode;
use crate::text::printable;
use crate::tui::dialog::MessageEditor;
use crate::tui::state::State;

const MAX_WIDTH: u16 = 90;
const MAX_HEIGHT: u16 = 20;

pub fn render(frame: &mut Frame, screen: Rect, state: &State, editor: &MessageEditor) {
    let theme = &state.theme;
    let [area] = Layout::horizontal([Constraint::Length(
        screen.width.saturating_sub(4).min(MAX_WIDTH),
    )])
    .flex(Flex::Center)
    .areas(screen);
    let [area] = Layout::vertical([Constraint::Length(
        screen.height.saturating_sub(2).min(MAX_HEIGHT),
    )])
    .flex(Flex::Center)
    .areas(area);
    let target = match editor.mode {
        RollbackMode::OnBranch => "its branch, then synced",
        RollbackMode::MergeRequest => "a merge-request branch",
    };
    let title = format!(
        " Revert {} to {} in Git: commit to {target} ",
        printable(&editor.app),
        short_revision(&editor.revision)
    );
    let keys = if editor.text.is_some() {
        " ctrl-s commit · esc cancel "
    } else {
        " esc cancel "
    };
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.border_focused)
        .title(Span::styled(title, theme.title))
        .title_bottom(Line::styled(keys, theme.muted).right_aligned())
        .style(theme.text);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    match (&editor.text, &editor.failed) {
        (Some(text), _) => frame.render_widget(text, inner),
        (None, Some(why)) => frame.render_widget(
            Paragraph::new(format!("cannot roll back in Git: {}", printable(why)))
                .style(theme.error)
                .wrap(Wrap { trim: false }),
            inner,
        ),
        (None, None) => frame.render_widget(
            Line::from(format!(
                "{} fetching the branch for the message…",
                spinner(state)
            )),
            inner,
        ),
    }
}
