//! The files of an app's folder at any revision, read from the object
//! database without a checkout.

use std::path::{Path, PathBuf};

use super::SourceError;

/// A file under the app's path at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Relative to the app's path, with `/` separators.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Every regular file under `app_path` (`"."` for the root) at `rev` in the
/// repository at `repo_dir`, sorted by path. Symbolic links and submodules are
/// skipped: a link could point outside the folder, a submodule is another repo.
pub fn files_at(repo_dir: &Path, rev: &str, app_path: &str) -> Result<Vec<TreeFile>, SourceError> {
    let git = |what: &str, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: what.to_string(),
        cause: cause.to_string(),
    };
    let repo = gix::open(repo_dir).map_err(|e| git("cannot open the repository", &e))?;
    let commit = repo
        .rev_parse_single(rev)
        .map_err(|e| git(&format!("cannot resolve revision \"{rev}\""), &e))?
        .object()
        .map_err(|e| git(&format!("cannot read revision \"{rev}\""), &e))?
        .peel_to_commit()
        .map_err(|e| git(&format!("revision \"{rev}\" is not a commit"), &e))?;
    let root = commit
        .tree()
        .map_err(|e| git(&format!("cannot read the tree of \"{rev}\""), &e))?;
    let tree = if app_path == "." {
        root
    } else {
        let entry = root
            .lookup_entry_by_path(app_path)
            .map_err(|e| git(&format!("cannot look up \"{app_path}\" at \"{rev}\""), &e))?
            .ok_or_else(|| SourceError::PathNotFound {
                repo: repo_dir.to_path_buf(),
                rev: rev.to_string(),
                path: app_path.to_string(),
            })?;
        entry
            .object()
            .ok()
            .and_then(|object| object.try_into_tree().ok())
            .ok_or_else(|| SourceError::PathNotFound {
                repo: repo_dir.to_path_buf(),
                rev: rev.to_string(),
                path: app_path.to_string(),
            })?
    };
    let entries = tree
        .traverse()
        .breadthfirst
        .files()
        .map_err(|e| git(&format!("cannot walk \"{app_path}\" at \"{rev}\""), &e))?;
    let mut files = Vec::with_capacity(entries.len());
    for entry in entries {
        if !entry.mode.is_blob() {
            continue;
        }
        let path = PathBuf::from(entry.filepath.to_string());
        let blob = repo.find_object(entry.oid).map_err(|e| {
            git(
                &format!("cannot read \"{}\" at \"{rev}\"", path.display()),
                &e,
            )
        })?;
        files.push(TreeFile {
            path,
            bytes: blob.detach().data,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// An app's folder at a revision, written to a temporary folder for
/// renderers that need files on disk (kustomize, helm). The folder is
/// removed when this is dropped.
#[derive(Debug)]
pub struct AppFolder {
    dir: tempfile::TempDir,
}

impl AppFolder {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Reads `app_path` at `rev` from the object database and writes it to a
/// fresh temporary folder; see `files_at`.
pub fn materialize(repo_dir: &Path, rev: &str, app_path: &str) -> Result<AppFolder, SourceError> {
    let files = files_at(repo_dir, rev, app_path)?;
    let dir = tempfile::Builder::new()
        .prefix("driftdeck-")
        .tempdir()
        .map_err(|source| SourceError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    write_files(&files, dir.path())?;
    Ok(AppFolder { dir })
}

/// Writes files to a folder, for renderers (kustomize, helm) that need one.
pub fn write_files(files: &[TreeFile], dest: &Path) -> Result<(), SourceError> {
    for file in files {
        let target = dest.join(&file.path);
        let write = || -> std::io::Result<()> {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, &file.bytes)
        };
        write().map_err(|source| SourceError::Write {
            path: target.clone(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn repo_with_two_commits() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(root.join("apps/web/base")).unwrap();
        std::fs::write(root.join("apps/web/deploy.yaml"), "v: 1\n").unwrap();
        std::fs::write(root.join("apps/web/base/svc.yaml"), "svc: 1\n").unwrap();
        std::fs::write(root.join("README"), "top\n").unwrap();
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", "first"]);
        let first = git(root, &["rev-parse", "HEAD"]);
        std::fs::write(root.join("apps/web/deploy.yaml"), "v: 2\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("apps/web/link.yaml")).unwrap();
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", "second"]);
        (dir, first)
    }

    #[test]
    fn reads_the_app_folder_at_any_revision() {
        let (dir, first) = repo_with_two_commits();
        let old = files_at(dir.path(), &first, "apps/web").unwrap();
        let paths: Vec<_> = old
            .iter()
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect();
        assert_eq!(paths, vec!["base/svc.yaml", "deploy.yaml"]);
        assert_eq!(old[1].bytes, b"v: 1\n");
        let head = files_at(dir.path(), "main", "apps/web").unwrap();
        assert_eq!(head.len(), 2, "the symlink is skipped: {head:?}");
        assert_eq!(head[1].bytes, b"v: 2\n");
    }

    #[test]
    fn the_root_path_reads_everything() {
        let (dir, first) = repo_with_two_commits();
        assert_eq!(files_at(dir.path(), &first, ".").unwrap().len(), 3);
    }

    #[test]
    fn unknown_revision_and_path_are_named() {
        let (dir, _) = repo_with_two_commits();
        let err = files_at(dir.path(), "nope", "apps/web")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot resolve revision \"nope\""), "{err}");
        let err = files_at(dir.path(), "main", "apps/db")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"apps/db\" does not exist at \"main\""),
            "{err}"
        );
        let err = files_at(dir.path(), "main", "README")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"README\" does not exist"), "{err}");
    }

    #[test]
    fn a_materialized_folder_holds_the_revision_and_goes_away() {
        let (dir, first) = repo_with_two_commits();
        let folder = materialize(dir.path(), &first, "apps/web").unwrap();
        let root = folder.path().to_path_buf();
        assert_eq!(std::fs::read(root.join("deploy.yaml")).unwrap(), b"v: 1\n");
        assert_eq!(
            std::fs::read(root.join("base/svc.yaml")).unwrap(),
            b"svc: 1\n"
        );
        drop(folder);
        assert!(!root.exists(), "{} is left behind", root.display());
    }

    #[test]
    fn written_files_round_trip() {
        let (dir, _) = repo_with_two_commits();
        let files = files_at(dir.path(), "main", "apps/web").unwrap();
        let out = tempfile::tempdir().unwrap();
        write_files(&files, out.path()).unwrap();
        assert_eq!(
            std::fs::read(out.path().join("base/svc.yaml")).unwrap(),
            b"svc: 1\n"
        );
    }
}
