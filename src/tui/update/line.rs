//! The filter and command lines: opening them, the keys typed into them,
//! and what an entered command does. A filter applies as it is typed.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keep_cursors_in_view;
use crate::engine::EngineCommand;
use crate::tui::listing;
use crate::tui::memory::Memory;
use crate::tui::msg::{Command, Outcome};
use crate::tui::order::SortMode;
use crate::tui::pane::Pane;
use crate::tui::prompt::{LineCommand, Prompt, Purpose, candidates, complete};
use crate::tui::state::State;
use crate::tui::theme::BUILT_IN;
use crate::tui::view;

/// Opens the line; a filter starts from the pane's current one.
pub(super) fn open(state: &mut State, purpose: Purpose) -> Outcome {
    let text = match purpose {
        Purpose::Filter(Pane::Commits) => return Outcome::unchanged(),
        Purpose::Filter(pane) => state.filters.of(pane).to_string(),
        Purpose::Command => String::new(),
    };
    state.prompt = Some(Prompt::new(purpose, &text));
    Outcome::changed()
}

/// A key while the line is open: enter, esc, tab and up/down do their
/// part, the rest edit the text.
pub(super) fn key(state: &mut State, key: KeyEvent) -> Outcome {
    let Some(prompt) = &mut state.prompt else {
        return Outcome::unchanged();
    };
    let purpose = prompt.purpose;
    match (key.code, purpose) {
        (KeyCode::Esc, Purpose::Filter(pane)) => {
            state.prompt = None;
            clear_filter(state, pane);
            Outcome::changed()
        }
        (KeyCode::Esc, Purpose::Command) => {
            state.prompt = None;
            Outcome::changed()
        }
        (KeyCode::Enter, Purpose::Filter(_)) => {
            state.prompt = None;
            Outcome::changed()
        }
        (KeyCode::Enter, Purpose::Command) => {
            let line = prompt.input.text().trim().to_string();
            state.prompt = None;
            if line.is_empty() {
                return Outcome::changed();
            }
            if state.history.last() != Some(&line) {
                state.history.push(line.clone());
            }
            let mut outcome = match LineCommand::parse(&line) {
                Ok(command) => run(state, command),
                Err(why) => {
                    state.notice = Some(why);
                    Outcome::changed()
                }
            };
            keep_cursors_in_view(state);
            outcome.changed = true;
            outcome
        }
        (KeyCode::Tab, Purpose::Command) => {
            let line = prompt.input.text().to_string();
            let words = candidates(
                &line,
                &names(state.apps.iter().map(|a| a.name.as_str())),
                &contexts(state),
                &names(BUILT_IN.iter().map(|(name, _)| *name)),
            );
            match complete(&line, &words) {
                Some(completed) => {
                    if let Some(prompt) = &mut state.prompt {
                        prompt.input.set(&completed);
                    }
                    Outcome::changed()
                }
                None => Outcome::unchanged(),
            }
        }
        (KeyCode::Up | KeyCode::Down, Purpose::Command) => {
            let newest = state.history.len();
            let at = prompt.recalled.unwrap_or(newest);
            let at = if key.code == KeyCode::Up {
                at.saturating_sub(1)
            } else {
                (at + 1).min(newest)
            };
            if newest == 0 || Some(at) == prompt.recalled {
                return Outcome::unchanged();
            }
            let text = state.history.get(at).cloned().unwrap_or_default();
            prompt.recalled = Some(at);
            prompt.input.set(&text);
            Outcome::changed()
        }
        (KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down, Purpose::Filter(_)) => {
            Outcome::unchanged()
        }
        (_, _) => {
            if !prompt.input.edit(key) {
                return Outcome::unchanged();
            }
            if let Purpose::Filter(pane) = purpose {
                let text = prompt.input.text().to_string();
                set_filter(state, pane, text);
            }
            Outcome::changed()
        }
    }
}

/// Clears a pane's filter; whether there was one.
pub(super) fn clear_filter(state: &mut State, pane: Pane) -> bool {
    if state.filters.of(pane).is_empty() {
        return false;
    }
    set_filter(state, pane, String::new());
    true
}

fn set_filter(state: &mut State, pane: Pane, text: String) {
    let Some(filter) = state.filters.of_mut(pane) else {
        return;
    };
    *filter = text;
    match pane {
        Pane::Apps => listing::relist(state),
        Pane::Resources => listing::relist_resources(state),
        // The diff is searched, not narrowed: the first match from here.
        Pane::Diff => {
            if let Some(line) = view::find_in_diff(state, state.cursors.diff.offset, true, true) {
                super::reading::scroll_diff_to(state, line);
            }
        }
        Pane::Commits => {}
    }
    keep_cursors_in_view(state);
}

pub(super) fn set_sort(state: &mut State, sort: SortMode) -> Outcome {
    state.sort = sort;
    for app in &mut state.apps {
        listing::sort_app(app, sort);
    }
    listing::relist(state);
    keep_cursors_in_view(state);
    Outcome {
        changed: true,
        commands: vec![Command::Remember(Memory { sort })],
    }
}

fn run(state: &mut State, command: LineCommand) -> Outcome {
    match command {
        LineCommand::Quit => Outcome::command(Command::Quit),
        LineCommand::Refresh { hard } => super::controller::refresh(state, hard),
        LineCommand::Sort(mode) => set_sort(state, mode.unwrap_or(state.sort.next())),
        LineCommand::Theme(name) => Outcome::command(Command::LoadTheme(name)),
        LineCommand::Exact(exact) => {
            state.exact = exact.unwrap_or(!state.exact);
            Outcome::command(Command::Engine(EngineCommand::SetExact {
                exact: state.exact,
            }))
        }
        LineCommand::Context(context) => {
            if let Some(context) = &context
                && !contexts(state).contains(context)
            {
                state.notice = Some(format!(
                    "no app uses the context \"{context}\"; contexts: {}",
                    contexts(state).join(", ")
                ));
                return Outcome::changed();
            }
            state.context_view = context;
            listing::relist(state);
            Outcome::changed()
        }
        LineCommand::App(name) => select_app(state, &name),
    }
}

/// Selects the app of that name (listing it again if a filter or a
/// context hid it) and shows its resources.
fn select_app(state: &mut State, name: &str) -> Outcome {
    let Some(index) = state.apps.iter().position(|a| a.name == name) else {
        state.notice = Some(format!("no app \"{name}\""));
        return Outcome::changed();
    };
    if !state.listing.apps.contains(&index) {
        state.filters.apps.clear();
        state.context_view = None;
        listing::relist(state);
    }
    if let Some(position) = state.listing.apps.iter().position(|&i| i == index)
        && position != state.cursors.apps.selected
    {
        let apps = state.cursors.apps;
        state.cursors = Default::default();
        state.cursors.apps = apps;
        state.cursors.apps.selected = position;
        listing::list_new_app(state);
    }
    state.app_chosen = true;
    state.focus = Pane::Resources;
    Outcome::changed()
}

/// The kubeconfig contexts the apps name, sorted, each once.
fn contexts(state: &State) -> Vec<String> {
    let mut contexts: Vec<String> = state
        .apps
        .iter()
        .filter_map(|a| a.context.clone())
        .collect();
    contexts.sort();
    contexts.dedup();
    contexts
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names.map(str::to_string).collect()
}
