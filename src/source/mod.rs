//! Git: where an app's desired state comes from.

mod locate;
mod tree;
mod work_tree;

use std::path::PathBuf;

pub use locate::{RepoPath, locate_in_repo};
pub use tree::{TreeFile, files_at, write_files};
pub use work_tree::offer_work_tree_app;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{}: {what}: {cause}", repo.display())]
    Git {
        repo: PathBuf,
        what: String,
        cause: String,
    },
    #[error("{}: \"{path}\" does not exist at \"{rev}\" (or is not a folder)", repo.display())]
    PathNotFound {
        repo: PathBuf,
        rev: String,
        path: String,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}
