#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The engine at the size of a real cluster (issue 10): 10 apps of 1,001
//! objects each (200 Deployments, 200 Services, 400 ConfigMaps, 200
//! Secrets and a Namespace per app) in the simulated cluster, once as
//! `kubectl apply --server-side` leaves them (no driftdeck label) and once
//! as driftdeck applies them (labelled). For each:
//!
//! - `driftdeck status -o json` as a whole process: wall time (median of
//!   ROUNDS) and the requests one run makes;
//! - the TUI as a whole process in tmux at 200x60: time from start until
//!   every app shows its verdict, the requests and watches opened by then,
//!   its resident memory then, and again after DRIFTDECK_IDLE_SECS
//!   (default 300) with nothing changing, with the requests made meanwhile.
//!
//! Goals: TUI requests at start ≤ 150, watches ≤ 60, no periodic list,
//! RSS < 100 MB, time to verdict ≤ 1.5 × `status`.
//!
//!     cargo bench --bench scale                  # both variants
//!     cargo bench --bench scale -- unlabelled    # one of them
//!     SCALE_WRAP="heaptrack -o /tmp/tui" DRIFTDECK_IDLE_SECS=10 \
//!         cargo bench --bench scale -- labelled  # the TUI's heap, by call site

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use driftdeck::simcluster::{SimCluster, SimOptions};
use serde_json::{Value, json};

const APPS: usize = 10;
const ROUNDS: usize = 3;

#[path = "../tests/common/git.rs"]
mod common_git;
#[path = "support/tmux.rs"]
mod tmux;
use common_git::git;
use tmux::TmuxProcess;

fn namespace(app: usize) -> String {
    format!("team-{app}")
}

/// One app's objects as Git has them.
fn objects(app: usize) -> Vec<Value> {
    let ns = namespace(app);
    let mut all = vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})];
    for i in 0..200 {
        let name = format!("svc-{i}");
        let meta = json!({"name": name, "namespace": ns});
        all.push(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": format!("example/app:1.{i}"),
                        "ports": [{"containerPort": 8080}],
                        "env": [{"name": "LOG_LEVEL", "value": "info"}],
                        "envFrom": [{"configMapRef": {"name": format!("{name}-a")}}, {"secretRef": {"name": name}}],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}));
        all.push(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        );
        for part in ["a", "b"] {
            all.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("{name}-{part}"), "namespace": ns},
                "data": {"mode": "production", "index": i.to_string(), "part": part}}));
        }
        all.push(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta,
            "stringData": {"token": format!("t-{i}")}}),
        );
    }
    all
}

fn stamped(mut object: Value, app: &str, revision: &str) -> Value {
    let metadata = object["metadata"].as_object_mut().unwrap();
    let labels = metadata.entry("labels").or_insert_with(|| json!({}));
    labels["app.kubernetes.io/managed-by"] = json!("driftdeck");
    labels["driftdeck.dev/app"] = json!(app);
    metadata.insert(
        "annotations".into(),
        json!({"driftdeck.dev/revision": revision}),
    );
    object
}

/// The repository, the cluster and the files driftdeck reads.
struct World {
    dir: tempfile::TempDir,
    sim: SimCluster,
}

impl World {
    async fn new(labelled: bool) -> World {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        for app in 0..APPS {
            let app_dir = repo.join(format!("apps/app-{app}"));
            std::fs::create_dir_all(&app_dir).unwrap();
            for (index, chunk) in objects(app).chunks(10).enumerate() {
                let list = json!({"apiVersion": "v1", "kind": "List", "items": chunk});
                std::fs::write(
                    app_dir.join(format!("part-{index:03}.json")),
                    serde_json::to_string_pretty(&list).unwrap(),
                )
                .unwrap();
            }
        }
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "ten apps"]);
        let revision = git(&repo, &["rev-parse", "HEAD"]);
        let sim = SimCluster::start(SimOptions {
            controllers: false,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let mut config = String::new();
        for app in 0..APPS {
            let name = format!("app-{app}");
            let objects = objects(app);
            if labelled {
                let stamped = objects.into_iter().map(|o| stamped(o, &name, &revision));
                sim.load_objects(stamped, "driftdeck").unwrap();
            } else {
                sim.load_objects(objects, "kubectl").unwrap();
            }
            config.push_str(&format!(
                "[[app]]\nname = \"{name}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/{name}\"\nnamespace = \"{}\"\n\n",
                repo.display(),
                namespace(app)
            ));
        }
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        for folder in ["home", "state", "cache", "data"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        World { dir, sim }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HOME", self.path("home")),
            ("XDG_STATE_HOME", self.path("state")),
            ("XDG_CACHE_HOME", self.path("cache")),
            ("XDG_DATA_HOME", self.path("data")),
            ("KUBECONFIG", self.path("kubeconfig")),
            ("DRIFTDECK_CONFIG", self.path("config.toml")),
        ]
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// `driftdeck status -o json`: median wall time, requests of one run, and
/// the statuses it reported.
fn status(world: &World) -> (Duration, u64, Vec<String>) {
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_driftdeck"));
        command.args(["status", "-o", "json"]).envs(world.env());
        let started = Instant::now();
        let out = command.output().unwrap();
        (started.elapsed(), out)
    };
    run(); // warm the Git cache and the disk
    world.sim.metrics().reset();
    let (first, out) = run();
    let requests = world.sim.metrics().snapshot().total;
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let statuses = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap_or("?").to_string())
        .collect();
    let mut times = vec![first];
    times.extend((1..ROUNDS).map(|_| run().0));
    (median(times), requests, statuses)
}

