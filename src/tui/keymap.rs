//! Which key does what: the default bindings, the config's `[keys]` over them,
//! and the checks that turn a bad binding into a config error before the
//! terminal is touched.

use std::collections::HashMap;

use ratatui::crossterm::event::KeyEvent;

use crate::config::{Config, ConfigError};

mod chord;

pub use chord::KeyChord;

/// Everything a key can ask for. A new action is a variant here, its entry in
/// `ALL` and its `spec`; the help, the status bar and the config follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Back,
    Open,
    Refresh,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    ScrollLeft,
    ScrollRight,
    Filter,
    CommandLine,
    NextMatch,
    PrevMatch,
    Sort,
    Wrap,
    Yaml,
    SideBySide,
    ExternalDiff,
    AllCommits,
    Sync,
    Suspend,
    Rollback,
    Unpin,
    Confirm,
}

/// Where keys are read. Two actions may share a key only in different contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The four panes.
    Panes,
    /// The help overlay, over the panes.
    Help,
    /// A filter or command line being typed: keys are text, bar a few
    /// editing keys (enter, esc, tab, up, down).
    Prompt,
    /// A confirm dialog (the sync plan), over the panes.
    Dialog,
}

/// The group an action is listed under in the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Move,
    Panes,
    /// Finding and reading: filter, sort, command line, YAML, diffs.
    Read,
    /// What is done to the selected app.
    App,
    General,
}

/// How an action is named, described and bound by default.
pub struct ActionSpec {
    /// The name in the config's `[keys]` table.
    pub name: &'static str,
    pub description: &'static str,
    pub section: Section,
    pub default_keys: &'static [&'static str],
    pub contexts: &'static [Context],
    /// The word shown beside its key in the status bar, for the few that are.
    pub hint: Option<&'static str>,
}

const EVERYWHERE: &[Context] = &[Context::Panes, Context::Help, Context::Dialog];
const PANES_ONLY: &[Context] = &[Context::Panes];
const PANES_AND_DIALOG: &[Context] = &[Context::Panes, Context::Dialog];
const DIALOG_ONLY: &[Context] = &[Context::Dialog];

impl Action {
    /// Every action, in the order the help lists them.
    pub const ALL: [Action; 30] = [
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::ScrollLeft,
        Action::ScrollRight,
        Action::FocusNext,
        Action::FocusPrev,
        Action::Open,
        Action::Back,
        Action::Filter,
        Action::NextMatch,
        Action::PrevMatch,
        Action::Sort,
        Action::CommandLine,
        Action::Wrap,
        Action::Yaml,
        Action::SideBySide,
        Action::ExternalDiff,
        Action::AllCommits,
        Action::Refresh,
        Action::Sync,
        Action::Suspend,
        Action::Rollback,
        Action::Unpin,
        Action::Confirm,
        Action::Help,
        Action::Quit,
    ];

