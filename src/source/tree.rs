//! The files of an app's folder at any revision, read from the object
//! database without a checkout.

use std::path::{Path, PathBuf};

use super::SourceError;
use super::revision::commit_at;
use crate::manifests;

/// A file under the app's path at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Relative to the app's path, with `/` separators.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The files under `app_path` (`"."` for the root) at `rev` in the
/// repository at `repo_dir` that loading it needs, sorted by path: every file
/// when the folder is a kustomization or a chart (renderers read templates,
/// generator inputs and ignore files), else only manifest files. Symbolic
/// links and submodules are skipped: a link could point outside the folder,
/// a submodule is another repo. Sizes are read from the object headers first:
/// a folder past the limits of `crate::manifests` is refused before any blob
/// is read, so a huge file in Git never reaches memory.
pub fn files_at(repo_dir: &Path, rev: &str, app_path: &str) -> Result<Vec<TreeFile>, SourceError> {
    let git = |what: &str, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: what.to_string(),
        cause: cause.to_string(),
    };
    let repo = gix::open(repo_dir).map_err(|e| git("cannot open the repository", &e))?;
    let root = commit_at(&repo, repo_dir, rev)?
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
    let blobs = blobs_of(&tree)
        .map_err(|e| git(&format!("cannot walk \"{app_path}\" at \"{rev}\""), &e))?;
    let renders = manifests::renderer_for_paths(blobs.iter().map(|(path, _)| path.as_path()));
    let mut wanted: Vec<_> = blobs
        .into_iter()
        .filter(|(path, _)| renders.is_some() || manifests::is_manifest_path(path))
        .collect();
    wanted.sort_by(|a, b| a.0.cmp(&b.0));

    read_blobs(
        &repo,
        &Place {
            repo_dir,
            rev,
            app_path,
            folder: app_path,
        },
        wanted,
        &mut Budget::default(),
    )
}

/// The files under `tree` (path relative to it, blob id); links and
/// submodules are left out.
pub(super) fn blobs_of(tree: &gix::Tree<'_>) -> Result<Vec<(PathBuf, gix::ObjectId)>, String> {
    let entries = tree
        .traverse()
        .breadthfirst
        .files()
        .map_err(|e| e.to_string())?;
    Ok(entries
        .into_iter()
        .filter(|entry| entry.mode.is_blob())
        .map(|entry| (PathBuf::from(entry.filepath.to_string()), entry.oid))
        .collect())
}

/// Where blobs are read, for messages: the app and the folder they are in.
pub(super) struct Place<'a> {
    pub repo_dir: &'a Path,
    pub rev: &'a str,
    /// The app's folder, which the limits are counted for.
    pub app_path: &'a str,
    /// The folder the blobs' paths are relative to.
    pub folder: &'a str,
}

/// What an app's files have used of the limits so far.
#[derive(Debug, Default)]
pub(super) struct Budget {
    pub files: usize,
    pub bytes: u64,
}

