//! The steps of a Git rollback before and after the operator edits its
//! message, shared by `driftdeck rollback --git` and the TUI's rollback
//! dialog: fetch the app's branch, work out what the commit restores and
//! undoes (for the default message), then build and publish the commit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::SourceError;
use super::http::Traffic;
use super::location::SourceLocation;
use super::reach::render_inputs;
use super::revert::{SigningSetup, open, signing_setup};
use super::revision::resolve_commit;
use super::rollback::{
    RollbackOutcome, UndoneCommit, commits_undone, default_rollback_message, git_rollback,
};
use super::rollback_request::{RollbackMode, RollbackRequest};
use super::update::{NetworkLimits, update_source};

/// How long one `git push` may take.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(120);

/// The app a rollback is about: where its files are.
#[derive(Debug, Clone)]
pub struct RollbackApp {
    pub name: String,
    pub source: SourceLocation,
    /// The configured branch; `None` for the remote's default.
    pub branch: Option<String>,
    pub path: String,
    pub cache_dir: PathBuf,
}

/// A rollback ready for its message: REV as a full id, the branch, the paths
/// restored and the commits undone.
#[derive(Debug, Clone)]
pub struct PreparedRollback {
    pub to: String,
    pub branch: String,
    pub paths: Vec<String>,
    pub undone: Vec<UndoneCommit>,
    /// How git will sign the commit: checked against `require_signed`
    /// before anything is committed.
    pub signing: SigningSetup,
}

impl PreparedRollback {
    /// `Roll back APP to abc1234` and the commits undone.
    pub fn default_message(&self, app: &str) -> String {
        default_rollback_message(app, &self.to, &self.undone)
    }
}

/// Fetches the app's branch and prepares a rollback of it to `to`.
pub async fn prepare_rollback(
    app: &RollbackApp,
    to: &str,
) -> Result<PreparedRollback, SourceError> {
    let update = update_source(
        &app.source,
        &app.cache_dir,
        std::slice::from_ref(&app.branch),
        &Arc::new(Traffic::default()),
        NetworkLimits::default(),
    )
    .await?;
    let head = update
        .heads
        .first()
        .cloned()
        .ok_or_else(|| SourceError::BranchNotFound {
            repo: app.source.to_string(),
            branch: app.branch.clone(),
        })?;
    let repo_dir = app.source.git_dir(&app.cache_dir);
    let (app_path, branch, to) = (app.path.clone(), head.branch.clone(), to.to_string());
    let head_id = head.commit.to_string();
    tokio::task::spawn_blocking(move || prepare_in(&repo_dir, &to, &head_id, &branch, &app_path))
        .await
        .map_err(|e| SourceError::Task(e.to_string()))?
}

/// Makes the rollback commit with `message` and publishes it as `mode` says.
pub async fn publish_rollback(
    app: &RollbackApp,
    prepared: PreparedRollback,
    message: String,
    mode: RollbackMode,
) -> Result<RollbackOutcome, SourceError> {
    let request = RollbackRequest {
        source: app.source.clone(),
        cache_dir: app.cache_dir.clone(),
        app: app.name.clone(),
        branch: prepared.branch,
        paths: prepared.paths,
        to: prepared.to,
        message,
        mode,
        limits: NetworkLimits::default(),
        push_timeout: PUSH_TIMEOUT,
    };
    git_rollback(&request).await
}

/// REV as a full id, the paths to restore (what the app's render reads at
/// REV or at the head), and the commits undone. Blocking.
fn prepare_in(
    repo_dir: &Path,
    to: &str,
    head: &str,
    branch: &str,
    app_path: &str,
) -> Result<PreparedRollback, SourceError> {
    let to = resolve_commit(repo_dir, to)?;
    let mut paths = render_inputs(repo_dir, &to, app_path)?;
    for path in render_inputs(repo_dir, head, app_path)? {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    let undone = commits_undone(repo_dir, branch, &to, &paths)?;
    Ok(PreparedRollback {
        to,
        branch: branch.to_string(),
        paths,
        undone,
        signing: signing_setup(&open(repo_dir)?),
    })
}
