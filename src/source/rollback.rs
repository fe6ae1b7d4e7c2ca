//! Git rollback: one commit that restores an app's paths to a revision,
//! published on the app's branch, or on a new branch
//! `driftdeck/rollback-APP-abc1234` for a merge request (asked for, or
//! because the remote refused the branch). The commit is built and pushed
//! by `revert.rs`; this file decides where it goes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gix::ObjectId;
use serde::Serialize;

use super::SourceError;
use super::history::LogEntry;
use super::http::Traffic;
use super::location::{RemoteUrl, SourceLocation};
use super::merge_request::merge_request_url;
use super::revert::{
    PushFailure, branch_tip, build_in, build_revert_commit, keep, open, push, set_branch,
};
use super::revision::commit_at;
use super::rollback_request::{RollbackMode, RollbackRequest};
use super::update::update_source;
use crate::resource::short_revision;

/// The rollback commit, published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackOutcome {
    #[serde(serialize_with = "hex")]
    pub commit: ObjectId,
    /// The branch the commit was pushed to (or, locally, moved).
    pub branch: String,
    /// Set when the commit went to a new branch rather than the app's.
    pub merge_request: Option<MergeRequest>,
    /// True when the first push was rejected because the branch had moved,
    /// and the commit was rebuilt on the new head.
    pub rebuilt: bool,
}

/// A branch pushed for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeRequest {
    /// The branch it should be merged into: the app's.
    pub target: String,
    /// The page that opens it, when the remote is on a known forge.
    pub url: Option<String>,
    /// Why there is no URL (an unknown host, a local repository).
    pub no_url: Option<String>,
    /// Why the commit went here when the app's branch was asked for (the
    /// remote refused it: a protected branch).
    pub fell_back: Option<String>,
}

/// One commit a rollback undoes, for its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoneCommit {
    pub short_id: String,
    pub subject: String,
}

impl From<&LogEntry> for UndoneCommit {
    fn from(entry: &LogEntry) -> Self {
        UndoneCommit {
            short_id: entry.short_id.clone(),
            subject: entry.subject.clone(),
        }
    }
}

/// Commits listed in a default message; more are counted.
const UNDONE_LISTED: usize = 50;

/// `Roll back APP to abc1234`, then the commits undone, newest first.
pub fn default_rollback_message(app: &str, to: &str, undone: &[UndoneCommit]) -> String {
    let mut message = format!("Roll back {app} to {}\n", short_revision(to));
    if !undone.is_empty() {
        message.push_str("\nCommits undone:\n");
        for commit in undone.iter().take(UNDONE_LISTED) {
            message.push_str(&format!("- {} {}\n", commit.short_id, commit.subject));
        }
        if undone.len() > UNDONE_LISTED {
            message.push_str(&format!("- and {} more\n", undone.len() - UNDONE_LISTED));
        }
    }
    message
}

/// The branch a merge-request rollback is pushed to.
pub fn rollback_branch_name(app: &str, to: &str) -> String {
    format!("driftdeck/rollback-{app}-{}", short_revision(to))
}

/// The commits on `branch` that `to` does not have and that change one of
/// `paths`, newest first: what rolling back to `to` undoes. Blocking.
pub fn commits_undone(
    repo_dir: &Path,
    branch: &str,
    to: &str,
    paths: &[String],
) -> Result<Vec<UndoneCommit>, SourceError> {
    let git = |what: String, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what,
        cause: cause.to_string(),
    };
    let repo = open(repo_dir)?;
    let tip = branch_tip(&repo, repo_dir, branch)?;
    let to_id = commit_at(&repo, repo_dir, to)?.id;
    let walk = repo
        .rev_walk([tip])
        .with_hidden([to_id])
        .all()
        .map_err(|e| git(format!("cannot walk \"{branch}\""), &e))?;
    let entry_at = |tree: &gix::Tree<'_>, path: &str| -> Option<ObjectId> {
        if path == "." {
            return Some(tree.id);
        }
        tree.lookup_entry_by_path(path)
            .ok()
            .flatten()
            .map(|e| e.object_id())
    };
    let mut undone = Vec::new();
    for info in walk {
        let info = info.map_err(|e| git(format!("cannot walk \"{branch}\""), &e))?;
        let read = |e: &dyn std::fmt::Display| git(format!("cannot read commit {}", info.id), e);
        let commit = repo.find_commit(info.id).map_err(|e| read(&e))?;
        let tree = commit.tree().map_err(|e| read(&e))?;
        let parent_tree = match commit.parent_ids().next() {
            Some(parent) => Some(
                repo.find_commit(parent)
                    .and_then(|p| p.tree())
                    .map_err(|e| read(&e))?,
            ),
            None => None,
        };
        let changes = paths.iter().any(|path| {
            entry_at(&tree, path) != parent_tree.as_ref().and_then(|t| entry_at(t, path))
        });
        if changes {
            let subject = commit
                .message()
                .map(|m| m.summary().to_string())
                .unwrap_or_default();
            undone.push(UndoneCommit {
                short_id: info.id.to_hex_with_len(7).to_string(),
                subject,
            });
        }
    }
    Ok(undone)
}

