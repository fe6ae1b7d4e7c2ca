//! The line typed at the bottom of the screen: a filter (`/`) or a command
//! (`:`). The text editing is `ratatui-textarea`'s; what a command line
//! means and how it completes is here, as values.

use std::fmt;

use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::{CursorMove, TextArea};

use super::order::SortMode;
use super::pane::Pane;

/// What the line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Narrows the list of this pane (or searches the diff) as it is typed.
    Filter(Pane),
    Command,
}

/// A line being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub purpose: Purpose,
    pub input: LineInput,
    /// The history entry shown, while going through the history.
    pub recalled: Option<usize>,
}

impl Prompt {
    pub fn new(purpose: Purpose, text: &str) -> Prompt {
        Prompt {
            purpose,
            input: LineInput::new(text),
            recalled: None,
        }
    }
}

/// One line of editable text.
#[derive(Clone)]
pub struct LineInput(TextArea<'static>);

impl LineInput {
    pub fn new(text: &str) -> LineInput {
        let mut area = TextArea::new(vec![text.to_string()]);
        area.move_cursor(CursorMove::End);
        LineInput(area)
    }

    pub fn text(&self) -> &str {
        self.0.lines().first().map_or("", String::as_str)
    }

    /// The cursor's column, in characters.
    pub fn cursor(&self) -> usize {
        self.0.cursor().1
    }

    /// Replaces the text, the cursor at its end.
    pub fn set(&mut self, text: &str) {
        *self = LineInput::new(text);
    }

    /// Edits the line by a key (characters, backspace, arrows, ctrl-w, …);
    /// whether the text or the cursor moved.
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        let before = (self.text().to_string(), self.cursor());
        self.0.input_without_shortcuts(key);
        // One line only: a newline never gets in.
        if self.0.lines().len() > 1 {
            let joined = self.0.lines().join("");
            self.set(&joined);
        }
        before != (self.text().to_string(), self.cursor())
    }
}

impl PartialEq for LineInput {
    fn eq(&self, other: &LineInput) -> bool {
        self.text() == other.text() && self.cursor() == other.cursor()
    }
}

impl fmt::Debug for LineInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LineInput({:?} at {})", self.text(), self.cursor())
    }
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCommand {
    App(String),
    /// `None` lists every context again.
    Context(Option<String>),
    Theme(String),
    /// `None` goes on to the next order.
    Sort(Option<SortMode>),
    /// `None` toggles.
    Exact(Option<bool>),
    /// Compare again; an Argo CD app is asked to, `hard` without its caches.
    Refresh {
        hard: bool,
    },
    Quit,
}

/// The commands, with what they take, for completion and the help.
pub const COMMANDS: [(&str, &str); 7] = [
    ("app", "NAME    select an app"),
    ("ctx", "[NAME]  list only the apps of a context"),
    ("exact", "[on|off] exact comparison (server dry run)"),
    ("q", "        quit"),
    (
        "refresh",
        "[hard] compare again (Argo CD: hard drops its caches)",
    ),
    ("sort", "[attention|name|kind]"),
    ("theme", "NAME  use another theme"),
];

