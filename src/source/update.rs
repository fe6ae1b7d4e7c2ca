//! Bringing a source up to date and reading its tracked branches' tips: for
//! a remote, a ref listing and a fetch of only what moved; for a local
//! repository, its refs as they are now. The async edge: gix runs in
//! `spawn_blocking`, every network step under a timeout.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gix::ObjectId;

use super::SourceError;
use super::http::Traffic;
use super::location::{RemoteUrl, SourceLocation};
use super::remote::{self, Advertised, RemoteFailure};

/// How long a remote may take to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkLimits {
    /// For listing the remote's refs (handshake and `ls-refs`).
    pub list_timeout: Duration,
    /// For fetching the objects of the branches that moved.
    pub fetch_timeout: Duration,
}

impl Default for NetworkLimits {
    fn default() -> Self {
        NetworkLimits {
            list_timeout: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(600),
        }
    }
}

/// A tracked branch's tip; its objects are in the repository driftdeck reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchHead {
    /// As the app asks for it: a branch name, or `None` for the default branch.
    pub tracked: Option<String>,
    /// The branch it resolved to.
    pub branch: String,
    pub commit: ObjectId,
}

/// What one update found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceUpdate {
    pub heads: Vec<BranchHead>,
    /// Tracked branches that do not exist (or, for `None`, a `HEAD` that
    /// points at no branch).
    pub missing: Vec<Option<String>>,
    /// Branches whose objects were fetched in this update.
    pub fetched: Vec<String>,
}

/// Brings `source` up to date for the `tracked` branches and reads their
/// tips. A remote is asked for its refs only; objects are fetched only for
/// branches whose tip differs from the clone's.
pub async fn update_source(
    source: &SourceLocation,
    cache_dir: &Path,
    tracked: &[Option<String>],
    traffic: &Arc<Traffic>,
    limits: NetworkLimits,
) -> Result<SourceUpdate, SourceError> {
    match source {
        SourceLocation::Local(path) => {
            let path = path.clone();
            let tracked = tracked.to_vec();
            tokio::task::spawn_blocking(move || read_local_heads(&path, &tracked))
                .await
                .map_err(|e| SourceError::Task(e.to_string()))?
        }
        SourceLocation::Remote(url) => {
            update_remote(url, &url.clone_dir(cache_dir), tracked, traffic, limits).await
        }
    }
}

async fn update_remote(
    url: &RemoteUrl,
    clone_dir: &Path,
    tracked: &[Option<String>],
    traffic: &Arc<Traffic>,
    limits: NetworkLimits,
) -> Result<SourceUpdate, SourceError> {
    let named: Vec<String> = tracked.iter().flatten().cloned().collect();
    let with_default = tracked.iter().any(Option::is_none);
    let advertised = {
        let (dir, url, traffic) = (clone_dir.to_path_buf(), url.clone(), traffic.clone());
        let timeout = limits.list_timeout;
        run_bounded(
            url.clone(),
            "listing the remote's branches",
            timeout,
            &traffic.clone(),
            move |_| {
                let repo = remote::open_or_init_clone(&dir).map_err(|cause| RemoteFailure {
                    cause,
                    throttled: None,
                })?;
                remote::list_branches(&repo, &url, &named, with_default, &traffic, timeout)
            },
        )
        .await?
    };
    let wanted = resolve(tracked, &advertised);
    let repo = open_clone(url, clone_dir)?;
    let moved: Vec<String> = wanted
        .heads
        .iter()
        .filter(|head| local_tip(&repo, &head.branch) != Some(head.commit))
        .map(|head| head.branch.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !moved.is_empty() {
        let (dir, url, traffic) = (clone_dir.to_path_buf(), url.clone(), traffic.clone());
        let branches = moved.clone();
        let timeout = limits.fetch_timeout;
        run_bounded(
            url.clone(),
            "fetching",
            timeout,
            &traffic.clone(),
            move |interrupt| {
                let repo = gix::open(&dir).map_err(|e| RemoteFailure {
                    cause: format!("cannot open the clone {}: {e}", dir.display()),
                    throttled: None,
                })?;
                remote::fetch_branches(&repo, &url, &branches, &traffic, timeout, interrupt)
            },
        )
        .await?;
    }
    if let Some(default) = &advertised.default_branch {
        let repo = open_clone(url, clone_dir)?;
        remote::set_default_branch(&repo, default).map_err(|cause| SourceError::Remote {
            repo: url.to_string(),
            cause,
            retry_after: None,
        })?;
    }
    Ok(SourceUpdate {
        fetched: moved,
        ..wanted
    })
}

fn open_clone(url: &RemoteUrl, dir: &Path) -> Result<gix::Repository, SourceError> {
    gix::open(dir).map_err(|e| SourceError::Remote {
        repo: url.to_string(),
        cause: format!("cannot open the clone {}: {e}", dir.display()),
        retry_after: None,
    })
}

/// Runs a blocking remote operation on the blocking pool, giving up after
/// `timeout`. A timed-out operation is told to stop (gix checks the flag
/// between pack chunks) and marks the remote busy until it really returns,
/// so no second operation piles onto a hung one.
async fn run_bounded<T: Send + 'static>(
    url: RemoteUrl,
    what: &'static str,
    timeout: Duration,
    traffic: &Arc<Traffic>,
    job: impl FnOnce(&AtomicBool) -> Result<T, RemoteFailure> + Send + 'static,
) -> Result<T, SourceError> {
    if !traffic.begin_operation() {
        return Err(SourceError::Remote {
            repo: url.to_string(),
            cause: "an earlier request to the remote has not returned yet".to_string(),
            retry_after: None,
        });
    }
    let interrupt = Arc::new(AtomicBool::new(false));
    let handle = {
        let (interrupt, traffic) = (interrupt.clone(), traffic.clone());
        tokio::task::spawn_blocking(move || {
            let result = job(&interrupt);
            traffic.end_operation();
            result
        })
    };
    match tokio::time::timeout(timeout, handle).await {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(failure))) => Err(SourceError::Remote {
            repo: url.to_string(),
            cause: failure.cause,
            retry_after: failure.throttled.and_then(|t| t.retry_after),
        }),
        Ok(Err(join)) => {
            traffic.end_operation();
            Err(SourceError::Task(join.to_string()))
        }
        Err(_) => {
            interrupt.store(true, Ordering::Relaxed);
            Err(SourceError::TimedOut {
                repo: url.to_string(),
                what,
                after: timeout,
            })
        }
    }
}

