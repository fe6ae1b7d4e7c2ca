//! What the UI knows: the configured apps and what the engine has reported
//! about each, which pane has the focus, where each cursor is, what overlays
//! and notices are up. Owned by the UI loop alone.

use std::path::{Path, PathBuf};

use ratatui::layout::Size;

use super::keymap::{Context, Keymap};
use super::msg::Generation;
use super::report::{AppStatus, CommitRow, DiffLine, RequestCounts, ResourceRow};
use super::theme::Theme;
use crate::config::Config;

/// The four panes, in focus order (clockwise from the top left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Apps,
    Resources,
    Diff,
    Commits,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Apps, Pane::Resources, Pane::Diff, Pane::Commits];

    pub fn next(self) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ORDER[(i + 1) % Pane::ORDER.len()]
    }

    pub fn prev(self) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ORDER[(i + Pane::ORDER.len() - 1) % Pane::ORDER.len()]
    }
}

/// What the UI knows about one app. Every report is `None` until the engine
/// sends it: the screen then says it is not known, never guesses.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// The name from the config; replies find their app by it.
    pub name: String,
    /// Replies carrying another generation are stale and dropped.
    pub generation: Generation,
    pub status: Option<AppStatus>,
    pub resources: Option<Vec<ResourceRow>>,
    pub diff: Option<Vec<DiffLine>>,
    /// Newest first.
    pub commits: Option<Vec<CommitRow>>,
    /// The last failure reading or comparing the app; cleared by a new status.
    pub error: Option<String>,
}

impl AppState {
    pub fn new(name: impl Into<String>) -> AppState {
        AppState {
            name: name.into(),
            generation: Generation::default(),
            status: None,
            resources: None,
            diff: None,
            commits: None,
            error: None,
        }
    }
}

/// A selection in a list, and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

impl Cursor {
    /// Selects `target` (clamped to the list) and scrolls so it stays among
    /// the `rows` rows shown.
    pub fn select(&mut self, target: usize, len: usize, rows: usize) {
        let rows = rows.max(1);
        self.selected = target.min(len.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
        self.offset = self.offset.min(len.saturating_sub(rows));
    }

    /// Scrolls a view without a selection (the diff): the first row shown is
    /// the position, and the last page stays full.
    pub fn scroll(&mut self, target: usize, len: usize, rows: usize) {
        self.offset = target.min(len.saturating_sub(rows.max(1)));
        self.selected = self.offset;
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursors {
    pub apps: Cursor,
    pub resources: Cursor,
    pub diff: Cursor,
    pub commits: Cursor,
}

/// Everything the view draws from.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// In config order.
    pub apps: Vec<AppState>,
    pub focus: Pane,
    /// The resources, diff and commits cursors are the selected app's.
    pub cursors: Cursors,
    /// The help overlay's scroll position, when it is open.
    pub help: Option<usize>,
    /// A warning for the operator (a bad theme file), until dismissed.
    pub notice: Option<String>,
    /// `None` until the engine counts.
    pub requests: Option<RequestCounts>,
    pub readonly: bool,
    /// Where the config is (or would be), for the hints.
    pub config_file: PathBuf,
    pub keymap: Keymap,
    pub theme: Theme,
    /// The terminal's size, for page moves.
    pub size: Size,
}

impl State {
    pub fn new(config: &Config, config_file: &Path, keymap: Keymap, theme: Theme) -> State {
        State {
            apps: config
                .apps
                .iter()
                .map(|app| AppState::new(&app.name))
                .collect(),
            focus: Pane::Apps,
            cursors: Cursors::default(),
            help: None,
            notice: None,
            requests: None,
            readonly: config.ui.readonly,
            config_file: config_file.to_path_buf(),
            keymap,
            theme,
            size: Size::new(0, 0),
        }
    }

    /// The app the apps cursor is on.
    pub fn selected_app(&self) -> Option<&AppState> {
        self.apps.get(self.cursors.apps.selected)
    }

    /// Where keys are read now.
    pub fn context(&self) -> Context {
        if self.help.is_some() {
            Context::Help
        } else {
            Context::Panes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_order_goes_round_both_ways() {
        let mut pane = Pane::Apps;
        for expected in [Pane::Resources, Pane::Diff, Pane::Commits, Pane::Apps] {
            pane = pane.next();
            assert_eq!(pane, expected);
        }
        assert_eq!(Pane::Apps.prev(), Pane::Commits);
        assert_eq!(Pane::Resources.prev(), Pane::Apps);
    }

    #[test]
    fn cursor_keeps_the_selection_in_view() {
        let mut cursor = Cursor::default();
        cursor.select(7, 20, 5);
        assert_eq!(
            cursor,
            Cursor {
                selected: 7,
                offset: 3
            }
        );
        cursor.select(5, 20, 5);
        assert_eq!(
            cursor,
            Cursor {
                selected: 5,
                offset: 3
            }
        );
        cursor.select(1, 20, 5);
        assert_eq!(
            cursor,
            Cursor {
                selected: 1,
                offset: 1
            }
        );
        cursor.select(99, 20, 5);
        assert_eq!(
            cursor,
            Cursor {
                selected: 19,
                offset: 15
            }
        );
        cursor.select(3, 0, 5);
        assert_eq!(cursor, Cursor::default());
    }

    #[test]
    fn a_shorter_list_or_a_taller_pane_pulls_the_offset_back() {
        let mut cursor = Cursor {
            selected: 19,
            offset: 15,
        };
        cursor.select(19, 20, 10);
        assert_eq!(
            cursor,
            Cursor {
                selected: 19,
                offset: 10
            }
        );
        cursor.select(19, 4, 10);
        assert_eq!(
            cursor,
            Cursor {
                selected: 3,
                offset: 0
            }
        );
    }

    #[test]
    fn scrolling_keeps_the_last_page_full() {
        let mut cursor = Cursor::default();
        cursor.scroll(50, 30, 10);
        assert_eq!(cursor.offset, 20);
        cursor.scroll(3, 5, 10);
        assert_eq!(cursor.offset, 0);
    }
}