/// Reads `wanted` blobs (path relative to `place.folder`, id), refusing
/// before any blob is read when their count or sizes (from the object
/// headers) pass the limits of `crate::manifests`, counted in `budget`.
pub(super) fn read_blobs(
    repo: &gix::Repository,
    place: &Place<'_>,
    wanted: Vec<(PathBuf, gix::ObjectId)>,
    budget: &mut Budget,
) -> Result<Vec<TreeFile>, SourceError> {
    let Place {
        repo_dir,
        rev,
        app_path,
        folder,
    } = *place;
    let git = |what: &str, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: what.to_string(),
        cause: cause.to_string(),
    };
    let too_large = |path: &str, why: String| SourceError::TooLarge {
        repo: repo_dir.to_path_buf(),
        rev: rev.to_string(),
        path: path.to_string(),
        why,
    };
    budget.files += wanted.len();
    if budget.files > manifests::MAX_FILES {
        return Err(too_large(
            app_path,
            format!(
                "holds {} files, more than the limit of {}",
                budget.files,
                manifests::MAX_FILES
            ),
        ));
    }
    for (path, oid) in &wanted {
        let shown = in_repo(folder, path);
        let size = repo
            .find_header(*oid)
            .map_err(|e| git(&format!("cannot read \"{shown}\" at \"{rev}\""), &e))?
            .size();
        if size > manifests::MAX_FILE_BYTES {
            return Err(too_large(
                &shown,
                format!(
                    "is {size} bytes, more than the limit of {} for one file",
                    manifests::human_bytes(manifests::MAX_FILE_BYTES)
                ),
            ));
        }
        budget.bytes += size;
        if budget.bytes > manifests::MAX_TOTAL_BYTES {
            return Err(too_large(
                app_path,
                format!(
                    "holds more than {} of files, the limit for one app",
                    manifests::human_bytes(manifests::MAX_TOTAL_BYTES)
                ),
            ));
        }
    }
    let mut files = Vec::with_capacity(wanted.len());
    for (path, oid) in wanted {
        let blob = repo.find_object(oid).map_err(|e| {
            let shown = in_repo(folder, &path);
            git(&format!("cannot read \"{shown}\" at \"{rev}\""), &e)
        })?;
        files.push(TreeFile {
            path,
            bytes: blob.detach().data,
        });
    }
    Ok(files)
}

/// `relative` (under the app's folder) as a path from the repository root.
pub(super) fn in_repo(app_path: &str, relative: &Path) -> String {
    if app_path == "." {
        relative.display().to_string()
    } else {
        format!("{app_path}/{}", relative.display())
    }
}

/// An app's folder at a revision, written to a temporary folder for
/// renderers that need files on disk (kustomize, helm), at its place in the
/// repository so that references such as `../../base` land on the folders
/// written beside it. The folder is removed when this is dropped.
#[derive(Debug)]
pub struct AppFolder {
    dir: tempfile::TempDir,
    app_path: PathBuf,
}

impl AppFolder {
    /// The app's folder.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join(&self.app_path)
    }

    /// The repository's root, where `outside` files were written.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes `files` (read with `files_at`, relative to `app_path`) and