/// Makes the rollback commit and publishes it as `request.mode` asks. A
/// remote is pushed to; a local repository's branch is moved (in a work
/// tree with the branch checked out, the app's paths follow, and uncommitted
/// changes there are refused); a refused push goes to a new branch.
pub async fn git_rollback(request: &RollbackRequest) -> Result<RollbackOutcome, SourceError> {
    let repo_dir = request.source.git_dir(&request.cache_dir);
    match &request.source {
        SourceLocation::Local(_) => {
            let request = request.clone();
            tokio::task::spawn_blocking(move || rollback_locally(&repo_dir, &request))
                .await
                .map_err(|e| SourceError::Task(e.to_string()))?
        }
        SourceLocation::Remote(url) => rollback_remote(request, url, &repo_dir).await,
    }
}

async fn rollback_remote(
    request: &RollbackRequest,
    url: &RemoteUrl,
    clone_dir: &Path,
) -> Result<RollbackOutcome, SourceError> {
    let commit = build_in(clone_dir, request, None).await?;
    if request.mode == RollbackMode::MergeRequest {
        return push_for_review(request, url, clone_dir, commit, None).await;
    }
    let pushed = |commit, rebuilt| async move {
        follow_in_clone(clone_dir, &request.branch, commit).await;
        Ok(RollbackOutcome {
            commit,
            branch: request.branch.clone(),
            merge_request: None,
            rebuilt,
        })
    };
    let branch = &request.branch;
    match push(url, clone_dir, commit, branch, request.push_timeout).await {
        Ok(()) => pushed(commit, false).await,
        Err(PushFailure::Refused(why)) => {
            push_for_review(request, url, clone_dir, commit, Some(why)).await
        }
        Err(PushFailure::BranchMoved(_)) => {
            // Someone pushed first: rebuild once on their head.
            let new_head = match refreshed_tip(request).await {
                Ok(head) => head,
                Err(cause) => return Err(keep(clone_dir, request, branch, commit, cause)),
            };
            let rebuilt = build_in(clone_dir, request, Some(new_head)).await?;
            match push(url, clone_dir, rebuilt, branch, request.push_timeout).await {
                Ok(()) => pushed(rebuilt, true).await,
                Err(PushFailure::Refused(why)) => {
                    push_for_review(request, url, clone_dir, rebuilt, Some(why)).await
                }
                Err(failure) => Err(keep(
                    clone_dir,
                    request,
                    branch,
                    rebuilt,
                    failure.to_string(),
                )),
            }
        }
        Err(failure) => Err(keep(
            clone_dir,
            request,
            branch,
            commit,
            failure.to_string(),
        )),
    }
}

/// The remote's tip of the app's branch, fetched into the clone.
async fn refreshed_tip(request: &RollbackRequest) -> Result<ObjectId, String> {
    let traffic = Arc::new(Traffic::default());
    let update = update_source(
        &request.source,
        &request.cache_dir,
        &[Some(request.branch.clone())],
        &traffic,
        request.limits,
    )
    .await
    .map_err(|e| e.to_string())?;
    update.heads.first().map(|h| h.commit).ok_or_else(|| {
        format!(
            "branch \"{}\" no longer exists on the remote",
            request.branch
        )
    })
}

/// Pushes `commit` to the rollback branch, for a merge request into the
/// app's branch.
async fn push_for_review(
    request: &RollbackRequest,
    url: &RemoteUrl,
    clone_dir: &Path,
    commit: ObjectId,
    fell_back: Option<String>,
) -> Result<RollbackOutcome, SourceError> {
    let review = rollback_branch_name(&request.app, &request.to);
    if let Err(failure) = push(url, clone_dir, commit, &review, request.push_timeout).await {
        let cause = match &fell_back {
            Some(why) => format!("{why}; then the push to \"{review}\" failed too: {failure}"),
            None => failure.to_string(),
        };
        return Err(keep(clone_dir, request, &review, commit, cause));
    }
    follow_in_clone(clone_dir, &review, commit).await;
    Ok(RollbackOutcome {
        commit,
        merge_request: Some(merge_request_for(
            &url.to_string(),
            &review,
            &request.branch,
            fell_back,
        )),
        branch: review,
        rebuilt: false,
    })
}

fn merge_request_for(
    remote: &str,
    review: &str,
    target: &str,
    fell_back: Option<String>,
) -> MergeRequest {
    let (url, no_url) = match merge_request_url(remote, review, target) {
        Ok(url) => (Some(url), None),
        Err(why) => (None, Some(why)),
    };
    MergeRequest {
        target: target.to_string(),
        url,
        no_url,
        fell_back,
    }
}

