#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Auto-sync end to end, as a user runs it: `driftdeck watch -o json` (the
//! built binary) follows an app whose remote is served by `git daemon` on
//! 127.0.0.1 and whose cluster is the simulated one. Each round commits a
//! change, pushes it to the remote, and times from the push until watch
//! prints the app Synced at the pushed revision. Goal: poll interval +
//! settle delay + 2 s.
//!
//!     cargo bench --bench autosync
//!
//! DRIFTDECK_BENCH_ROUNDS (default 5) rounds; poll "2s", settle_delay "1s".

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use driftdeck::simcluster::{SimCluster, SimOptions};
use serde_json::{Value, json};

const POLL: Duration = Duration::from_secs(2);
const SETTLE_DELAY: Duration = Duration::from_secs(1);
const LINE_DEADLINE: Duration = Duration::from_secs(60);

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child (and with it its pipes) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_app(work: &Path, color: &str) {
    let dir = work.join("apps/shop");
    std::fs::create_dir_all(&dir).unwrap();
    let objects = [
        (
            "namespace.json",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        ),
        (
            "configmap.json",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"}, "data": {"color": color}}),
        ),
    ];
    for (file, object) in objects {
        std::fs::write(
            dir.join(file),
            serde_json::to_string_pretty(&object).unwrap(),
        )
        .unwrap();
    }
}

/// Waits for a line of watch's output that `wanted` accepts.
fn until(lines: &mpsc::Receiver<Value>, what: &str, wanted: impl Fn(&Value) -> bool) {
    let give_up = Instant::now() + LINE_DEADLINE;
    loop {
        let left = give_up.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).unwrap_or_else(|_| {
            panic!("watch printed no line with {what} within {LINE_DEADLINE:?}")
        });
        if wanted(&line) {
            return;
        }
    }
}

fn synced_at(revision: &str) -> impl Fn(&Value) -> bool + '_ {
    move |line| {
        line["event"] == "verdict" && line["status"] == "Synced" && line["revision"] == revision
    }
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("DRIFTDECK_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let sim = SimCluster::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (work, served) = (dir.path().join("work"), dir.path().join("served"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&served).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    write_app(&work, "color-0");
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "the shop app"]);
    git(&served, &["init", "-q", "--bare", "shop.git"]);
    let bare = served.join("shop.git");
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
    let port = free_port();
    let _daemon = Killed(
        Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", served.display()))
            .arg(&served)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("git://127.0.0.1:{port}/shop.git");
    let reachable = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(25));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(reachable, "git daemon did not start");

    sim.write_kubeconfig(&dir.path().join("kubeconfig"))
        .unwrap();
    let config = format!(
        "[[app]]\nname = \"shop\"\nrepo = \"{url}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"shop\"\npoll = \"{}s\"\nauto_sync = true\nsettle_delay = \"{}s\"\n",
        POLL.as_secs(),
        SETTLE_DELAY.as_secs()
    );
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let home = dir.path().join("home");
    let mut watch = Killed(
        Command::new(env!("CARGO_BIN_EXE_driftdeck"))
            .args(["watch", "-o", "json"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("KUBECONFIG", dir.path().join("kubeconfig"))
            .env("DRIFTDECK_CONFIG", dir.path().join("config.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (sender, lines) = mpsc::channel();
    let stdout = watch.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Ok(value) = serde_json::from_str::<Value>(&line)
                && sender.send(value).is_err()
            {
                return;
            }
        }
    });
    // The first commit, never deployed, is auto-synced too.
    let first = git(&work, &["rev-parse", "HEAD"]);
    until(&lines, "the first commit Synced", synced_at(&first));

    let mut times = Vec::with_capacity(rounds);
    for round in 1..=rounds {
        write_app(&work, &format!("color-{round}"));
        git(&work, &["commit", "-qam", &format!("color {round}")]);
        let head = git(&work, &["rev-parse", "HEAD"]);
        let pushed = Instant::now();
        git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
        until(&lines, "the pushed commit Synced", synced_at(&head));
        let took = pushed.elapsed();
        println!(
            "round {round}: push → Synced at {} in {took:.2?}",
            &head[..7]
        );
        times.push(took);
    }
    times.sort();
    let goal = POLL + SETTLE_DELAY + Duration::from_secs(2);
    println!(
        "autosync: push → Synced through `driftdeck watch`: median {:.2?}, max {:.2?} over {rounds} rounds (goal: poll {POLL:?} + settle_delay {SETTLE_DELAY:?} + 2s = {goal:?}) {}",
        times[times.len() / 2],
        times[times.len() - 1],
        if times[times.len() - 1] <= goal {
            "met"
        } else {
            "NOT met"
        }
    );
}
