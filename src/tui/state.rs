//! What the UI knows: the configured apps and what the engine has reported
//! about each, which pane has the focus, where each cursor is, what overlays
//! and notices are up. Owned by the UI loop alone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::tz::TimeZone;
use ratatui::layout::Size;

use super::app_state::AppState;
use super::commit_log;
use super::dialog::OpenDialog;
use super::filter::Query;
use super::keymap::{Context, Keymap};
use super::order::SortMode;
use super::pane::Pane;
use super::prompt::Prompt;
use super::syncing::SyncResult;
use super::theme::Theme;
use crate::config::Config;
use crate::drift::ResourceResult;
use crate::source::LogEntry;

/// Requests sent to Git remotes and API servers since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCounts {
    pub git: u64,
    pub cluster: u64,
}

/// What the diff pane is about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detail<'a> {
    App,
    Resource(&'a ResourceResult),
    Commit(&'a LogEntry),
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

/// Which apps and resources the lists show, in their order: positions in
/// `State::apps` and in the selected app's report. Derived from the
/// reports, the sort, the filters and the context; `listing::relist` keeps
/// it current, so drawing and moving never sort.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub apps: Vec<usize>,
    pub resources: Vec<usize>,
    /// The widest kind and `namespace/name` listed, in cells, for the
    /// resources table's columns.
    pub kind_width: usize,
    pub name_width: usize,
}

/// What `/` was given in each pane: the lists narrow to it, the diff
/// searches for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub apps: String,
    pub resources: String,
    pub diff: String,
}

impl Filters {
    pub fn of(&self, pane: Pane) -> &str {
        match pane {
            Pane::Apps => &self.apps,
            Pane::Resources => &self.resources,
            Pane::Diff => &self.diff,
            Pane::Commits => "",
        }
    }

    pub fn of_mut(&mut self, pane: Pane) -> Option<&mut String> {
        match pane {
            Pane::Apps => Some(&mut self.apps),
            Pane::Resources => Some(&mut self.resources),
            Pane::Diff => Some(&mut self.diff),
            Pane::Commits => None,
        }
    }
}

/// What the diff pane shows of a resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DiffMode {
    /// Changed fields and the unified diff.
    #[default]
    Changes,
    /// The object as YAML: live, desired, or both side by side.
    Yaml(YamlSide),
    /// Desired and live side by side, changed words marked.
    SideBySide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlSide {
    Live,
    Desired,
    Both,
}

/// How the diff pane lays out long lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reading {
    pub mode: DiffMode,
    /// Long lines go on over several rows; otherwise they scroll sideways.
    pub wrap: bool,
    /// The first column shown when not wrapping.
    pub column: usize,
    /// The line of the search match `n`/`N` went to last.
    pub found: Option<usize>,
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
    /// A line that stays above the status bar when there is no notice
    /// (the demo says what it is and how to leave).
    pub banner: Option<String>,
    /// `None` until the engine counts.
    pub requests: Option<RequestCounts>,
    pub readonly: bool,
    /// Where the config is (or would be), for the hints.
    pub config_file: PathBuf,
    pub keymap: Keymap,
    pub theme: Theme,
    /// The terminal's size, for page moves.
    pub size: Size,
    /// Times are shown in this zone (the system's; UTC in tests).
    pub time_zone: TimeZone,
    /// The spinner's frame, moved on by `Msg::Tick`.
    pub spinner: usize,
    pub sort: SortMode,
    pub listing: Listing,
    pub filters: Filters,
    /// The filter or command line being typed.
    pub prompt: Option<Prompt>,
    /// Command lines entered, oldest first.
    pub history: Vec<String>,
    pub reading: Reading,
    /// Exact comparison (a server-side dry run) asked of the engine.
    pub exact: bool,
    /// `:ctx`: only the apps of this kubeconfig context are listed.
    pub context_view: Option<String>,
    /// The time, as of the last `Msg::Clock`; ages of stale data count from it.
    pub now: Option<jiff::Timestamp>,
    /// Where the sort is kept between runs; `None` keeps it for this run only.
    pub memory_file: Option<PathBuf>,
    /// Where `:theme` finds theme files besides the built-in ones.
    pub themes_dir: Option<PathBuf>,
    /// The external diff viewer's command line, if one is set.
    pub diff_viewer: Option<String>,
    /// The operator has picked an app; until then a re-sort puts the
    /// cursor on the app that needs attention most.
    pub app_chosen: bool,
    /// The Commits pane lists every commit of the branch, not only those
    /// that change the app's path.
    pub all_commits: bool,
    /// The confirm dialog on screen, if one is.
    pub dialog: Option<OpenDialog>,
    /// The app `p` asked to unpin, until the operator answers the question
    /// in the notice line.
    pub unpin_asked: Option<String>,
    /// The message of a Git rollback being edited, once its dialog was
    /// confirmed with a Git choice.
    pub rollback_message: Option<crate::tui::dialog::MessageEditor>,
    /// The app whose Git rollback is being pushed to its branch, with the
    /// plan shown, for the sync that follows the push.
    pub pending_git_sync: Option<(String, Arc<crate::sync::SyncPlan>)>,
    /// How the last sync ended, for the status bar.
    pub sync_result: Option<SyncResult>,
    /// Quit was asked for while syncs ran: the UI quits when they end.
    pub quitting: bool,
    /// `user@host`, as an Argo CD operation's initiator is written; shown
    /// in the dialog before it is. `None` in tests.
    pub operator: Option<String>,
}