/// The clone follows what was pushed, so the app reads it at once. The push
/// went through either way; if this fails, the next poll fetches it.
async fn follow_in_clone(clone_dir: &Path, branch: &str, commit: ObjectId) {
    let (dir, branch) = (clone_dir.to_path_buf(), branch.to_string());
    match tokio::task::spawn_blocking(move || set_branch(&dir, &branch, commit, None)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::warn!("rollback {commit} pushed, clone not moved: {err}"),
        Err(err) => tracing::warn!("rollback {commit} pushed, clone not moved: {err}"),
    }
}

/// A local repository: the branch moves forward to the rollback commit
/// (once more on the new tip if it moved meanwhile), or the rollback branch
/// is created. In a work tree with the branch checked out, the app's paths
/// of the index and the files follow the commit; the rest is not touched.
fn rollback_locally(
    repo_dir: &Path,
    request: &RollbackRequest,
) -> Result<RollbackOutcome, SourceError> {
    let repo = open(repo_dir)?;
    let work_dir = checked_out_in(&repo, &request.branch);
    if let Some(work_dir) = &work_dir {
        super::work_tree::refuse_uncommitted(work_dir, request)?;
    }
    if request.mode == RollbackMode::MergeRequest {
        let base = branch_tip(&repo, repo_dir, &request.branch)?;
        let commit = build_revert_commit(&repo, repo_dir, request, base)?;
        let review = rollback_branch_name(&request.app, &request.to);
        if repo
            .try_find_reference(format!("refs/heads/{review}").as_str())
            .ok()
            .flatten()
            .is_some()
        {
            return Err(SourceError::Git {
                repo: repo_dir.to_path_buf(),
                what: format!("cannot create branch \"{review}\""),
                cause: "it already exists; merge or delete it first".to_string(),
            });
        }
        set_branch(repo_dir, &review, commit, None)?;
        let origin = repo
            .config_snapshot()
            .string("remote.origin.url")
            .map(|url| url.to_string());
        let mut merge_request = match origin.and_then(|u| SourceLocation::parse(&u).ok()) {
            Some(SourceLocation::Remote(url)) => {
                merge_request_for(&url.to_string(), &review, &request.branch, None)
            }
            _ => merge_request_for(
                &repo_dir.display().to_string(),
                &review,
                &request.branch,
                None,
            ),
        };
        if merge_request.url.is_none() {
            merge_request.no_url = Some(format!(
                "a local repository: push branch \"{review}\" and open its merge request by hand"
            ));
        }
        return Ok(RollbackOutcome {
            commit,
            branch: review,
            merge_request: Some(merge_request),
            rebuilt: false,
        });
    }
    let mut rebuilt = false;
    loop {
        let base = branch_tip(&repo, repo_dir, &request.branch)?;
        let commit = build_revert_commit(&repo, repo_dir, request, base)?;
        match set_branch(repo_dir, &request.branch, commit, Some(base)) {
            Ok(()) => {
                if let Some(work_dir) = &work_dir {
                    super::work_tree::follow_commit(work_dir, request, commit)?;
                }
                return Ok(RollbackOutcome {
                    commit,
                    branch: request.branch.clone(),
                    merge_request: None,
                    rebuilt,
                });
            }
            Err(_) if !rebuilt => rebuilt = true,
            Err(err) => return Err(err),
        }
    }
}

/// The work tree in which `branch` is checked out, if it is.
fn checked_out_in(repo: &gix::Repository, branch: &str) -> Option<PathBuf> {
    let head = repo.head_name().ok().flatten()?;
    if head.as_bstr() != format!("refs/heads/{branch}").as_str() {
        return None;
    }
    repo.workdir().map(Path::to_path_buf)
}

fn hex<S: serde::Serializer>(id: &ObjectId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_message_names_app_revision_and_undone_commits() {
        let undone = vec![
            UndoneCommit {
                short_id: "def5678".into(),
                subject: "raise replicas".into(),
            },
            UndoneCommit {
                short_id: "1234abc".into(),
                subject: "bump image".into(),
            },
        ];
        let to = "abc1234deadbeefabc1234deadbeefabc1234dea";
        assert_eq!(
            default_rollback_message("api", to, &undone),
            "Roll back api to abc1234\n\nCommits undone:\n- def5678 raise replicas\n- 1234abc bump image\n"
        );
        assert_eq!(
            default_rollback_message("api", to, &[]),
            "Roll back api to abc1234\n"
        );
        let many: Vec<UndoneCommit> = (0..UNDONE_LISTED + 3)
            .map(|n| UndoneCommit {
                short_id: format!("{n:07}"),
                subject: "change".into(),
            })
            .collect();
        assert!(default_rollback_message("api", to, &many).ends_with("- and 3 more\n"));
    }

    #[test]
    fn the_review_branch_is_named_after_app_and_revision() {
        assert_eq!(
            rollback_branch_name("api", "abc1234deadbeef"),
            "driftdeck/rollback-api-abc1234"
        );
    }
}
