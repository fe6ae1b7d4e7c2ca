//! The quick paths agree with serde-saphyr on every document they take.

mod spellings;
#[path = "../../../tests/common/random.rs"]
mod test_random;

use serde_saphyr::Spanned;

use super::*;
use crate::manifests::documents::split_documents;
use crate::manifests::limits::{MAX_NODES_PER_DOCUMENT, NodeBudget, on_parser_stack};

/// What serde-saphyr makes of a document, the way the loader asks it:
/// the value, its line and the nodes it counted, or its message.
fn saphyr(text: &str, max_nodes: usize) -> Result<Option<(Value, usize, usize)>, String> {
    let (options, used) = NodeBudget::new(max_nodes).yaml_options();
    let parsed: Result<Option<Spanned<Value>>, _> =
        serde_saphyr::from_str_with_options(text, options);
    match parsed {
        Ok(None) => Ok(None),
        Ok(Some(spanned)) => Ok(Some((
            spanned.value,
            spanned.referenced.line() as usize,
            used.get(),
        ))),
        Err(err) => Err(err.to_string()),
    }
}

/// Both quick paths (the lines, and granit-parser's events) agree with
/// serde-saphyr on every document they take; returns whether one took it.
fn agrees(text: &str, max_nodes: usize) -> bool {
    let reference = saphyr(text, max_nodes);
    let by_lines = lines::read(text, max_nodes, &mut lines::Buffers::default()).map_or(
        Quick::Unsure,
        |(value, line, nodes)| Quick::Value { value, line, nodes },
    );
    let by_events = Reader::default().read_events(text, max_nodes);
    let mut taken = false;
    for quick in [by_lines, by_events] {
        match (&quick, &reference) {
            (Quick::Unsure, _) => continue,
            (Quick::Empty, Ok(None)) => {}
            (Quick::Value { value, line, nodes }, Ok(Some(expected))) => {
                assert_eq!(
                    (value, *line, *nodes),
                    (&expected.0, expected.1, expected.2),
                    "{text:?}"
                );
            }
            _ => panic!("{text:?}: quick {quick:?}, serde-saphyr {reference:?}"),
        }
        taken = true;
    }
    taken
}

use spellings::SPELLINGS;
use test_random::Random;

#[test]
fn keys_that_are_the_same_integer_are_duplicates_as_in_serde_saphyr() {
    // serde-saphyr compares plain integer keys by value: `1` and `01`
    // (legacy octal) or `0x1` are the same key there.
    const KEYS: &[&str] = &[
        "0",
        "1",
        "-1",
        "12",
        "1.5",
        "yes",
        "x",
        "18446744073709551615",
    ];
    let mut taken = 0;
    for spelling in SPELLINGS {
        for key in KEYS {
            for text in [
                format!("{key}: a\n{spelling}: b\n"),
                format!("{spelling}: a\n{key}: b\n"),
            ] {
                taken += usize::from(agrees(&text, MAX_NODES_PER_DOCUMENT));
            }
        }
    }
    assert!(taken > SPELLINGS.len() * KEYS.len(), "{taken}");
}

#[test]
fn scalars_read_as_serde_saphyr_reads_them() {
    let mut taken = 0;
    for spelling in SPELLINGS {
        for text in [
            format!("k: {spelling}\n"),
            format!("k: '{spelling}'\n"),
            format!("k: \"{spelling}\"\n"),
            format!("k: [{spelling}]\n"),
            format!("{spelling}: v\n"),
            format!("'{spelling}': v\n"),
            format!("k:\n- {spelling}\n- x\n"),
            format!("{{\"k\": {spelling}}}"),
        ] {
            taken += usize::from(agrees(&text, MAX_NODES_PER_DOCUMENT));
        }
    }
    // Most spellings are for the quick path; the test is of no use if it takes none.
    assert!(taken > SPELLINGS.len() * 5, "{taken}");
    let mut random = Random(0x5eed);
    let alphabet = b"0123456789.-+eE_xobXOBafcdFinNIAtyYsm: ~";
    for _ in 0..5_000 {
        let spelling: String = (0..=random.below(6))
            .map(|_| alphabet[random.below(alphabet.len())] as char)
            .collect();
        agrees(&format!("k: {spelling}\n"), MAX_NODES_PER_DOCUMENT);
    }
}

#[test]
fn words_and_digests_that_only_look_numeric_take_the_quick_path() {
    // Log levels, names and hex digests (a Helm `checksum/config`) are
    // common values; each would send its whole document to serde-saphyr.
    for value in [
        "info",
        "INFO",
        "infra",
        "nano",
        "financial",
        "inf",
        "nan",
        "infinity",
        "3fb2a1c",
        "04ab9e",
        "DB_1",
        "9a0f0e4cb3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6",
    ] {
        for text in [format!("level: {value}\n"), format!("{value}: x\n")] {
            assert!(agrees(&text, MAX_NODES_PER_DOCUMENT), "{text:?}");
        }
    }
    for value in [
        ".inf", "-.Inf", ".NAN", "+.nan", "0x1F", "0b101", "0644", "+1", "1_0",
    ] {
        assert!(
            !agrees(&format!("k: {value}\n"), MAX_NODES_PER_DOCUMENT),
            "{value}"
        );
    }
}

