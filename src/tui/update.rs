//! The one place the UI state changes: `update` takes a message, changes the
//! state and says whether to redraw and what commands to run. It never waits.

use ratatui::crossterm::event::KeyEventKind;
use ratatui::layout::{Rect, Size};

use super::keymap::Action;
use super::msg::{Command, Msg, Outcome, Reply, ReplyBody};
use super::state::{Cursor, Pane, State};
use super::view::{help, layout};

pub fn update(state: &mut State, msg: Msg) -> Outcome {
    match msg {
        Msg::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Outcome::unchanged();
            }
            match state.keymap.action(state.context(), &key) {
                Some(action) => act(state, action),
                None => Outcome::unchanged(),
            }
        }
        Msg::Action(action) => act(state, action),
        Msg::Resize { width, height } => {
            state.size = Size::new(width, height);
            keep_cursors_in_view(state);
            Outcome::changed()
        }
        Msg::Reply(reply) => receive(state, reply),
        Msg::RequestCounts(counts) => {
            let changed = state.requests != Some(counts);
            state.requests = Some(counts);
            Outcome {
                changed,
                commands: Vec::new(),
            }
        }
    }
}

fn act(state: &mut State, action: Action) -> Outcome {
    if let Some(scroll) = state.help {
        return act_in_help(state, action, scroll);
    }
    match action {
        Action::Quit => Outcome::command(Command::Quit),
        Action::Help => {
            state.help = Some(0);
            Outcome::changed()
        }
        Action::Back => {
            if state.notice.take().is_some() {
                Outcome::changed()
            } else {
                focus(state, Pane::Apps)
            }
        }
        Action::Open => match state.focus {
            Pane::Apps if state.selected_app().is_some() => focus(state, Pane::Resources),
            Pane::Resources => focus(state, Pane::Diff),
            _ => Outcome::unchanged(),
        },
        Action::FocusNext => focus(state, state.focus.next()),
        Action::FocusPrev => focus(state, state.focus.prev()),
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => move_cursor(state, action),
    }
}

fn act_in_help(state: &mut State, action: Action, scroll: usize) -> Outcome {
    let target = match action {
        Action::Quit => return Outcome::command(Command::Quit),
        Action::Help | Action::Back => {
            state.help = None;
            return Outcome::changed();
        }
        Action::Up => scroll.saturating_sub(1),
        Action::Down => scroll.saturating_add(1),
        Action::PageUp => scroll.saturating_sub(help_page(state)),
        Action::PageDown => scroll.saturating_add(help_page(state)),
        Action::Top => 0,
        Action::Bottom => usize::MAX,
        Action::Open | Action::FocusNext | Action::FocusPrev => return Outcome::unchanged(),
    };
    let target = target.min(help::max_scroll(state));
    let changed = target != scroll;
    state.help = Some(target);
    Outcome {
        changed,
        commands: Vec::new(),
    }
}

fn help_page(state: &State) -> usize {
    usize::from(state.size.height.saturating_sub(4)).max(1)
}

fn focus(state: &mut State, pane: Pane) -> Outcome {
    if state.focus == pane {
        return Outcome::unchanged();
    }
    state.focus = pane;
    Outcome::changed()
}

/// How many items the list in a pane holds for the selected app.
fn item_count(state: &State, pane: Pane) -> usize {
    let app = state.selected_app();
    match pane {
        Pane::Apps => state.apps.len(),
        Pane::Resources => app.and_then(|a| a.resources.as_ref()).map_or(0, Vec::len),
        Pane::Diff => app.and_then(|a| a.diff.as_ref()).map_or(0, Vec::len),
        Pane::Commits => app.and_then(|a| a.commits.as_ref()).map_or(0, Vec::len),
    }
}

fn rows(state: &State, pane: Pane) -> usize {
    let screen = Rect::new(0, 0, state.size.width, state.size.height);
    layout::item_rows(pane, screen, state.notice.is_some())
}

