//! The one place the UI state changes: `update` takes a message, changes the
//! state and says whether to redraw and what commands to run. It never waits.

use gix::ObjectId;
use ratatui::crossterm::event::KeyEventKind;
use ratatui::layout::Size;

use super::keymap::{Action, Context};
use super::listing;
use super::msg::{Command, Msg, Outcome};
use super::pane::Pane;
use super::prompt::Purpose;
use super::state::{Cursor, Detail, State};
use super::view::{self, help};
use crate::drift::ResourceKey;
use crate::engine::EngineCommand;

mod commits;
mod controller;
mod dialog;
mod engine;
mod line;
mod reading;
mod rollback;
mod sync;

pub fn update(state: &mut State, msg: Msg) -> Outcome {
    let shown = diff_subject(state);
    let mut outcome = match msg {
        Msg::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Outcome::unchanged();
            }
            if state.context() == Context::Prompt {
                return line::key(state, key);
            }
            if state.rollback_message.is_some() {
                return rollback::edit_message(state, key);
            }
            if state.unpin_asked.is_some() {
                // Any key answers: only a confirm unpins.
                let action = state.keymap.action(Context::Dialog, &key);
                return rollback::answer_unpin(state, action);
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
        Msg::Engine(event) => engine::receive(state, event),
        Msg::Tick => {
            let busy = state.is_busy();
            if busy {
                state.spinner = state.spinner.wrapping_add(1);
            }
            Outcome::changed_if(busy)
        }
        Msg::Clock(now) => {
            // Stale ages are shown in whole seconds, commit ages in
            // minutes at the finest: a redraw only when one turns.
            let per = |t: Option<jiff::Timestamp>, unit: i64| t.map(|t| t.as_second() / unit);
            let changed = (state.shows_stale_ages() && per(state.now, 1) != per(Some(now), 1))
                || (state.shows_commit_ages() && per(state.now, 60) != per(Some(now), 60));
            state.now = Some(now);
            Outcome::changed_if(changed)
        }
        Msg::Theme { theme, warning } => {
            state.theme = *theme;
            state.notice = warning;
            keep_cursors_in_view(state);
            Outcome::changed()
        }
        Msg::ViewerDone(result) => {
            state.notice = result.err();
            keep_cursors_in_view(state);
            // The screen was the viewer's: all of it is drawn again.
            Outcome::changed()
        }
    };
    // Another object in the diff pane: it starts at its top, at its left.
    if diff_subject(state) != shown {
        state.cursors.diff = Cursor::default();
        state.reading.column = 0;
        state.reading.found = None;
        outcome.changed = true;
    }
    outcome
}

/// What the diff pane is about, as something to compare.
#[derive(PartialEq)]
enum Subject {
    App(usize),
    Resource(ResourceKey),
    Commit(ObjectId),
}

fn diff_subject(state: &State) -> Subject {
    match state.detail() {
        Detail::App => Subject::App(state.selected_app_index().unwrap_or(usize::MAX)),
        Detail::Resource(resource) => Subject::Resource(resource.key.clone()),
        Detail::Commit(commit) => Subject::Commit(commit.id),
    }
}

