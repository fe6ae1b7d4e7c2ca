//! The words between the sources task and its decisions: what the task is
//! to do (`SourceEffect`), what its blocking work reports back
//! (`Finished`), and the keys both name (`Branch`, `RenderKey`). Shared by
//! `decide.rs` and `engine_apps.rs`, which decide, and `sources.rs`, which
//! runs them; values only.

use std::collections::HashSet;
use std::sync::Arc;

use crate::config::AppConfig;
use crate::engine::EngineEvent;
use crate::engine::context::ToContext;
use crate::manifests::Checked;
use crate::source::{LogEntry, SignatureStatus, SourceLocation};

/// A branch of a repository, as apps track it (`None`: the default branch).
pub(super) type Branch = (SourceLocation, Option<String>);

/// What a render depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(in crate::engine) struct RenderKey {
    pub(super) source: SourceLocation,
    pub(super) path: String,
    pub(super) namespace: String,
    pub(super) values: Vec<String>,
    pub(super) release: String,
    pub(super) revision: String,
}

/// What the blocking pool reports back, decided in `decide.rs`.
pub(super) enum Finished {
    Rendered {
        app: usize,
        revision: String,
        result: Result<Arc<Checked>, String>,
        signature: Option<SignatureStatus>,
    },
    Walked {
        branch: Box<Branch>,
        revision: String,
        batch: Result<Vec<LogEntry>, String>,
    },
    /// An engine app's source rendered (driftdeck's own comparison).
    /// Shared by the engine apps alike (same repository, folder,
    /// revision, namespace, values and release).
    EngineRendered {
        key: Box<RenderKey>,
        result: Result<Arc<Checked>, String>,
    },
    /// The commits that change an app's path.
    Touching {
        app: usize,
        revision: String,
        touching: HashSet<gix::ObjectId>,
    },
}

/// What the sources task is to do next.
pub(super) enum SourceEffect {
    /// Render the app (an index into `followed`) at `revision`, on the
    /// blocking pool; answered by `Finished::Rendered`.
    Render { app: usize, revision: String },
    /// Render an engine app's source; answered by `Finished::EngineRendered`.
    RenderEngineApp {
        key: Box<RenderKey>,
        config: Box<AppConfig>,
        release: String,
    },
    /// Walk the branch's history from `revision`, in batches.
    WalkHistory { branch: Branch, revision: String },
    /// Walk the history of the app's path from `revision`.
    WalkPaths { app: usize, revision: String },
    /// Make the repository's poller follow these branches (a new poller if
    /// it has none).
    Follow {
        source: SourceLocation,
        branches: Vec<Option<String>>,
    },
    /// Ask the repository's poller to poll now.
    PollNow(SourceLocation),
    /// Hand a message to the task of a context.
    ToContext {
        context: Option<String>,
        message: ToContext,
    },
    /// Tell the UI.
    Emit(EngineEvent),
}
