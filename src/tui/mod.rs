//! The terminal UI, in the Elm architecture: messages (keys, resizes, engine
//! replies) go through a pure `update` that changes the `State` and returns
//! commands; a pure `view` draws the state. The loop owns the state alone.

mod event_loop;
pub mod keymap;
pub mod msg;
pub mod report;
pub mod state;
mod terminal;
pub mod theme;
mod update;
mod view;

#[cfg(test)]
pub(crate) mod test_support;

use std::future::Future;
use std::io;

use ratatui::crossterm::event::EventStream;
use tokio::sync::mpsc;

pub use event_loop::Exit;
pub use keymap::{Action, Keymap};
pub use msg::{Command, Generation, Msg, Outcome, Reply, ReplyBody};
pub use state::State;
pub use theme::{ColorDepth, Theme};
pub use update::update;
pub use view::view;

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "the TUI needs a terminal, and stdout is not one; in scripts use a command such as `driftdeck paths`"
    )]
    NotATerminal,
    #[error("cannot set up the terminal: {0}")]
    Terminal(io::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    #[error("cannot listen for signals: {0}")]
    Signals(io::Error),
    #[error("cannot read from the terminal: {0}")]
    Input(io::Error),
    #[error("cannot draw on the terminal: {0}")]
    Draw(String),
}

/// Runs the UI on this terminal until the operator quits or a signal stops
/// it, and leaves the terminal as it found it.
pub fn run(mut state: State) -> Result<Exit, TuiError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(TuiError::Runtime)?;
    runtime.block_on(async {
        // Listen before touching the terminal, so a signal that comes early
        // still finds it restored.
        let stop = stop_signal().map_err(TuiError::Signals)?;
        let mut guard = terminal::TerminalGuard::enter()?;
        // The engine will hold the sender and report through it; until then
        // the channel is closed from the start and only the terminal speaks.
        let (_, mut messages) = mpsc::unbounded_channel::<Msg>();
        let events = EventStream::new();
        event_loop::run(&mut guard.terminal, &mut state, events, &mut messages, stop).await
    })
}

/// Resolves with the number of the first of SIGTERM, SIGHUP and SIGINT.
#[cfg(unix)]
fn stop_signal() -> io::Result<impl Future<Output = i32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => 15,
            _ = hangup.recv() => 1,
            _ = interrupt.recv() => 2,
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> io::Result<impl Future<Output = i32>> {
    Ok(async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => 2,
            Err(_) => std::future::pending().await,
        }
    })
}
