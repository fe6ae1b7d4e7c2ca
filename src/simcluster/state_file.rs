//! The state file: every object and the resourceVersion counter as JSON,
//! loaded at start and saved at exit (`driftdeck sim --state FILE`). Saving
//! writes a temporary file beside it and renames it, so a crash never
//! leaves half a file.

use std::path::Path;

use serde_json::{Value, json};

use super::SimError;
use super::catalog::ResourceKey;
use super::store::Store;

const FORMAT_VERSION: u64 = 1;

/// Loads a state file into an empty store; CRDs first, so that the kinds
/// they serve exist when their objects are loaded.
pub fn load(store: &Store, path: &Path) -> Result<usize, SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::ReadState {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |message: String| SimError::InvalidState {
        path: path.to_path_buf(),
        message,
    };
    let document: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let version = document.get("version").and_then(Value::as_u64);
    if version != Some(FORMAT_VERSION) {
        return Err(invalid(format!(
            "expected \"version\": {FORMAT_VERSION}, found {}",
            document.get("version").unwrap_or(&Value::Null)
        )));
    }
    let objects = document
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("\"objects\" must be a list".into()))?;
    let is_crd =
        |o: &Value| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition");
    let ordered = objects
        .iter()
        .filter(|o| is_crd(o))
        .chain(objects.iter().filter(|o| !is_crd(o)));
    store.write(|state| {
        for (index, object) in ordered.enumerate() {
            let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            let rt = state.catalog.by_kind(api_version, kind).ok_or_else(|| {
                invalid(format!(
                    "object {index} ({api_version} {kind} {name:?}) is of a kind the cluster does not serve"
                ))
            })?;
            if name.is_empty() {
                return Err(invalid(format!("object {index} ({kind}) has no metadata.name")));
            }
            state.restore(&rt.key(), object);
            if rt.group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition" {
                let types = state
                    .catalog
                    .types_of_crd(object)
                    .map_err(|p| invalid(format!("CRD {name:?}: {}: {}", p[0].field, p[0].message)))?;
                state.catalog.install(name, types);
            }
            if rt.group.is_empty() && kind == "Service" {
                state.allocations.claim(object);
            }
        }
        let saved = document
            .get("resourceVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        state.advance_revision(saved);
        Ok(objects.len())
    })
}

/// Writes every object to `path`, atomically.
pub fn save(store: &Store, path: &Path) -> Result<(), SimError> {
    let document = {
        let state = store.read();
        let mut objects: Vec<(&ResourceKey, Value)> = state
            .all_objects()
            .map(|(key, object)| (key, object.value()))
            .collect();
        objects.sort_by(|a, b| {
            let rv = |v: &Value| {
                v.pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .and_then(|r| r.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            rv(&a.1).cmp(&rv(&b.1))
        });
        json!({
            "version": FORMAT_VERSION,
            "resourceVersion": state.revision().to_string(),
            "objects": objects.into_iter().map(|(_, o)| o).collect::<Vec<_>>(),
        })
    };
    let write_error = |source| SimError::Write {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(&document)
        .map_err(|e| write_error(std::io::Error::other(e)))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.json".into());
    let temporary = path.with_file_name(format!(".{file_name}.tmp"));
    std::fs::write(&temporary, text).map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(write_error)
}
