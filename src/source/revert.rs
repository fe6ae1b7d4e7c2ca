//! Git revert for rollback: a commit on the branch whose tree is the head's,
//! except the app's path, restored to its content at a chosen revision.
//! gix builds the commit; the system `git push` sends it (gix cannot push).
//! Nothing is lost: a commit that cannot be pushed stays on a local branch.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gix::ObjectId;

use super::SourceError;
use super::http::Traffic;
use super::location::{RemoteUrl, SourceLocation};
use super::revision::commit_at;
use super::update::{NetworkLimits, update_source};
use crate::causes::with_causes;

/// What to revert, where, and how to say it.
#[derive(Debug, Clone)]
pub struct RevertRequest {
    pub source: SourceLocation,
    /// Where remote clones live (`Paths::cache_dir`).
    pub cache_dir: PathBuf,
    /// The app, for error messages and the name of a kept branch.
    pub app: String,
    /// The branch to commit on (resolved, not `None`).
    pub branch: String,
    /// The app's folder (`"."` for the whole repository).
    pub app_path: String,
    /// The revision whose content of `app_path` is restored.
    pub to: String,
    pub message: String,
    pub limits: NetworkLimits,
    /// How long one `git push` may take.
    pub push_timeout: Duration,
}

/// The pushed (or, for a local repository, committed) revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertOutcome {
    pub commit: ObjectId,
    pub branch: String,
    /// True when the first push was rejected because the branch had moved,
    /// and the commit was rebuilt on the new head.
    pub rebuilt: bool,
}

/// Makes the revert commit and publishes it: pushed to a remote, or the
/// branch moved forward in a local repository.
pub async fn git_revert(request: &RevertRequest) -> Result<RevertOutcome, SourceError> {
    let repo_dir = request.source.git_dir(&request.cache_dir);
    match &request.source {
        SourceLocation::Local(_) => {
            let (dir, request) = (repo_dir.clone(), request.clone());
            tokio::task::spawn_blocking(move || commit_locally(&dir, &request))
                .await
                .map_err(|e| SourceError::Task(e.to_string()))?
        }
        SourceLocation::Remote(url) => revert_remote(request, url, &repo_dir).await,
    }
}

async fn revert_remote(
    request: &RevertRequest,
    url: &RemoteUrl,
    clone_dir: &Path,
) -> Result<RevertOutcome, SourceError> {
    let commit = build_in(clone_dir, request, None).await?;
    let first = push(
        url,
        clone_dir,
        commit,
        &request.branch,
        request.push_timeout,
    )
    .await;
    let (commit, rebuilt) = match first {
        Ok(()) => (commit, false),
        Err(PushFailure::BranchMoved(_)) => {
            // Someone pushed first: rebuild once on their head.
            let traffic = Arc::new(Traffic::default());
            let refreshed = update_source(
                &request.source,
                &request.cache_dir,
                &[Some(request.branch.clone())],
                &traffic,
                request.limits,
            )
            .await;
            let new_head = match refreshed {
                Ok(update) => update.heads.first().map(|h| h.commit),
                Err(err) => return Err(keep(clone_dir, request, commit, err.to_string())),
            };
            let Some(new_head) = new_head else {
                let cause = format!(
                    "branch \"{}\" no longer exists on the remote",
                    request.branch
                );
                return Err(keep(clone_dir, request, commit, cause));
            };
            let rebuilt = build_in(clone_dir, request, Some(new_head)).await?;
            match push(
                url,
                clone_dir,
                rebuilt,
                &request.branch,
                request.push_timeout,
            )
            .await
            {
                Ok(()) => (rebuilt, true),
                Err(failure) => return Err(keep(clone_dir, request, rebuilt, failure.to_string())),
            }
        }
        Err(failure) => return Err(keep(clone_dir, request, commit, failure.to_string())),
    };
    // The clone follows what was pushed, so the app reads it at once. The
    // push went through either way; if this fails, the next poll fetches it.
    let dir = clone_dir.to_path_buf();
    let branch = request.branch.clone();
    match tokio::task::spawn_blocking(move || set_branch(&dir, &branch, commit, None)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::warn!("revert {commit} pushed, clone not moved: {err}"),
        Err(err) => tracing::warn!("revert {commit} pushed, clone not moved: {err}"),
    }
    Ok(RevertOutcome {
        commit,
        branch: request.branch.clone(),
        rebuilt,
    })
}

