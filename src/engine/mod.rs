//! The engine, the one driver of every verdict: the TUI runs it for as long
//! as it is open; the headless commands run it once (`settle`) and stop.
//! One task follows the Git sources (a poller per repository, rendering
//! each app when its branch moves); one task per cluster context keeps a
//! watched cache of live objects and compares. They report over one
//! channel as immutable snapshots; the caller talks back with commands.
//! Nothing is shared with the caller but those messages. The map of the
//! whole: docs/ARCHITECTURE.md.

mod assess;
mod auto;
mod context;
mod desired;
mod exact;
mod preview;
mod settle;
mod sources;

pub use assess::{assess, live_queries};
pub use auto::AutoStatus;
pub(crate) use desired::render_app;
pub use desired::{DesiredError, desired_at};
pub use preview::{DeployPreview, compare_revisions, preview};
pub use settle::{EngineApps, settle};

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{AppConfig, DriftConfig, EnginesConfig, Paths};
use crate::engines::{ActionKind, ActionProgress};
use crate::report::AppReport;
use crate::resource::ResourceKey;
use crate::source::{LogEntry, RollbackMode, RollbackOutcome};
use crate::sync::{SyncOutcome, SyncPlan, SyncProgress};

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
        /// Every watch of the app's context had answered and every probe
        /// too: the verdict is not that of a cache still filling.
        settled: bool,
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
    /// The answer to `EngineCommand::Plan`: the plan, or why there is none.
    Planned {
        app: String,
        plan: Result<Arc<SyncPlan>, String>,
    },
    /// How a running sync goes.
    Syncing { app: String, progress: SyncProgress },
    /// A sync ended: how it went, or why it could not run or wrote nothing.
    SyncEnded {
        app: String,
        outcome: Result<SyncOutcome, SyncRefused>,
    },
    /// The app's pin changed (a rollback applied, or `Unpin`): the revision
    /// it is pinned to now, or why the pins file could not be written.
    Pinned {
        app: String,
        pinned: Result<Option<String>, String>,
    },
    /// The default message of a Git rollback, or why it cannot be made.
    GitRollbackPrepared {
        app: String,
        message: Result<String, String>,
    },
    /// The Git rollback's commit, published, or why it was not.
    GitRolledBack {
        app: String,
        outcome: Result<RollbackOutcome, String>,
        /// The revision the app was pinned to: unpinned by now when the
        /// commit went to the app's branch (the rollback replaces the pin),
        /// still pinned when it went to a merge-request branch.
        pinned: Option<String>,
    },
    /// The commits of the app's branch that change what it renders from
    /// (its path), at the head the history was walked from.
    PathCommits {
        app: String,
        generation: Generation,
        touching: Arc<std::collections::HashSet<gix::ObjectId>>,
    },
    /// The answer to `EngineCommand::Preview`.
    Previewed {
        app: String,
        preview: Arc<DeployPreview>,
    },
    /// The engine apps (Argo CD, Flux) of a context, whenever the set
    /// changes; sent once the context's engine watches have listed (an
    /// empty list when it serves no engine's kinds).
    ControllerApps {
        context: Option<String>,
        apps: Vec<String>,
        /// The engine kinds it cannot list, and why (`cannot list
        /// Application (argoproj.io) in kind-a: 403 Forbidden: …`): their
        /// apps are missing from `apps` until they can be.
        unreadable: Vec<String>,
    },
    /// How an action asked of an engine app goes (`ControllerAction`):
    /// refused or failed to write (`Err`), waiting, or done.
    ControllerActed {
        app: String,
        progress: Result<ActionProgress, String>,
    },
    /// How the app's automatic syncing goes (auto-sync, self-heal), sent
    /// when it changed.
    Auto { app: String, status: AutoStatus },
}

/// Why a sync wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRefused {
    pub message: String,
    /// True when it could not run at all (the Lease is held, the cluster
    /// cannot be reached, no verdict yet); false when the plan or the
    /// server's dry run refused it.
    pub could_not_run: bool,
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
    /// Compare with server-side dry runs (exact mode), or with the desired
    /// objects as written.
    SetExact { exact: bool },
    /// Plan a sync of the app at `target`; answered by `EngineEvent::Planned`.
    /// Of one of its objects only, with `only`.
    Plan {
        app: String,
        prune: bool,
        target: SyncTarget,
        only: Option<ResourceKey>,
    },
    /// Plan afresh and run a sync of the app at `target`; answered by
    /// `Syncing` events and one `SyncEnded`, and for a rollback by
    /// `Pinned` once the pin is kept.
    Sync {
        app: String,
        request: SyncCommand,
        target: SyncTarget,
    },
    /// Stop the app's running sync once the objects in flight are done.
    CancelSync { app: String },
    /// Remove the app's pin: it is compared with its branch's head again
    /// (the next sync goes there); answered by `Pinned`.
    Unpin { app: String },
    /// Fetch the app's branch and work out the default message of a Git
    /// rollback to `revision`; answered by `GitRollbackPrepared`.
    PrepareGitRollback { app: String, revision: String },
    /// Commit the Git rollback with `message` and push it as `mode` says;
    /// answered by `GitRolledBack`.
    GitRollback {
        app: String,
        revision: String,
        message: String,
        mode: RollbackMode,
    },
    /// What deploying `to` would change against the deployed revision
    /// `from`; answered by `EngineEvent::Previewed`.
    Preview {
        app: String,
        from: Option<String>,
        to: String,
    },
    /// Ask an engine app's engine to act (sync, refresh, suspend, resume);
    /// answered by `ControllerActed` events.
    ControllerAction { app: String, action: ActionKind },
}

/// The revision a sync goes to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SyncTarget {
    /// The revision compared: the app's pin, else its branch's head.
    #[default]
    Compared,
    /// Another revision of the branch (an id, short or full, a branch, a
    /// tag), once; refused while the app is pinned.
    Revision(String),
    /// A rollback: the revision, then the app is pinned to it.
    Pin(String),
}

/// How to sync.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncCommand {
    /// Prune on this sync (else as the app says).
    pub prune: bool,
    /// Take over fields other managers own (else as the app says).
    pub force: bool,
    /// Only the server's dry run of the whole plan.
    pub dry_run: bool,
    /// Sync this object of the app only (`s` on a resource in the TUI).
    pub only: Option<ResourceKey>,
}

/// How the engine runs.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// The kubeconfig file, instead of the one kubectl would use.
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context for every app, instead of each app's own.
    pub context: Option<String>,
    /// Compare live objects with what a server-side dry-run apply of the
    /// desired ones gives (one request per object and change), instead of
    /// with the desired ones as written.
    pub exact: bool,
    /// One look, for the headless commands: each watch lists once and
    /// follows no further, and no history is walked.
    pub one_shot: bool,
    /// The config's `[drift]` table: which field managers' fields are
    /// changes made by hand, beyond the built-in ones.
    pub drift: DriftConfig,
    /// The config's `[engines]` table.
    pub engines: EnginesConfig,
    /// Contexts read for their engine apps even when no native app is in
    /// them (the apps' contexts are read anyway).
    pub contexts: Vec<Option<String>>,
    /// Sync the apps whose config says `auto_sync` by themselves (the TUI,
    /// `watch`); the other commands only look.
    pub auto_sync: bool,
    /// Nothing is written: automatic syncs are held (and say so).
    pub readonly: bool,
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
