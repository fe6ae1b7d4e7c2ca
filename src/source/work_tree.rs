//! A rollback in a work tree whose branch is checked out: the operator's
//! uncommitted changes in the app's paths stop it, and after the branch
//! moves, the index and files of those paths (only those) follow the commit.
//! The system `git` does both, as the operator's own git would.

use std::path::Path;
use std::process::Command;

use gix::ObjectId;

use super::SourceError;
use super::rollback_request::RollbackRequest;

/// Refuses when a path of the rollback has changes not committed (staged,
/// unstaged or untracked files), naming a few of them.
pub(super) fn refuse_uncommitted(
    work_dir: &Path,
    request: &RollbackRequest,
) -> Result<(), SourceError> {
    let mut args = vec![
        "status",
        "--porcelain=v1",
        "--untracked-files=all",
        "--no-renames",
        "--",
    ];
    args.extend(request.paths.iter().map(String::as_str));
    let listed = run_git(work_dir, &args, "cannot read the work tree's status")?;
    let files: Vec<String> = listed
        .lines()
        .filter_map(|line| line.get(3..))
        .map(str::to_string)
        .collect();
    if files.is_empty() {
        return Ok(());
    }
    Err(SourceError::UncommittedChanges {
        repo: work_dir.to_path_buf(),
        app: request.app.clone(),
        files,
    })
}

/// Brings the index and the files of the rollback's paths to `commit`, the
/// branch's new tip; other paths keep whatever the operator has there.
pub(super) fn follow_commit(
    work_dir: &Path,
    request: &RollbackRequest,
    commit: ObjectId,
) -> Result<(), SourceError> {
    let source = format!("--source={commit}");
    let mut args = vec!["restore", source.as_str(), "--staged", "--worktree", "--"];
    args.extend(request.paths.iter().map(String::as_str));
    run_git(
        work_dir,
        &args,
        &format!("the branch moved to {commit}, but the work tree did not follow"),
    )
    .map(|_| ())
}

fn run_git(work_dir: &Path, args: &[&str], what: &str) -> Result<String, SourceError> {
    let failed = |cause: String| SourceError::Git {
        repo: work_dir.to_path_buf(),
        what: what.to_string(),
        cause,
    };
    let output = Command::new("git")
        .arg("-C")
        .arg(work_dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run git: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(failed(stderr.trim().to_string()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
