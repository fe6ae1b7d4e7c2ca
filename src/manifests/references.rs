//! The local paths a kustomization or a Helm chart refers to, read from its
//! `kustomization.yaml` or `Chart.yaml`: what must be on disk beside the app
//! folder for the renderer to run on a revision. Pure.

use serde_json::Value;

use super::limits::NodeBudget;

/// The file names kustomize reads as a folder's kustomization.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Nodes a kustomization or a chart's metadata may hold: far beyond any real
/// one, and a bound on what an alias bomb costs.
const MAX_NODES: usize = 100_000;

/// A path one file refers to, relative to that file's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: String,
    /// True for a kustomization or a chart, whose own references count too.
    pub is_folder_to_render: bool,
}

/// The local references of a kustomization: `resources`, `bases`,
/// `components` (folders or files), and the files of patches, generators,
/// transformers, replacements, CRDs and OpenAPI schemas. Remote ones (URLs,
/// `github.com/…`) are not on disk and are left out.
pub fn kustomization_references(text: &str) -> Result<Vec<Reference>, String> {
    let root = parse(text)?;
    let mut found = Vec::new();
    let mut add = |value: &Value, maybe_folder: bool| {
        if let Some(path) = value.as_str().filter(|p| is_local(p)) {
            found.push(Reference {
                path: path.to_string(),
                is_folder_to_render: maybe_folder,
            });
        }
    };
    let list = |key: &str| {
        root.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    for key in ["resources", "bases", "components"] {
        for item in list(key) {
            add(item, true);
        }
    }
    for key in [
        "crds",
        "configurations",
        "generators",
        "transformers",
        "validators",
    ] {
        for item in list(key) {
            add(item, false);
        }
    }
    // Inline patches are YAML text, not file names.
    for item in list("patchesStrategicMerge") {
        if item
            .as_str()
            .is_some_and(|p| !p.contains('\n') && !p.contains(": "))
        {
            add(item, false);
        }
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        for item in list(key) {
            if let Some(path) = item.get("path") {
                add(path, false);
            }
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for generator in list(key) {
            let files = generator
                .get("files")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for file in files {
                // `key=path` names the key the file's content goes under.
                if let Some(text) = file.as_str() {
                    let path = text.split_once('=').map_or(text, |(_, path)| path);
                    add(&Value::String(path.to_string()), false);
                }
            }
            let envs = generator
                .get("envs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for env in envs.chain(generator.get("env")) {
                add(env, false);
            }
        }
    }
    if let Some(openapi) = root.get("openapi").and_then(|o| o.get("path")) {
        add(openapi, false);
    }
    if let Some(home) = root.get("helmGlobals").and_then(|h| h.get("chartHome")) {
        add(home, false);
    }
    for chart in list("helmCharts") {
        if let Some(values) = chart.get("valuesFile") {
            add(values, false);
        }
    }
    Ok(found)
}

/// The charts a `Chart.yaml` takes from folders (`repository: file://../common`).
pub fn chart_references(text: &str) -> Result<Vec<Reference>, String> {
    let root = parse(text)?;
    Ok(root
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|dependency| dependency.get("repository")?.as_str())
        .filter_map(|repository| repository.strip_prefix("file://"))
        .map(|path| Reference {
            path: path.to_string(),
            is_folder_to_render: true,
        })
        .collect())
}

fn parse(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let budget = NodeBudget::new(MAX_NODES);
    let (options, _) = budget.yaml_options();
    let value: Value = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        e.to_string()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .to_string()
    })?;
    Ok(value)
}

/// A path on disk, not a URL or a Git remote kustomize would fetch.
fn is_local(path: &str) -> bool {
    !(path.is_empty()
        || path.contains("://")
        || path.starts_with("git@")
        || path.starts_with("github.com/")
        || path.starts_with("gitlab.com/")
        || path.starts_with("bitbucket.org/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(found: Vec<Reference>) -> Vec<(String, bool)> {
        found
            .into_iter()
            .map(|r| (r.path, r.is_folder_to_render))
            .collect()
    }

    #[test]
    fn every_kind_of_local_reference_is_found_and_remote_ones_are_not() {
        let text = r#"
resources:
  - ../../base
  - extra.yaml
  - https://github.com/acme/x//deploy?ref=v1
  - github.com/acme/y/deploy
components: [../../components/tls]
patches:
  - path: patches/replicas.yaml
  - patch: |-
      - op: replace
patchesStrategicMerge:
  - ../shared/memory.yaml
  - |-
    apiVersion: v1
patchesJson6902:
  - target: {kind: Deployment, name: api}
    path: json/patch.yaml
configMapGenerator:
  - name: settings
    files: [app.properties, key=../shared/logging.conf]
    envs: [../shared/prod.env]
secretGenerator:
  - name: creds
    env: creds.env
replacements:
  - path: ../shared/replacements.yaml
"#;
        assert_eq!(
            paths(kustomization_references(text).unwrap()),
            [
                ("../../base".to_string(), true),
                ("extra.yaml".to_string(), true),
                ("../../components/tls".to_string(), true),
                ("../shared/memory.yaml".to_string(), false),
                ("patches/replicas.yaml".to_string(), false),
                ("json/patch.yaml".to_string(), false),
                ("../shared/replacements.yaml".to_string(), false),
                ("app.properties".to_string(), false),
                ("../shared/logging.conf".to_string(), false),
                ("../shared/prod.env".to_string(), false),
                ("creds.env".to_string(), false),
            ]
        );
    }

    #[test]
    fn chart_dependencies_from_folders_are_found() {
        let text = "apiVersion: v2\nname: web\ndependencies:\n  - name: common\n    repository: file://../common\n  - name: redis\n    repository: https://charts.example.com\n";
        assert_eq!(
            paths(chart_references(text).unwrap()),
            [("../common".to_string(), true)]
        );
    }

    #[test]
    fn broken_yaml_and_alias_bombs_are_errors() {
        assert!(kustomization_references("resources: [a\n").is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for n in 0..8 {
            let prev = if n == 0 {
                "a".to_string()
            } else {
                format!("b{}", n - 1)
            };
            bomb.push_str(&format!(
                "b{n}: &b{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(kustomization_references(&bomb).is_err());
        assert!(kustomization_references("").unwrap().is_empty());
    }
}
