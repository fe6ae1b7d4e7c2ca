//! Draws the plan dialog (`tui/dialog/plan.rs`) over the panes: the counts,
//! then one line per object (prunes in bold), scrolled — or, for an engine
//! app's action, the fields it writes; the choices, if the
//! dialog has any; the keys that answer it in the bottom border. Also how
//! many plan lines fit, for `update` to scroll by.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear};

use super::diff::wrapped;
use super::symbols;
use super::{render_rows, spinner};
use crate::resource::short_revision;
use crate::sync::{SyncPlan, SyncStep};
use crate::text::{self, printable};
use crate::tui::dialog::{PlanDialog, Planning};
use crate::tui::keymap::Action;
use crate::tui::state::State;

const MAX_WIDTH: u16 = 90;

pub fn render(frame: &mut Frame, screen: Rect, state: &State, dialog: &PlanDialog) {
    let theme = &state.theme;
    let parts = Parts::of(state, dialog, screen);
    let area = parts.area;
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.border_focused)
        .title(Span::styled(
            format!(" {} ", printable(&dialog.title)),
            theme.title,
        ))
        .title_bottom(Line::styled(footer(state, dialog, &parts), theme.muted).right_aligned())
        .style(theme.text);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let head = u16::try_from(parts.head.len()).unwrap_or(u16::MAX);
    render_rows(frame, inner, parts.head, None, theme.text);
    let steps = dialog.plan().map_or(&[][..], |plan| plan.steps.as_slice());
    let width = usize::from(inner.width);
    let lines = match &dialog.planning {
        Planning::Writes(writes) => writes
            .iter()
            .skip(dialog.scroll)
            .take(parts.page)
            .map(|line| written_line(state, line, width))
            .collect(),
        _ => steps
            .iter()
            .skip(dialog.scroll)
            .take(parts.page)
            .map(|step| step_line(state, step, width))
            .collect(),
    };
    let body = Rect {
        y: inner.y.saturating_add(head),
        height: u16::try_from(parts.page).unwrap_or(u16::MAX),
        ..inner
    };
    render_rows(frame, body, lines, None, theme.text);
    let choices = choice_rows(state, dialog, width);
    let rows = u16::try_from(choices.len()).unwrap_or(u16::MAX);
    let at_bottom = Rect {
        y: inner.bottom().saturating_sub(rows),
        height: rows.min(inner.height),
        ..inner
    };
    render_rows(frame, at_bottom, choices, None, theme.text);
}

/// Plan lines on screen at the state's size.
pub(crate) fn page_rows(state: &State) -> usize {
    measured(state).map_or(1, |parts| parts.page.max(1))
}

/// How far the plan lines can scroll at the state's size.
pub(crate) fn max_scroll(state: &State) -> usize {
    let Some(open) = &state.dialog else {
        return 0;
    };
    body_len(&open.dialog).saturating_sub(page_rows(state))
}

fn measured(state: &State) -> Option<Parts> {
    let open = state.dialog.as_ref()?;
    let screen = Rect::new(0, 0, state.size.width, state.size.height);
    Some(Parts::of(state, &open.dialog, screen))
}

/// Where things go: the popup, the lines above the plan, how many plan
/// lines fit.
struct Parts {
    area: Rect,
    head: Vec<Line<'static>>,
    page: usize,
    steps: usize,
}

impl Parts {
    fn of(state: &State, dialog: &PlanDialog, screen: Rect) -> Parts {
        let width = screen.width.saturating_sub(4).min(MAX_WIDTH);
        let head = head(state, dialog, usize::from(width.saturating_sub(2)));
        let steps = body_len(dialog);
        // The choices' rows, and a blank row above them.
        let choices = match choice_rows(state, dialog, usize::from(width.saturating_sub(2))) {
            rows if rows.is_empty() => 0,
            rows => rows.len() + 1,
        };
        let wanted = head.len() + steps + choices + 2;
        let height = screen
            .height
            .saturating_sub(2)
            .min(u16::try_from(wanted).unwrap_or(u16::MAX));
        let area = Rect::new(
            screen.x + (screen.width - width) / 2,
            screen.y + (screen.height - height) / 2,
            width,
            height,
        );
        let page = usize::from(height.saturating_sub(2)).saturating_sub(head.len() + choices);
        Parts {
            area,
            head,
            page,
            steps,
        }
    }
}

/// The lines under the head: the plan's steps, or what a request writes.
fn body_len(dialog: &PlanDialog) -> usize {
    match &dialog.planning {
        Planning::Ready(plan) => plan.steps.len(),
        Planning::Writes(lines) => lines.len(),
        Planning::Waiting | Planning::Failed(_) => 0,
    }
}

