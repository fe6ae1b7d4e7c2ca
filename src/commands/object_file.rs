//! Reads Kubernetes objects from one file for the offline commands: YAML or
//! JSON, one or several documents, `List` objects unpacked. The manifests
//! loader takes over here once it exists.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::reconcile::{KeyError, KeyedObject};

/// Why a file of objects cannot be used. Messages never quote the file's
/// text: it may hold Secret values.
#[derive(Debug, thiserror::Error)]
pub enum ObjectFileError {
    #[error("{}: cannot read the file: {source}", file.display())]
    Read { file: PathBuf, source: io::Error },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{}: object {number}: {source}", file.display())]
    Object {
        file: PathBuf,
        number: usize,
        source: KeyError,
    },
    #[error("{}: {key} appears twice (objects {first} and {second})", file.display())]
    Duplicate {
        file: PathBuf,
        key: String,
        first: usize,
        second: usize,
    },
}

/// The objects in `file`, in file order, each with its identity.
pub fn read_objects(file: &Path) -> Result<Vec<KeyedObject>, ObjectFileError> {
    let text = std::fs::read_to_string(file).map_err(|source| ObjectFileError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    let documents = parse_documents(file, &text)?;
    let mut objects: Vec<KeyedObject> = Vec::new();
    for (index, object) in unpack_lists(documents).into_iter().enumerate() {
        let number = index + 1;
        let keyed = KeyedObject::new(object).map_err(|source| ObjectFileError::Object {
            file: file.to_path_buf(),
            number,
            source,
        })?;
        if let Some(first) = objects.iter().position(|o| o.key == keyed.key) {
            return Err(ObjectFileError::Duplicate {
                file: file.to_path_buf(),
                key: keyed.key.to_string(),
                first: first + 1,
                second: number,
            });
        }
        objects.push(keyed);
    }
    Ok(objects)
}

/// JSON when the text starts like JSON (a single value), YAML otherwise.
fn parse_documents(file: &Path, text: &str) -> Result<Vec<Value>, ObjectFileError> {
    let syntax = |line: u64, column: u64, message: String| ObjectFileError::Syntax {
        file: file.to_path_buf(),
        line,
        column,
        message,
    };
    if text.trim_start().starts_with(['{', '[']) {
        let value: Value = serde_json::from_str(text).map_err(|err| {
            let message = err.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            syntax(err.line() as u64, err.column() as u64, message.to_string())
        })?;
        return Ok(match value {
            Value::Array(items) => items,
            other => vec![other],
        });
    }
    // The last of repeated keys wins, as in kubectl's YAML-to-JSON reading:
    // objects saved from clusters and tools do carry repeats. `.inf` and
    // `.nan`, which JSON cannot hold, stay text rather than fail the file.
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
    };
    let documents: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|err| {
            let (line, column) = err.location().map_or((0, 0), |at| (at.line(), at.column()));
            let plain = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
            syntax(line, column, yaml_message(&err.render_with_options(plain)))
        })?;
    Ok(documents.into_iter().filter(|d| !d.is_null()).collect())
}

/// The message without the location the renderer puts around it.
fn yaml_message(rendered: &str) -> String {
    let message = rendered.trim().trim_start_matches("error: ");
    let message = match message.split_once(": ") {
        Some((location, rest)) if location.starts_with("line ") => rest,
        _ => message,
    };
    message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_string()
}

/// `kind: List` (and `DeploymentList`…) as `kubectl get -o yaml` writes them.
fn unpack_lists(documents: Vec<Value>) -> Vec<Value> {
    let mut objects = Vec::with_capacity(documents.len());
    for document in documents {
        let is_list = document
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|kind| kind.ends_with("List"))
            && document.get("items").is_some_and(Value::is_array);
        match document {
            Value::Object(mut map) if is_list => {
                if let Some(Value::Array(items)) = map.remove("items") {
                    objects.extend(items);
                }
            }
            other => objects.push(other),
        }
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<KeyedObject>, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("objects.yaml");
        std::fs::write(&file, text).unwrap();
        read_objects(&file).map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
    }

    #[test]
    fn reads_several_yaml_documents_and_lists() {
        let objects = read(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n\
             apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: b}}\n",
        )
        .unwrap();
        let names: Vec<String> = objects.iter().map(|o| o.key.to_string()).collect();
        assert_eq!(names, vec!["ConfigMap a", "Service b"]);
    }

    #[test]
    fn the_last_of_repeated_keys_wins() {
        let objects =
            read("kind: ConfigMap\nmetadata: {name: a}\ndata: {k: '1'}\ndata: {k: '2'}\n").unwrap();
        assert_eq!(objects[0].object["data"]["k"], "2");
    }

    #[test]
    fn non_finite_numbers_stay_text() {
        let objects =
            read("kind: ConfigMap\nmetadata: {name: a}\ndata: {x: .inf, y: .nan}\n").unwrap();
        assert_eq!(objects[0].object["data"]["x"], ".inf");
    }

    #[test]
    fn reads_json_objects_and_arrays() {
        let objects = read("[{\"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}]").unwrap();
        assert_eq!(objects[0].key.kind, "ConfigMap");
    }

    #[test]
    fn yaml_syntax_error_names_file_line_and_column_without_the_text() {
        let err = read("kind: Secret\ndata:\n  password: \"s3cret\n").unwrap_err();
        assert!(err.starts_with("DIR/objects.yaml:3:13: "), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn json_syntax_error_names_file_line_and_column() {
        let err =
            read("{\"kind\": \"Secret\",\n \"data\": {\"password\": \"s3cret\"\n").unwrap_err();
        assert!(err.starts_with("DIR/objects.yaml:3:"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn object_without_identity_or_twice_is_an_error() {
        let err = read("kind: ConfigMap\nmetadata: {}\n").unwrap_err();
        assert_eq!(
            err,
            "DIR/objects.yaml: object 1: ConfigMap has no metadata.name"
        );
        let err =
            read("kind: A\nmetadata: {name: x}\n---\nkind: A\nmetadata: {name: x}\n").unwrap_err();
        assert_eq!(err, "DIR/objects.yaml: A x appears twice (objects 1 and 2)");
        let err = read("just text\n").unwrap_err();
        assert_eq!(
            err,
            "DIR/objects.yaml: object 1: the object is not a mapping"
        );
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = read_objects(Path::new("/nonexistent/objects.yaml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/objects.yaml: cannot read the file:")
        );
    }
}
