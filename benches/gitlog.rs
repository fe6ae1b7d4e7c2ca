#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! How fast the commit log is on a 100,000-commit repository: the time to
//! the first 100 entries (the first screen), the whole walk, and
//! `git log --format='%H%x00%an%x00%at%x00%s'` on the same repository.
//!
//! Then what a user runs: `driftdeck log web --limit 100000 -o json` as a
//! whole process, its output read to the end, against that `git log`.
//! Goal: no slower than git.
//!
//! `cargo bench --bench gitlog`. The repository is made once with
//! `git fast-import` and kept in `target/gitlog-bench/`.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use driftdeck::source::{HistoryQuery, walk_history};

#[path = "../tests/it/source/fast_import.rs"]
mod fast_import;

const COMMITS: usize = 100_000;
const RUNS: usize = 11;

fn main() {
    let repo = repository();
    let query = HistoryQuery {
        rev: "main".to_string(),
        path: None,
        limit: None,
        signatures: true,
    };

    let first_screen = measure(|| {
        let mut seen = 0;
        walk_history(&repo, &query, |batch| {
            seen += batch.len();
            ControlFlow::Break(())
        })
        .unwrap();
        assert_eq!(seen, 100);
    });
    let whole_walk = measure(|| {
        let total = walk_history(&repo, &query, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(total, COMMITS);
    });
    let git_log = measure(|| {
        let out = Command::new("git")
            .args(["log", "--format=%H%x00%an%x00%at%x00%s", "main"])
            .current_dir(&repo)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.iter().filter(|b| **b == b'\n').count(), COMMITS);
    });
    let path_only = measure(|| {
        let query = HistoryQuery {
            path: Some("apps/web".to_string()),
            ..query.clone()
        };
        let total = walk_history(&repo, &query, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(total, COMMITS / 10);
    });
    let git_log_path = measure(|| {
        let out = Command::new("git")
            .args([
                "log",
                "--format=%H%x00%an%x00%at%x00%s",
                "main",
                "--",
                "apps/web",
            ])
            .current_dir(&repo)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success());
    });

    let config = repo.with_extension("toml");
    std::fs::write(
        &config,
        format!(
            "[[app]]\nname = \"web\"\nrepo = {:?}\nbranch = \"main\"\npath = \"apps/web\"\n",
            repo.display().to_string()
        ),
    )
    .unwrap();
    let command = measure(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_driftdeck"))
            .arg("--config")
            .arg(&config)
            .args(["log", "web", "--limit", "100000", "-o", "json"])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            out.stdout.iter().filter(|b| **b == b'\n').count(),
            COMMITS + 2
        );
    });

    println!("gitlog: {COMMITS} commits, median of {RUNS} runs (min in brackets)");
    report("first 100 entries", first_screen, None);
    report("whole walk", whole_walk, None);
    report("git log, whole", git_log, None);
    report("whole walk / git log", whole_walk, Some(git_log));
    report("--path-only walk", path_only, None);
    report("git log -- path", git_log_path, None);
    report(
        "--path-only / git log -- path",
        path_only,
        Some(git_log_path),
    );
    report("driftdeck log -o json, process", command, None);
    report("driftdeck log / git log", command, Some(git_log));
    println!(
        "goals: first 100 under 50 ms: {}; whole walk no slower than git: {}; \
         the command no slower than git: {}",
        if first_screen.median < Duration::from_millis(50) {
            "met"
        } else {
            "MISSED"
        },
        if whole_walk.median <= git_log.median {
            "met"
        } else {
            "MISSED"
        },
        if command.median <= git_log.median {
            "met"
        } else {
            "MISSED"
        },
    );
}

#[derive(Clone, Copy)]
struct Timing {
    median: Duration,
    min: Duration,
}

fn measure(mut run: impl FnMut()) -> Timing {
    run(); // warm the page cache and the code
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    Timing {
        median: times[RUNS / 2],
        min: times[0],
    }
}

fn report(what: &str, timing: Timing, against: Option<Timing>) {
    match against {
        None => println!(
            "  {what:<32} {:>9.2} ms  ({:.2} ms)",
            ms(timing.median),
            ms(timing.min)
        ),
        Some(other) => println!(
            "  {what:<32} {:>9.2}     ({:.2})",
            timing.median.as_secs_f64() / other.median.as_secs_f64(),
            timing.min.as_secs_f64() / other.min.as_secs_f64()
        ),
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The generated repository, made on first use and kept under target/.
fn repository() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let repo = target
        .join("gitlog-bench")
        .join(format!("repo-{COMMITS}.git"));
    let done = repo.join("driftdeck-bench-complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&repo);
        std::fs::create_dir_all(&repo).unwrap();
        let start = Instant::now();
        fast_import::generate_history(&repo, COMMITS, 10);
        std::fs::write(&done, "").unwrap();
        eprintln!(
            "generated {COMMITS} commits in {:.1}s",
            start.elapsed().as_secs_f64()
        );
    }
    repo
}
