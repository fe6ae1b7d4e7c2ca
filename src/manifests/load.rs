//! Manifests from bytes: every YAML or JSON document of every file, with the
//! file, document index and line it came from. Files are parsed in parallel;
//! the result is in file order whatever the threads do.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::{MessageFormatter, Spanned};

use super::ManifestError;
use super::cores;
use super::documents::{DocumentText, split_documents};
use super::field_lines::SourceDocument;
use super::file::Renderer;
use super::file::{ManifestFile, Origin, display_path, is_manifest_path};
use super::limits::{self, NodeBudget, Reading};
use super::problems::{Problem, Problems, Severity};
use super::render;
use super::yaml::{Quick, Reader};

/// One parsed document (or item of a `kind: List`), not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub value: Value,
    pub origin: Origin,
    /// The document it was parsed from, to find the line of a field.
    pub source: Arc<SourceDocument>,
}

/// What loading gives: the documents that parsed and the problems of those
/// that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    pub manifests: Vec<Manifest>,
    pub problems: Problems,
}

/// Reads one file from disk, whatever its name, such as the file of
/// `driftdeck check FILE` or `driftdeck diff --live F`. Paths in origins
/// are `path` as given.
pub fn load_file(path: &Path, reading: Reading) -> Result<Loaded, ManifestError> {
    let read_error = |source| ManifestError::ReadFile {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > limits::MAX_FILE_BYTES {
        let mut loaded = Loaded::default();
        loaded.problems.push(too_large(path, size));
        return Ok(loaded);
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    let file = ManifestFile {
        path: path.to_path_buf(),
        bytes,
        rendered_by: None,
    };
    // A file named on the command line is read whatever its name.
    Ok(load_chosen(&[&file], Path::new(""), reading))
}

/// Parses every manifest file of `files`; origins name `root` joined with
/// each file's path. Files that are not manifests by name are skipped.
pub fn load_files(files: &[ManifestFile], root: &Path) -> Loaded {
    let chosen: Vec<&ManifestFile> = files
        .iter()
        .filter(|file| file.rendered_by.is_some() || is_manifest_path(&file.path))
        .collect();
    load_chosen(&chosen, root, Reading::Manifests)
}

/// Parses all of `files`, within the limits on their bytes and nodes.
fn load_chosen(files: &[&ManifestFile], root: &Path, reading: Reading) -> Loaded {
    let budget = NodeBudget::for_reading(limits::MAX_NODES_TOTAL, reading);
    let mut loaded = Loaded::default();
    let mut total: u64 = 0;
    let mut wanted = Vec::with_capacity(files.len());
    for &file in files {
        total += file.bytes.len() as u64;
        if total > limits::MAX_TOTAL_BYTES {
            loaded.problems.push(Problem::in_file(
                Severity::Error,
                display_path(root, Path::new("")),
                format!(
                    "the manifests hold more than {} in all; the rest is not read",
                    limits::human_bytes(limits::MAX_TOTAL_BYTES)
                ),
            ));
            break;
        }
        wanted.push(file);
    }
    let parsed = parse_in_parallel(&wanted, root, &budget);
    // Sized once: extending file by file would regrow and copy the vector
    // of every object of the app several times over.
    loaded.manifests = Vec::with_capacity(parsed.iter().map(|(m, _)| m.len()).sum());
    for (manifests, problems) in parsed {
        loaded.manifests.extend(manifests);
        loaded.problems.extend(problems);
    }
    loaded
}

type FileResult = (Vec<Manifest>, Vec<Problem>);

/// The files parsed on the cores. Parsing recurses as deep as the documents
/// nest, so it runs on threads with a stack of known size, never on the
/// caller's.
fn parse_in_parallel(files: &[&ManifestFile], root: &Path, budget: &NodeBudget) -> Vec<FileResult> {
    let parsed = cores::in_order(files.to_vec(), limits::parser_thread, |file| {
        parse_file(file, root, budget)
    });
    parsed
        .into_iter()
        .map(|result| {
            result.unwrap_or_else(|file| {
                let display = display_path(root, &file.path);
                let message = "no thread could be started to parse the file";
                let problem = Problem::in_file(Severity::Error, display, message);
                (Vec::new(), vec![problem])
            })
        })
        .collect()
}

fn too_large(file: &Path, size: u64) -> Problem {
    Problem::in_file(
        Severity::Error,
        file,
        format!(
            "the file is {size} bytes, more than the limit of {}",
            limits::human_bytes(limits::MAX_FILE_BYTES)
        ),
    )
}

/// The documents of one file.
fn parse_file(file: &ManifestFile, root: &Path, budget: &NodeBudget) -> FileResult {
    let display = display_path(root, &file.path);
    let mut manifests = Vec::new();
    let mut problems = Vec::new();
    let at_line = |line: usize, message: String| Problem {
        line: Some(line),
        rendered_by: file.rendered_by,
        ..Problem::in_file(Severity::Error, display.clone(), message)
    };
    let bytes = &file.bytes;
    if file.rendered_by.is_none() && bytes.len() as u64 > limits::MAX_FILE_BYTES {
        problems.push(too_large(&display, bytes.len() as u64));
        return (manifests, problems);
    }
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        let (line, column) = line_column(bytes, nul);
        let message = format!("binary data (a NUL byte at column {column}), not YAML or JSON");
        problems.push(at_line(line, message));
        return (manifests, problems);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let (line, column) = line_column(bytes, err.valid_up_to());
            let message = format!("not valid UTF-8 (at column {column}); manifests must be UTF-8");
            problems.push(at_line(line, message));
            return (manifests, problems);
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // JSON is parsed as the YAML it also is; messages call it by its name.
    let format = match file.path.extension().and_then(|e| e.to_str()) {
        Some("json") => "JSON",
        _ => "YAML",
    };
    let documents = split_documents(text, limits::MAX_DOCUMENTS_PER_FILE);
    if documents.len() > limits::MAX_DOCUMENTS_PER_FILE {
        let message = format!(
            "more than {} YAML documents in one file",
            limits::MAX_DOCUMENTS_PER_FILE
        );
        problems.push(at_line(1, message));
        return (manifests, problems);
    }
    // The text the documents that parse keep, for the lines of their fields.
    let mut stream: Option<Arc<str>> = None;
    let mut reader = Reader::default();
    for (index, document) in documents.iter().enumerate() {
        let mut origin = Origin {
            file: display.clone(),
            document: index,
            line: document.first_line,
            rendered_by: file.rendered_by,
        };
        if file.rendered_by == Some(Renderer::Helm)
            && let Some(template) = render::helm_template_path(document.text)
        {
            origin.file = display_path(root, &template);
        }
        if budget.left() == 0 {
            if budget.first_to_run_out() {
                problems.push(Problem::at(Severity::Error, &origin, all_nodes_used()));
            }
            break;
        }
        match parse_document(&mut reader, document, format, budget) {
            Ok(None) => {}
            Ok(Some((value, line))) => {
                origin.line = line;
                let stream = stream.get_or_insert_with(|| Arc::from(text));
                let range = document.offset..document.offset + document.text.len();
                let source = SourceDocument::new(Arc::clone(stream), range, document.first_line);
                expand_lists(
                    value,
                    origin,
                    document,
                    source,
                    &mut manifests,
                    &mut problems,
                );
            }
            Err((line, message)) => {
                origin.line = line;
                problems.push(Problem::at(Severity::Error, &origin, message));
            }
        }
    }
    (manifests, problems)
}

/// The document's value and the line where it starts; `None` for an empty
/// document. An error gives its line and message. Plain documents take the
/// quick path; serde-saphyr reads the rest and words every error.
fn parse_document(
    reader: &mut Reader,
    document: &DocumentText<'_>,
    format: &str,
    budget: &NodeBudget,
) -> Result<Option<(Value, usize)>, (usize, String)> {
    let allowed = budget.left().min(limits::MAX_NODES_PER_DOCUMENT);
    let to_stream_line = |line: usize| document.first_line + line.max(1) - 1;
    match reader.read_document(document.text, allowed) {
        Quick::Empty => return Ok(None),
        Quick::Value { value, line, nodes } => {
            budget.spend(nodes);
            return Ok(Some((value, to_stream_line(line))));
        }
        Quick::Unsure => {}
    }
    let (options, used) = budget.yaml_options();
    let parsed: Result<Option<Spanned<Value>>, _> =
        serde_saphyr::from_str_with_options(document.text, options);
    budget.spend(used.get());
    match parsed {
        Ok(None) => Ok(None),
        Ok(Some(spanned)) => Ok(Some((
            spanned.value,
            to_stream_line(spanned.referenced.line() as usize),
        ))),
        Err(err) if allowed < limits::MAX_NODES_PER_DOCUMENT && is_nodes_breach(&err) => {
            // The whole desired state is over budget: said once, by the first.
            budget.spend(usize::MAX);
            if budget.first_to_run_out() {
                Err((document.first_line, all_nodes_used()))
            } else {
                Ok(None)
            }
        }
        Err(err) => {
            let location = err.location();
            let line = location.map_or(document.first_line, |l| to_stream_line(l.line() as usize));
            let column = location.map_or(1, |l| l.column().max(1));
            Err((line, yaml_error_message(&err, format, column)))
        }
    }
}

/// The parser's message, with the column, and plain words for the limits.
fn yaml_error_message(err: &serde_saphyr::Error, format: &str, column: u64) -> String {
    use serde_saphyr::budget::BudgetBreach;
    let mut err = err;
    while let serde_saphyr::Error::AliasError { error, .. } = err {
        err = error;
    }
    let too_deep = || {
        format!(
            "nested more than {} levels deep (at column {column})",
            limits::MAX_NESTING
        )
    };
    if let serde_saphyr::Error::ExternalMessage { source, .. } = err
        && let serde_saphyr::ExternalMessageSource::Parser(scan) = source.as_ref()
        && *scan.kind() == serde_saphyr::granit_parser::ErrorKind::RecursionLimitExceeded
    {
        return too_deep();
    }
    if let serde_saphyr::Error::Budget { breach, .. } = err {
        return match breach {
            BudgetBreach::Depth { .. } => too_deep(),
            BudgetBreach::Nodes { .. } => format!(
                "the document expands to more than {} YAML nodes (an alias bomb?)",
                limits::MAX_NODES_PER_DOCUMENT
            ),
            other => format!("the document is over a YAML parser limit: {other:?}"),
        };
    }
    if let serde_saphyr::Error::DuplicateMappingKey { key, .. } = err {
        let key = key.as_deref().unwrap_or_default();
        return format!(
            "invalid {format} at column {column}: the key \"{key}\" appears twice in one mapping"
        );
    }
    let message = serde_saphyr::DefaultMessageFormatter.format_message(err);
    let message: String = message.chars().flat_map(char::escape_debug).collect();
    let message = message.replace("\\'", "'").replace("\\\"", "\"");
    format!("invalid {format} at column {column}: {message}")
}

fn is_nodes_breach(err: &serde_saphyr::Error) -> bool {
    let mut err = err;
    while let serde_saphyr::Error::AliasError { error, .. } = err {
        err = error;
    }
    matches!(
        err,
        serde_saphyr::Error::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Nodes { .. },
            ..
        }
    )
}

fn all_nodes_used() -> String {
    format!(
        "the desired state holds more than {} YAML nodes in all; the rest is not read",
        limits::MAX_NODES_TOTAL
    )
}

/// A `kind: List` (or `FooList` with `items`) gives its items, each at its
/// own line; anything else is one manifest.
fn expand_lists(
    value: Value,
    origin: Origin,
    document: &DocumentText<'_>,
    source: SourceDocument,
    manifests: &mut Vec<Manifest>,
    problems: &mut Vec<Problem>,
) {
    let source = Arc::new(source);
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    let has_items = value.get("items").is_some_and(Value::is_array);
    if kind == "List" && !has_items {
        problems.push(Problem::at(
            Severity::Error,
            &origin,
            "a List without an \"items\" list",
        ));
        return;
    }
    if !(kind.ends_with("List") && has_items) {
        manifests.push(Manifest {
            value,
            origin,
            source,
        });
        return;
    }
    let lines = item_lines(document);
    let Value::Object(mut list) = value else {
        return;
    };
    let Some(Value::Array(items)) = list.remove("items") else {
        return;
    };
    for (index, item) in items.into_iter().enumerate() {
        let line = lines
            .get(index)
            .map_or(origin.line, |line| line + document.first_line - 1);
        manifests.push(Manifest {
            value: item,
            origin: Origin {
                line,
                ..origin.clone()
            },
            source: Arc::clone(&source),
        });
    }
}

/// The line of each item of a List document, read again with spans.
fn item_lines(document: &DocumentText<'_>) -> Vec<usize> {
    #[derive(Deserialize)]
    struct ListLines {
        #[serde(default)]
        items: Vec<Spanned<serde::de::IgnoredAny>>,
    }
    let (options, _) = NodeBudget::new(limits::MAX_NODES_PER_DOCUMENT).yaml_options();
    serde_saphyr::from_str_with_options::<ListLines>(document.text, options)
        .map(|list| {
            list.items
                .iter()
                .map(|item| item.referenced.line() as usize)
                .collect()
        })
        .unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset in possibly
/// broken UTF-8.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> ManifestFile {
        ManifestFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
            rendered_by: None,
        }
    }

    const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";

    #[test]
    fn documents_keep_their_file_index_and_line() {
        let text = format!("# lead\n---\n{CONFIG_MAP}---\n---\n\n{CONFIG_MAP}");
        let loaded = load_files(&[file("a.yaml", &text)], Path::new("apps/web"));
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let origins: Vec<_> = loaded
            .manifests
            .iter()
            .map(|m| m.origin.to_string())
            .collect();
        assert_eq!(origins, vec!["apps/web/a.yaml:3", "apps/web/a.yaml:10"]);
        let documents: Vec<_> = loaded.manifests.iter().map(|m| m.origin.document).collect();
        assert_eq!(documents, vec![0, 2]);
    }

    #[test]
    fn scalars_read_as_kubectl_reads_them() {
        let text = format!(
            "{CONFIG_MAP}data:\n  mode: 0644\n  flag: yes\n  big: 1_000\n  text: \"0644\"\n"
        );
        let loaded = load_files(&[file("a.yaml", &text)], Path::new(""));
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert_eq!(
            loaded.manifests[0].value["data"],
            serde_json::json!({"mode": 420, "flag": true, "big": 1000, "text": "0644"})
        );
    }

    #[test]
    fn files_that_are_not_manifests_by_name_are_skipped() {
        let files = [
            file("README.md", "# no"),
            file(".github/ci.yaml", "on: push"),
            file("base/.hidden.yml", "x: 1"),
            file("base/a.yml", CONFIG_MAP),
        ];
        let loaded = load_files(&files, Path::new(""));
        assert_eq!(loaded.manifests.len(), 1);
        assert_eq!(loaded.manifests[0].origin.file, Path::new("base/a.yml"));
    }

    #[test]
    fn running_out_of_nodes_is_said_once_and_stops_loading() {
        let files: Vec<_> = (0..4)
            .map(|i| {
                file(
                    &format!("{i}.yaml"),
                    &format!("{CONFIG_MAP}---\n{CONFIG_MAP}"),
                )
            })
            .collect();
        let wanted: Vec<_> = files.iter().collect();
        // Each document has 6 nodes: room for three of the eight.
        let budget = NodeBudget::new(20);
        let results = parse_in_parallel(&wanted, Path::new(""), &budget);
        let loaded: usize = results.iter().map(|(m, _)| m.len()).sum();
        let problems: Vec<_> = results.iter().flat_map(|(_, p)| p).collect();
        assert!(loaded <= 4, "{loaded} loaded");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("YAML nodes in all"),
            "{problems:?}"
        );
    }
}