const MANIFESTS: &str = "\
# a comment before everything
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # trailing comment
  labels: {app: web, tier: \"front\", 'quoted': yes}
  annotations:
note: |
  line one
  line two
folded: >-
  folded
  text
multi: plain text
  over two lines
spec:
  replicas: 3
  empty:
  nulls: [~, null, '', \"\"]
  template:
spec:
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - {containerPort: 8080, protocol: TCP}
    - containerPort: 9090
      name: metrics
    args: [\"--flag\", -v, 0644, 1_000, 1.5, 1e3, .inf]
    env:
      - name: A
        value: \"1\"
  -   name: side
      image: busybox
---
{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"json\"},
 \"data\": {\"a\": \"1\", \"b\": 2, \"c\": [1.5, true, null, {\"d\": \"e\"}]}}
---
- a list
- document
---
? complex
: key
---
anchors: &a {x: 1}
alias: *a
merged:
  <<: *a
  y: 2
tagged: !!str 123
---
key: value
key: again
---
just a scalar
---
# only a comment
---
  indented: map
  second: 2
...
";

fn documents() -> Vec<String> {
    let corpus: &[&str] = &[
        MANIFESTS,
        ORDINARY,
        include_str!("../../../tests/corpus/manifests/pod-references/app.yaml"),
        include_str!("../../../tests/corpus/manifests/list-expansion/list.yaml"),
        include_str!("../../../tests/corpus/manifests/yaml-syntax/broken.yaml"),
        include_str!("../../../tests/corpus/manifests/json-file/app.json"),
        include_str!("../../../tests/corpus/manifests/names-and-labels/workloads.yaml"),
    ];
    corpus
        .iter()
        .flat_map(|text| split_documents(text, 100))
        .map(|document| document.text.to_string())
        .collect()
}

#[test]
fn documents_read_as_serde_saphyr_reads_them() {
    let documents = documents();
    let taken = documents
        .iter()
        .filter(|text| agrees(text, MAX_NODES_PER_DOCUMENT))
        .count();
    assert!(taken >= 10, "{taken} of {}", documents.len());
    // Node limits: the quick path stops where serde-saphyr would.
    for text in &documents {
        for max_nodes in [0, 1, 5, 20] {
            agrees(text, max_nodes);
        }
    }
}

#[test]
fn mutated_documents_read_as_serde_saphyr_reads_them() {
    const PIECES: &[&str] = &[
        "&a ",
        "*a",
        "<<: *a\n",
        "[",
        "]",
        "{",
        "}",
        "---\n",
        "...\n",
        ": ",
        "- ",
        "\t",
        "'",
        "\"",
        "|\n",
        ">-\n",
        "!!str ",
        "!tag ",
        "? ",
        "#",
        "%YAML 1.2\n",
        "\r\n",
        "\n",
        "  ",
        "1e999",
        ".nan",
        "~",
        "0644",
        "yes",
        "1.5",
        "\u{feff}",
        "\\",
        "é",
    ];
    let documents = documents();
    let mut random = Random(0xfeed);
    let mut taken = 0;
    for _ in 0..3_000 {
        let mut text = documents[random.below(documents.len())].clone();
        for _ in 0..=random.below(3) {
            let mut at = random.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match random.below(3) {
                0 => text.insert_str(at, PIECES[random.below(PIECES.len())]),
                1 => {
                    let mut end = (at + random.below(16)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(at..end, "");
                }
                _ => {
                    let mut end = (at + random.below(40)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    let copy = text[at..end].to_string();
                    let mut to = random.below(at + 1);
                    while !text.is_char_boundary(to) {
                        to -= 1;
                    }
                    text.insert_str(to, &copy);
                }
            }
        }
        // Whole mutated text can hold markers: read each document of it.
        for document in split_documents(&text, 100) {
            taken += usize::from(agrees(document.text, MAX_NODES_PER_DOCUMENT));
        }
    }
    assert!(taken > 500, "{taken}");
}

#[test]
fn comments_past_the_parser_buffer_are_left_to_serde_saphyr() {
    let comments = "# c\n".repeat(MAX_BUFFERED_COMMENT_EVENTS + 5);
    for text in [
        format!("a:\n{comments}  b: 1\n"),
        format!("- a\n{comments}- b\n"),
        format!("{comments}a: 1\n"),
        format!("a: 1\n{comments}"),
    ] {
        agrees(&text, MAX_NODES_PER_DOCUMENT);
    }
}

#[test]
fn nesting_at_the_limit_is_read_and_past_it_is_left_to_serde_saphyr() {
    let nested = |depth: usize| "[".repeat(depth) + &"]".repeat(depth);
    let block = |depth: usize| {
        (0..depth)
            .map(|level| format!("{}k:\n", "  ".repeat(level)))
            .collect::<String>()
    };
    // serde-saphyr recurses as deep as the document nests: on a parser
    // stack, as the loader runs it.
    on_parser_stack(|| {
        assert!(agrees(&nested(MAX_NESTING), MAX_NODES_PER_DOCUMENT));
        assert!(!agrees(&nested(MAX_NESTING + 1), MAX_NODES_PER_DOCUMENT));
        assert!(agrees(&block(MAX_NESTING), MAX_NODES_PER_DOCUMENT));
        assert!(!agrees(&block(MAX_NESTING + 1), MAX_NODES_PER_DOCUMENT));
    })
    .unwrap();
}

/// An object as manifests are written: block mappings and lists, lists at
/// their key's indentation, compact mappings in list items, flow
/// collections, quoted values, comments.
const ORDINARY: &str = "\
# The web front.
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # as in the Service
  labels: {app.kubernetes.io/name: web, app.kubernetes.io/part-of: shop}
  annotations:
    driftdeck.dev/sync-wave: \"1\"
    checksum/config: 9a0f0e4cb3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6
spec:
  replicas: 3
  paused:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: 'front'}
    spec:
      containers:
      - name: web
        image: registry.example.com/shop/web:1.4.2
        args: [--port, \"8080\", -v]
        ports:
        - {name: http, containerPort: 8080}
        env:
          - name: LOG_LEVEL
            value: info
          -   name: EMPTY
              value: ''
        resources:
          requests: {cpu: 100m, memory: 128Mi}
      - name: side
        image: busybox
        command:
        -
          - nested
      volumes: []
";

#[test]
fn ordinary_manifests_take_the_line_path() {
    assert!(
        lines::read(
            ORDINARY,
            MAX_NODES_PER_DOCUMENT,
            &mut lines::Buffers::default()
        )
        .is_some()
    );
    assert!(agrees(ORDINARY, MAX_NODES_PER_DOCUMENT));
    for text in [
        "a:\n- x\n- y: 1\n  z:\n  - 2\nb: c\n",
        "- a\n-\n- - b\n",
        "-\n  k: v\n- [1, {a: [], b: {}}]\n",
        "key: value # comment\n# own line\nother: 'x' # c\n",
        "k: \"a # not a comment\"\n",
        "k: a#b\n",
        "k: {a: b}   \n",
        "  indented: map\n  second: 2\n",
        "k: v\n  continued: no\n",
        "k: v\n---\nl: w\n",
        "k: v\n...\n",
        "---\nk: v\n",
        "--- # c\nk: v\n",
        "k:\n  - a\n   - b\n",
        "a:\n  b: 1\n c: 2\n",
        "k: [a, b\n  , c]\n",
        "k: -\n",
        "k: - a\n",
        "k: a: b\n",
        "k: 'it''s'\n",
        "k: \"tab\\t\"\n",
        "k: [a: b]\n",
        "k: {a: b, a: c}\n",
        "k: 1\nk: 2\n",
        "\"quoted\": 1\n'single': 2\n",
        "{a: 1}\n",
        "[a, b]\n",
        "{a: 1}: b\n",
        "k: {a}\n",
        "k: [a,]\n",
        "k: x:y\n",
        "k: [x:y]\n",
        "k:   \n",
        "k: -1\n- x\n",
    ] {
        agrees(text, MAX_NODES_PER_DOCUMENT);
        for max_nodes in [0, 1, 3, 5] {
            agrees(text, max_nodes);
        }
    }
}

/// Real manifests — the CRDs and example objects of Argo CD and Flux, the
/// conformance corpus, the demo's and the tests' own — read the same by
/// every path, and most by the line path.
#[test]
fn real_manifests_agree_on_every_path() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut folders = vec![
        root.join("../shared/conformance"),
        root.join("src"),
        root.join("tests"),
    ];
    if !folders[0].is_dir() {
        eprintln!(
            "SKIPPED the conformance corpus: ../shared/conformance is not beside the repository"
        );
    }
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    let (mut documents, mut by_lines) = (0, 0);
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for document in split_documents(&text, usize::MAX - 1) {
            documents += 1;
            agrees(document.text, MAX_NODES_PER_DOCUMENT);
            if lines::read(
                document.text,
                MAX_NODES_PER_DOCUMENT,
                &mut lines::Buffers::default(),
            )
            .is_some()
            {
                by_lines += 1;
            }
        }
    }
    eprintln!(
        "{documents} documents in {} files, {by_lines} by the line path",
        files.len()
    );
    assert!(documents > 0 && by_lines > 0);
}
