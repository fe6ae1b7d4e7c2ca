//! Every case under `tests/corpus/manifests/`: `driftdeck check .` in the
//! case's folder must print exactly `expected.txt` (its first line is the
//! exit code, `exit N`; the rest is stdout).

use std::path::{Path, PathBuf};

use super::support::check;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/manifests")
}

fn expectation(case: &Path) -> (i32, String) {
    let expected = std::fs::read_to_string(case.join("expected.txt"))
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let (first, output) = expected.split_once('\n').unwrap_or((&expected, ""));
    let code = first
        .strip_prefix("exit ")
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{}: first line must be `exit N`", case.display()));
    (code, output.to_string())
}

#[test]
fn every_corpus_case_gives_its_expected_output_and_exit_code() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "the corpus is missing: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let (code, expected) = expectation(case);
        let run = check(case, &["."]);
        if run.code != code || run.stdout != expected {
            failures.push(format!(
                "{}: exit {} (expected {code})\n--- got\n{}--- expected\n{expected}--- stderr\n{}",
                case.display(),
                run.code,
                run.stdout,
                run.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn paths_in_messages_are_the_path_given() {
    let run = check(&corpus(), &["duplicates"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with(
            "duplicates/b.yaml:2: error: ConfigMap \"default/settings\": defined more than once, first at duplicates/a.yaml:1\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.stderr, "duplicates: 6 objects, 3 errors, 0 warnings\n");
}

#[test]
fn one_file_can_be_checked_alone() {
    let case = corpus().join("names-and-labels");
    let run = check(&case, &["workloads.yaml"]);
    assert_eq!(run.code, 1);
    let (_, expected) = expectation(&case);
    assert_eq!(run.stdout, expected);
}

#[test]
fn json_output_lists_objects_and_problems_with_their_places() {
    let run = check(&corpus().join("pod-references"), &[".", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["can_sync"], true);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 10);
    let objects = report["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 4);
    assert_eq!(objects[0]["kind"], "Deployment");
    assert_eq!(objects[0]["namespace"], "shop");
    assert_eq!(objects[0]["origin"]["file"], "app.yaml");
    assert_eq!(objects[0]["origin"]["line"], 1);
    assert_eq!(objects[3]["origin"]["document"], 3);
    let first = &report["problems"][0];
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["line"], 13);
    assert_eq!(first["object"]["name"], "web");
    assert_eq!(
        first["unresolved"],
        serde_json::json!({
            "field": "spec.template.spec.serviceAccountName",
            "target": {"type": "object", "group": "", "kind": "ServiceAccount", "namespace": "shop", "name": "web-runner"}
        })
    );
}

#[test]
fn a_missing_path_could_not_be_checked() {
    let run = check(&corpus(), &["no-such-app"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .starts_with("no-such-app: cannot read the folder:"),
        "{}",
        run.stderr
    );
}
