//! Reads Kubernetes objects from one file for the offline commands, with the
//! manifests loader: YAML or JSON, one or several documents, `List` objects
//! unpacked, and a JSON array read as its items.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::drift::{KeyError, KeyedObject};
use crate::manifests::{self, ManifestError, Problem, Reading};

/// Why a file of objects cannot be used. Messages never quote the file's
/// text: it may hold Secret values.
#[derive(Debug, thiserror::Error)]
pub enum ObjectFileError {
    #[error(transparent)]
    Read(#[from] ManifestError),
    /// What the loader found wrong, each naming the file and line.
    #[error("{}", lines(problems))]
    Load { problems: Vec<Problem> },
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

fn lines(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

/// The objects in `file`, in file order, each with its identity.
pub fn read_objects(file: &Path) -> Result<Vec<KeyedObject>, ObjectFileError> {
    let loaded = manifests::load_file(file, Reading::Saved)?;
    if !loaded.problems.is_empty() {
        return Err(ObjectFileError::Load {
            problems: loaded.problems.into_iter().collect(),
        });
    }
    let documents = loaded.manifests.into_iter().map(|manifest| manifest.value);
    let mut objects: Vec<KeyedObject> = Vec::new();
    for (index, object) in unpack_arrays(documents).into_iter().enumerate() {
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

/// A document that is a list of objects (a JSON array) gives its items; a
/// null document (`~`) gives none.
fn unpack_arrays(documents: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut objects = Vec::new();
    for document in documents {
        match document {
            Value::Array(items) => objects.extend(items),
            Value::Null => {}
            other => objects.push(other),
        }
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<KeyedObject>, String> {
        read_named("objects.yaml", text)
    }

    fn read_named(name: &str, text: &str) -> Result<Vec<KeyedObject>, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
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
    fn a_file_is_read_whatever_its_name() {
        let text = "kind: ConfigMap\nmetadata: {name: a}\n";
        for name in ["live.txt", ".saved/live.yaml", "live"] {
            let objects = read_named(name, text).unwrap();
            assert_eq!(objects.len(), 1, "{name}");
        }
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
        assert_eq!(objects[0].object["data"]["y"], ".nan");
    }

    #[test]
    fn reads_json_objects_and_arrays() {
        let objects = read("[{\"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}]").unwrap();
        assert_eq!(objects[0].key.kind, "ConfigMap");
    }

    #[test]
    fn yaml_syntax_error_names_file_line_and_column_without_the_text() {
        let err = read("kind: Secret\ndata:\n  password: \"s3cret\n").unwrap_err();
        assert_eq!(
            err,
            "DIR/objects.yaml:3: error: invalid YAML at column 13: unclosed quote"
        );
    }

    #[test]
    fn json_syntax_error_names_file_line_and_column() {
        let err = read_named(
            "objects.json",
            "{\"kind\": \"Secret\",\n \"data\": {\"password\": \"s3cret\"\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "DIR/objects.json:2: error: invalid JSON at column 10: unclosed bracket '{'"
        );
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
