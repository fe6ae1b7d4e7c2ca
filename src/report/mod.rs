//! An app's report: everything known about it at one moment, native or
//! engine app, as the TUI shows it and the commands print it. Below the
//! engine, which makes reports (`engine/assess.rs` for native apps), and
//! above `engines`, whose rules it reads for engine apps (`engine_app.rs`).

mod engine_app;

use serde::Serialize;

use crate::drift::{AppStatus, AppSummary, Health, ResourceResult};
use crate::engines::{ControllerState, Engine, OwnComparison};
use crate::manifests::Problem;

pub use engine_app::{OwnVerdict, controller_report, with_own_verdict};

/// Everything known about one app at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppReport {
    pub app: String,
    /// The commit of the tracked branch that was compared, if Git could be read.
    pub desired_revision: Option<String>,
    /// The full commit the app is pinned to (a rollback), compared instead
    /// of the branch's head; `None` when not pinned.
    pub pinned: Option<String>,
    #[serde(flatten)]
    pub summary: AppSummary,
    pub resources: Vec<ResourceResult>,
    /// Manifest problems at the desired revision; reference warnings only
    /// while the live state does not resolve them either.
    pub problems: Vec<Problem>,
    /// Set when the live state shown is the last known one, because a watch
    /// failed at that time.
    pub stale_since: Option<jiff::Timestamp>,
    pub stale_cause: Option<String>,
    /// The in-cluster engine whose app this is (`argocd`, `flux`); `None`
    /// for a native app, which driftdeck itself compares and syncs.
    pub engine: Option<Engine>,
    /// What the engine's object says, for an engine app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<Box<ControllerState>>,
    /// For an engine app: driftdeck's own comparison of its source with
    /// live, or why there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driftdeck: Option<Box<OwnComparison>>,
}

impl AppReport {
    /// An app whose state could not be established at all: Git or the
    /// cluster could not be read.
    pub fn unknown(
        app: &str,
        desired_revision: Option<String>,
        cause: impl Into<String>,
    ) -> AppReport {
        AppReport {
            app: app.to_string(),
            desired_revision,
            pinned: None,
            summary: AppSummary {
                status: AppStatus::Unknown,
                health: Health::Unknown,
                revision: None,
                counts: Default::default(),
                reason: Some(cause.into()),
            },
            resources: Vec::new(),
            problems: Vec::new(),
            stale_since: None,
            stale_cause: None,
            engine: None,
            controller: None,
            driftdeck: None,
        }
    }
}
