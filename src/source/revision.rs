//! A revision (branch, tag, id, `main~2`) resolved to its commit, with an
//! error that names the repository and the revision.

use std::path::Path;

use super::SourceError;

/// The commit `rev` names in `repo` (opened from `repo_dir`, which errors name).
pub(crate) fn commit_at<'repo>(
    repo: &'repo gix::Repository,
    repo_dir: &Path,
    rev: &str,
) -> Result<gix::Commit<'repo>, SourceError> {
    let git = |what: String, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what,
        cause: cause.to_string(),
    };
    repo.rev_parse_single(rev)
        .map_err(|e| git(format!("cannot resolve revision \"{rev}\""), &e))?
        .object()
        .map_err(|e| git(format!("cannot read revision \"{rev}\""), &e))?
        .peel_to_commit()
        .map_err(|e| git(format!("revision \"{rev}\" is not a commit"), &e))
}

/// The full id of the commit `rev` names (a short or full id, a branch, a
/// tag, `main~2`) in the repository at `repo_dir`. Blocking.
pub fn resolve_commit(repo_dir: &Path, rev: &str) -> Result<String, SourceError> {
    let repo = gix::open(repo_dir).map_err(|e| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: "cannot open the repository".to_string(),
        cause: e.to_string(),
    })?;
    Ok(commit_at(&repo, repo_dir, rev)?.id.to_string())
}