/// Above the plan: its counts, or that it is being made, or why there is none.
fn head(state: &State, dialog: &PlanDialog, width: usize) -> Vec<Line<'static>> {
    let theme = &state.theme;
    match &dialog.planning {
        Planning::Waiting => vec![Line::styled(
            format!("{} planning…", spinner(state)),
            theme.muted,
        )],
        Planning::Failed(why) => {
            let mut lines = wrapped(&printable(why), width, theme.error);
            lines.push(Line::from(""));
            lines.push(Line::styled("Nothing will be written.", theme.muted));
            lines
        }
        Planning::Ready(plan) if plan.is_empty() => vec![
            Line::styled(
                format!("at {}: nothing to do", short_revision(&plan.revision)),
                theme.synced,
            ),
            Line::styled("the cluster already matches Git", theme.muted),
        ],
        Planning::Ready(plan) => vec![counts(state, plan), Line::from("")],
        Planning::Writes(_) => Vec::new(),
    }
}

/// A line of what an engine app's action writes: the objects written to
/// (`… :`) as titles, the rest (fields, sentences) as text.
fn written_line(state: &State, line: &str, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let style = if line.ends_with(':') && !line.starts_with(' ') {
        theme.title
    } else {
        theme.text
    };
    Line::styled(text::truncate(&printable(line), width).into_owned(), style)
}

/// `at 3f2a91c: 1 to create · 2 to update · 1 to prune`, prunes in their style.
fn counts(state: &State, plan: &SyncPlan) -> Line<'static> {
    let theme = &state.theme;
    let c = plan.counts;
    let mut spans = vec![
        Span::raw(format!("at {}: ", short_revision(&plan.revision))),
        Span::raw(format!(
            "{} to create · {} to update · ",
            c.create, c.update
        )),
        Span::styled(
            format!("{} to prune", c.prune),
            symbols::sync_step(theme, crate::sync::SyncAction::Prune).style,
        ),
    ];
    if c.skipped > 0 {
        spans.push(Span::styled(
            format!(" · {} not done", c.skipped),
            theme.muted,
        ));
    }
    Line::from(spans)
}

/// `- prune  Service shop/old`, `~ update ConfigMap shop/settings: data.k`.
fn step_line(state: &State, step: &SyncStep, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let mark = symbols::sync_step(theme, step.action);
    let mut detail: Vec<String> = step.changes.iter().map(ToString::to_string).collect();
    if let Some(skipped) = &step.skipped {
        detail.push(format!("not done: {skipped}"));
    }
    let mut text = format!("{} {:<7}{}", mark.symbol, mark.word, step.key);
    if !detail.is_empty() {
        text.push_str(": ");
        text.push_str(&detail.join(", "));
    }
    let text = text::truncate(&printable(&text), width).into_owned();
    let style = if step.is_done() {
        mark.style
    } else {
        theme.muted
    };
    Line::styled(text, style)
}

/// Between two choices on a row.
const GAP: &str = "   ";

/// `(•) pin in the cluster   ( ) revert commit`, on as many rows as the
/// width needs (a choice is never cut: each one can be seen and chosen).
fn choice_rows(state: &State, dialog: &PlanDialog, width: usize) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let mut rows: Vec<Vec<Span<'static>>> = Vec::new();
    let mut used = 0;
    for (i, choice) in dialog.choices.iter().enumerate() {
        let chosen = i == dialog.choice;
        let text = format!(
            "{} {}",
            if chosen { "(•)" } else { "( )" },
            printable(choice)
        );
        let cells = text::width(&text);
        let span = if chosen {
            Span::styled(text, theme.selected)
        } else {
            Span::raw(text)
        };
        match rows.last_mut() {
            Some(row) if used + GAP.len() + cells <= width => {
                row.extend([Span::raw(GAP), span]);
                used += GAP.len() + cells;
            }
            _ => {
                rows.push(vec![span]);
                used = cells;
            }
        }
    }
    rows.into_iter().map(Line::from).collect()
}

/// The keys that answer the dialog, in its bottom border.
fn footer(state: &State, dialog: &PlanDialog, parts: &Parts) -> String {
    let key = |action| state.keymap.hint_key(action);
    let mut keys = Vec::new();
    if parts.steps > parts.page {
        keys.push(format!("{}/{} scroll", key(Action::Down), key(Action::Up)));
    }
    if !dialog.choices.is_empty() {
        keys.push(format!("{} choose", key(Action::FocusNext)));
    }
    if dialog.can_confirm() {
        keys.push(format!("{} go", key(Action::Confirm)));
        keys.push(format!("{} cancel", key(Action::Back)));
    } else {
        keys.push(format!("{} close", key(Action::Back)));
    }
    format!(" {} ", keys.join(" · "))
}
