//! The files a commit changed: its tree against its first parent's (all
//! files for a root commit), walked entry by entry, subtrees with the same
//! id skipped whole.

use std::path::Path;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::prelude::FindExt;
use serde::Serialize;

use super::SourceError;
use super::revision::commit_at;

/// What a commit did to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileChange {
    Added,
    Modified,
    Deleted,
}

/// A file a commit changed, by its path from the repository's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    pub path: String,
    pub change: FileChange,
}

/// At most this many files are listed (a vendoring commit changes thousands).
pub const CHANGED_FILES_LIMIT: usize = 1000;

/// The files `rev` changed against its first parent, in path order.
pub fn changed_files(repo_dir: &Path, rev: &str) -> Result<Vec<ChangedFile>, SourceError> {
    let git = |what: String, cause: &dyn std::fmt::Display| SourceError::Git {
        repo: repo_dir.to_path_buf(),
        what,
        cause: cause.to_string(),
    };
    let repo = gix::open(repo_dir).map_err(|e| git("cannot open the repository".into(), &e))?;
    let commit = commit_at(&repo, repo_dir, rev)?;
    let read = |e: &dyn std::fmt::Display| git(format!("cannot read the trees of \"{rev}\""), e);
    let tree = commit.tree_id().map_err(|e| read(&e))?.detach();
    let parent = match commit.parent_ids().next() {
        Some(id) => Some(
            repo.find_commit(id)
                .map_err(|e| read(&e))?
                .tree_id()
                .map_err(|e| read(&e))?
                .detach(),
        ),
        None => None,
    };
    let mut changed = Vec::new();
    compare(&repo, parent, Some(tree), "", &mut changed).map_err(|e| read(&e))?;
    changed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changed)
}

/// One tree entry: its id and whether it is a tree.
type Entry = (ObjectId, bool);

fn entries(
    repo: &gix::Repository,
    tree: Option<ObjectId>,
) -> Result<Vec<(String, Entry)>, gix::Error> {
    let Some(tree) = tree else {
        return Ok(Vec::new());
    };
    let mut buf = Vec::new();
    let mut listed = Vec::new();
    for entry in repo.objects.find_tree_iter(&tree, &mut buf)? {
        let entry = entry.map_err(gix::Error::from_error)?;
        listed.push((
            entry.filename.to_str_lossy().into_owned(),
            (entry.oid.to_owned(), entry.mode.is_tree()),
        ));
    }
    Ok(listed)
}

/// Compares two trees (either may be absent) under `prefix`.
fn compare(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    prefix: &str,
    changed: &mut Vec<ChangedFile>,
) -> Result<(), gix::Error> {
    let old = entries(repo, old)?;
    let new = entries(repo, new)?;
    let mut names: Vec<&String> = old.iter().chain(&new).map(|(name, _)| name).collect();
    names.sort();
    names.dedup();
    for name in names {
        if changed.len() >= CHANGED_FILES_LIMIT {
            return Ok(());
        }
        let find = |list: &[(String, Entry)]| list.iter().find(|(n, _)| n == name).map(|(_, e)| *e);
        let (before, after) = (find(&old), find(&new));
        if before == after {
            continue;
        }
        let path = format!("{prefix}{name}");
        let tree_of = |entry: Option<Entry>| entry.filter(|(_, tree)| *tree).map(|(id, _)| id);
        let file_of = |entry: Option<Entry>| entry.filter(|(_, tree)| !*tree);
        // A folder on either side: what is inside it changed.
        if tree_of(before).is_some() || tree_of(after).is_some() {
            compare(
                repo,
                tree_of(before),
                tree_of(after),
                &format!("{path}/"),
                changed,
            )?;
        }
        let change = match (file_of(before), file_of(after)) {
            (None, None) => continue,
            (None, Some(_)) => FileChange::Added,
            (Some(_), None) => FileChange::Deleted,
            (Some(_), Some(_)) => FileChange::Modified,
        };
        changed.push(ChangedFile { path, change });
    }
    Ok(())
}
