//! Reading the diff pane: YAML and side-by-side views, long lines wrapped
//! or scrolled sideways, jumps between search matches, and the external
//! viewer.

use super::keep_cursors_in_view;
use crate::tui::msg::{Command, ExternalDiff, Outcome};
use crate::tui::pane::Pane;
use crate::tui::sides;
use crate::tui::state::{DiffMode, State, YamlSide};
use crate::tui::view;

/// Columns one sideways step moves.
const SIDEWAYS_STEP: usize = 8;

/// Whether the diff pane is about a resource, where the views apply.
fn on_resource(state: &State) -> bool {
    matches!(state.focus, Pane::Resources | Pane::Diff) && state.selected_resource().is_some()
}

fn set_mode(state: &mut State, mode: DiffMode) -> Outcome {
    state.reading.mode = mode;
    state.reading.found = None;
    state.cursors.diff = Default::default();
    keep_cursors_in_view(state);
    Outcome::changed()
}

/// Live YAML, then desired, then both, then the diff again.
pub(super) fn yaml(state: &mut State) -> Outcome {
    if !on_resource(state) {
        return Outcome::unchanged();
    }
    let mode = match state.reading.mode {
        DiffMode::Changes | DiffMode::SideBySide => DiffMode::Yaml(YamlSide::Live),
        DiffMode::Yaml(YamlSide::Live) => DiffMode::Yaml(YamlSide::Desired),
        DiffMode::Yaml(YamlSide::Desired) => DiffMode::Yaml(YamlSide::Both),
        DiffMode::Yaml(YamlSide::Both) => DiffMode::Changes,
    };
    set_mode(state, mode)
}

pub(super) fn side_by_side(state: &mut State) -> Outcome {
    if !on_resource(state) {
        return Outcome::unchanged();
    }
    let mode = if state.reading.mode == DiffMode::SideBySide {
        DiffMode::Changes
    } else {
        DiffMode::SideBySide
    };
    set_mode(state, mode)
}

pub(super) fn wrap(state: &mut State) -> Outcome {
    state.reading.wrap = !state.reading.wrap;
    state.reading.column = 0;
    Outcome::changed()
}

pub(super) fn scroll_sideways(state: &mut State, right: bool) -> Outcome {
    if state.reading.wrap {
        return Outcome::unchanged();
    }
    let before = state.reading.column;
    let widest = view::diff_widest_line(state);
    let room = view::diff_room(state);
    let last = widest.saturating_sub(room);
    state.reading.column = if right {
        (before + SIDEWAYS_STEP).min(last.max(before))
    } else {
        before.saturating_sub(SIDEWAYS_STEP)
    };
    Outcome::changed_if(state.reading.column != before)
}

/// Scrolls the diff to the next (or previous) line with the search text.
pub(super) fn jump_to_match(state: &mut State, forward: bool) -> Outcome {
    if state.filters.diff.is_empty() {
        return Outcome::unchanged();
    }
    let from = state.reading.found.unwrap_or(state.cursors.diff.offset);
    match view::find_in_diff(state, from, forward, false) {
        Some(line) => {
            scroll_diff_to(state, line);
            Outcome::changed()
        }
        None => {
            state.notice = Some(format!("\"{}\" not found", state.filters.diff));
            Outcome::changed()
        }
    }
}

/// Scrolls the match to the top (near the end, into view) and marks it.
pub(super) fn scroll_diff_to(state: &mut State, line: usize) {
    let (len, rows) = (
        view::diff_line_count(state),
        view::list_rows(state, Pane::Diff),
    );
    state.cursors.diff.scroll(line, len, rows);
    state.reading.found = Some(line);
}

/// The selected resource's two sides, for the external viewer.
pub(super) fn external_diff(state: &mut State) -> Outcome {
    let Some(viewer) = state.diff_viewer.clone() else {
        state.notice = Some(
            "no external diff viewer: set DRIFTDECK_EXTERNAL_DIFF or [ui] diff_viewer, for example \"delta --side-by-side\""
                .to_string(),
        );
        return Outcome::changed();
    };
    let Some(resource) = state.selected_resource().filter(|_| on_resource(state)) else {
        return Outcome::unchanged();
    };
    if resource.diff.is_empty() {
        state.notice = Some(format!("{} matches Git: nothing to compare", resource.key));
        return Outcome::changed();
    }
    let lines = sides::parse(&resource.diff);
    let label: String = resource
        .key
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Outcome::command(Command::ExternalDiff(ExternalDiff {
        viewer,
        label,
        live: sides::side_text(&lines, true),
        desired: sides::side_text(&lines, false),
    }))
}