impl State {
    pub fn new(config: &Config, config_file: &Path, keymap: Keymap, theme: Theme) -> State {
        State {
            apps: config
                .apps
                .iter()
                .map(|app| AppState {
                    context: app.context.clone(),
                    poll: Some(app.poll),
                    require_signed: app.sync.require_signed,
                    rollback_mode: app.sync.rollback,
                    ..AppState::new(&app.name)
                })
                .collect(),
            focus: Pane::Apps,
            cursors: Cursors::default(),
            help: None,
            notice: None,
            banner: None,
            requests: None,
            readonly: config.ui.readonly,
            config_file: config_file.to_path_buf(),
            keymap,
            theme,
            size: Size::new(0, 0),
            time_zone: TimeZone::system(),
            spinner: 0,
            sort: SortMode::default(),
            listing: Listing {
                apps: (0..config.apps.len()).collect(),
                ..Listing::default()
            },
            filters: Filters::default(),
            prompt: None,
            history: Vec::new(),
            reading: Reading::default(),
            exact: false,
            context_view: None,
            now: None,
            memory_file: None,
            themes_dir: None,
            diff_viewer: config
                .ui
                .diff_viewer
                .clone()
                .filter(|v| !v.trim().is_empty()),
            app_chosen: false,
            all_commits: false,
            dialog: None,
            unpin_asked: None,
            rollback_message: None,
            pending_git_sync: None,
            sync_result: None,
            quitting: false,
            operator: None,
        }
    }

    /// The position in `apps` of the app the apps cursor is on.
    pub fn selected_app_index(&self) -> Option<usize> {
        self.listing.apps.get(self.cursors.apps.selected).copied()
    }

    /// The app the apps cursor is on.
    pub fn selected_app(&self) -> Option<&AppState> {
        self.apps.get(self.selected_app_index()?)
    }

    /// The resource the resources cursor is on.
    pub fn selected_resource(&self) -> Option<&ResourceResult> {
        let report = self.selected_app()?.report.as_ref()?;
        let index = self
            .listing
            .resources
            .get(self.cursors.resources.selected)?;
        report.resources.get(*index)
    }

    /// The resources listed for the selected app, in their order.
    pub fn listed_resources(&self) -> impl Iterator<Item = &ResourceResult> {
        let resources = self
            .selected_app()
            .and_then(|app| app.report.as_ref())
            .map_or(&[][..], |report| report.resources.as_slice());
        self.listing
            .resources
            .iter()
            .filter_map(move |&i| resources.get(i))
    }

    /// The filter of a list pane, parsed.
    pub fn query(&self, pane: Pane) -> Query {
        Query::parse(self.filters.of(pane))
    }

    /// The commit the commits cursor is on.
    pub fn selected_commit(&self) -> Option<&LogEntry> {
        let app = self.selected_app()?;
        let index = commit_log::selected(app, self.all_commits, self.cursors.commits.selected)?;
        app.commits.as_ref()?.get(index)
    }

    /// The commits the Commits pane lists: positions in the app's history.
    pub fn listed_commits(&self) -> Vec<usize> {
        self.selected_app()
            .map(|app| commit_log::listed(app, self.all_commits))
            .unwrap_or_default()
    }

    /// What the diff pane shows: the selected resource while the focus is
    /// on the resources or the diff, the selected commit while it is on the
    /// commits, else the selected app.
    pub fn detail(&self) -> Detail<'_> {
        let detail = match self.focus {
            Pane::Resources | Pane::Diff => self.selected_resource().map(Detail::Resource),
            Pane::Commits => self.selected_commit().map(Detail::Commit),
            Pane::Apps => None,
        };
        detail.unwrap_or(Detail::App)
    }

    /// Whether an age is on screen (an app's stale data), so the clock ticks.
    pub fn shows_ages(&self) -> bool {
        self.shows_stale_ages() || self.shows_commit_ages()
    }

    /// Whether an app's stale data is on screen, with its age in seconds.
    pub fn shows_stale_ages(&self) -> bool {
        self.apps
            .iter()
            .any(|app| app.report.as_ref().is_some_and(|r| r.stale_since.is_some()))
    }

    /// Whether commits are listed, with their ages (which turn by the minute).
    pub fn shows_commit_ages(&self) -> bool {
        self.selected_app().is_some_and(|app| app.commits.is_some())
    }

    /// Whether some app waits for a verdict, so the spinner turns.
    pub fn is_busy(&self) -> bool {
        self.apps.iter().any(AppState::is_busy)
    }

    /// Where keys are read now.
    pub fn context(&self) -> Context {
        if self.prompt.is_some() {
            Context::Prompt
        } else if self.help.is_some() {
            Context::Help
        } else if self.dialog.is_some()
            || self.unpin_asked.is_some()
            || self.rollback_message.is_some()
        {
            Context::Dialog
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
