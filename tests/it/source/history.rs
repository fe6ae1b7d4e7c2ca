//! The commit log: batches, order, limits, path filter, streaming.

use std::ops::ControlFlow;
use std::path::Path;

use driftdeck::source::{
    BATCH, FIRST_BATCH, HistoryQuery, LogEntry, SignatureStatus, walk_history,
};

use super::fast_import::generate_history;
use super::support::{git, have};

fn query(path: Option<&str>, limit: Option<usize>) -> HistoryQuery {
    HistoryQuery {
        rev: "main".to_string(),
        path: path.map(str::to_string),
        limit,
        signatures: true,
    }
}

/// Every batch, as published.
fn batches(repo: &Path, query: &HistoryQuery) -> Vec<Vec<LogEntry>> {
    let mut batches = Vec::new();
    let total = walk_history(repo, query, |batch| {
        batches.push(batch);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(total, batches.iter().map(Vec::len).sum::<usize>());
    batches
}

fn subjects(batches: &[Vec<LogEntry>]) -> Vec<String> {
    batches
        .iter()
        .flatten()
        .map(|e| e.subject.clone())
        .collect()
}

#[test]
fn batches_come_newest_first_and_the_first_is_a_screenful() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_history(dir.path(), 2300, 10);
    let batches = batches(dir.path(), &query(None, None));
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![FIRST_BATCH, BATCH, 2300 - FIRST_BATCH - BATCH]);
    let all: Vec<&LogEntry> = batches.iter().flatten().collect();
    assert_eq!(all[0].subject, "change 2299");
    assert_eq!(all[2299].subject, "change 0");
    assert!(
        all.windows(2).all(|w| w[0].time > w[1].time),
        "newest first"
    );
    let git_order = git(dir.path(), &["log", "--format=%H", "main"]);
    let ours: Vec<String> = all.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(
        ours,
        git_order.lines().collect::<Vec<_>>(),
        "the order git log gives"
    );
}

#[test]
fn entries_carry_author_time_subject_and_short_id() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_history(dir.path(), 3, 1);
    let batches = batches(dir.path(), &query(None, None));
    let newest = &batches[0][0];
    assert_eq!(newest.author, "Ada Author");
    assert_eq!(newest.email, "ada@example.com");
    assert_eq!(newest.time.as_second(), 1_600_000_002);
    assert_eq!(newest.subject, "change 2");
    assert_eq!(newest.short_id.len(), 7);
    assert!(newest.id.to_string().starts_with(&newest.short_id));
    assert_eq!(newest.signature, SignatureStatus::Unsigned);
    assert_eq!(batches[0][1].author, "Bob Builder");
}

#[test]
fn a_limit_stops_the_walk() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_history(dir.path(), 500, 10);
    let batches = batches(dir.path(), &query(None, Some(150)));
    assert_eq!(
        batches.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![100, 50]
    );
    assert_eq!(batches[1][49].subject, "change 350");
}

#[test]
fn path_only_keeps_the_commits_that_touch_the_path() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_history(dir.path(), 300, 10);
    let web = subjects(&batches(dir.path(), &query(Some("apps/web"), None)));
    let expected: Vec<String> = (0..300)
        .rev()
        .step_by(1)
        .filter(|i| i % 10 == 0)
        .map(|i| format!("change {i}"))
        .collect();
    assert_eq!(web, expected);
    let db = subjects(&batches(dir.path(), &query(Some("apps/db/"), None)));
    assert_eq!(db.len(), 270);
    assert!(!db.contains(&"change 0".to_string()));
    let file = subjects(&batches(
        dir.path(),
        &query(Some("apps/web/deploy.yaml"), None),
    ));
    assert_eq!(file, expected, "a file path works too");
    assert_eq!(
        subjects(&batches(dir.path(), &query(Some("apps"), None))).len(),
        300
    );
    assert_eq!(
        subjects(&batches(dir.path(), &query(Some("."), None))).len(),
        300
    );
    assert!(subjects(&batches(dir.path(), &query(Some("apps/none"), None))).is_empty());
}

