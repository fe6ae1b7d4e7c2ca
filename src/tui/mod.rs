//! The terminal UI, in the Elm architecture: messages (keys, resizes, engine
//! replies) go through a pure `update` that changes the `State` and returns
//! commands; a pure `view` draws the state. The loop owns the state alone.

pub mod app_state;
pub mod commit_log;
pub mod dialog;
mod event_loop;
mod external;
pub mod filter;
pub mod keymap;
mod listing;
pub mod memory;
pub mod msg;
pub mod order;
pub mod pane;
pub mod prompt;
mod sides;
pub mod state;
pub mod syncing;
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

use crate::config::{AppConfig, Paths};
use crate::engine::{Engine, EngineOptions};

pub use event_loop::{Effects, Exit};
pub use keymap::{Action, Keymap};
pub use msg::{Command, Msg, Outcome};
pub use state::State;
pub use terminal::install_panic_hook;
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

/// What the engine follows, and how it reaches the clusters.
pub struct EngineSetup {
    pub apps: Vec<AppConfig>,
    pub paths: Paths,
    pub options: EngineOptions,
}

/// Runs the UI on this terminal until the operator quits or a signal stops
/// it, and leaves the terminal as it found it. The engine starts once the
/// terminal is ready and stops with the UI.
pub fn run(mut state: State, setup: EngineSetup) -> Result<Exit, TuiError> {
    let memory_file = memory::Memory::file_in(&setup.paths.data_dir);
    state.sort = memory::Memory::load(&memory_file).sort;
    state.memory_file = Some(memory_file);
    state.themes_dir = Some(setup.paths.themes_dir.clone());
    // The variable wins over the config, as KUBECTL_EXTERNAL_DIFF would.
    state.diff_viewer = external::viewer_from_env().or(state.diff_viewer.take());
    listing::relist(&mut state);
    // The UI loop runs on this thread; the engine's comparisons run on the
    // workers, so a big app never holds up a key press.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(TuiError::Runtime)?;
    let exit = runtime.block_on(async {
        // Listen before touching the terminal, so a signal that comes early
        // still finds it restored.
        let stop = stop_signal().map_err(TuiError::Signals)?;
        let mut guard = terminal::TerminalGuard::enter()?;
        let (sender, mut engine_events) = mpsc::unbounded_channel();
        // With no app and no engine's apps to look for there is nothing to
        // follow: no engine, and its channel closed.
        let engines = &setup.options.engines;
        let engine = (!setup.apps.is_empty() || engines.argocd || engines.flux)
            .then(|| Engine::start(setup.apps, setup.paths, setup.options, sender));
        // Debug builds only: lets the end-to-end tests check that a panic in
        // a background task ends the process with the terminal restored.
        #[cfg(debug_assertions)]
        #[allow(clippy::panic)]
        if std::env::var_os("DRIFTDECK_TEST_TASK_PANIC").is_some() {
            tokio::spawn(async {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                panic!("DRIFTDECK_TEST_TASK_PANIC is set");
            });
        }
        let terminal_events = EventStream::new();
        let exit = event_loop::run(
            &mut guard.terminal,
            &mut state,
            terminal_events,
            &mut engine_events,
            Outside {
                engine: engine.as_ref(),
            },
            stop,
        )
        .await;
        drop(engine);
        exit
    });
    // The terminal is restored by now; a Git fetch still running on the
    // blocking pool is not waited for long.
    runtime.shutdown_timeout(SHUTDOWN_WAIT);
    exit
}

/// The engine and the real terminal, for the loop's effects.
struct Outside<'a> {
    engine: Option<&'a Engine>,
}

impl Effects for Outside<'_> {
    fn engine(&mut self, command: crate::engine::EngineCommand) {
        if let Some(engine) = self.engine {
            engine.send(command);
        }
    }

    fn external_diff(&mut self, diff: &msg::ExternalDiff) -> Result<(), String> {
        terminal::suspend().map_err(|e| format!("cannot hand the terminal over: {e}"))?;
        let result = external::run(diff);
        terminal::resume().map_err(|e| format!("cannot take the terminal back: {e}"))?;
        result
    }
}

/// How long quitting waits for the engine's blocking work to end.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Resolves with the number of the first of SIGTERM, SIGHUP, SIGINT and
/// SIGQUIT (whose default, a core dump, would leave the terminal raw).
#[cfg(unix)]
fn stop_signal() -> io::Result<impl Future<Output = i32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => 15,
            _ = hangup.recv() => 1,
            _ = interrupt.recv() => 2,
            _ = quit.recv() => 3,
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
