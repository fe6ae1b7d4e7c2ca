//! What an app's render reaches outside its folder at a revision: the
//! folders and files its kustomization refers to (`resources: [../../base]`,
//! patches, generator files…), followed through the kustomizations and
//! charts found there, within the repository and within the manifest limits.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::SourceError;
use super::revision::commit_at;
use super::tree::{Budget, Place, TreeFile, blobs_of, read_blobs};
use crate::manifests::{self, KUSTOMIZATION_FILES, Reference};

/// Folders with a kustomization or chart followed from one app: a bound on
/// the walk whatever the repository holds.
const MAX_FOLDERS_FOLLOWED: usize = 1_000;

/// A path outside the app's folder that its render needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reached {
    /// From the repository root, `/`-separated.
    path: String,
    is_folder: bool,
}

/// The app's folder and every path outside it that its render needs at
/// `rev`, from the repository root: what a rollback restores, what a commit
/// must touch to change the app.
pub fn render_inputs(
    repo_dir: &Path,
    rev: &str,
    app_path: &str,
) -> Result<Vec<String>, SourceError> {
    let repo = open(repo_dir)?;
    let root = root_tree(&repo, repo_dir, rev)?;
    let mut paths = vec![app_path.to_string()];
    paths.extend(
        reached(&repo, &root, repo_dir, rev, app_path)?
            .into_iter()
            .map(|r| r.path),
    );
    Ok(paths)
}

/// The files outside `app_path` that its render needs at `rev`, relative to
/// the repository root; `app_files` (from `files_at`) count towards the
/// limits first.
pub fn referenced_files_at(
    repo_dir: &Path,
    rev: &str,
    app_path: &str,
    app_files: &[TreeFile],
) -> Result<Vec<TreeFile>, SourceError> {
    let repo = open(repo_dir)?;
    let root = root_tree(&repo, repo_dir, rev)?;
    let mut budget = Budget {
        files: app_files.len(),
        bytes: app_files.iter().map(|f| f.bytes.len() as u64).sum(),
    };
    let git = |what: String, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what,
        cause: cause.to_string(),
    };
    let mut files = Vec::new();
    for reached in reached(&repo, &root, repo_dir, rev, app_path)? {
        let path = reached.path.as_str();
        let entry = root
            .lookup_entry_by_path(path)
            .map_err(|e| git(format!("cannot look up \"{path}\" at \"{rev}\""), &e))?;
        let Some(entry) = entry else { continue };
        let (wanted, folder) = if reached.is_folder {
            let tree = entry
                .object()
                .ok()
                .and_then(|o| o.try_into_tree().ok())
                .ok_or_else(|| {
                    git(
                        format!("cannot read \"{path}\" at \"{rev}\""),
                        &"not a folder",
                    )
                })?;
            let mut blobs = blobs_of(&tree)
                .map_err(|e| git(format!("cannot walk \"{path}\" at \"{rev}\""), &e))?;
            blobs.sort_by(|a, b| a.0.cmp(&b.0));
            (blobs, path.to_string())
        } else {
            let (parent, name) = path.rsplit_once('/').unwrap_or((".", path));
            (
                vec![(PathBuf::from(name), entry.object_id())],
                parent.to_string(),
            )
        };
        let place = Place {
            repo_dir,
            rev,
            app_path,
            folder: &folder,
        };
        for file in read_blobs(&repo, &place, wanted, &mut budget)? {
            files.push(TreeFile {
                path: Path::new(&folder).join(&file.path),
                bytes: file.bytes,
            });
        }
    }
    Ok(files)
}

