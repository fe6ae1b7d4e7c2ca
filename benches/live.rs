#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The cost of knowing the live state (issue 6, benchmarks b and c), against
//! the simulated cluster holding 1,000 objects of 10 kinds, all of one app:
//!
//! - steady: the engine (what the TUI runs) started, left alone with no
//!   change for DRIFTDECK_STEADY_SECS (default 300) seconds; the requests it
//!   made after start-up, by verb, as the server counted them. Goal: no
//!   periodic listing, only watch renewals.
//! - status: `driftdeck status -o json` beside `kubectl get
//!   deploy,svc,cm,secret -A -o json` on the same server, median of ROUNDS
//!   runs each. Goal: a wall-time ratio of at most 1.5.
//!
//! Run both, or name one:
//!
//!     cargo bench --bench live              # both
//!     cargo bench --bench live -- status    # one of them

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use driftdeck::config::{Config, Paths};
use driftdeck::engine::{Engine, EngineEvent, EngineOptions};
use driftdeck::simcluster::{SimCluster, SimOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const PER_KIND: usize = 100;
const NAMESPACE: &str = "bench";
const APP: &str = "bench";
const ROUNDS: usize = 9;

fn stamped(mut object: Value, revision: &str) -> Value {
    let metadata = object["metadata"].as_object_mut().unwrap();
    let labels = metadata.entry("labels").or_insert_with(|| json!({}));
    labels["app.kubernetes.io/managed-by"] = json!("driftdeck");
    labels["driftdeck.dev/app"] = json!(APP);
    metadata.insert(
        "annotations".into(),
        json!({"driftdeck.dev/revision": revision}),
    );
    object
}

/// 100 objects of each of 10 kinds, as Git has them.
fn objects() -> Vec<Value> {
    let mut all = Vec::new();
    for i in 0..PER_KIND {
        let name = format!("svc-{i:03}");
        let meta = json!({"name": name, "namespace": NAMESPACE});
        all.push(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1 + i % 3, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"serviceAccountName": name, "containers": [{"name": "app", "image": format!("example/app:1.{i}"),
                        "ports": [{"containerPort": 8080}],
                        "envFrom": [{"configMapRef": {"name": name}}, {"secretRef": {"name": name}}],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}));
        all.push(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        );
        all.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"mode": "production", "index": i.to_string()}}));
        all.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": {"token": format!("t-{i}")}}));
        all.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}));
        all.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
        );
        all.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name}]}));
        all.push(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}));
        all.push(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": {"podSelector": {"matchLabels": {"app": name}}, "ingress": [{"ports": [{"port": 8080}]}]}}));
        all.push(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
            "spec": {"rules": [{"host": format!("{name}.example.com"), "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]}}));
    }
    all
}

#[path = "../tests/common/git.rs"]
mod common_git;
use common_git::git;

/// A repository with the app (10 objects per file) and a cluster with the
/// same objects applied and stamped, and a config and kubeconfig for both.
struct Setup {
    dir: tempfile::TempDir,
    sim: SimCluster,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let app_dir = repo.join("apps/bench");
        std::fs::create_dir_all(&app_dir).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        let objects = objects();
        for (index, chunk) in objects.chunks(10).enumerate() {
            std::fs::write(
                app_dir.join(format!("part-{index:03}.json")),
                serde_json::to_string_pretty(
                    &json!({"apiVersion": "v1", "kind": "List", "items": chunk}),
                )
                .unwrap(),
            )
            .unwrap();
        }
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "bench app"]);
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
        sim.load_objects(
            objects.into_iter().map(|o| stamped(o, &revision)),
            "driftdeck",
        )
        .unwrap();
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        let config = format!(
            "[[app]]\nname = \"{APP}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/bench\"\nnamespace = \"{NAMESPACE}\"\n",
            repo.display()
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Setup { dir, sim }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

async fn steady() {
    let seconds: u64 = std::env::var("DRIFTDECK_STEADY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let setup = Setup::new().await;
    let text = std::fs::read_to_string(setup.path("config.toml")).unwrap();
    let config = Config::parse(&setup.path("config.toml"), &text).unwrap();
    let home = setup.path("home");
    let paths = Paths {
        config_file: setup.path("config.toml"),
        config_given: true,
        themes_dir: home.join("themes"),
        data_dir: home.join("data"),
        cache_dir: home.join("cache"),
        log_dir: home.join("state"),
    };
    let (sender, mut events) = mpsc::unbounded_channel();
    let options = EngineOptions {
        kubeconfig: Some(setup.path("kubeconfig")),
        ..EngineOptions::default()
    };
    setup.sim.metrics().reset();
    let started = Instant::now();
    let _engine = Engine::start(config.apps, paths, options, sender);
    let report = loop {
        match events.recv().await.unwrap() {
            EngineEvent::Report { report, .. } => break report,
            _ => continue,
        }
    };
    let startup = setup.sim.metrics().snapshot();
    println!(
        "steady: first report after {:.2?}: {} ({} resources), {} requests at start-up",
        started.elapsed(),
        report.summary.status,
        report.resources.len(),
        startup.total
    );
    for count in &startup.requests {
        println!(
            "  start-up  {:6} {:32} {}",
            count.verb, count.resource, count.count
        );
    }
    setup.sim.metrics().reset();
    let quiet_until = Instant::now() + Duration::from_secs(seconds);
    let mut reports_while_quiet = 0;
    while let Ok(Some(event)) = tokio::time::timeout_at(quiet_until.into(), events.recv()).await {
        if matches!(event, EngineEvent::Report { .. }) {
            reports_while_quiet += 1;
        }
    }
    let quiet = setup.sim.metrics().snapshot();
    println!(
        "steady: {seconds} s with no change: {} requests ({} list, {} get, {} watch), {reports_while_quiet} new reports",
        quiet.total,
        quiet.count_verb("list"),
        quiet.count_verb("get"),
        quiet.count_verb("watch")
    );
    for count in &quiet.requests {
        println!(
            "  quiet     {:6} {:32} {}",
            count.verb, count.resource, count.count
        );
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs a command ROUNDS times (after one warm-up run); the median wall time.
fn time_command(mut make: impl FnMut() -> Command) -> Duration {
    let run = |command: &mut Command| {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout.len()
    };
    run(&mut make());
    median(
        (0..ROUNDS)
            .map(|_| {
                let start = Instant::now();
                run(&mut make());
                start.elapsed()
            })
            .collect(),
    )
}

fn kubectl() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/kube-tools");
    let out = Command::new(script).arg("--check").output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("kubectl"))
}

async fn status() {
    let setup = Setup::new().await;
    let Some(kubectl) = kubectl() else {
        println!("status: skipped, kubectl 1.33 is not installed (run ../shared/tools/kube-tools)");
        return;
    };
    let home = setup.path("home");
    let driftdeck_time = time_command(|| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_driftdeck"));
        command
            .args(["status", "-o", "json"])
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("KUBECONFIG", setup.path("kubeconfig"))
            .env("DRIFTDECK_CONFIG", setup.path("config.toml"));
        command
    });
    let kubectl_time = time_command(|| {
        let mut command = Command::new(&kubectl);
        command
            .args(["get", "deploy,svc,cm,secret", "-A", "-o", "json"])
            .arg("--kubeconfig")
            .arg(setup.path("kubeconfig"))
            .arg("--cache-dir")
            .arg(home.join("kube-cache"))
            .env("HOME", &home);
        command
    });
    let reported: Value = {
        let out = Command::new(env!("CARGO_BIN_EXE_driftdeck"))
            .args(["status", "-o", "json"])
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("KUBECONFIG", setup.path("kubeconfig"))
            .env("DRIFTDECK_CONFIG", setup.path("config.toml"))
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    println!(
        "status: driftdeck status -o json {:.1?} (the app {}, {} resources) vs kubectl get deploy,svc,cm,secret -A -o json {:.1?}: ratio {:.2} (median of {ROUNDS})",
        driftdeck_time,
        reported[0]["status"],
        reported[0]["resources"].as_array().map_or(0, Vec::len),
        kubectl_time,
        driftdeck_time.as_secs_f64() / kubectl_time.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    if run("status") {
        status().await;
    }
    if run("steady") {
        steady().await;
    }
}