/// Builds the revert commit in `repo_dir` on `base` (default: the branch's
/// tip there), on the blocking pool.
async fn build_in(
    repo_dir: &Path,
    request: &RevertRequest,
    base: Option<ObjectId>,
) -> Result<ObjectId, SourceError> {
    let (dir, request) = (repo_dir.to_path_buf(), request.clone());
    tokio::task::spawn_blocking(move || {
        let repo = open(&dir)?;
        let base = match base {
            Some(base) => base,
            None => branch_tip(&repo, &dir, &request.branch)?,
        };
        build_revert_commit(&repo, &dir, &request, base)
    })
    .await
    .map_err(|e| SourceError::Task(e.to_string()))?
}

/// A local repository: the branch moves forward to the revert commit, unless
/// it moved meanwhile (then once more on the new tip).
fn commit_locally(repo_dir: &Path, request: &RevertRequest) -> Result<RevertOutcome, SourceError> {
    let repo = open(repo_dir)?;
    if !repo.is_bare()
        && repo
            .head_name()
            .ok()
            .flatten()
            .is_some_and(|name| name.as_bstr() == format!("refs/heads/{}", request.branch).as_str())
    {
        return Err(SourceError::BranchCheckedOut {
            repo: repo_dir.to_path_buf(),
            branch: request.branch.clone(),
        });
    }
    let mut rebuilt = false;
    loop {
        let base = branch_tip(&repo, repo_dir, &request.branch)?;
        let commit = build_revert_commit(&repo, repo_dir, request, base)?;
        match set_branch(repo_dir, &request.branch, commit, Some(base)) {
            Ok(()) => {
                return Ok(RevertOutcome {
                    commit,
                    branch: request.branch.clone(),
                    rebuilt,
                });
            }
            Err(_) if !rebuilt => rebuilt = true,
            Err(err) => return Err(err),
        }
    }
}

/// The commit: `base`'s tree with `app_path` as it was at `request.to`
/// (removed if it did not exist then), author and committer from git config,
/// signed if `commit.gpgSign` says so.
fn build_revert_commit(
    repo: &gix::Repository,
    repo_dir: &Path,
    request: &RevertRequest,
    base: ObjectId,
) -> Result<ObjectId, SourceError> {
    let git = |what: String, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what,
        cause: cause.to_string(),
    };
    let to = &request.to;
    let target = commit_at(repo, repo_dir, to)?;
    let target_tree = target
        .tree()
        .map_err(|e| git(format!("cannot read the tree of \"{to}\""), &e))?;
    let base_tree = repo
        .find_commit(base)
        .and_then(|c| c.tree_id())
        .map_err(|e| git(format!("cannot read commit {base}"), &e))?
        .detach();
    let path = request.app_path.as_str();
    let new_tree = if path == "." {
        target_tree.id
    } else {
        let entry = target_tree
            .lookup_entry_by_path(path)
            .map_err(|e| git(format!("cannot look up \"{path}\" at \"{to}\""), &e))?;
        let mut editor = repo
            .edit_tree(base_tree)
            .map_err(|e| git(format!("cannot edit the tree of {base}"), &e))?;
        match entry {
            Some(entry) => editor.upsert(path, entry.mode().kind(), entry.object_id()),
            None => editor.remove(path),
        }
        .map_err(|e| git(format!("cannot restore \"{path}\""), &e))?;
        editor
            .write()
            .map_err(|e| git("cannot write the new tree".to_string(), &e))?
            .detach()
    };
    if new_tree == base_tree {
        return Err(SourceError::NothingToRevert {
            app: request.app.clone(),
            path: request.app_path.clone(),
            rev: request.to.clone(),
        });
    }
    let identity = |who: Option<gix::Result<gix::actor::SignatureRef<'_>>>, role: &str| {
        who.ok_or_else(|| SourceError::NoIdentity {
            repo: repo_dir.to_path_buf(),
            role: role.to_string(),
        })?
        .map(|s| s.to_owned())
        .map_err(|e| git(format!("cannot read the {role} from git config"), &e))?
        .map_err(|e| git(format!("cannot read the {role} from git config"), &e))
    };
    let author = identity(repo.author(), "author")?;
    let committer = identity(repo.committer(), "committer")?;
    let commit = gix::objs::Commit {
        tree: new_tree,
        parents: [base].into(),
        author,
        committer,
        encoding: None,
        message: request.message.clone().into(),
        extra_headers: Vec::new(),
    };
    let id = repo
        .write_object(&commit)
        .map_err(|e| git("cannot write the revert commit".to_string(), &e))?
        .detach();
    let wants_signature = repo
        .config_snapshot()
        .boolean("commit.gpgSign")
        .unwrap_or(false);
    if !wants_signature {
        return Ok(id);
    }
    repo.find_commit(id)
        .and_then(|c| c.signed())
        .map(|c| c.id)
        .map_err(|e| {
            git(
                "cannot sign the revert commit (commit.gpgSign is set)".to_string(),
                &with_causes(&e),
            )
        })
}