/// `outside` (read with `referenced_files_at`, relative to the repository
/// root) to a fresh temporary folder, for the renderers that need one.
pub fn materialize(
    app_path: &str,
    files: &[TreeFile],
    outside: &[TreeFile],
) -> Result<AppFolder, SourceError> {
    let dir = tempfile::Builder::new()
        .prefix("driftdeck-render-")
        .tempdir()
        .map_err(|source| SourceError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    let app_path = PathBuf::from(app_path);
    write_files(files, &dir.path().join(&app_path))?;
    write_files(outside, dir.path())?;
    Ok(AppFolder { dir, app_path })
}

fn write_files(files: &[TreeFile], dest: &Path) -> Result<(), SourceError> {
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
#[path = "../../tests/common/git.rs"]
mod test_git;

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    use super::test_git::git;

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
    fn the_root_path_reads_every_manifest() {
        let (dir, first) = repo_with_two_commits();
        let paths: Vec<_> = files_at(dir.path(), &first, ".")
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            paths,
            [
                Path::new("apps/web/base/svc.yaml"),
                Path::new("apps/web/deploy.yaml")
            ],
            "README is not a manifest"
        );
    }

    /// Stores `bytes` as a blob and returns its id.
    fn blob(root: &Path, bytes: &[u8]) -> String {
        let file = root.join(".git/blob-input");
        std::fs::write(&file, bytes).unwrap();
        let id = git(root, &["hash-object", "-w", file.to_str().unwrap()]);
        std::fs::remove_file(file).unwrap();
        id
    }

    /// Commits `entries` (path, blob id) through the index, so that one blob
    /// can sit under many names without being written many times.
    fn commit_entries(root: &Path, entries: &[(String, String)]) {
        use std::io::Write;
        let mut update = Command::new("git")
            .args(["update-index", "--add", "--index-info"])
            .current_dir(root)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = update.stdin.take().unwrap();
        for (path, id) in entries {
            writeln!(input, "100644 {id}\t{path}").unwrap();
        }
        drop(input);
        assert!(update.wait().unwrap().success());
        git(root, &["commit", "-qm", "limits"]);
    }

    /// Folders at and past the limits of `crate::manifests`, sharing blobs.
    fn repo_at_the_limits() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let limit = usize::try_from(manifests::MAX_FILE_BYTES).unwrap();
        let over = blob(root, &vec![b' '; limit + 1]);
        let full = blob(root, &vec![b' '; limit]);
        let small = blob(root, b"kind: ConfigMap\n");
        let mut entries = vec![
            ("huge/deploy.yaml".to_string(), small.clone()),
            ("huge/huge.yaml".to_string(), over.clone()),
            ("plain/deploy.yaml".to_string(), small.clone()),
            ("plain/notes.txt".to_string(), small.clone()),
            ("plain/image.tar".to_string(), over.clone()),
            ("chart/Chart.yaml".to_string(), small.clone()),
            ("chart/.helmignore".to_string(), small.clone()),
            ("chart/templates/_helpers.tpl".to_string(), small.clone()),
            ("chart/templates/cm.yaml".to_string(), small.clone()),
        ];
        let per_app = manifests::MAX_TOTAL_BYTES / manifests::MAX_FILE_BYTES;
        for n in 0..=per_app {
            entries.push((format!("heavy/{n}.yaml"), full.clone()));
        }
        for n in 0..=manifests::MAX_FILES {
            entries.push((format!("many/{n}.yaml"), small.clone()));
        }
        commit_entries(root, &entries);
        dir
    }

    #[test]
    fn only_manifests_are_read_unless_a_renderer_needs_the_folder() {
        let dir = repo_at_the_limits();
        let names = |app: &str| -> Vec<String> {
            files_at(dir.path(), "main", app)
                .unwrap()
                .into_iter()
                .map(|f| f.path.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names("plain"),
            ["deploy.yaml"],
            "a big file that is not a manifest is skipped, not refused"
        );
        assert_eq!(
            names("chart"),
            [
                ".helmignore",
                "Chart.yaml",
                "templates/_helpers.tpl",
                "templates/cm.yaml"
            ]
        );
    }

    #[test]
    fn a_blob_past_the_file_limit_is_refused_naming_file_and_revision() {
        let dir = repo_at_the_limits();
        let err = files_at(dir.path(), "main", "huge").unwrap_err();
        assert!(matches!(err, SourceError::TooLarge { .. }), "{err:?}");
        let err = err.to_string();
        let expected = format!(
            "\"huge/huge.yaml\" at \"main\" is {} bytes, more than the limit of 16 MiB",
            manifests::MAX_FILE_BYTES + 1
        );
        assert!(err.contains(&expected), "{err}");
    }

    #[test]
    fn a_folder_past_the_total_or_the_count_limit_is_refused() {
        let dir = repo_at_the_limits();
        let err = files_at(dir.path(), "main", "heavy")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"heavy\" at \"main\" holds more than 64 MiB of files"),
            "{err}"
        );
        let err = files_at(dir.path(), "main", "many")
            .unwrap_err()
            .to_string();
        let expected = format!(
            "\"many\" at \"main\" holds {} files, more than the limit of {}",
            manifests::MAX_FILES + 1,
            manifests::MAX_FILES
        );
        assert!(err.contains(&expected), "{err}");
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
        let files = files_at(dir.path(), &first, "apps/web").unwrap();
        let folder = materialize("apps/web", &files, &[]).unwrap();
        let root = folder.path();
        assert_eq!(std::fs::read(root.join("deploy.yaml")).unwrap(), b"v: 1\n");
        assert_eq!(
            std::fs::read(root.join("base/svc.yaml")).unwrap(),
            b"svc: 1\n"
        );
        let top = folder.root().to_path_buf();
        drop(folder);
        assert!(!top.exists(), "{} is left behind", top.display());
    }
}