fn cursor_mut(state: &mut State, pane: Pane) -> &mut Cursor {
    match pane {
        Pane::Apps => &mut state.cursors.apps,
        Pane::Resources => &mut state.cursors.resources,
        Pane::Diff => &mut state.cursors.diff,
        Pane::Commits => &mut state.cursors.commits,
    }
}

fn move_cursor(state: &mut State, action: Action) -> Outcome {
    let pane = state.focus;
    let (len, rows) = (item_count(state, pane), rows(state, pane));
    let cursor = cursor_mut(state, pane);
    let before = *cursor;
    // The diff has no selection: moving scrolls it.
    let position = if pane == Pane::Diff {
        cursor.offset
    } else {
        cursor.selected
    };
    let target = match action {
        Action::Up => position.saturating_sub(1),
        Action::Down => position.saturating_add(1),
        Action::PageUp => position.saturating_sub(rows),
        Action::PageDown => position.saturating_add(rows),
        Action::Top => 0,
        _ => usize::MAX,
    };
    if pane == Pane::Diff {
        cursor.scroll(target, len, rows);
    } else {
        cursor.select(target, len, rows);
    }
    let changed = *cursor != before;
    if changed && pane == Pane::Apps {
        // Another app: its lists start at the top.
        let apps = state.cursors.apps;
        state.cursors = Default::default();
        state.cursors.apps = apps;
    }
    Outcome {
        changed,
        commands: Vec::new(),
    }
}

/// After a resize or a new list, the selections stay where they were and in view.
fn keep_cursors_in_view(state: &mut State) {
    for pane in [Pane::Apps, Pane::Resources, Pane::Diff, Pane::Commits] {
        let (len, rows) = (item_count(state, pane), rows(state, pane));
        let cursor = cursor_mut(state, pane);
        if pane == Pane::Diff {
            cursor.scroll(cursor.offset, len, rows);
        } else {
            cursor.select(cursor.selected, len, rows);
        }
    }
    if let Some(scroll) = state.help {
        state.help = Some(scroll.min(help::max_scroll(state)));
    }
}

/// Stores an engine reply, unless it answers an older request. A new list
/// keeps the operator's selection on the same object when it is still there.
fn receive(state: &mut State, reply: Reply) -> Outcome {
    let selected_name = state.selected_app().map(|app| app.name.clone());
    let Some(app) = state.apps.iter_mut().find(|app| app.name == reply.app) else {
        tracing::debug!(app = %reply.app, "reply for an app that is not configured, dropped");
        return Outcome::unchanged();
    };
    if reply.generation != app.generation {
        tracing::debug!(app = %reply.app, generation = reply.generation.0, current = app.generation.0, "stale reply dropped");
        return Outcome::unchanged();
    }
    let is_selected = selected_name.as_deref() == Some(app.name.as_str());
    match reply.body {
        ReplyBody::Status(status) => {
            app.status = Some(status);
            app.error = None;
        }
        ReplyBody::Resources(rows) => {
            if is_selected {
                let old = app
                    .resources
                    .as_ref()
                    .and_then(|r| r.get(state.cursors.resources.selected));
                if let Some(index) =
                    old.and_then(|old| rows.iter().position(|row| row.same_object(old)))
                {
                    state.cursors.resources.selected = index;
                }
            }
            app.resources = Some(rows);
        }
        ReplyBody::Diff(lines) => app.diff = Some(lines),
        ReplyBody::Commits(commits) => {
            if is_selected {
                let old = app
                    .commits
                    .as_ref()
                    .and_then(|c| c.get(state.cursors.commits.selected));
                if let Some(index) = old.and_then(|old| commits.iter().position(|c| c.id == old.id))
                {
                    state.cursors.commits.selected = index;
                }
            }
            app.commits = Some(commits);
        }
        ReplyBody::Failed(message) => app.error = Some(message),
    }
    keep_cursors_in_view(state);
    Outcome::changed()
}

#[cfg(test)]
mod tests;
