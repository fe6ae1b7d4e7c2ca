//! What a Git rollback is asked to do: the app's paths, the revision they
//! are restored to, and where the commit goes. `rollback.rs` decides and
//! `revert.rs` and `work_tree.rs` carry out the pieces; all of them read it.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::location::SourceLocation;
use super::update::NetworkLimits;

/// Where the rollback commit goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackMode {
    /// On the app's branch, then synced.
    #[default]
    OnBranch,
    /// On a new branch, for a merge request; the cluster is left alone.
    MergeRequest,
}

/// What to roll back, where, and how to say it.
#[derive(Debug, Clone)]
pub struct RollbackRequest {
    pub source: SourceLocation,
    /// Where remote clones live (`Paths::cache_dir`).
    pub cache_dir: PathBuf,
    /// The app, for messages and the new branch's name.
    pub app: String,
    /// The app's branch (resolved, not the default's `None`).
    pub branch: String,
    /// The paths restored, from the repository root (`"."` for all of it):
    /// the app's folder, and for kustomize every folder it refers to.
    pub paths: Vec<String>,
    /// The revision whose content of `paths` is restored.
    pub to: String,
    pub message: String,
    pub mode: RollbackMode,
    pub limits: NetworkLimits,
    /// How long one `git push` may take.
    pub push_timeout: Duration,
}
