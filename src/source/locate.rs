//! The Git repository around a path, and where the path is inside it.

use std::path::{Path, PathBuf};

use super::SourceError;

/// A folder inside a repository's work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPath {
    /// The work tree's root, canonical.
    pub repo_dir: PathBuf,
    /// Relative to the root with `/` separators; `"."` for the root itself.
    pub app_path: String,
}

/// Finds the repository around `path`. The path itself need not exist (it
/// may have been deleted since the revision to read); its nearest existing
/// folder is searched from.
pub fn locate_in_repo(path: &Path) -> Result<RepoPath, SourceError> {
    discover(path).map(|(_, found)| found)
}

/// The work tree around `dir`: where `dir` is in it, and the branch checked
/// out (`None` when HEAD is detached). `None` outside a work tree.
pub fn work_tree_at(dir: &Path) -> Option<(RepoPath, Option<String>)> {
    let (repo, found) = discover(dir).ok()?;
    let branch = repo
        .head_name()
        .ok()
        .flatten()
        .map(|name| name.shorten().to_string());
    Some((found, branch))
}

/// The repository around `path`, opened, and where `path` is in its work
/// tree; see `locate_in_repo`.
pub(super) fn discover(path: &Path) -> Result<(gix::Repository, RepoPath), SourceError> {
    let not_found = |cause: &dyn std::fmt::Display| SourceError::Git {
        repo: path.to_path_buf(),
        what: "not inside a Git work tree".to_string(),
        cause: cause.to_string(),
    };
    let absolute = std::path::absolute(path).map_err(|e| not_found(&e))?;
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    let existing = loop {
        if let Ok(canonical) = existing.canonicalize() {
            break canonical;
        }
        missing.push(existing.file_name().unwrap_or_default().to_os_string());
        existing = existing
            .parent()
            .ok_or_else(|| not_found(&"no folder of it exists"))?;
    };
    let repo = gix::discover(&existing).map_err(|e| not_found(&e))?;
    let root = repo
        .workdir()
        .ok_or_else(|| not_found(&"the repository is bare"))?
        .canonicalize()
        .map_err(|e| not_found(&e))?;
    let mut full = existing;
    full.extend(missing.iter().rev());
    let relative = full
        .strip_prefix(&root)
        .map_err(|_| not_found(&"the path is outside the work tree"))?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let found = RepoPath {
        repo_dir: root,
        app_path: if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        },
    };
    Ok((repo, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_repository_and_the_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("deploy");
        std::fs::create_dir_all(root.join("apps/web")).unwrap();
        let init = std::process::Command::new("git")
            .args(["init", "-q"])
            .arg(&root)
            .status()
            .unwrap();
        assert!(init.success());
        let found = locate_in_repo(&root.join("apps/web")).unwrap();
        assert_eq!(found.repo_dir, root.canonicalize().unwrap());
        assert_eq!(found.app_path, "apps/web");
        assert_eq!(locate_in_repo(&root).unwrap().app_path, ".");
        let gone = locate_in_repo(&root.join("apps/old/base")).unwrap();
        assert_eq!(gone.app_path, "apps/old/base");
    }

    #[test]
    fn a_folder_outside_any_repository_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate_in_repo(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not inside a Git work tree"), "{err}");
    }
}