impl LineCommand {
    pub fn parse(line: &str) -> Result<LineCommand, String> {
        let line = line.trim().trim_start_matches(':');
        let (word, argument) = match line.split_once(char::is_whitespace) {
            Some((word, rest)) => (word, Some(rest.trim()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        let needs = |what: &str| format!(":{word} needs {what}");
        match (word, argument) {
            ("app", Some(name)) => Ok(LineCommand::App(name.to_string())),
            ("app", None) => Err(needs("an app's name")),
            ("ctx" | "context", context) => Ok(LineCommand::Context(context.map(str::to_string))),
            ("theme", Some(name)) => Ok(LineCommand::Theme(name.to_string())),
            ("theme", None) => Err(needs("a theme's name")),
            ("sort", None) => Ok(LineCommand::Sort(None)),
            ("sort", Some(mode)) => SortMode::from_name(mode)
                .map(|mode| LineCommand::Sort(Some(mode)))
                .ok_or_else(|| format!("no sort \"{mode}\"; attention, name or kind")),
            ("exact", None) => Ok(LineCommand::Exact(None)),
            ("exact", Some("on" | "true")) => Ok(LineCommand::Exact(Some(true))),
            ("exact", Some("off" | "false")) => Ok(LineCommand::Exact(Some(false))),
            ("exact", Some(other)) => Err(format!(":exact takes on or off, not \"{other}\"")),
            ("refresh", None | Some("normal")) => Ok(LineCommand::Refresh { hard: false }),
            ("refresh", Some("hard")) => Ok(LineCommand::Refresh { hard: true }),
            ("refresh", Some(other)) => {
                Err(format!(":refresh takes hard or normal, not \"{other}\""))
            }
            ("q" | "quit" | "q!" | "qa", None) => Ok(LineCommand::Quit),
            _ => Err(format!(
                "unknown command \":{line}\"; commands: {}",
                COMMANDS.map(|(name, _)| name).join(", ")
            )),
        }
    }
}

/// Completes the line's last word from `candidates` (the commands for the
/// first word, the command's arguments after it): to the only match with a
/// space after it, else to the longest prefix the matches share. `None`
/// when nothing matches or nothing would be added.
pub fn complete(line: &str, candidates: &[String]) -> Option<String> {
    let start = line.rfind(' ').map_or(0, |i| i + 1);
    let (head, word) = line.split_at(start);
    let matches: Vec<&String> = candidates.iter().filter(|c| c.starts_with(word)).collect();
    let completed = match matches.as_slice() {
        [] => return None,
        [only] if head.is_empty() => format!("{only} "),
        [only] => only.to_string(),
        [first, rest @ ..] => {
            let mut prefix = first.as_str();
            for other in rest {
                let common = prefix
                    .char_indices()
                    .zip(other.chars())
                    .find(|((_, a), b)| a != b)
                    .map_or(prefix.len().min(other.len()), |((at, _), _)| at);
                prefix = &prefix[..common];
            }
            prefix.to_string()
        }
    };
    let line = format!("{head}{completed}");
    (line.len() > head.len() + word.len()).then_some(line)
}

/// The words the line's last word could be: a command name for the first
/// word, else what that command takes.
pub fn candidates(
    line: &str,
    apps: &[String],
    contexts: &[String],
    themes: &[String],
) -> Vec<String> {
    let Some((command, _)) = line.split_once(' ') else {
        return COMMANDS.map(|(name, _)| name.to_string()).to_vec();
    };
    match command {
        "app" => apps.to_vec(),
        "ctx" | "context" => contexts.to_vec(),
        "theme" => themes.to_vec(),
        "sort" => SortMode::ALL.map(|m| m.name().to_string()).to_vec(),
        "exact" => vec!["on".to_string(), "off".to_string()],
        "refresh" => vec!["hard".to_string(), "normal".to_string()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn command_lines_parse_into_what_they_ask_for() {
        assert_eq!(
            LineCommand::parse("app  guestbook "),
            Ok(LineCommand::App("guestbook".into()))
        );
        assert_eq!(
            LineCommand::parse(":ctx prod-eu"),
            Ok(LineCommand::Context(Some("prod-eu".into())))
        );
        assert_eq!(LineCommand::parse("ctx"), Ok(LineCommand::Context(None)));
        assert_eq!(
            LineCommand::parse("sort name"),
            Ok(LineCommand::Sort(Some(SortMode::Name)))
        );
        assert_eq!(LineCommand::parse("exact"), Ok(LineCommand::Exact(None)));
        assert_eq!(
            LineCommand::parse("exact off"),
            Ok(LineCommand::Exact(Some(false)))
        );
        assert_eq!(LineCommand::parse("q"), Ok(LineCommand::Quit));
        assert!(LineCommand::parse("app").unwrap_err().contains("needs"));
        assert!(
            LineCommand::parse("snyc")
                .unwrap_err()
                .contains("commands: app, ctx, exact, q, refresh, sort, theme")
        );
        assert_eq!(
            LineCommand::parse("refresh hard"),
            Ok(LineCommand::Refresh { hard: true })
        );
        assert_eq!(
            LineCommand::parse("refresh"),
            Ok(LineCommand::Refresh { hard: false })
        );
        assert!(LineCommand::parse("refresh soft").is_err());
        assert!(LineCommand::parse("sort size").is_err());
    }

    #[test]
    fn completion_finishes_the_only_match_or_the_shared_prefix() {
        let commands = candidates("", &[], &[], &[]);
        assert_eq!(complete("th", &commands).as_deref(), Some("theme "));
        assert_eq!(complete("zz", &commands), None);
        let apps = strings(&["guestbook", "guest-api", "podinfo"]);
        let args = candidates("app gu", &apps, &[], &[]);
        assert_eq!(complete("app gu", &args).as_deref(), Some("app guest"));
        assert_eq!(complete("app guest", &args), None);
        assert_eq!(complete("app p", &args).as_deref(), Some("app podinfo"));
        let sorts = candidates("sort ", &[], &[], &[]);
        assert_eq!(complete("sort k", &sorts).as_deref(), Some("sort kind"));
    }

    #[test]
    fn the_line_edits_with_keys_and_stays_one_line() {
        let mut input = LineInput::new("kin");
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        assert!(input.edit(key(KeyCode::Char('d'))));
        assert_eq!(input.text(), "kind");
        assert!(input.edit(key(KeyCode::Backspace)));
        assert_eq!(input.text(), "kin");
        assert_eq!(input.cursor(), 3);
    }
}
