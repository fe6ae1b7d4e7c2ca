//! The pieces of a Git rollback (`rollback.rs` puts them together): the
//! commit whose tree is the head's except the app's paths, restored to their
//! content at a chosen revision (gix builds and signs it), the system `git
//! push` that sends it (gix cannot push), and the local branch that keeps a
//! commit that could not be pushed.

use std::path::Path;
use std::time::Duration;

use gix::ObjectId;

use super::SourceError;
use super::location::RemoteUrl;
use super::revision::commit_at;
use super::rollback_request::RollbackRequest;
use super::signature::SignatureFormat;
use crate::causes::with_causes;

/// Builds the revert commit in `repo_dir` on `base` (default: the branch's
/// tip there), on the blocking pool.
pub(super) async fn build_in(
    repo_dir: &Path,
    request: &RollbackRequest,
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

/// The commit: `base`'s tree with each of `request.paths` as it was at
/// `request.to` (removed if it did not exist then), author and committer
/// from git config, signed if git is configured to sign commits.
pub(super) fn build_revert_commit(
    repo: &gix::Repository,
    repo_dir: &Path,
    request: &RollbackRequest,
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
        .and_then(|c| c.tree())
        .map_err(|e| git(format!("cannot read commit {base}"), &e))?;
    let base_tree_id = base_tree.id;
    let new_tree = if request.paths.iter().any(|p| p == ".") {
        target_tree.id
    } else {
        let mut editor = repo
            .edit_tree(base_tree_id)
            .map_err(|e| git(format!("cannot edit the tree of {base}"), &e))?;
        for path in &request.paths {
            let path = path.as_str();
            let entry = target_tree
                .lookup_entry_by_path(path)
                .map_err(|e| git(format!("cannot look up \"{path}\" at \"{to}\""), &e))?;
            let in_base = base_tree
                .lookup_entry_by_path(path)
                .map_err(|e| git(format!("cannot look up \"{path}\" at {base}"), &e))?;
            match (entry, in_base) {
                (Some(entry), _) => editor
                    .upsert(path, entry.mode().kind(), entry.object_id())
                    .map(|_| ()),
                (None, Some(_)) => editor.remove(path).map(|_| ()),
                (None, None) => Ok(()),
            }
            .map_err(|e| git(format!("cannot restore \"{path}\""), &e))?;
        }
        editor
            .write()
            .map_err(|e| git("cannot write the new tree".to_string(), &e))?
            .detach()
    };
    if new_tree == base_tree_id {
        return Err(SourceError::NothingToRevert {
            app: request.app.clone(),
            path: request.paths.join("\", \""),
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
    // gix signs as `git commit` would: gpg, ssh-keygen or gpgsm after
    // `gpg.format`, with `user.signingKey`.
    if !signing_setup(repo).sign {
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

/// How git is set up to sign the commits it makes (`commit.gpgSign`,
/// `gpg.format`, `user.signingKey`), from the repository's config and the
/// operator's: a rollback commit is signed as this says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningSetup {
    /// `commit.gpgSign = true`.
    pub sign: bool,
    /// `gpg.format` as written (`openpgp` when unset).
    pub format_name: String,
    /// The kind of signature it makes; `None` for a format git does not know.
    pub format: Option<SignatureFormat>,
    /// `user.signingKey`, when set.
    pub key: Option<String>,
}

pub(super) fn signing_setup(repo: &gix::Repository) -> SigningSetup {
    let config = repo.config_snapshot();
    let format_name = config
        .string("gpg.format")
        .map(|format| format.to_string())
        .unwrap_or_else(|| "openpgp".to_string());
    let format = match format_name.as_str() {
        "openpgp" => Some(SignatureFormat::Gpg),
        "x509" => Some(SignatureFormat::X509),
        "ssh" => Some(SignatureFormat::Ssh),
        _ => None,
    };
    SigningSetup {
        sign: config.boolean("commit.gpgSign").unwrap_or(false),
        format_name,
        format,
        key: config
            .string("user.signingKey")
            .map(|key| key.to_string())
            .filter(|key| !key.trim().is_empty()),
    }
}

/// Why a push did not go through.
#[derive(Debug)]
pub(super) enum PushFailure {
    /// The remote's branch is not an ancestor of ours: someone pushed first.
    BranchMoved(String),
    /// The server refused the update itself (`[remote rejected]`): a
    /// protected branch, a pre-receive hook.
    Refused(String),
    Other(String),
}

impl std::fmt::Display for PushFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PushFailure::BranchMoved(why) => write!(f, "the branch moved on the remote: {why}"),
            PushFailure::Refused(why) => write!(f, "the remote refused it: {why}"),
            PushFailure::Other(why) => f.write_str(why),
        }
    }
}

/// `git push --porcelain URL COMMIT:refs/heads/BRANCH`, from the clone, under
/// a timeout, without prompts.
pub(super) async fn push(
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
    // "!\t<from>:<to>\t[remote rejected] (pre-receive hook declined)", with
    // the hook's own words on stderr as "remote: …".
    if let Some(line) = stdout
        .lines()
        .find(|line| line.starts_with('!') && line.contains("[remote rejected]"))
    {
        let status = line.rsplit('\t').next().unwrap_or(line).to_string();
        let hook: Vec<&str> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("remote:"))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        return Err(PushFailure::Refused(if hook.is_empty() {
            status
        } else {
            format!("{status}: {}", hook.join("; "))
        }));
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
pub(super) fn keep(
    clone_dir: &Path,
    request: &RollbackRequest,
    pushed_to: &str,
    commit: ObjectId,
    cause: String,
) -> SourceError {
    let short = commit.to_hex_with_len(7).to_string();
    let kept = format!("driftdeck/revert-{}-{short}", request.app);
    match set_branch(clone_dir, &kept, commit, None) {
        Ok(()) => SourceError::PushFailed {
            repo: request.source.to_string(),
            branch: pushed_to.to_string(),
            kept: Some(kept),
            clone: clone_dir.to_path_buf(),
            cause,
        },
        Err(err) => SourceError::PushFailed {
            repo: request.source.to_string(),
            branch: pushed_to.to_string(),
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
pub(super) fn set_branch(
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
        "driftdeck: git rollback",
    )
    .map(|_| ())
    .map_err(|e| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: format!("cannot move branch \"{branch}\" to {commit}"),
        cause: e.to_string(),
    })
}

pub(super) fn branch_tip(
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

pub(super) fn open(repo_dir: &Path) -> Result<gix::Repository, SourceError> {
    gix::open(repo_dir).map_err(|e| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: "cannot open the repository".to_string(),
        cause: e.to_string(),
    })
}
