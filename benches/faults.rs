#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Honest under faults (issue 16), measured against the simulated cluster
//! with the engine the TUI runs (bookmarks every 60 s, as a real API server
//! sends them):
//!
//! - stale: seconds from a fault's start to the first report that marks the
//!   app stale (what the TUI draws as `⚠ stale since …`), for 500, 503,
//!   429, offline and a hung server (600 s of latency), each followed by a
//!   dropped watch where the fault only hits new requests. Goal: ≤ 5 s each.
//! - throttled: requests per minute the server receives while every request
//!   is answered 429, with `Retry-After: 10` and without one, beside the
//!   count the status bar shows. Goal: one retry per watch per backoff step,
//!   the first wait at least 0.5 s.
//! - hung: `driftdeck status` wall time against a server that never
//!   answers, with the default request timeout. Goal: the timeout (30 s),
//!   then exit 2.
//!
//! Run all, or name some; `DRIFTDECK_BENCH_MINUTE_SECS` shortens "a minute":
//!
//!     cargo bench --bench faults
//!     cargo bench --bench faults -- stale hung

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use driftdeck::config::{Config, Paths};
use driftdeck::engine::{Engine, EngineEvent, EngineOptions};
use driftdeck::simcluster::{FaultSettings, SimCluster, SimOptions, Throttling};
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[path = "../tests/common/git.rs"]
mod common_git;
use common_git::git;

const APP: &str = "shop";
const NAMESPACE: &str = "shop";
/// How long a stale mark or a recovery is waited for before saying it never came.
const PATIENCE: Duration = Duration::from_secs(120);

fn objects() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "blue"}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": NAMESPACE},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    ]
}

/// A repository with one app, the cluster holding it as driftdeck applied
/// it, and a config and kubeconfig for both.
struct Setup {
    dir: tempfile::TempDir,
    sim: SimCluster,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let app_dir = repo.join("apps/shop");
        std::fs::create_dir_all(&app_dir).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        for (index, object) in objects().iter().enumerate() {
            std::fs::write(
                app_dir.join(format!("{index}.json")),
                serde_json::to_string_pretty(object).unwrap(),
            )
            .unwrap();
        }
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "shop"]);
        let revision = git(&repo, &["rev-parse", "HEAD"]);
        let sim = SimCluster::start(SimOptions {
            controllers: false,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}});
        sim.load_objects([namespace], "driftdeck").unwrap();
        let stamped = objects().into_iter().map(|mut object| {
            let metadata = object["metadata"].as_object_mut().unwrap();
            metadata.insert(
                "labels".into(),
                json!({"app.kubernetes.io/managed-by": "driftdeck", "driftdeck.dev/app": APP}),
            );
            metadata.insert(
                "annotations".into(),
                json!({"driftdeck.dev/revision": revision}),
            );
            object
        });
        sim.load_objects(stamped, "driftdeck").unwrap();
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        let config = format!(
            "[[app]]\nname = \"{APP}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"{NAMESPACE}\"\n",
            repo.display()
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Setup { dir, sim }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The engine the TUI runs, on this setup.
    fn engine(&self) -> (Engine, Watcher) {
        let text = std::fs::read_to_string(self.path("config.toml")).unwrap();
        let config = Config::parse(&self.path("config.toml"), &text).unwrap();
        let home = self.path("home");
        let paths = Paths {
            config_file: self.path("config.toml"),
            config_given: true,
            themes_dir: home.join("themes"),
            data_dir: home.join("data"),
            cache_dir: home.join("cache"),
            log_dir: home.join("state"),
        };
        let (sender, events) = mpsc::unbounded_channel();
        let options = EngineOptions {
            kubeconfig: Some(self.path("kubeconfig")),
            ..EngineOptions::default()
        };
        let engine = Engine::start(config.apps, paths, options, sender);
        (
            engine,
            Watcher {
                events,
                cluster_requests: 0,
                current: false,
            },
        )
    }
}

/// What the TUI would be told.
struct Watcher {
    events: mpsc::UnboundedReceiver<EngineEvent>,
    /// The API requests the status bar shows.
    cluster_requests: u64,
    /// The last report was Synced and not stale.
    current: bool,
}

fn is_current(report: &driftdeck::report::AppReport) -> bool {
    report.stale_since.is_none() && report.summary.status.to_string() == "Synced"
}