/// Follows the kustomization (or chart) of `app_path` and of every folder
/// it refers to; gives the paths outside `app_path`, none inside another.
fn reached(
    repo: &gix::Repository,
    root: &gix::Tree<'_>,
    repo_dir: &Path,
    rev: &str,
    app_path: &str,
) -> Result<Vec<Reached>, SourceError> {
    let mut queue = vec![app_path.to_string()];
    let mut followed = BTreeSet::new();
    let mut found: Vec<Reached> = Vec::new();
    while let Some(folder) = queue.pop() {
        if !followed.insert(folder.clone()) {
            continue;
        }
        if followed.len() > MAX_FOLDERS_FOLLOWED {
            return Err(SourceError::TooLarge {
                repo: repo_dir.to_path_buf(),
                rev: rev.to_string(),
                path: app_path.to_string(),
                why: format!(
                    "refers to more than {MAX_FOLDERS_FOLLOWED} kustomizations and charts"
                ),
            });
        }
        let Some((file, references)) = references_of(repo, root, &folder) else {
            continue;
        };
        for reference in references {
            let Some(path) = join_inside(&folder, &reference.path) else {
                return Err(SourceError::OutsideRepository {
                    repo: repo_dir.to_path_buf(),
                    rev: rev.to_string(),
                    file,
                    reference: reference.path,
                });
            };
            let kind = root
                .lookup_entry_by_path(&path)
                .ok()
                .flatten()
                .map(|entry| entry.mode().is_tree());
            // A missing path is left to the renderer, which names it.
            let Some(is_folder) = kind else { continue };
            if is_folder && reference.is_folder_to_render {
                queue.push(path.clone());
            }
            if !within(&path, app_path) {
                found.push(Reached { path, is_folder });
            }
        }
    }
    // Folders first, so a file or folder inside one is dropped.
    found.sort_by(|a, b| b.is_folder.cmp(&a.is_folder).then(a.path.cmp(&b.path)));
    let mut kept: Vec<Reached> = Vec::new();
    for reached in found {
        if !kept
            .iter()
            .any(|k| k.is_folder && within(&reached.path, &k.path))
        {
            kept.push(reached);
        }
    }
    kept.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(kept)
}

/// The kustomization (or else `Chart.yaml`) of `folder` and what it refers
/// to. One that cannot be read or parsed is left to the renderer, whose
/// message is the one the operator knows.
fn references_of(
    repo: &gix::Repository,
    root: &gix::Tree<'_>,
    folder: &str,
) -> Option<(String, Vec<Reference>)> {
    type Parse = fn(&str) -> Result<Vec<Reference>, String>;
    let candidates = KUSTOMIZATION_FILES
        .iter()
        .map(|name| (*name, manifests::kustomization_references as Parse))
        .chain([("Chart.yaml", manifests::chart_references as Parse)]);
    for (name, parse) in candidates {
        let file = if folder == "." {
            name.to_string()
        } else {
            format!("{folder}/{name}")
        };
        let Some(entry) = root.lookup_entry_by_path(&file).ok().flatten() else {
            continue;
        };
        if !entry.mode().is_blob() {
            continue;
        }
        let size = repo.find_header(entry.object_id()).ok()?.size();
        if size > manifests::MAX_FILE_BYTES {
            return None;
        }
        let blob = repo.find_object(entry.object_id()).ok()?;
        let text = std::str::from_utf8(&blob.data).ok()?;
        return parse(text).ok().map(|references| (file, references));
    }
    None
}

/// `reference` from `folder`, both relative to the repository root, with
/// `.` and `..` resolved; `None` when it leaves the repository.
fn join_inside(folder: &str, reference: &str) -> Option<String> {
    if reference.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = folder
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in reference.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

/// `path` is `folder` or inside it.
fn within(path: &str, folder: &str) -> bool {
    folder == "."
        || path == folder
        || path
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn open(repo_dir: &Path) -> Result<gix::Repository, SourceError> {
    gix::open(repo_dir).map_err(|e| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what: "cannot open the repository".to_string(),
        cause: e.to_string(),
    })
}

fn root_tree<'repo>(
    repo: &'repo gix::Repository,
    repo_dir: &Path,
    rev: &str,
) -> Result<gix::Tree<'repo>, SourceError> {
    commit_at(repo, repo_dir, rev)?
        .tree()
        .map_err(|e| SourceError::Git {
            repo: repo_dir.to_path_buf(),
            what: format!("cannot read the tree of \"{rev}\""),
            cause: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_inside_the_repository_or_not_at_all() {
        assert_eq!(
            join_inside("apps/api/overlays/prod", "../../base").as_deref(),
            Some("apps/api/base")
        );
        assert_eq!(
            join_inside("apps/api", "./patch.yaml").as_deref(),
            Some("apps/api/patch.yaml")
        );
        assert_eq!(join_inside("apps", "..").as_deref(), Some("."));
        assert_eq!(join_inside("apps/api", "../../../etc"), None);
        assert_eq!(join_inside(".", ".."), None);
        assert_eq!(join_inside("apps", "/etc/passwd"), None);
    }

    #[test]
    fn within_means_the_folder_or_below_it() {
        assert!(within("apps/api/base", "apps/api"));
        assert!(within("apps/api", "apps/api"));
        assert!(!within("apps/api-v2", "apps/api"));
        assert!(within("anything", "."));
    }
}
