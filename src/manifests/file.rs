//! A manifest file and the place of an object in it: what the loader, the
//! folder walk, the renderers and the problems all name, so none of them
//! needs another for it.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

/// A file of the app's folder, read from disk or from a Git tree, or the
/// output of a renderer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    /// Relative to the app's folder; empty for a renderer's output.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub rendered_by: Option<Renderer>,
}

/// Where an object was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Origin {
    /// The file; for a renderer's output, the app folder (kustomize) or the
    /// chart template it came from (helm).
    pub file: PathBuf,
    /// 0-based index of the YAML document in the file or stream.
    pub document: usize,
    /// 1-based line where the object starts (in the renderer's output when
    /// `rendered_by` is set).
    pub line: usize,
    pub rendered_by: Option<Renderer>,
}

/// `deploy.yaml:12`, or `apps/web (kustomize build):40` for rendered output.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(renderer) = self.rendered_by {
            write!(f, " ({})", renderer.command())?;
        }
        write!(f, ":{}", self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Renderer {
    Kustomize,
    Helm,
}

impl Renderer {
    /// The command as the user would type it, for messages.
    pub fn command(self) -> &'static str {
        match self {
            Renderer::Kustomize => "kustomize build",
            Renderer::Helm => "helm template",
        }
    }

    /// The renderer a folder asks for, from the names of the files at its
    /// top; a kustomization wins over a chart (kustomize can inflate charts).
    pub fn for_folder<'a>(top_level_names: impl IntoIterator<Item = &'a str>) -> Option<Renderer> {
        let mut found = None;
        for name in top_level_names {
            match name {
                "kustomization.yaml" | "kustomization.yml" | "Kustomization" => {
                    return Some(Renderer::Kustomize);
                }
                "Chart.yaml" => found = Some(Renderer::Helm),
                _ => {}
            }
        }
        found
    }
}

/// `.yaml`, `.yml` and `.json` files, outside dot-files and dot-folders.
pub fn is_manifest_path(path: &Path) -> bool {
    let hidden = path.components().any(|c| match c {
        Component::Normal(name) => name.as_encoded_bytes().starts_with(b"."),
        _ => false,
    });
    let extension = path.extension().and_then(|e| e.to_str());
    !hidden && matches!(extension, Some("yaml" | "yml" | "json"))
}

/// `root/relative` as shown to the user: no `./` in front when `root` is `.`.
pub fn display_path(root: &Path, relative: &Path) -> PathBuf {
    if relative.as_os_str().is_empty() {
        root.to_path_buf()
    } else if root.as_os_str().is_empty() || root == Path::new(".") {
        relative.to_path_buf()
    } else {
        root.join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_read_as_typed() {
        assert_eq!(
            display_path(Path::new("."), Path::new("a.yaml")),
            Path::new("a.yaml")
        );
        assert_eq!(display_path(Path::new("."), Path::new("")), Path::new("."));
        assert_eq!(
            display_path(Path::new("apps/web"), Path::new("")),
            Path::new("apps/web")
        );
        assert_eq!(
            display_path(Path::new("apps/web"), Path::new("base/a.yaml")),
            Path::new("apps/web/base/a.yaml")
        );
    }
}
