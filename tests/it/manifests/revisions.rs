//! `driftdeck check PATH --rev REV`: the folder as Git has it at a
//! revision, read from the object database, not from the work tree.

use std::path::Path;

use super::support::{check, git, tool, write_files};

const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";
const BAD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Settings\n";

fn repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    write_files(
        dir,
        &[
            ("apps/web/settings.yaml", GOOD),
            ("apps/old/settings.yaml", GOOD),
        ],
    );
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "good"]);
    write_files(dir, &[("apps/web/settings.yaml", BAD)]);
    std::fs::remove_dir_all(dir.join("apps/old")).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "bad"]);
    // The work tree differs from both commits.
    write_files(dir, &[("apps/web/settings.yaml", "kind: ConfigMap\n")]);
}

#[test]
fn a_revision_is_read_from_git_not_from_the_work_tree() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let good = check(dir.path(), &["apps/web", "--rev", "HEAD~1"]);
    assert_eq!(
        (good.code, good.stdout.as_str()),
        (0, ""),
        "{}",
        good.stderr
    );
    let bad = check(dir.path(), &["apps/web", "--rev", "main"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stdout.starts_with("apps/web/settings.yaml:4: error: ConfigMap \"default/Settings\": metadata.name \"Settings\" is not valid"),
        "{}",
        bad.stdout
    );
    let work_tree = check(dir.path(), &["apps/web"]);
    assert_eq!(
        work_tree.stdout,
        "apps/web/settings.yaml:1: error: not a Kubernetes object: \"apiVersion\" is missing; \"metadata.name\" is missing\n"
    );
}

#[test]
fn a_folder_deleted_since_can_be_checked_at_an_older_revision() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let run = check(
        &dir.path().join("apps"),
        &["old", "--rev", "HEAD~1", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["revision"], "HEAD~1");
    assert_eq!(report["objects"][0]["origin"]["file"], "old/settings.yaml");
    let gone = check(&dir.path().join("apps"), &["old", "--rev", "HEAD"]);
    assert_eq!(gone.code, 2);
    assert!(
        gone.stderr
            .contains("\"apps/old\" does not exist at \"HEAD\""),
        "{}",
        gone.stderr
    );
}

#[test]
fn an_unknown_revision_means_the_check_could_not_run() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let run = check(dir.path(), &["apps/web", "--rev", "no-such-branch"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert!(
        run.stderr
            .contains("cannot resolve revision \"no-such-branch\""),
        "{}",
        run.stderr
    );
}

#[test]
fn a_revision_outside_any_repository_could_not_be_checked() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app/settings.yaml", GOOD)]);
    let run = check(dir.path(), &["app", "--rev", "HEAD"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not inside a Git work tree"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_kustomization_at_a_revision_is_rendered_from_a_scratch_folder() {
    if let Err(why) = tool("kustomize").or_else(|_| tool("kubectl")) {
        eprintln!("skipped: neither kustomize nor kubectl is on PATH: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write_files(
        dir.path(),
        &[
            (
                "apps/web/kustomization.yaml",
                "resources:\n- settings.yaml\n- missing.yaml\n",
            ),
            ("apps/web/settings.yaml", GOOD),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "broken kustomization"]);
    std::fs::remove_dir_all(dir.path().join("apps")).unwrap();
    let run = check(dir.path(), &["apps/web", "--rev", "HEAD"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .starts_with("apps/web: error: kustomize build failed: "),
        "{}",
        run.stdout
    );
    // The scratch folder's path is replaced by the app's in the message.
    assert!(
        run.stdout.contains("apps/web/missing.yaml"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("driftdeck-check-"), "{}", run.stdout);
}
