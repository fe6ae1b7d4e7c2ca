//! The vocabulary of the UI loop: messages in (keys, resizes, engine replies),
//! commands out.

use ratatui::crossterm::event::KeyEvent;

use super::keymap::Action;
use super::report::{AppStatus, CommitRow, DiffLine, RequestCounts, ResourceRow};

/// Everything that can change the UI's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key from the terminal; the keymap turns it into an action.
    Key(KeyEvent),
    /// An action, whatever asked for it (a key, the command line, a test).
    Action(Action),
    /// The terminal's new size in cells.
    Resize { width: u16, height: u16 },
    /// What the engine found out about one app.
    Reply(Reply),
    /// The engine's running count of network requests.
    RequestCounts(RequestCounts),
}

/// Counts the requests made about an app. The UI bumps it when it asks anew
/// (a refresh, a context switch); a reply carrying an older one is stale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(pub u64);

/// An engine result for one app, tagged with the generation it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The app's name, as in the config.
    pub app: String,
    pub generation: Generation,
    pub body: ReplyBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    Status(AppStatus),
    Resources(Vec<ResourceRow>),
    Diff(Vec<DiffLine>),
    /// Newest first.
    Commits(Vec<CommitRow>),
    /// The app could not be read or compared; the message says what and where.
    Failed(String),
}

/// What `update` asks the outside world to do. Engine requests (refresh,
/// sync, rollback, each carrying an app and a generation) join this enum
/// when the engine exists to carry them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Quit,
}

/// The result of one `update`: whether the screen must be redrawn, and the
/// commands to run.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub changed: bool,
    pub commands: Vec<Command>,
}

impl Outcome {
    pub fn unchanged() -> Outcome {
        Outcome::default()
    }

    pub fn changed() -> Outcome {
        Outcome {
            changed: true,
            commands: Vec::new(),
        }
    }

    pub fn command(command: Command) -> Outcome {
        Outcome {
            changed: false,
            commands: vec![command],
        }
    }
}
