//! Desired state: an app's folder, from disk or from a Git tree, rendered
//! when it is a kustomization or a Helm chart, loaded with the place of every
//! object, and checked, giving the objects Git asks for and every problem
//! that stands in the way of syncing them.

mod cores;
mod desired;
mod documents;
mod field_lines;
mod file;
mod folder;
mod identity;
mod limits;
mod load;
mod problems;
mod references;
mod render;
mod validate;
mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

pub use desired::{DesiredObject, DesiredState};
pub use field_lines::SourceDocument;
pub use file::{ManifestFile, Origin, Renderer, is_manifest_path};
pub use identity::{ObjectId, Scope};
pub use limits::{MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, Reading, human_bytes};
pub use load::{Loaded, Manifest, load_file, load_files};
pub use problems::{PortRef, Problem, Problems, ReferenceTarget, Severity, UnresolvedReference};
pub use references::{KUSTOMIZATION_FILES, Reference, chart_references, kustomization_references};
pub use render::{RenderError, find_on_path};
pub use validate::validate;

/// A desired state and the problems with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    pub desired: DesiredState,
    pub problems: Problems,
}

impl Checked {
    /// Errors mean the revision cannot be synced; warnings do not.
    pub fn can_sync(&self) -> bool {
        !self.problems.has_errors()
    }

    /// Makes a desired state kept for long (the engine's) small: lets go
    /// of the manifest text the objects were parsed from (problems are
    /// located when they are found: for a large app that text is most of
    /// the memory), and keeps each object as its JSON text, a fifth of a
    /// `serde_json::Value` tree, decoded when the app is compared or synced
    /// (issue 10: 20 MB of the TUI's 63 MB of heap on 10,000 objects).
    pub fn make_compact(&mut self) {
        let none = Arc::new(SourceDocument::new(Arc::from(""), 0..0, 1));
        for object in &mut self.desired.objects {
            object.source = none.clone();
            if object.text.is_none()
                && let Ok(text) = serde_json::to_string(&object.value)
            {
                object.text = Some(text.into_boxed_str());
                object.value = Value::Null;
            }
        }
    }
}

/// The app the desired state is for: helm renders the chart as the release
/// `name` in `namespace`, and namespaced objects that name no namespace go there.
#[derive(Debug, Clone, Copy)]
pub struct AppSettings<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    /// Helm values files, relative to the app's folder.
    pub values: &'a [String],
}

/// Why the desired state could not be read at all (as opposed to problems
/// with what was read).
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{}: cannot read the folder: {source}", path.display())]
    ReadFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot read the file: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// The renderer that a folder with these files asks for (paths relative to
/// the folder, such as those of a Git tree).
pub fn renderer_for_paths<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Option<Renderer> {
    Renderer::for_folder(
        paths
            .into_iter()
            .filter(|path| path.components().count() == 1)
            .filter_map(Path::to_str),
    )
}

/// Checks the app folder `dir` on disk, rendering it when it is a
/// kustomization or a chart; `display` is how messages name `dir`.
pub fn check_folder(
    dir: &Path,
    display: &Path,
    app: &AppSettings<'_>,
) -> Result<Checked, ManifestError> {
    let names = folder::top_level_names(dir)?;
    let renderer = Renderer::for_folder(names.iter().map(String::as_str));
    let loaded = match renderer {
        Some(renderer) => {
            match render::render(renderer, dir, display, app, limits::RENDER_TIMEOUT)? {
                Ok(stream) => load_files(&[stream], display),
                Err(why) => {
                    let mut failed = Loaded::default();
                    failed
                        .problems
                        .push(Problem::in_file(Severity::Error, display, why));
                    failed
                }
            }
        }
        None => {
            let (files, walk_problems) = folder::read_folder(dir, display)?;
            let mut loaded = load_files(&files, display);
            loaded.problems.extend(walk_problems);
            loaded
        }
    };
    Ok(finish(loaded, display, renderer, app.namespace))
}

/// Checks files held in memory, such as a Git tree, that need no renderer
/// (see [`renderer_for_paths`]).
pub fn check_files(files: &[ManifestFile], display: &Path, namespace: &str) -> Checked {
    finish(load_files(files, display), display, None, namespace)
}

/// Checks one file of manifests on disk.
pub fn check_file(path: &Path, namespace: &str) -> Result<Checked, ManifestError> {
    Ok(finish(
        load_file(path, Reading::Manifests)?,
        path,
        None,
        namespace,
    ))
}

fn finish(loaded: Loaded, display: &Path, renderer: Option<Renderer>, namespace: &str) -> Checked {
    let (desired, mut problems) = validate(loaded.manifests, namespace);
    problems.extend(loaded.problems);
    if desired.objects.is_empty() && !problems.has_errors() {
        let why = match renderer {
            Some(renderer) => format!("{} gave no objects", renderer.command()),
            None => "no Kubernetes objects: the desired state is empty".to_string(),
        };
        problems.push(Problem::in_file(Severity::Error, display, why));
    }
    problems.sort();
    Checked { desired, problems }
}