#[test]
fn path_only_matches_git_log_on_a_merge() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    let commit = |files: &[(&str, &str)], message: &str, date: &str| {
        for (path, content) in files {
            let file = repo.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, content).unwrap();
        }
        git(repo, &["add", "-A"]);
        let mut command = super::support::git_command(repo, &["commit", "-q", "-m", message]);
        command
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
        assert!(command.status().unwrap().success());
    };
    commit(
        &[("apps/web/a.yaml", "1\n"), ("other/x", "1\n")],
        "base",
        "2024-01-01T00:00:00Z",
    );
    git(repo, &["checkout", "-q", "-b", "side"]);
    commit(
        &[("apps/web/a.yaml", "2\n")],
        "side web",
        "2024-01-02T00:00:00Z",
    );
    git(repo, &["checkout", "-q", "main"]);
    commit(&[("other/x", "2\n")], "main other", "2024-01-03T00:00:00Z");
    let mut merge = super::support::git_command(
        repo,
        &["merge", "-q", "--no-edit", "-m", "merge side", "side"],
    );
    merge
        .env("GIT_AUTHOR_DATE", "2024-01-04T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-04T00:00:00Z");
    assert!(merge.status().unwrap().success());

    let ours = subjects(&batches(repo, &query(Some("apps/web"), None)));
    let theirs = git(repo, &["log", "--format=%s", "main", "--", "apps/web"]);
    assert_eq!(ours, theirs.lines().collect::<Vec<_>>());
    let all = subjects(&batches(repo, &query(None, None)));
    let theirs = git(repo, &["log", "--format=%s", "main"]);
    assert_eq!(all, theirs.lines().collect::<Vec<_>>());
}

#[test]
fn stopping_early_ends_the_walk() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_history(dir.path(), 400, 10);
    let mut seen = 0;
    let total = walk_history(dir.path(), &query(None, None), |batch| {
        seen += batch.len();
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!((seen, total), (FIRST_BATCH, FIRST_BATCH));
}

#[test]
fn the_walk_publishes_the_first_screen_then_the_rest() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_history(dir.path(), 2500, 10);
    let mut sizes = Vec::new();
    walk_history(dir.path(), &query(None, None), |batch| {
        sizes.push(batch.len());
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(sizes, vec![100, 2000, 400]);
}

#[test]
fn the_walk_reports_an_unknown_revision_and_publishes_nothing() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_history(dir.path(), 3, 1);
    let mut published = 0;
    let query = HistoryQuery {
        rev: "release".to_string(),
        path: None,
        limit: None,
        signatures: true,
    };
    let err = walk_history(dir.path(), &query, |_| {
        published += 1;
        ControlFlow::Continue(())
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("cannot resolve revision \"release\""), "{err}");
    assert_eq!(published, 0);
}

/// Commits made in the same second (scripts, merge queues) come in the
/// order git log gives them: by time, then in the order they were met.
#[test]
fn merged_commits_of_the_same_second_come_in_git_logs_order() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    let at = |date: &str, args: &[&str]| {
        let mut command = super::support::git_command(repo, args);
        command
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
        assert!(command.status().unwrap().success(), "git {args:?}");
    };
    let same = "2024-01-02T00:00:00Z";
    at(
        "2024-01-01T00:00:00Z",
        &["commit", "-q", "--allow-empty", "-m", "base"],
    );
    for branch in ["a", "b", "c"] {
        git(repo, &["checkout", "-q", "-b", branch, "main"]);
        for n in 1..=3 {
            at(
                same,
                &[
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    &format!("{branch}{n}"),
                ],
            );
        }
    }
    git(repo, &["checkout", "-q", "main"]);
    at(same, &["commit", "-q", "--allow-empty", "-m", "main1"]);
    at(same, &["merge", "-q", "--no-ff", "-m", "merge a", "a"]);
    at(
        same,
        &["merge", "-q", "--no-ff", "-m", "merge b and c", "b", "c"],
    );
    at(same, &["commit", "-q", "--allow-empty", "-m", "main2"]);

    let ours = subjects(&batches(repo, &query(None, None)));
    let theirs = git(repo, &["log", "--format=%s", "main"]);
    assert_eq!(ours, theirs.lines().collect::<Vec<_>>());
    assert_eq!(ours.len(), 14, "every commit once");
}

/// A shallow clone's history ends where the clone does, as git log's.
#[test]
fn a_shallow_clone_is_walked_to_its_boundary() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.git");
    generate_history(&full, 50, 10);
    let shallow = dir.path().join("shallow");
    let url = format!("file://{}", full.display());
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            "--depth",
            "5",
            &url,
            shallow.to_str().unwrap(),
        ],
    );
    let ours = subjects(&batches(&shallow, &query(None, None)));
    let theirs = git(&shallow, &["log", "--format=%s", "main"]);
    assert_eq!(ours, theirs.lines().collect::<Vec<_>>());
    assert_eq!(ours.len(), 5);
    let web = subjects(&batches(&shallow, &query(Some("apps/web"), None)));
    let theirs = git(&shallow, &["log", "--format=%s", "main", "--", "apps/web"]);
    assert_eq!(web, theirs.lines().collect::<Vec<_>>());
}
