//! What the UI knows about one app: the engine's last word on each thing.
//! The lists (`order.rs`, `filter.rs`, `commit_log.rs`) read it; `state.rs`
//! holds one per configured app.

use std::collections::HashSet;
use std::sync::Arc;

use super::syncing::{EngineRun, SyncRun};
use crate::config::{HumanDuration, SignatureRequirement};
use crate::engine::{AutoStatus, DeployPreview, Generation, SourceStatus};
use crate::report::AppReport;
use crate::source::LogEntry;

/// What the UI knows about one app: the engine's last word on each thing,
/// `None` until it has spoken. The screen then says what is being done,
/// never guesses.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// The name from the config; engine events find their app by it.
    pub name: String,
    /// Raised by each refresh; verdicts answering an older one are dropped.
    pub generation: Generation,
    pub report: Option<Arc<AppReport>>,
    /// The branch history, newest first.
    pub commits: Option<Arc<Vec<LogEntry>>>,
    /// Why the history could not be read (in full), until it can.
    pub history_error: Option<String>,
    /// The commits of the history that change the app's path; `None`
    /// until known (the pane lists every commit meanwhile).
    pub touching: Option<Arc<HashSet<gix::ObjectId>>>,
    /// What deploying a commit would change, as last asked with Enter.
    pub preview: Option<Arc<DeployPreview>>,
    /// The commit a preview was asked for and has not come yet.
    pub previewing: Option<gix::ObjectId>,
    /// How polling the app's repository goes.
    pub source: Option<SourceStatus>,
    /// A refresh was asked for and its verdict has not come yet.
    pub refreshing: bool,
    /// The kubeconfig context from the config; `None` for the current one.
    pub context: Option<String>,
    /// How often its repository is polled.
    pub poll: Option<HumanDuration>,
    /// Which commits may be deployed (`require_signed`).
    pub require_signed: SignatureRequirement,
    /// How its automatic syncing goes (auto-sync, self-heal).
    pub auto: AutoStatus,
    /// The report's resources in the state's sort order, sorted when the
    /// report comes or the sort changes, so a filter or a change of app
    /// never sorts.
    pub sorted: Vec<usize>,
    /// The sync running, from its confirmation to its end.
    pub sync: Option<SyncRun>,
    /// An engine app: the action asked of its engine, until it answered.
    pub engine_action: Option<EngineRun>,
    /// An engine app: the other contexts with an engine app of the same
    /// name. Asked, every one's engine would act, so none is asked.
    pub also_in: Vec<Option<String>>,
    /// Where a Git rollback goes by default (`rollback = "merge-request"`).
    pub rollback_mode: crate::source::RollbackMode,
}

/// What the engine is busy with for an app that has no verdict yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    ReadingGit,
    /// Git has been read; the manifests are rendered and compared with the cluster.
    ReadingCluster,
}

impl AppState {
    pub fn new(name: impl Into<String>) -> AppState {
        AppState {
            name: name.into(),
            generation: Generation::default(),
            report: None,
            commits: None,
            history_error: None,
            touching: None,
            preview: None,
            previewing: None,
            source: None,
            refreshing: false,
            context: None,
            poll: None,
            require_signed: SignatureRequirement::None,
            auto: AutoStatus::Idle,
            sorted: Vec::new(),
            sync: None,
            engine_action: None,
            also_in: Vec::new(),
            rollback_mode: Default::default(),
        }
    }

    /// What the engine is doing before the first verdict. Nothing while Git
    /// cannot be read: no verdict comes until it can, and the error says so.
    pub fn pending(&self) -> Option<Pending> {
        if self.report.is_some() {
            return None;
        }
        match &self.source {
            None => Some(Pending::ReadingGit),
            Some(source) if source.error.is_some() => None,
            Some(_) => Some(Pending::ReadingCluster),
        }
    }

    /// Whether a verdict is on its way or a sync runs.
    pub fn is_busy(&self) -> bool {
        self.refreshing
            || self.pending().is_some()
            || self.sync.is_some()
            || self.engine_action.is_some()
    }

    /// Why `commit` cannot be deployed (its signature, under
    /// `require_signed`); `None` when it can.
    pub fn undeployable(&self, commit: &LogEntry) -> Option<String> {
        crate::sync::signature_refusal(self.require_signed, Some(&commit.signature))
    }

    /// The last poll's error, if the repository cannot be read now.
    pub fn source_error(&self) -> Option<&str> {
        self.source.as_ref().and_then(|s| s.error.as_deref())
    }
}
