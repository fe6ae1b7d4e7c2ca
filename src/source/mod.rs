//! Git: where an app's desired state comes from. Local repositories are read
//! in place; remotes are cloned bare into the cache folder and polled
//! politely (refs only, fetch only what moved). History, trees at any
//! revision and Git revert read and write those repositories.

mod changes;
mod history;
mod http;
mod locate;
mod location;
mod merge_request;
mod poller;
mod reach;
mod remote;
mod revert;
mod revision;
mod rollback;
mod rollback_prepare;
mod rollback_request;
mod schedule;
mod signature;
mod tree;
mod update;
mod work_tree;

use std::path::PathBuf;
use std::time::Duration;

pub use changes::{CHANGED_FILES_LIMIT, ChangedFile, FileChange, changed_files};
pub use history::{BATCH, FIRST_BATCH, HistoryQuery, LogEntry, walk_history};
pub use http::Traffic;
pub use locate::{RepoPath, locate_in_repo, work_tree_at};
pub use location::{RemoteUrl, SourceLocation};
pub use merge_request::merge_request_url;
pub use poller::{PollerConfig, PollerHandle, SourceEvent, spawn_poller};
pub use reach::{referenced_files_at, render_inputs};
pub use revert::SigningSetup;
pub use revision::resolve_commit;
pub use rollback::{
    MergeRequest, RollbackOutcome, UndoneCommit, commits_undone, default_rollback_message,
    git_rollback, rollback_branch_name,
};
pub use rollback_prepare::{
    PUSH_TIMEOUT, PreparedRollback, RollbackApp, prepare_rollback, publish_rollback,
};
pub use rollback_request::{RollbackMode, RollbackRequest};
pub use schedule::{JitterSource, PollPacing, PollSchedule, Refresh};
pub use signature::{SignatureFormat, SignatureStatus, signature_at};
pub use tree::{AppFolder, TreeFile, files_at, materialize};
pub use update::{BranchHead, NetworkLimits, SourceUpdate, update_source};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{}: {what}: {cause}", repo.display())]
    Git {
        repo: PathBuf,
        what: String,
        cause: String,
    },
    #[error("{}: \"{path}\" does not exist at \"{rev}\" (or is not a folder)", repo.display())]
    PathNotFound {
        repo: PathBuf,
        rev: String,
        path: String,
    },
    /// A file or folder past the limits in `crate::manifests`: refused
    /// before its blobs are read.
    #[error("{}: \"{path}\" at \"{rev}\" {why}", repo.display())]
    TooLarge {
        repo: PathBuf,
        rev: String,
        path: String,
        why: String,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("repository \"{location}\": {why}")]
    InvalidLocation { location: String, why: String },
    /// Talking to a remote failed; `repo` is the URL without credentials.
    #[error("{repo}: {cause}")]
    Remote {
        repo: String,
        cause: String,
        /// How long the remote asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    #[error("{repo}: {}", match branch {
        Some(branch) => format!("branch \"{branch}\" does not exist"),
        None => "HEAD does not point at a branch".to_string(),
    })]
    BranchNotFound {
        repo: String,
        /// `None`: the default branch.
        branch: Option<String>,
    },
    #[error("{repo}: no answer within {}s while {what}", after.as_secs())]
    TimedOut {
        repo: String,
        what: &'static str,
        after: Duration,
    },
    #[error("app \"{app}\": \"{path}\" is already as it was at \"{rev}\"; nothing to roll back")]
    NothingToRevert {
        app: String,
        path: String,
        rev: String,
    },
    /// A kustomization or chart refers to a path outside the repository.
    #[error(
        "{}: \"{file}\" at \"{rev}\" refers to \"{reference}\", which is outside the repository",
        repo.display()
    )]
    OutsideRepository {
        repo: PathBuf,
        rev: String,
        file: String,
        reference: String,
    },
    #[error("{}: no {role} configured; set user.name and user.email in git config", repo.display())]
    NoIdentity { repo: PathBuf, role: String },
    #[error(
        "{}: app \"{app}\" has uncommitted changes in {}; commit or stash them first",
        repo.display(),
        files.iter().take(5).map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", ")
            + &if files.len() > 5 { format!(" and {} more", files.len() - 5) } else { String::new() }
    )]
    UncommittedChanges {
        repo: PathBuf,
        app: String,
        files: Vec<String>,
    },
    #[error(
        "{repo}: the rollback was not pushed to \"{branch}\": {cause}{}",
        match kept {
            Some(kept) => format!("; the commit is kept on branch \"{kept}\" in {}", clone.display()),
            None => String::new(),
        }
    )]
    PushFailed {
        repo: String,
        branch: String,
        /// The local branch that holds the unpushed commit.
        kept: Option<String>,
        clone: PathBuf,
        cause: String,
    },
    #[error("a background task failed: {0}")]
    Task(String),
}

impl SourceError {
    /// The wait a remote asked for with `Retry-After`, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SourceError::Remote { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