    pub const fn spec(self) -> ActionSpec {
        match self {
            Action::Up => ActionSpec {
                name: "up",
                description: "move up",
                section: Section::Move,
                default_keys: &["k", "up"],
                contexts: EVERYWHERE,
                hint: None,
            },
            Action::Down => ActionSpec {
                name: "down",
                description: "move down",
                section: Section::Move,
                default_keys: &["j", "down"],
                contexts: EVERYWHERE,
                hint: None,
            },
            Action::PageUp => ActionSpec {
                name: "page_up",
                description: "one page up",
                section: Section::Move,
                default_keys: &["pgup", "ctrl-u"],
                contexts: EVERYWHERE,
                hint: None,
            },
            Action::PageDown => ActionSpec {
                name: "page_down",
                description: "one page down",
                section: Section::Move,
                default_keys: &["pgdn", "ctrl-d"],
                contexts: EVERYWHERE,
                hint: None,
            },
            Action::Top => ActionSpec {
                name: "top",
                description: "to the first line",
                section: Section::Move,
                default_keys: &["home", "g"],
                contexts: EVERYWHERE,
                hint: None,
            },
            Action::Bottom => ActionSpec {
                name: "bottom",
                description: "to the last line",
                section: Section::Move,
                default_keys: &["end", "G"],
                contexts: EVERYWHERE,
                hint: None,
            },
            Action::ScrollLeft => ActionSpec {
                name: "scroll_left",
                description: "scroll long lines left",
                section: Section::Move,
                default_keys: &["h", "left"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::ScrollRight => ActionSpec {
                name: "scroll_right",
                description: "scroll long lines right",
                section: Section::Move,
                default_keys: &["l", "right"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::Filter => ActionSpec {
                name: "filter",
                description: "filter the list, or search the diff",
                section: Section::Read,
                default_keys: &["/"],
                contexts: PANES_ONLY,
                hint: Some("filter"),
            },
            Action::NextMatch => ActionSpec {
                name: "next_match",
                description: "next match of the diff search",
                section: Section::Read,
                default_keys: &["n"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::PrevMatch => ActionSpec {
                name: "prev_match",
                description: "previous match of the diff search",
                section: Section::Read,
                default_keys: &["N"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::Sort => ActionSpec {
                name: "sort",
                description: "sort by attention, name or kind",
                section: Section::Read,
                default_keys: &["o"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::CommandLine => ActionSpec {
                name: "command_line",
                description: "commands: app ctx exact refresh sort theme",
                section: Section::Read,
                default_keys: &[":"],
                contexts: PANES_ONLY,
                hint: Some("cmd"),
            },
            Action::Wrap => ActionSpec {
                name: "wrap",
                description: "wrap long lines, or scroll them",
                section: Section::Read,
                default_keys: &["w"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::Yaml => ActionSpec {
                name: "yaml",
                description: "YAML: live, desired, both, off",
                section: Section::Read,
                default_keys: &["y"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::SideBySide => ActionSpec {
                name: "side_by_side",
                description: "side-by-side diff, desired on the left",
                section: Section::Read,
                default_keys: &["D"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::ExternalDiff => ActionSpec {
                name: "external_diff",
                description: "open the diff in the external viewer",
                section: Section::Read,
                default_keys: &["e"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::AllCommits => ActionSpec {
                name: "all_commits",
                description: "all the branch's commits, or the app's",
                section: Section::Read,
                default_keys: &["a"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::FocusNext => ActionSpec {
                name: "focus_next",
                description: "next pane (in a dialog: next choice)",
                section: Section::Panes,
                default_keys: &["tab"],
                contexts: PANES_AND_DIALOG,
                hint: Some("pane"),
            },
            Action::FocusPrev => ActionSpec {
                name: "focus_prev",
                description: "previous pane (in a dialog: choice)",
                section: Section::Panes,
                default_keys: &["shift-tab"],
                contexts: PANES_AND_DIALOG,
                hint: None,
            },
            Action::Open => ActionSpec {
                name: "open",
                description: "show the selected item in the next pane",
                section: Section::Panes,
                default_keys: &["enter"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::Back => ActionSpec {
                name: "back",
                description: "close help or notice, else go back a pane",
                section: Section::Panes,
                default_keys: &["esc"],
                contexts: EVERYWHERE,
                hint: None,
            },
            Action::Refresh => ActionSpec {
                name: "refresh",
                description: "read Git now and compare again",
                section: Section::App,
                default_keys: &["r"],
                contexts: PANES_ONLY,
                hint: Some("refresh"),
            },
            Action::Sync => ActionSpec {
                name: "sync",
                description: "sync the app, or the selected resource",
                section: Section::App,
                default_keys: &["s"],
                contexts: PANES_ONLY,
                hint: Some("sync"),
            },
            Action::Suspend => ActionSpec {
                name: "suspend",
                description: "Flux app: suspend or resume it",
                section: Section::App,
                default_keys: &["S"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::Rollback => ActionSpec {
                name: "rollback",
                description: "roll back to the commit: pin, or in Git",
                section: Section::App,
                default_keys: &["R"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::Unpin => ActionSpec {
                name: "unpin",
                description: "unpin the app: follow its branch's head",
                section: Section::App,
                default_keys: &["p"],
                contexts: PANES_ONLY,
                hint: None,
            },
            Action::Confirm => ActionSpec {
                name: "confirm",
                description: "in a dialog: go ahead (esc cancels)",
                section: Section::App,
                default_keys: &["y", "enter"],
                contexts: DIALOG_ONLY,
                hint: None,
            },
            Action::Help => ActionSpec {
                name: "help",
                description: "show or hide this help",
                section: Section::General,
                default_keys: &["?"],
                contexts: EVERYWHERE,
                hint: Some("help"),
            },
            Action::Quit => ActionSpec {
                name: "quit",
                description: "quit driftdeck",
                section: Section::General,
                default_keys: &["q", "ctrl-c"],
                contexts: EVERYWHERE,
                hint: Some("quit"),
            },
        }
    }

    /// The action a `[keys]` entry names.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.spec().name == name)
    }

    /// Whether it writes to a cluster or a repository: gone under `--readonly`.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::Sync | Action::Suspend | Action::Rollback | Action::Unpin | Action::Confirm
        )
    }

    fn applies_in(self, context: Context) -> bool {
        self.spec().contexts.contains(&context)
    }
}

/// The keys of every action: the defaults, with the config's bindings in their place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// One entry per action, in `Action::ALL` order.
    bindings: Vec<(Action, Vec<KeyChord>)>,
}

/// Where a binding comes from, to name it in a conflict.
#[derive(Clone, Copy)]
enum Origin {
    Default,
    Config { line: usize, column: usize },
}

impl Keymap {
    pub fn defaults() -> Keymap {
        Keymap {
            bindings: Action::ALL
                .into_iter()
                .map(|action| (action, default_chords(action)))
                .collect(),
        }
    }

    /// The defaults with the config's `[keys]` over them. Unknown actions or
    /// keys, and two actions on one key in one context, are errors at the
    /// binding's line.
    pub fn from_config(config: &Config) -> Result<Keymap, ConfigError> {
        let file = config.file.clone().unwrap_or_default();
        let mut bindings: Vec<(Action, Vec<KeyChord>, Origin)> = Action::ALL
            .into_iter()
            .map(|action| (action, default_chords(action), Origin::Default))
            .collect();
        let mut written: Vec<_> = config.keys.iter().collect();
        written.sort_by_key(|binding| (binding.line, binding.column));
        for binding in written {
            let invalid = |message: String| ConfigError::Invalid {
                file: file.clone(),
                line: binding.line,
                column: binding.column,
                message,
            };
            let action = Action::from_name(&binding.action).ok_or_else(|| {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.spec().name).collect();
                invalid(format!(
                    "unknown action \"{}\" in [keys], expected one of {}",
                    binding.action,
                    names.join(", ")
                ))
            })?;
            let mut chords = Vec::new();
            for text in &binding.keys {
                let chord = KeyChord::parse(text)
                    .map_err(|why| invalid(format!("\"{}\": {why}", binding.action)))?;
                if !chords.contains(&chord) {
                    chords.push(chord);
                }
            }
            if chords.is_empty() && action == Action::Quit {
                return Err(invalid(
                    "\"quit\" needs at least one key, or driftdeck could not be left".into(),
                ));
            }
            // A rebound action moves to the end, so a conflict is reported at
            // the binding written last.
            bindings.retain(|(a, _, _)| *a != action);
            bindings.push((
                action,
                chords,
                Origin::Config {
                    line: binding.line,
                    column: binding.column,
                },
            ));
        }
        check_conflicts(&bindings, &file)?;
        let mut keymap = Keymap::defaults();
        for (action, chords, _) in bindings {
            if let Some(entry) = keymap.bindings.iter_mut().find(|(a, _)| *a == action) {
                entry.1 = chords;
            }
        }
        Ok(keymap)
    }

    /// The action a key asks for in a context, if any.
    pub fn action(&self, context: Context, key: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(key);
        self.bindings
            .iter()
            .find(|(action, chords)| action.applies_in(context) && chords.contains(&chord))
            .map(|(action, _)| *action)
    }

    /// The key hints show for an action (its first), `""` when it has none.
    pub fn hint_key(&self, action: Action) -> String {
        self.keys(action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// The keys bound to an action, the first one being the one hints show.
    pub fn keys(&self, action: Action) -> &[KeyChord] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map_or(&[], |(_, chords)| chords.as_slice())
    }
}

/// The parsed defaults; a default that does not parse is left out, and the
/// tests make sure none is.
fn default_chords(action: Action) -> Vec<KeyChord> {
    action
        .spec()
        .default_keys
        .iter()
        .filter_map(|text| KeyChord::parse(text).ok())
        .collect()
}

fn check_conflicts(
    bindings: &[(Action, Vec<KeyChord>, Origin)],
    file: &std::path::Path,
) -> Result<(), ConfigError> {
    for context in [
        Context::Panes,
        Context::Help,
        Context::Prompt,
        Context::Dialog,
    ] {
        let mut seen: HashMap<KeyChord, (Action, Origin)> = HashMap::new();
        for (action, chords, origin) in bindings {
            if !action.applies_in(context) {
                continue;
            }
            for chord in chords {
                match seen.get(chord) {
                    Some((other, other_origin)) if other != action => {
                        let (line, column) = match (origin, other_origin) {
                            (Origin::Config { line, column }, _)
                            | (_, Origin::Config { line, column }) => (*line, *column),
                            (Origin::Default, Origin::Default) => (1, 1),
                        };
                        return Err(ConfigError::Invalid {
                            file: file.to_path_buf(),
                            line,
                            column,
                            message: format!(
                                "key \"{chord}\" is bound to both \"{}\" ({}) and \"{}\" ({}); give one of them another key",
                                other.spec().name,
                                describe(*other_origin),
                                action.spec().name,
                                describe(*origin),
                            ),
                        });
                    }
                    _ => {
                        seen.insert(*chord, (*action, *origin));
                    }
                }
            }
        }
    }
    Ok(())
}

fn describe(origin: Origin) -> String {
    match origin {
        Origin::Default => "by default".to_string(),
        Origin::Config { line, .. } => format!("line {line}"),
    }
}

#[cfg(test)]
mod tests;
