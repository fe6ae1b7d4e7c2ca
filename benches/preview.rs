#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What deploying a commit would change (Enter in the Commits pane), for an
//! app of 1,000 objects: the engine's `preview` as the TUI's command runs
//! it — both revisions read from Git and rendered, compared object by
//! object, the commit's files listed. Goal: under 200 ms.
//!
//! `cargo bench --bench preview`. The repository is made in a temporary
//! folder: commit A with 1,000 ConfigMaps and Deployments, commit B with
//! 100 of them changed, 10 added and 10 removed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use driftdeck::config::Config;
use driftdeck::engine::preview;

const OBJECTS: usize = 1000;
const RUNS: usize = 11;

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn object(i: usize, image: &str) -> String {
    if i.is_multiple_of(2) {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{i}\n  namespace: shop\ndata:\n  color: blue\n  size: \"{i}\"\n"
        )
    } else {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  namespace: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web-{i}\n  template:\n    metadata:\n      labels:\n        app: web-{i}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n        ports:\n        - containerPort: 8080\n"
        )
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    let app_dir = repo.join("apps/shop");
    std::fs::create_dir_all(&app_dir).unwrap();
    for i in 0..OBJECTS {
        std::fs::write(
            app_dir.join(format!("{i:04}.yaml")),
            object(i, "nginx:1.25"),
        )
        .unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "A"]);
    let from = git(repo, &["rev-parse", "HEAD"]);
    for i in (1..200).step_by(2) {
        std::fs::write(
            app_dir.join(format!("{i:04}.yaml")),
            object(i, "nginx:1.27"),
        )
        .unwrap();
    }
    for i in 0..10 {
        std::fs::remove_file(app_dir.join(format!("{:04}.yaml", 900 + i))).unwrap();
        std::fs::write(
            app_dir.join(format!("new-{i}.yaml")),
            object(OBJECTS + 2 * i, ""),
        )
        .unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "B"]);
    let to = git(repo, &["rev-parse", "HEAD"]);

    let config = format!(
        "[[app]]\nname = \"shop\"\nrepo = \"{}\"\npath = \"apps/shop\"\nnamespace = \"shop\"\n",
        repo.display()
    );
    let app = Config::parse(Path::new("config.toml"), &config)
        .unwrap()
        .apps
        .remove(0);
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let answer = preview(&app, &repo.join(".git"), Some(&from), &to);
            let took = started.elapsed();
            assert!(answer.problems.is_empty(), "{:?}", answer.problems);
            assert_eq!(
                answer.objects.len(),
                120,
                "100 changed, 10 added, 10 removed"
            );
            assert_eq!(answer.files.len(), 120);
            took
        })
        .collect();
    times.sort();
    println!(
        "preview of an app of {OBJECTS} objects (render both revisions, compare, list files): median {:.1} ms, worst {:.1} ms over {RUNS} runs (goal < 200 ms)",
        times[RUNS / 2].as_secs_f64() * 1000.0,
        times[RUNS - 1].as_secs_f64() * 1000.0
    );
}