/// Why a push did not go through.
#[derive(Debug)]
enum PushFailure {
    /// The remote's branch is not an ancestor of ours: someone pushed first.
    BranchMoved(String),
    Other(String),
}

impl std::fmt::Display for PushFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PushFailure::BranchMoved(why) => write!(f, "the branch moved on the remote: {why}"),
            PushFailure::Other(why) => f.write_str(why),
        }
    }
}

/// `git push --porcelain URL COMMIT:refs/heads/BRANCH`, from the clone, under
/// a timeout, without prompts.
async fn push(
    url: &RemoteUrl,
    clone_dir: &Path,
    commit: ObjectId,
    branch: &str,
    timeout: Duration,
) -> Result<(), PushFailure> {
    let child = tokio::process::Command::new("git")
        .arg("-C")
        .arg(clone_dir)
        .args(["push", "--porcelain", "--"])
        .arg(url.for_git_command())
        .arg(format!("{commit}:refs/heads/{branch}"))
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| PushFailure::Other(format!("cannot run git push: {e}")))?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(PushFailure::Other(format!("git push failed: {e}"))),
        Err(_) => {
            return Err(PushFailure::Other(format!(
                "git push gave no answer within {}s",
                timeout.as_secs()
            )));
        }
    };
    if output.status.success() {
        return Ok(());
    }
    let stdout = url.scrub(&String::from_utf8_lossy(&output.stdout));
    let stderr = url.scrub(&String::from_utf8_lossy(&output.stderr));
    // Porcelain: "!\t<from>:<to>\t[rejected] (fetch first)" when the branch moved.
    if let Some(line) = stdout
        .lines()
        .find(|line| line.starts_with('!') && line.contains("[rejected]"))
    {
        return Err(PushFailure::BranchMoved(
            line.rsplit('\t').next().unwrap_or(line).to_string(),
        ));
    }
    let why = stdout
        .lines()
        .find(|line| line.starts_with('!'))
        .map(|line| line.rsplit('\t').next().unwrap_or(line).to_string())
        .or_else(|| {
            stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("git push exited with {}", output.status));
    Err(PushFailure::Other(why))
}

/// Keeps an unpushed commit on a local branch and says where.
fn keep(clone_dir: &Path, request: &RevertRequest, commit: ObjectId, cause: String) -> SourceError {
    let short = commit.to_hex_with_len(7).to_string();
    let kept = format!("driftdeck/revert-{}-{short}", request.app);
    match set_branch(clone_dir, &kept, commit, None) {
        Ok(()) => SourceError::PushFailed {
            repo: request.source.to_string(),
            branch: request.branch.clone(),
            kept: Some(kept),
            clone: clone_dir.to_path_buf(),
            cause,
        },
        Err(err) => SourceError::PushFailed {
            repo: request.source.to_string(),
            branch: request.branch.clone(),
            kept: None,
            clone: clone_dir.to_path_buf(),
            cause: format!(
                "{cause}; the commit {commit} could not be kept on a branch either: {err}"
            ),
        },
    }
}

/// Points `refs/heads/<branch>` at `commit`; with `expected`, only if it
/// still points there.
fn set_branch(
    repo_dir: &Path,
    branch: &str,
    commit: ObjectId,
    expected: Option<ObjectId>,
) -> Result<(), SourceError> {
    use gix::refs::transaction::PreviousValue;
    let repo = open(repo_dir)?;
    let constraint = match expected {
        Some(old) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(old)),
        None => PreviousValue::Any,
    };
    repo.reference(
        format!("refs/heads/{branch}").as_str(),
        commit,
        constraint,
        "driftdeck: git revert",
    )
    .map(|_| ())
    .map_err(|e| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: format!("cannot move branch \"{branch}\" to {commit}"),
        cause: e.to_string(),
    })
}

fn branch_tip(
    repo: &gix::Repository,
    repo_dir: &Path,
    branch: &str,
) -> Result<ObjectId, SourceError> {
    repo.try_find_reference(format!("refs/heads/{branch}").as_str())
        .ok()
        .flatten()
        .and_then(|mut r| r.peel_to_id().ok())
        .map(|id| id.detach())
        .ok_or_else(|| SourceError::Git {
            repo: repo_dir.to_path_buf(),
            what: format!("branch \"{branch}\" does not exist"),
            cause: "nothing to commit on".to_string(),
        })
}

fn open(repo_dir: &Path) -> Result<gix::Repository, SourceError> {
    gix::open(repo_dir).map_err(|e| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: "cannot open the repository".to_string(),
        cause: e.to_string(),
    })
}
