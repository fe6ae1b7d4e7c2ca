//! Which key does what: the default bindings, the config's `[keys]` over them,
//! and the checks that turn a bad binding into a config error before the
//! terminal is touched.

use std::collections::HashMap;
use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::{Config, ConfigError};

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
}

/// Where keys are read. Two actions may share a key only in different contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The four panes.
    Panes,
    /// The help overlay, over the panes.
    Help,
}

/// The group an action is listed under in the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Move,
    Panes,
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

const EVERYWHERE: &[Context] = &[Context::Panes, Context::Help];
const PANES_ONLY: &[Context] = &[Context::Panes];

impl Action {
    /// Every action, in the order the help lists them.
    pub const ALL: [Action; 13] = [
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::FocusNext,
        Action::FocusPrev,
        Action::Open,
        Action::Back,
        Action::Refresh,
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
            Action::FocusNext => ActionSpec {
                name: "focus_next",
                description: "next pane",
                section: Section::Panes,
                default_keys: &["tab"],
                contexts: PANES_ONLY,
                hint: Some("pane"),
            },
            Action::FocusPrev => ActionSpec {
                name: "focus_prev",
                description: "previous pane",
                section: Section::Panes,
                default_keys: &["shift-tab"],
                contexts: PANES_ONLY,
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

    fn applies_in(self, context: Context) -> bool {
        self.spec().contexts.contains(&context)
    }
}

/// A key with its modifiers, normalized so that what the terminal sends and
/// what the config writes compare equal (`G` is shift-g, `shift-tab` is back-tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    code: KeyCode,
    modifiers: KeyModifiers,
}

impl KeyChord {
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyChord {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let shift = modifiers.contains(KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) => {
                // A character already carries its shift; control letters arrive lower-case.
                modifiers.remove(KeyModifiers::SHIFT);
                if modifiers.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else if shift {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if shift => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        KeyChord { code, modifiers }
    }

    pub fn from_event(event: &KeyEvent) -> KeyChord {
        KeyChord::new(event.code, event.modifiers)
    }

    /// Reads a key as the config writes it: `q`, `G`, `?`, `ctrl-r`, `alt-x`,
    /// `shift-tab`, `enter`, `esc`, `space`, `up`, `pgdn`, `home`, `f5`.
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        let mut rest = text;
        let mut modifiers = KeyModifiers::NONE;
        while let Some((head, tail)) = rest.split_once('-') {
            let modifier = match head.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => KeyModifiers::CONTROL,
                "alt" | "meta" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => break,
            };
            if tail.is_empty() {
                break;
            }
            modifiers |= modifier;
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => named_key(&rest.to_ascii_lowercase()).ok_or_else(|| {
                format!(
                    "unknown key \"{text}\"; keys look like q, G, ?, ctrl-r, alt-x, shift-tab, \
                     enter, esc, space, up, pgdn, home, f5"
                )
            })?,
        };
        Ok(KeyChord::new(code, modifiers))
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    let code = match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pagedown" => KeyCode::PageDown,
        _ => {
            let number: u8 = name.strip_prefix('f')?.parse().ok()?;
            return (1..=24).contains(&number).then_some(KeyCode::F(number));
        }
    };
    Some(code)
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{}", format!("{other:?}").to_ascii_lowercase()),
        }
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
    for context in [Context::Panes, Context::Help] {
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
mod tests {
    use std::path::Path;

    use ratatui::crossterm::event::KeyEventKind;

    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(Path::new("config.toml"), text).unwrap()
    }

    fn keymap(text: &str) -> Result<Keymap, String> {
        Keymap::from_config(&config(text)).map_err(|e| e.to_string())
    }

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new_with_kind(code, modifiers, KeyEventKind::Press)
    }

    #[test]
    fn every_default_key_parses_and_no_two_defaults_clash() {
        for action in Action::ALL {
            let spec = action.spec();
            assert_eq!(
                default_chords(action).len(),
                spec.default_keys.len(),
                "{}",
                spec.name
            );
        }
        assert_eq!(
            Keymap::from_config(&Config::default()).unwrap(),
            Keymap::defaults()
        );
    }

