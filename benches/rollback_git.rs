#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Rollback in Git and overlays at a revision (issue 12, items 2 and 5),
//! through the built binary as a user runs it:
//!
//! - overlay: `driftdeck check apps/api/overlays/prod --rev HEAD` (the
//!   overlay and its `../../base` read from Git, written out, built by
//!   kustomize, loaded, checked) beside `kubectl kustomize` on a checkout of
//!   the same folders: what reading the tree costs over the renderer.
//! - rollback: `driftdeck rollback api --to REV --git --branch --yes` against
//!   a bare repository over `file://`: fetch, resolve, commits undone,
//!   commit, push of a review branch (no cluster involved).
//!
//! The median of ROUNDS runs each:
//!
//!     PATH="$(../shared/tools/kube-tools):$PATH" cargo bench --bench rollback_git

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/common/git.rs"]
mod common_git;
use common_git::git;

const ROUNDS: usize = 9;

fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

fn deployment(n: usize, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api-{n}\nspec:\n  selector:\n    matchLabels: {{app: api-{n}}}\n  template:\n    metadata:\n      labels: {{app: api-{n}}}\n    spec:\n      containers:\n      - name: api\n        image: {image}\n"
    )
}

/// `apps/api/base` with 50 Deployments and `apps/api/overlays/prod`; two
/// commits (images 1, then 2). Gives the first commit.
fn repo(root: &Path) -> String {
    git(root, &["init", "-q", "-b", "main"]);
    let mut resources = String::from("resources:\n");
    for n in 0..50 {
        write(
            root,
            &format!("apps/api/base/d{n}.yaml"),
            &deployment(n, "api:1"),
        );
        resources.push_str(&format!("- d{n}.yaml\n"));
    }
    write(root, "apps/api/base/kustomization.yaml", &resources);
    write(
        root,
        "apps/api/overlays/prod/kustomization.yaml",
        "namespace: prod\nresources:\n- ../../base\n",
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "api 1"]);
    let first = git(root, &["rev-parse", "HEAD"]);
    for n in 0..50 {
        write(
            root,
            &format!("apps/api/base/d{n}.yaml"),
            &deployment(n, "api:2"),
        );
    }
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "api 2"]);
    first
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn timed(mut command: Command) -> Duration {
    let start = Instant::now();
    let output = command.output().unwrap();
    let took = start.elapsed();
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    took
}

fn driftdeck(home: &Path, config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftdeck"));
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("DRIFTDECK_CONFIG", config)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(std::process::Stdio::null());
    command
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let first = repo(&work);
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = Bench\n\temail = bench@example.com\n",
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();

    let has_kubectl = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_kubectl {
        let check: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let mut command = driftdeck(&home, &config);
                command.current_dir(&work).args([
                    "check",
                    "apps/api/overlays/prod",
                    "--rev",
                    "HEAD",
                ]);
                timed(command)
            })
            .collect();
        let kustomize: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let mut command = Command::new("kubectl");
                command.args([
                    "kustomize",
                    work.join("apps/api/overlays/prod").to_str().unwrap(),
                ]);
                timed(command)
            })
            .collect();
        println!(
            "overlay: check --rev HEAD (base of 50 Deployments) median {:.1} ms; kubectl kustomize on the checkout {:.1} ms",
            median(check).as_secs_f64() * 1000.0,
            median(kustomize).as_secs_f64() * 1000.0
        );
    } else {
        println!("overlay: skipped, kubectl is not on PATH");
    }

    let bare = dir.path().join("deploy.git");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    std::fs::write(
        &config,
        format!(
            "[[app]]\nname = \"api\"\nrepo = \"file://{}\"\nbranch = \"main\"\npath = \"apps/api/overlays/prod\"\n",
            bare.display()
        ),
    )
    .unwrap();
    let review = format!("driftdeck/rollback-api-{}", &first[..7]);
    let rollback: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let mut command = driftdeck(&home, &config);
            command.args([
                "rollback", "api", "--to", &first, "--git", "--branch", "--yes",
            ]);
            let took = timed(command);
            git(&bare, &["branch", "-D", &review]);
            took
        })
        .collect();
    println!(
        "rollback: rollback --git --branch over file:// (base and overlay restored, pushed) median {:.1} ms",
        median(rollback).as_secs_f64() * 1000.0
    );
}
