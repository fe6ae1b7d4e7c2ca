//! The engine behind the TUI: background tasks that keep every app's verdict
//! current. One task follows the Git sources (a poller per repository,
//! rendering each app when its branch moves); one task per cluster context
//! keeps a watched cache of live objects and compares. They report to the
//! UI over one channel as immutable snapshots; the UI talks back with
//! commands. Nothing here is shared with the UI but those messages.

mod assess;
mod context;
mod desired;
mod snapshot;
mod sources;

pub use assess::{AppReport, assess, live_queries};
pub use desired::{DesiredError, desired_at};
pub use snapshot::{LookOptions, look_at};

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{AppConfig, Paths};
use crate::source::LogEntry;

/// Counts the requests made about an app. The UI raises it when it asks
/// anew (a refresh); replies carry the generation they answer, and the UI
/// drops those of an older one.
pub type Generation = u64;

/// What the engine tells the UI.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// A new verdict on an app.
    Report {
        app: String,
        generation: Generation,
        report: Arc<AppReport>,
    },
    /// The app's branch history, newest first (at most `HISTORY_LIMIT` commits).
    Commits {
        app: String,
        generation: Generation,
        commits: Arc<Vec<LogEntry>>,
    },
    /// The app's branch history could not be read (the commits sent
    /// before, if any, are all there is).
    HistoryFailed {
        app: String,
        generation: Generation,
        cause: String,
    },
    /// How polling the app's repository goes.
    Source { app: String, source: SourceStatus },
    /// Requests made so far to Git remotes and to API servers.
    Requests { git: u64, cluster: u64 },
}

/// The state of an app's Git source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub next_poll: Option<SystemTime>,
    /// True while backing off after errors.
    pub in_backoff: bool,
    /// The last poll's error, until a poll succeeds.
    pub error: Option<String>,
}

/// What the UI asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineCommand {
    /// Poll the app's repository now and report again, as `generation`.
    Refresh { app: String, generation: Generation },
    /// Compare exactly (a server-side dry-run apply gives what the API
    /// server would make of the desired object) or not, from now on.
    SetExact { exact: bool },
}

/// How the engine runs.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// The kubeconfig file, instead of the one kubectl would use.
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context for every app, instead of each app's own.
    pub context: Option<String>,
}

/// Commits listed per app in the history.
pub const HISTORY_LIMIT: usize = 500;

/// The running engine. Dropping it stops every task.
pub struct Engine {
    commands: mpsc::UnboundedSender<EngineCommand>,
    task: JoinHandle<()>,
}

impl Engine {
    /// Starts following `apps`; reports go to `events`.
    pub fn start(
        apps: Vec<AppConfig>,
        paths: Paths,
        options: EngineOptions,
        events: mpsc::UnboundedSender<EngineEvent>,
    ) -> Engine {
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(sources::run(apps, paths, options, events, receiver));
        Engine { commands, task }
    }

    pub fn send(&self, command: EngineCommand) {
        let _ = self.commands.send(command);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.task.abort();
    }
}
