#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! driftdeck's own diff of an engine app (issue 15 item 3), as a user runs
//! it: `driftdeck diff argocd/bench` on an Argo CD Application whose
//! source (a local repository, N ConfigMaps, one changed by hand) driftdeck
//! fetches, renders at Argo CD's revision and compares; beside it `driftdeck
//! diff bench`, the same folder and objects as a native app. Whole
//! processes, median of ROUNDS each, against a simulated cluster with Argo
//! CD's real Application CRD.
//!
//! Goal: the engine app's diff costs about what the native app's does (the
//! same pipeline), not a second one.
//!
//!     cargo bench --bench own_diff
//!     DRIFTDECK_OWN_DIFF_OBJECTS=100 cargo bench --bench own_diff   # smaller

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use driftdeck::simcluster::{SimCluster, SimOptions};
use serde_json::{Value, json};

#[path = "../tests/common/git.rs"]
mod common_git;
use common_git::git;

const ROUNDS: usize = 5;
const NAMESPACE: &str = "bench";

fn config_map(index: usize, color: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": format!("settings-{index:04}"), "namespace": NAMESPACE},
           "data": {"color": color, "index": index.to_string()}})
}

fn main() {
    let count: usize = std::env::var("DRIFTDECK_OWN_DIFF_OBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);

    // The repository: N ConfigMaps in apps/bench, one file each.
    let repo = path("repo");
    let folder = repo.join("apps/bench");
    std::fs::create_dir_all(&folder).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    for i in 0..count {
        let text = serde_json::to_string(&config_map(i, "blue")).unwrap();
        std::fs::write(folder.join(format!("settings-{i:04}.json")), text).unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "bench"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);

    // The cluster: the CRD, the Application, the objects as Argo CD
    // deployed them, the first one changed by hand.
    let _guard = runtime.enter();
    let sim = runtime
        .block_on(SimCluster::start(SimOptions {
            controllers: false,
            ..SimOptions::default()
        }))
        .unwrap();
    let crd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/engines/crds/argocd/application-crd.yaml");
    let crd: Value = serde_saphyr::from_str(&std::fs::read_to_string(crd).unwrap()).unwrap();
    let namespaces = ["argocd", NAMESPACE]
        .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    sim.load_objects(namespaces, "bench").unwrap();
    sim.load_objects([crd], "bench").unwrap();
    sim.load_objects(
        [json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "bench", "namespace": "argocd"},
            "spec": {"project": "default",
                     "source": {"repoURL": format!("file://{}", repo.display()),
                                "targetRevision": "main", "path": "apps/bench"},
                     "destination": {"namespace": NAMESPACE}},
            "status": {"sync": {"status": "Synced", "revision": head},
                       "health": {"status": "Healthy"}}
        })],
        "bench",
    )
    .unwrap();
    let deployed = (0..count).map(|i| config_map(i, if i == 0 { "red" } else { "blue" }));
    sim.load_objects(deployed, "argocd-controller").unwrap();
    sim.write_kubeconfig(&path("kubeconfig")).unwrap();
    for folder in ["home", "state", "cache", "data"] {
        std::fs::create_dir_all(path(folder)).unwrap();
    }
    // Two configs: the engine app alone; the native app alone.
    std::fs::write(path("engine.toml"), "").unwrap();
    std::fs::write(
        path("native.toml"),
        format!(
            "[engines]\nargocd = false\n[[app]]\nname = \"bench\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/bench\"\nnamespace = \"{NAMESPACE}\"\n",
            repo.display()
        ),
    )
    .unwrap();

    let run = |config: &str, app: &str| -> (Duration, String) {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_driftdeck"))
            .args(["diff", app])
            .env("HOME", path("home"))
            .env("XDG_STATE_HOME", path("state"))
            .env("XDG_CACHE_HOME", path("cache"))
            .env("XDG_DATA_HOME", path("data"))
            .env("KUBECONFIG", path("kubeconfig"))
            .env("DRIFTDECK_CONFIG", path(config))
            .current_dir(path("home"))
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{app}: the hand change is drift: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("ConfigMap bench/settings-0000: OutOfSync"),
            "{stdout}"
        );
        (elapsed, stdout)
    };
    let median = |config: &str, app: &str| {
        let mut times: Vec<Duration> = (0..ROUNDS).map(|_| run(config, app).0).collect();
        times.sort();
        times[ROUNDS / 2]
    };
    let (_, engine_out) = run("engine.toml", "argocd/bench");
    assert!(
        engine_out.contains("Argo CD says Synced; driftdeck sees OutOfSync"),
        "{engine_out}"
    );
    let engine = median("engine.toml", "argocd/bench");
    let native = median("native.toml", "bench");
    println!(
        "driftdeck diff, {count} ConfigMaps, one changed by hand (median of {ROUNDS}): argocd/bench {engine:.2?}, native bench {native:.2?}, ratio {:.2}",
        engine.as_secs_f64() / native.as_secs_f64()
    );
}
