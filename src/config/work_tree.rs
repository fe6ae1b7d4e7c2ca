//! With no config, the Git work tree driftdeck is started in becomes an app.

use std::path::Path;

use super::{AppConfig, DEFAULT_POLL};
use crate::source::{SourceLocation, work_tree_at};

/// The app for the current folder of the work tree around `dir`, named after
/// the folder; `None` when `dir` is not inside a work tree.
pub fn offer_work_tree_app(dir: &Path) -> Option<AppConfig> {
    let (found, branch) = work_tree_at(dir)?;
    let folder = match found.app_path.rsplit('/').next() {
        Some(name) if name != "." => name.to_string(),
        _ => found
            .repo_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let repo = found.repo_dir.to_string_lossy().into_owned();
    Some(AppConfig {
        name: app_name_from(&folder),
        source: SourceLocation::parse(&repo).ok()?,
        repo,
        branch,
        path: found.app_path,
        context: None,
        namespace: "default".to_string(),
        poll: DEFAULT_POLL,
        values: Vec::new(),
        ignore: Vec::new(),
        sync: Default::default(),
    })
}

/// A folder name made into a valid app name (a DNS-1123 label).
fn app_name_from(folder: &str) -> String {
    let mut name: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(63);
    let name = name.trim_matches('-');
    if name.is_empty() {
        "app".to_string()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn folder_names_become_labels() {
        assert_eq!(app_name_from("My_Deploy.Repo"), "my-deploy-repo");
        assert_eq!(app_name_from("--x--"), "x");
        assert_eq!(app_name_from("ñ"), "app");
        assert_eq!(app_name_from(&"a".repeat(80)).len(), 63);
    }

    #[test]
    fn offers_the_current_folder_of_a_work_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("Deploy");
        std::fs::create_dir_all(root.join("apps/guestbook")).unwrap();
        let git = Command::new("git")
            .args(["init", "-q", "-b", "trunk"])
            .arg(&root)
            .status()
            .unwrap();
        assert!(git.success());
        let app = offer_work_tree_app(&root.join("apps/guestbook")).unwrap();
        assert_eq!(app.name, "guestbook");
        assert_eq!(app.path, "apps/guestbook");
        assert_eq!(app.branch.as_deref(), Some("trunk"));
        assert_eq!(Path::new(&app.repo), root.canonicalize().unwrap());
        let top = offer_work_tree_app(&root).unwrap();
        assert_eq!((top.name.as_str(), top.path.as_str()), ("deploy", "."));
    }

    #[test]
    fn offers_nothing_outside_a_work_tree() {
        let dir = tempfile::tempdir().unwrap();
        assert!(offer_work_tree_app(dir.path()).is_none());
    }
}
