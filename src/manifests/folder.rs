//! The manifest files of an app folder on disk. Symbolic links are followed
//! while they stay inside the folder; loops, links out of it and everything
//! past the limits are reported instead of read.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::ManifestError;
use super::file::{ManifestFile, display_path, is_manifest_path};
use super::limits;
use super::problems::{Problem, Problems, Severity};

/// `ELOOP` on Linux: too many levels of symbolic links.
const ELOOP: i32 = 40;

/// The names of the entries at the top of `dir`, to choose a renderer.
pub fn top_level_names(dir: &Path) -> Result<Vec<String>, ManifestError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ManifestError::ReadFolder {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect())
}

/// Every manifest file under `dir`, sorted by path; `display` is how
/// messages name `dir`.
pub fn read_folder(
    dir: &Path,
    display: &Path,
) -> Result<(Vec<ManifestFile>, Problems), ManifestError> {
    let root = dir
        .canonicalize()
        .map_err(|source| ManifestError::ReadFolder {
            path: dir.to_path_buf(),
            source,
        })?;
    let meta = std::fs::metadata(&root).map_err(|source| ManifestError::ReadFolder {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut walk = Walk {
        root: root.clone(),
        display,
        files: Vec::new(),
        problems: Problems::default(),
        total_bytes: 0,
        stopped: false,
    };
    let mut ancestors = vec![(meta.dev(), meta.ino())];
    walk.visit(&root, Path::new(""), &mut ancestors)?;
    Ok((walk.files, walk.problems))
}

/// The first symbolic link under `dir` (at any depth, dot-files included)
/// whose target is outside `dir` or cannot be resolved, as (its path
/// relative to `dir`, what it points to): what a renderer that reads every
/// file of the folder, as helm does, must not be run on. At most
/// [`limits::MAX_FILES`] entries per folder and [`limits::MAX_FOLDER_DEPTH`]
/// levels are looked at; a folder past them counts as leaving.
pub fn link_leaving(dir: &Path) -> Result<Option<(PathBuf, PathBuf)>, ManifestError> {
    let root = dir
        .canonicalize()
        .map_err(|source| ManifestError::ReadFolder {
            path: dir.to_path_buf(),
            source,
        })?;
    let mut pending = vec![(root.clone(), PathBuf::new())];
    while let Some((folder, relative)) = pending.pop() {
        let read_error = |source| ManifestError::ReadFolder {
            path: folder.clone(),
            source,
        };
        let entries = std::fs::read_dir(&folder).map_err(read_error)?;
        for (count, entry) in entries.enumerate() {
            let entry = entry.map_err(read_error)?;
            let child = relative.join(entry.file_name());
            let too_much =
                count >= limits::MAX_FILES || child.components().count() > limits::MAX_FOLDER_DEPTH;
            if too_much {
                return Ok(Some((child, PathBuf::from("(too many files to check)"))));
            }
            let kind = entry.file_type().map_err(read_error)?;
            if kind.is_symlink() {
                let path = entry.path();
                let inside = path.canonicalize().is_ok_and(|t| t.starts_with(&root));
                if !inside {
                    let target = std::fs::read_link(&path).unwrap_or_default();
                    return Ok(Some((child, target)));
                }
            } else if kind.is_dir() {
                pending.push((entry.path(), child));
            }
        }
    }
    Ok(None)
}

struct Walk<'a> {
    /// Canonical, to tell links that leave the folder.
    root: PathBuf,
    display: &'a Path,
    files: Vec<ManifestFile>,
    problems: Problems,
    total_bytes: u64,
    /// A limit was reached: read nothing more.
    stopped: bool,
}

impl Walk<'_> {
    fn error(&mut self, relative: &Path, message: String) {
        let file = display_path(self.display, relative);
        self.problems
            .push(Problem::in_file(Severity::Error, file, message));
    }

    /// Reads the folder `dir` (at `relative` from the root); `ancestors`
    /// holds the device and inode of every folder on the way down.
    fn visit(
        &mut self,
        dir: &Path,
        relative: &Path,
        ancestors: &mut Vec<(u64, u64)>,
    ) -> Result<(), ManifestError> {
        let read_error = |source| ManifestError::ReadFolder {
            path: dir.to_path_buf(),
            source,
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(read_error)?
            .collect::<Result<_, _>>()
            .map_err(read_error)?;
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            if self.stopped {
                return Ok(());
            }
            let name = entry.file_name();
            if name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let path = entry.path();
            let child = relative.join(&name);
            let Some(meta) = self.follow(&path, &child) else {
                continue;
            };
            if meta.is_dir() {
                self.visit_folder(&path, &child, &meta, ancestors)?;
            } else if meta.is_file() && is_manifest_path(&child) {
                self.read_file(&path, child, meta.len());
            }
        }
        Ok(())
    }

    /// The metadata of an entry, through a symbolic link when it is one and
    /// it can be followed; `None` (after a problem where one is due) when it
    /// is to be skipped.
    fn follow(&mut self, path: &Path, child: &Path) -> Option<std::fs::Metadata> {
        let own = std::fs::symlink_metadata(path).ok()?;
        if !own.file_type().is_symlink() {
            return Some(own);
        }
        match std::fs::metadata(path) {
            Err(err) if err.raw_os_error() == Some(ELOOP) => {
                self.error(
                    child,
                    "symbolic link loop: the link never reaches a file".into(),
                );
                None
            }
            Err(err) => {
                if is_manifest_path(child) {
                    self.error(child, format!("broken symbolic link: {err}"));
                }
                None
            }
            Ok(meta) => {
                let inside = path.canonicalize().is_ok_and(|t| t.starts_with(&self.root));
                if !inside && (meta.is_dir() || is_manifest_path(child)) {
                    let target = std::fs::read_link(path).unwrap_or_default();
                    self.error(
                        child,
                        format!(
                            "symbolic link to \"{}\" leads out of the app folder",
                            target.display()
                        ),
                    );
                    return None;
                }
                Some(meta)
            }
        }
    }

    fn visit_folder(
        &mut self,
        path: &Path,
        child: &Path,
        meta: &std::fs::Metadata,
        ancestors: &mut Vec<(u64, u64)>,
    ) -> Result<(), ManifestError> {
        let id = (meta.dev(), meta.ino());
        if ancestors.contains(&id) {
            self.error(
                child,
                "symbolic link loop: the link leads back to a folder above it".into(),
            );
            return Ok(());
        }
        if ancestors.len() > limits::MAX_FOLDER_DEPTH {
            self.error(
                child,
                format!(
                    "folders nested more than {} levels deep are not read",
                    limits::MAX_FOLDER_DEPTH
                ),
            );
            return Ok(());
        }
        ancestors.push(id);
        let visited = self.visit(path, child, ancestors);
        ancestors.pop();
        visited
    }

    fn read_file(&mut self, path: &Path, child: PathBuf, size: u64) {
        if size > limits::MAX_FILE_BYTES {
            self.error(
                &child,
                format!(
                    "the file is {size} bytes, more than the limit of {}",
                    limits::human_bytes(limits::MAX_FILE_BYTES)
                ),
            );
            return;
        }
        if self.files.len() >= limits::MAX_FILES {
            self.error(
                Path::new(""),
                format!(
                    "more than {} manifest files; the rest is not read",
                    limits::MAX_FILES
                ),
            );
            self.stopped = true;
            return;
        }
        self.total_bytes += size;
        if self.total_bytes > limits::MAX_TOTAL_BYTES {
            self.error(
                Path::new(""),
                format!(
                    "the manifests hold more than {} in all; the rest is not read",
                    limits::human_bytes(limits::MAX_TOTAL_BYTES)
                ),
            );
            self.stopped = true;
            return;
        }
        match std::fs::read(path) {
            Ok(bytes) => self.files.push(ManifestFile {
                path: child,
                bytes,
                rendered_by: None,
            }),
            Err(err) => self.error(&child, format!("cannot read the file: {err}")),
        }
    }
}
