//! The vocabulary of the UI loop: messages in (keys, resizes, engine events,
//! spinner beats), commands out.

use ratatui::crossterm::event::KeyEvent;

use super::keymap::Action;
use super::memory::Memory;
use super::theme::Theme;
use crate::engine::{EngineCommand, EngineEvent};

/// Everything that can change the UI's state.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key from the terminal; the keymap turns it into an action.
    Key(KeyEvent),
    /// An action, whatever asked for it (a key, the command line, a test).
    Action(Action),
    /// The terminal's new size in cells.
    Resize { width: u16, height: u16 },
    /// What the engine found out: a verdict, a history, a source's state,
    /// request counts. Verdicts and histories carry the generation they answer.
    Engine(EngineEvent),
    /// A beat of the progress spinner. The loop sends it only while
    /// `State::is_busy`, so an idle driftdeck is never woken.
    Tick,
    /// The time now. The loop sends it once a second only while an age is
    /// on screen (`State::shows_ages`).
    Clock(jiff::Timestamp),
    /// The theme `:theme` asked for, read; with why another was used.
    Theme {
        theme: Box<Theme>,
        warning: Option<String>,
    },
    /// The external diff viewer is done; why it failed, if it did.
    ViewerDone(Result<(), String>),
}

/// What `update` asks the outside world to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Quit,
    /// For the engine, as is.
    Engine(EngineCommand),
    /// Keep these choices for the next run.
    Remember(Memory),
    /// Read a theme by name (built in, or a file in the themes folder).
    LoadTheme(String),
    /// Suspend the screen and run the external diff viewer on two files.
    ExternalDiff(ExternalDiff),
}

/// What the external viewer is run on: the two sides of one resource,
/// Secrets masked, and the command line that shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalDiff {
    pub viewer: String,
    /// `Deployment_shop_frontend`, for the file names.
    pub label: String,
    pub live: String,
    pub desired: String,
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

    pub fn changed_if(changed: bool) -> Outcome {
        Outcome {
            changed,
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