fn act(state: &mut State, action: Action) -> Outcome {
    if let Some(scroll) = state.help {
        return act_in_help(state, action, scroll);
    }
    if state.unpin_asked.is_some() {
        return rollback::answer_unpin(state, Some(action));
    }
    if state.rollback_message.is_some() {
        // Its keys are the text area's; a Back from elsewhere drops it.
        if action == Action::Back {
            state.rollback_message = None;
            return Outcome::changed();
        }
        return Outcome::unchanged();
    }
    if state.dialog.is_some() {
        return dialog::act_in_dialog(state, action);
    }
    match action {
        Action::Quit => sync::quit(state),
        Action::Help => {
            state.help = Some(0);
            Outcome::changed()
        }
        Action::Back => {
            if state.notice.take().is_some() || state.sync_result.take().is_some() {
                return Outcome::changed();
            }
            if line::clear_filter(state, state.focus) {
                return Outcome::changed();
            }
            let back = match state.focus {
                Pane::Diff => Pane::Resources,
                Pane::Apps | Pane::Resources | Pane::Commits => Pane::Apps,
            };
            focus(state, back)
        }
        Action::Open => match state.focus {
            Pane::Apps if state.selected_app().is_some() => focus(state, Pane::Resources),
            Pane::Resources if state.selected_resource().is_some() => focus(state, Pane::Diff),
            Pane::Commits => commits::preview(state),
            _ => Outcome::unchanged(),
        },
        Action::AllCommits => commits::toggle_all(state),
        Action::Refresh => controller::refresh(state, false),
        Action::Suspend => controller::toggle_suspend(state),
        Action::Filter => line::open(state, Purpose::Filter(state.focus)),
        Action::CommandLine => line::open(state, Purpose::Command),
        Action::Sort => line::set_sort(state, state.sort.next()),
        Action::NextMatch => reading::jump_to_match(state, true),
        Action::PrevMatch => reading::jump_to_match(state, false),
        Action::Wrap => reading::wrap(state),
        Action::ScrollLeft => reading::scroll_sideways(state, false),
        Action::ScrollRight => reading::scroll_sideways(state, true),
        Action::Yaml => reading::yaml(state),
        Action::SideBySide => reading::side_by_side(state),
        Action::ExternalDiff => reading::external_diff(state),
        Action::Sync if controller::selected_engine(state).is_some() => controller::sync(state),
        Action::Sync => sync::open(state),
        Action::Rollback if controller::selected_engine(state).is_some() => {
            controller::rollback(state)
        }
        Action::Rollback => rollback::open(state),
        Action::Unpin => rollback::ask_unpin(state),
        // Read only while a dialog is up.
        Action::Confirm => Outcome::unchanged(),
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
        Action::Quit => return sync::quit(state),
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
        _ => return Outcome::unchanged(),
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

/// Asks the engine to read the selected app's repository now and compare
/// again; what it says from now on answers the new generation.
fn refresh(state: &mut State) -> Outcome {
    let Some(app) = state
        .selected_app_index()
        .and_then(|i| state.apps.get_mut(i))
    else {
        return Outcome::unchanged();
    };
    app.generation += 1;
    app.refreshing = true;
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::Refresh {
            app: app.name.clone(),
            generation: app.generation,
        })],
    }
}

fn focus(state: &mut State, pane: Pane) -> Outcome {
    if state.focus == pane {
        return Outcome::unchanged();
    }
    // Leaving the apps is choosing the app: late results keep it selected.
    if state.focus == Pane::Apps && state.selected_app().is_some() {
        state.app_chosen = true;
    }
    state.focus = pane;
    Outcome::changed()
}

/// How many items (lines, for the diff) a pane holds for the selected app.
fn item_count(state: &State, pane: Pane) -> usize {
    match pane {
        Pane::Apps => state.listing.apps.len(),
        Pane::Resources => state.listing.resources.len(),
        Pane::Diff => view::diff_line_count(state),
        Pane::Commits => match state
            .selected_app()
            .and_then(super::commit_log::engine_history)
        {
            Some(history) => history.len(),
            None => state.listed_commits().len(),
        },
    }
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
    let (len, rows) = (item_count(state, pane), view::list_rows(state, pane));
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
        state.app_chosen = true;
        // Another app: its lists start at the top.
        let apps = state.cursors.apps;
        state.cursors = Default::default();
        state.cursors.apps = apps;
        listing::list_new_app(state);
    }
    Outcome {
        changed,
        commands: Vec::new(),
    }
}

/// After a resize or a new list, the selections stay where they were and in view.
pub(super) fn keep_cursors_in_view(state: &mut State) {
    for pane in [Pane::Apps, Pane::Resources, Pane::Diff, Pane::Commits] {
        let (len, rows) = (item_count(state, pane), view::list_rows(state, pane));
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

#[cfg(test)]
mod controller_tests;
#[cfg(test)]
mod line_tests;
#[cfg(test)]
mod rollback_git_tests;
#[cfg(test)]
mod rollback_tests;
#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;