    #[test]
    fn action_names_are_unique_and_found_by_name() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.spec().name), Some(action));
        }
        assert_eq!(Action::from_name("sync"), None);
    }

    #[test]
    fn keys_from_the_terminal_match_the_config_spelling() {
        let map = Keymap::defaults();
        let cases = [
            (press(KeyCode::Char('q'), KeyModifiers::NONE), Action::Quit),
            (
                press(KeyCode::Char('c'), KeyModifiers::CONTROL),
                Action::Quit,
            ),
            (
                press(KeyCode::Char('G'), KeyModifiers::SHIFT),
                Action::Bottom,
            ),
            (
                press(KeyCode::BackTab, KeyModifiers::SHIFT),
                Action::FocusPrev,
            ),
            (press(KeyCode::Tab, KeyModifiers::SHIFT), Action::FocusPrev),
            (press(KeyCode::Char('?'), KeyModifiers::SHIFT), Action::Help),
            (
                press(KeyCode::PageDown, KeyModifiers::NONE),
                Action::PageDown,
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(
                map.action(Context::Panes, &event),
                Some(expected),
                "{event:?}"
            );
        }
        assert_eq!(
            map.action(
                Context::Panes,
                &press(KeyCode::Char('x'), KeyModifiers::NONE)
            ),
            None
        );
    }

    #[test]
    fn context_limits_what_a_key_does() {
        let map = Keymap::defaults();
        let tab = press(KeyCode::Tab, KeyModifiers::NONE);
        assert_eq!(map.action(Context::Panes, &tab), Some(Action::FocusNext));
        assert_eq!(map.action(Context::Help, &tab), None);
    }

    #[test]
    fn parses_and_prints_key_names() {
        for text in [
            "q",
            "G",
            "?",
            "ctrl-r",
            "alt-x",
            "shift-tab",
            "enter",
            "esc",
            "space",
            "pgdn",
            "f5",
            "-",
        ] {
            assert_eq!(KeyChord::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            KeyChord::parse("shift-g").unwrap(),
            KeyChord::parse("G").unwrap()
        );
        assert_eq!(
            KeyChord::parse("Ctrl-C").unwrap(),
            KeyChord::parse("ctrl-c").unwrap()
        );
        assert_eq!(KeyChord::parse("PageDown").unwrap().to_string(), "pgdn");
        assert_eq!(KeyChord::parse("ctrl--").unwrap().to_string(), "ctrl--");
        for bad in ["", "ctrl-", "hyper-x", "f0", "f99", "enterr"] {
            assert!(KeyChord::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_config_binding_replaces_the_defaults_of_its_action() {
        let map = keymap("[keys]\nquit = \"x\"\ndown = [\"n\", \"down\"]\n").unwrap();
        let x = press(KeyCode::Char('x'), KeyModifiers::NONE);
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Panes, &x), Some(Action::Quit));
        assert_eq!(map.action(Context::Panes, &q), None);
        assert_eq!(map.keys(Action::Down).len(), 2);
        assert_eq!(map.keys(Action::Down)[0].to_string(), "n");
    }

    #[test]
    fn a_freed_default_key_can_be_taken_by_another_action() {
        let map = keymap("[keys]\nquit = \"x\"\nhelp = \"q\"\n").unwrap();
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Panes, &q), Some(Action::Help));
    }

    #[test]
    fn two_actions_on_one_key_name_both_and_the_line() {
        let err = keymap("[keys]\nhelp = \"q\"\n").unwrap_err();
        assert_eq!(
            err,
            "config.toml:2:8: key \"q\" is bound to both \"quit\" (by default) and \"help\" (line 2); give one of them another key"
        );
        let err = keymap("[keys]\ntop = \"t\"\n\nbottom = [\"b\", \"t\"]\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:4:10: key \"t\" is bound to both \"top\" (line 2) and \"bottom\" (line 4)"),
            "{err}"
        );
    }

    #[test]
    fn a_pane_action_and_an_action_of_every_context_clash() {
        let err = keymap("[keys]\nopen = \"x\"\nquit = \"x\"\n").unwrap_err();
        assert!(
            err.contains("bound to both \"open\" (line 2) and \"quit\" (line 3)"),
            "{err}"
        );
    }

    #[test]
    fn unknown_action_is_an_error_with_the_choices() {
        let err = keymap("[keys]\nsnyc = \"s\"\n").unwrap_err();
        assert!(
            err.starts_with(
                "config.toml:2:8: unknown action \"snyc\" in [keys], expected one of up, down,"
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_is_an_error_naming_action_and_key() {
        let err = keymap("[keys]\n\nquit = [\"q\", \"ctrl-\"]\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:3:8: \"quit\": unknown key \"ctrl-\""),
            "{err}"
        );
    }

    #[test]
    fn quit_cannot_be_left_without_a_key() {
        let err = keymap("[keys]\nquit = []\n").unwrap_err();
        assert!(err.contains("\"quit\" needs at least one key"), "{err}");
        let map = keymap("[keys]\nopen = []\n").unwrap();
        assert!(map.keys(Action::Open).is_empty());
    }

    #[test]
    fn readme_lists_every_default_binding() {
        let readme = include_str!("../../README.md");
        for action in Action::ALL {
            let spec = action.spec();
            let keys: Vec<String> = spec.default_keys.iter().map(|k| format!("`{k}`")).collect();
            let row = format!(
                "| {} | `{}` | {} |",
                keys.join(" "),
                spec.name,
                spec.description
            );
            assert!(readme.contains(&row), "README.md lacks the row {row}");
        }
    }
}
