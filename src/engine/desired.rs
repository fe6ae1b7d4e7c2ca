//! The desired state of an app at a revision: its folder read from the Git
//! object database, rendered by kustomize or helm when it must be, loaded
//! and checked. Blocking (gix and the renderers): call it from
//! `spawn_blocking` in async code.

use std::path::Path;

use crate::config::AppConfig;
use crate::manifests::{self, AppSettings, Checked, ManifestError, ManifestFile};
use crate::source::{self, SourceError};

#[derive(Debug, thiserror::Error)]
pub enum DesiredError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Manifests(#[from] ManifestError),
}

/// The app folder `app_path` of the repository at `repo_dir` at `rev`,
/// checked. The files are written to a temporary folder (removed after) only
/// when kustomize or helm must render them; `display` names the folder in
/// problems.
pub fn desired_at(
    repo_dir: &Path,
    rev: &str,
    app_path: &str,
    display: &Path,
    app: &AppSettings<'_>,
) -> Result<Checked, DesiredError> {
    let tree = source::files_at(repo_dir, rev, app_path)?;
    if manifests::renderer_for_paths(tree.iter().map(|file| file.path.as_path())).is_none() {
        let files: Vec<ManifestFile> = tree
            .into_iter()
            .map(|file| ManifestFile {
                path: file.path,
                bytes: file.bytes,
                rendered_by: None,
            })
            .collect();
        return Ok(manifests::check_files(&files, display, app.namespace));
    }
    // A kustomization may build on folders beside it (`../../base`): they
    // are written at their places in the repository too.
    let outside = source::referenced_files_at(repo_dir, rev, app_path, &tree)?;
    let folder = source::materialize(app_path, &tree, &outside)?;
    Ok(manifests::check_folder(&folder.path(), display, app)?)
}

/// The tracked branches of `apps`, each once.
pub(crate) fn tracked_branches<'a>(
    apps: impl IntoIterator<Item = &'a AppConfig>,
) -> Vec<Option<String>> {
    let mut tracked: Vec<Option<String>> = apps.into_iter().map(|app| app.branch.clone()).collect();
    tracked.sort();
    tracked.dedup();
    tracked
}

/// Renders `app` at `revision` of the repository at `repo_dir`. Blocking.
pub(crate) fn render_app(
    app: &AppConfig,
    repo_dir: &Path,
    revision: &str,
) -> Result<Checked, String> {
    render_as(app, &app.name, repo_dir, revision)
}

/// `render_app` with a chart's release named `release` (an engine app's
/// release, whose app name holds a `/`).
pub(crate) fn render_as(
    app: &AppConfig,
    release: &str,
    repo_dir: &Path,
    revision: &str,
) -> Result<Checked, String> {
    let settings = AppSettings {
        name: release,
        namespace: &app.namespace,
        values: &app.values,
    };
    let mut checked = desired_at(
        repo_dir,
        revision,
        &app.path,
        Path::new(&app.path),
        &settings,
    )
    .map_err(|e| e.to_string())?;
    checked.make_compact();
    Ok(checked)
}