/// Each tracked branch's tip as advertised, and the ones that are missing.
fn resolve(tracked: &[Option<String>], advertised: &Advertised) -> SourceUpdate {
    let mut update = SourceUpdate::default();
    for wanted in tracked {
        let branch = match wanted {
            Some(name) => Some(name.clone()),
            None => advertised.default_branch.clone(),
        };
        match branch.and_then(|b| advertised.branches.get(&b).map(|id| (b, *id))) {
            Some((branch, commit)) => update.heads.push(BranchHead {
                tracked: wanted.clone(),
                branch,
                commit,
            }),
            None => update.missing.push(wanted.clone()),
        }
    }
    update
}

fn local_tip(repo: &gix::Repository, branch: &str) -> Option<ObjectId> {
    repo.try_find_reference(format!("refs/heads/{branch}").as_str())
        .ok()
        .flatten()
        .and_then(|mut r| r.peel_to_id().ok())
        .map(|id| id.detach())
}

/// A local repository needs no network: its refs are read as they are now.
fn read_local_heads(path: &Path, tracked: &[Option<String>]) -> Result<SourceUpdate, SourceError> {
    let repo = gix::open(path).map_err(|e| SourceError::Git {
        repo: path.to_path_buf(),
        what: "cannot open the repository".to_string(),
        cause: e.to_string(),
    })?;
    let default_branch = repo.head_name().ok().flatten().and_then(|name| {
        name.as_bstr()
            .strip_prefix(b"refs/heads/")
            .map(|b| String::from_utf8_lossy(b).into_owned())
    });
    let mut update = SourceUpdate::default();
    for wanted in tracked {
        let branch = wanted.clone().or_else(|| default_branch.clone());
        match branch.and_then(|b| local_tip(&repo, &b).map(|id| (b, id))) {
            Some((branch, commit)) => update.heads.push(BranchHead {
                tracked: wanted.clone(),
                branch,
                commit,
            }),
            None => update.missing.push(wanted.clone()),
        }
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex.repeat(40).as_bytes()).unwrap()
    }

    #[test]
    fn tracked_branches_resolve_against_what_the_remote_advertises() {
        let advertised = Advertised {
            default_branch: Some("trunk".to_string()),
            branches: [
                ("trunk".to_string(), id("a")),
                ("prod".to_string(), id("b")),
            ]
            .into(),
        };
        let update = resolve(
            &[None, Some("prod".to_string()), Some("gone".to_string())],
            &advertised,
        );
        assert_eq!(
            update.heads,
            vec![
                BranchHead {
                    tracked: None,
                    branch: "trunk".to_string(),
                    commit: id("a")
                },
                BranchHead {
                    tracked: Some("prod".to_string()),
                    branch: "prod".to_string(),
                    commit: id("b")
                },
            ]
        );
        assert_eq!(update.missing, vec![Some("gone".to_string())]);
    }

    #[test]
    fn an_unknown_default_branch_is_missing() {
        let update = resolve(&[None], &Advertised::default());
        assert!(update.heads.is_empty());
        assert_eq!(update.missing, vec![None]);
    }
}