impl Watcher {
    /// Waits for a report for which `wanted` holds; `None` after `PATIENCE`.
    async fn report(
        &mut self,
        wanted: impl Fn(&driftdeck::report::AppReport) -> bool,
    ) -> Option<String> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .ok()??;
            if let EngineEvent::Report { report, .. } = &event {
                self.current = is_current(report);
            }
            match event {
                EngineEvent::Report { report, .. } if wanted(&report) => {
                    return Some(report.stale_cause.clone().unwrap_or_default());
                }
                EngineEvent::Requests { cluster, .. } => self.cluster_requests = cluster,
                _ => {}
            }
        }
    }

    /// Takes in what came meanwhile, for an up-to-date request count.
    fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            match event {
                EngineEvent::Requests { cluster, .. } => self.cluster_requests = cluster,
                EngineEvent::Report { report, .. } => self.current = is_current(&report),
                _ => {}
            }
        }
    }

    async fn until_current(&mut self) {
        self.drain();
        if self.current {
            return;
        }
        let current = self.report(is_current).await;
        assert!(current.is_some(), "the app never became Synced and current");
    }
}

async fn stale() {
    let setup = Setup::new().await;
    let (_engine, mut watcher) = setup.engine();
    watcher.until_current().await;
    let faults = setup.sim.faults();
    let start = |name: &str| match name {
        "500" | "503" => {
            faults.fail_requests(1.0, name.parse().unwrap()).unwrap();
            faults.drop_watches();
        }
        "429" => {
            faults
                .throttle_requests(1.0, Duration::from_secs(10))
                .unwrap();
            faults.drop_watches();
        }
        "offline" => faults.go_offline(Duration::from_secs(3600)),
        _ => {
            faults.set_latency(Duration::from_secs(600));
            faults.drop_watches();
        }
    };
    for name in ["500", "503", "429", "offline", "hang"] {
        // A fault hits watches that have been open a while (a watch that
        // ends within a second of opening is waited on before reopening).
        tokio::time::sleep(Duration::from_secs(3)).await;
        let started = Instant::now();
        start(name);
        match watcher.report(|r| r.stale_since.is_some()).await {
            Some(cause) => println!(
                "stale: {name:8} marked stale after {:5.2} s (goal ≤ 5 s): {cause}",
                started.elapsed().as_secs_f64()
            ),
            None => println!("stale: {name:8} no stale mark within {PATIENCE:?}"),
        }
        if name == "hang" {
            break;
        }
        faults.clear();
        faults.go_offline(Duration::ZERO);
        let recovering = Instant::now();
        watcher.until_current().await;
        println!(
            "stale: {name:8} current again {:5.2} s after the fault ended",
            recovering.elapsed().as_secs_f64()
        );
    }
}

async fn throttled() {
    let minute: u64 = std::env::var("DRIFTDECK_BENCH_MINUTE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let setup = Setup::new().await;
    let (_engine, mut watcher) = setup.engine();
    watcher.until_current().await;
    // Every watch open, before counting how many there are.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for retry_after in [10, 0] {
        watcher.until_current().await;
        watcher.drain();
        let counted_before = watcher.cluster_requests;
        setup.sim.metrics().reset();
        let faults = setup.sim.faults();
        faults
            .set(FaultSettings {
                throttle: Some(Throttling {
                    fraction: 1.0,
                    retry_after_seconds: retry_after,
                }),
                ..FaultSettings::default()
            })
            .unwrap();
        faults.drop_watches();
        let stop = tokio::time::Instant::now() + Duration::from_secs(minute);
        while let Ok(Some(event)) = tokio::time::timeout_at(stop, watcher.events.recv()).await {
            match event {
                EngineEvent::Requests { cluster, .. } => watcher.cluster_requests = cluster,
                EngineEvent::Report { report, .. } => watcher.current = is_current(&report),
                _ => {}
            }
        }
        watcher.drain();
        let served = setup.sim.metrics().snapshot();
        let watches = served
            .requests
            .iter()
            .filter(|r| r.verb == "watch")
            .count()
            .max(1) as u64;
        let counted = watcher.cluster_requests - counted_before;
        let per_minute = served.total as f64 * 60.0 / minute as f64;
        println!(
            "throttled: Retry-After {retry_after:2} s: {per_minute:6.1} requests/min served ({} in {minute} s: {} watch, {} other) from {watches} watches = {:.1} per watch; the status bar counted {counted}",
            served.total,
            served.count_verb("watch"),
            served.total - served.count_verb("watch"),
            served.count_verb("watch") as f64 / watches as f64,
        );
        faults.clear();
        // The watches come back once their current wait is over.
    }
}

async fn hung() {
    let setup = Setup::new().await;
    setup.sim.faults().set_latency(Duration::from_secs(600));
    let home = setup.path("home");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_driftdeck"))
        .arg("status")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("KUBECONFIG", setup.path("kubeconfig"))
        .env("DRIFTDECK_CONFIG", setup.path("config.toml"))
        .output()
        .unwrap();
    println!(
        "hung: driftdeck status took {:.1} s (goal: the 30 s request timeout) and exited {} (goal: 2): {}",
        started.elapsed().as_secs_f64(),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if run("stale") {
        runtime.block_on(stale());
    }
    if run("throttled") {
        runtime.block_on(throttled());
    }
    if run("hung") {
        runtime.block_on(hung());
    }
}