/// True when every app's row in the Apps pane shows a sync verdict.
fn every_verdict_shown(screen: &str) -> bool {
    (0..APPS).all(|app| {
        let name = format!("app-{app} ");
        screen
            .lines()
            .filter(|line| line.contains(&name))
            .any(|line| line.contains('✓') || line.contains('✗'))
    })
}

async fn variant(name: &str, labelled: bool, idle: Duration) {
    let world = World::new(labelled).await;
    let (status_time, status_requests, statuses) = status(&world);
    let synced = statuses.iter().filter(|s| *s == "Synced").count();
    println!(
        "{name}: driftdeck status -o json: {status_time:.2?} (median of {ROUNDS}), {status_requests} requests, {synced}/{APPS} apps Synced"
    );

    world.sim.metrics().reset();
    let started = Instant::now();
    let env: Vec<(String, String)> = world
        .env()
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.display().to_string()))
        .collect();
    let socket = format!("driftdeck-scale-{}", std::process::id());
    // SCALE_WRAP runs the TUI under a profiler, e.g. "heaptrack -o /tmp/tui".
    let wrap = std::env::var("SCALE_WRAP").ok();
    let command = match &wrap {
        Some(wrap) => format!("{wrap} {}", env!("CARGO_BIN_EXE_driftdeck")),
        None => env!("CARGO_BIN_EXE_driftdeck").to_string(),
    };
    let Some(tui) = TmuxProcess::start(&socket, (200, 60), &env, &command) else {
        return;
    };
    let deadline = started + Duration::from_secs(120);
    while !every_verdict_shown(&tui.screen()) {
        assert!(
            Instant::now() < deadline,
            "no verdicts on screen:\n{}",
            tui.screen()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let to_verdict = started.elapsed();
    let at_start = world.sim.metrics().snapshot();
    let rss_start = tui.rss_mb();
    println!(
        "{name}: TUI: every verdict on screen after {to_verdict:.2?} ({:.2} × status); {} requests ({} watches, {} lists, {} gets); RSS {rss_start:.0} MB",
        to_verdict.as_secs_f64() / status_time.as_secs_f64(),
        at_start.total,
        at_start.count_verb("watch"),
        at_start.count_verb("list"),
        at_start.count_verb("get"),
    );
    world.sim.metrics().reset();
    tokio::time::sleep(idle).await;
    let quiet = world.sim.metrics().snapshot();
    println!(
        "{name}: TUI after {}s idle: RSS {:.0} MB; {} requests meanwhile ({} lists, {} watches)",
        idle.as_secs(),
        tui.rss_mb(),
        quiet.total,
        quiet.count_verb("list"),
        quiet.count_verb("watch"),
    );
    if wrap.is_some() {
        // A profiler wants the heap as it is now, not as it is after the
        // TUI cleaned up: the one profiling kills the TUI (SIGKILL).
        println!("{name}: profiling: kill -9 the TUI (driftdeck) now; waiting");
        while std::path::Path::new(&format!("/proc/{}", tui.pid)).exists() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    drop(tui);
}

#[tokio::main]
async fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let idle = Duration::from_secs(
        std::env::var("DRIFTDECK_IDLE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    );
    if run("unlabelled") {
        variant("unlabelled", false, idle).await;
    }
    if run("labelled") {
        variant("labelled", true, idle).await;
    }
}
