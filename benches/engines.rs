#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Argo CD and Flux at scale (issue 15): 1,000 Argo CD Applications and
//! 1,000 Flux Kustomizations (made from the conformance examples, with
//! status) in one simulated cluster with the engines' real CRDs, and no
//! native app. Measured as a user runs driftdeck:
//!
//! - `driftdeck status -o json` as a whole process: wall time (median of
//!   ROUNDS) and the requests one run makes beyond discovery;
//! - the TUI as a whole process in tmux at 200x60: time from start until
//!   the Apps pane lists all 2,000 apps, the requests beyond discovery by
//!   then, its resident memory.
//!
//! Goals: shown within 2 s of start, at most 10 requests beyond discovery,
//! RSS under the engine issue's 100 MB.
//!
//!     cargo bench --bench engines
//!     DRIFTDECK_ENGINE_APPS=100 cargo bench --bench engines   # smaller
//!     DRIFTDECK_ENGINE_SOURCES=1 cargo bench --bench engines  # driftdeck's own diff too

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use driftdeck::simcluster::{SimCluster, SimOptions};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

#[path = "../tests/common/git.rs"]
mod common_git;
#[path = "support/tmux.rs"]
mod tmux;
use tmux::TmuxProcess;

const ROUNDS: usize = 3;

fn engines_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/engines")
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The example renamed `NAME-INDEX`.
fn copy_of(example: &Value, index: usize) -> Value {
    let mut object = example.clone();
    let name = format!(
        "{}-{index:04}",
        example["metadata"]["name"].as_str().unwrap()
    );
    object["metadata"]["name"] = json!(name);
    object
}

/// A repository holding the guestbook folder of the Applications' source;
/// gives it and its head.
fn guestbook_repository(repo: &Path) -> (PathBuf, String) {
    let folder = repo.join("guestbook");
    std::fs::create_dir_all(&folder).unwrap();
    common_git::git(repo, &["init", "-q", "-b", "main"]);
    let objects = [
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "guestbook-ui"},
               "spec": {"ports": [{"port": 80, "targetPort": 80}],
                        "selector": {"app": "guestbook-ui"}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "guestbook-ui"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "guestbook-ui"}},
                        "template": {"metadata": {"labels": {"app": "guestbook-ui"}},
                                     "spec": {"containers": [{"name": "guestbook-ui",
                                                              "image": "gcr.io/heptio-images/ks-guestbook-demo:0.2"}]}}}}),
    ];
    for (index, object) in objects.iter().enumerate() {
        let text = serde_json::to_string(object).unwrap();
        std::fs::write(folder.join(format!("{index}.json")), text).unwrap();
    }
    common_git::git(repo, &["add", "-A"]);
    common_git::git(repo, &["commit", "-qm", "guestbook"]);
    (
        repo.to_path_buf(),
        common_git::git(repo, &["rev-parse", "HEAD"]),
    )
}

struct World {
    dir: tempfile::TempDir,
    sim: SimCluster,
}

impl World {
    async fn new(count: usize) -> World {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimCluster::start(SimOptions {
            controllers: false,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let namespaces = ["argocd", "flux-system"]
            .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        sim.load_objects(namespaces, "bench").unwrap();
        let crds = [
            "argocd/application-crd.yaml",
            "flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
            "flux/helm.toolkit.fluxcd.io_helmreleases.yaml",
        ]
        .map(|file| yaml(&engines_dir().join("crds").join(file)));
        sim.load_objects(crds, "bench").unwrap();
        // Applications keep their status on create (no status subresource).
        let mut application =
            yaml(&engines_dir().join("objects/argocd/application-synced-healthy-history.yaml"));
        let source = std::env::var_os("DRIFTDECK_ENGINE_SOURCES")
            .map(|_| guestbook_repository(&dir.path().join("argocd-example-apps")));
        if let Some((_, head)) = &source {
            // Argo CD compared with the local repository's commit.
            application["status"]["sync"]["revision"] = json!(head);
        }
        sim.load_objects((0..count).map(|i| copy_of(&application, i)), "bench")
            .unwrap();
        // Kustomizations get theirs through /status, as the controller writes it.
        let kustomization = yaml(&engines_dir().join("objects/flux/kustomization-ready.yaml"));
        let status = kustomization["status"].clone();
        sim.load_objects((0..count).map(|i| copy_of(&kustomization, i)), "bench")
            .unwrap();
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        let client = {
            let kubeconfig =
                kube::config::Kubeconfig::read_from(dir.path().join("kubeconfig")).unwrap();
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .unwrap();
            kube::Client::try_from(config).unwrap()
        };
        let resource = kube::discovery::ApiResource {
            group: "kustomize.toolkit.fluxcd.io".into(),
            version: "v1".into(),
            api_version: "kustomize.toolkit.fluxcd.io/v1".into(),
            kind: "Kustomization".into(),
            plural: "kustomizations".into(),
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client, "flux-system", &resource);
        for i in 0..count {
            let name = format!("apps-{i:04}");
            api.patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
            .unwrap();
        }
        // The examples' sources are on github.com, which the machine does
        // not reach: by default not read (the engines' own verdicts are
        // measured); with DRIFTDECK_ENGINE_SOURCES=1 the Applications'
        // repository is mapped to a local one holding their folder, so
        // driftdeck compares every Application itself too.
        let config = match &source {
            Some((repo, _)) => format!(
                "[engines.sources]\n\"https://github.com/argoproj/argocd-example-apps.git\" = \"{}\"\n",
                repo.display()
            ),
            None => "[engines]\nread_sources = false\n".to_string(),
        };
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
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

    /// Requests since the last reset, without discovery's.
    fn requests_beyond_discovery(&self) -> (u64, u64) {
        let snapshot = self.sim.metrics().snapshot();
        let discovery = snapshot.count("get", "discovery");
        (snapshot.total - discovery, discovery)
    }
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("DRIFTDECK_ENGINE_APPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let world = World::new(count).await;
    let total = 2 * count;

    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_driftdeck"));
        command
            .args(["status", "-o", "json"])
            .envs(world.env())
            .current_dir(world.path("home"));
        let started = Instant::now();
        let out = command.output().unwrap();
        (started.elapsed(), out)
    };
    world.sim.metrics().reset();
    let (first, out) = run();
    let (beyond, discovery) = world.requests_beyond_discovery();
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let listed = reports.as_array().unwrap().len();
    assert_eq!(
        listed,
        total,
        "every engine app is reported: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if std::env::var_os("DRIFTDECK_ENGINE_SOURCES").is_some() {
        let compared = reports
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["driftdeck"]["sync"].is_null())
            .count();
        assert_eq!(
            compared, count,
            "driftdeck compares every Application: {:#}",
            reports[0]
        );
    }
    let mut times = vec![first];
    times.extend((1..ROUNDS).map(|_| run().0));
    times.sort();
    println!(
        "driftdeck status -o json, {count} Applications + {count} Kustomizations: {:.2?} (median of {ROUNDS}); {beyond} requests beyond discovery ({discovery})",
        times[ROUNDS / 2]
    );

    world.sim.metrics().reset();
    let started = Instant::now();
    let env: Vec<(String, String)> = world
        .env()
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.display().to_string()))
        .collect();
    let socket = format!("driftdeck-engines-{}", std::process::id());
    // Started in its HOME (env -C execs it), so no Git work tree around is
    // offered as an app.
    let command = format!(
        "env -C {} {}",
        world.path("home").display(),
        env!("CARGO_BIN_EXE_driftdeck")
    );
    let Some(tui) = TmuxProcess::start(&socket, (200, 60), &env, &command) else {
        return;
    };
    let listed = format!("{total}");
    let deadline = started + Duration::from_secs(60);
    loop {
        let screen = tui.screen();
        let title = screen.lines().next().unwrap_or_default().to_string();
        if title.contains(&listed) && (screen.contains('✓') || screen.contains('✗')) {
            break;
        }
        assert!(Instant::now() < deadline, "not listed:\n{screen}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let shown = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (beyond, discovery) = world.requests_beyond_discovery();
    println!(
        "TUI: {total} apps listed with verdicts after {shown:.2?}; {beyond} requests beyond discovery ({discovery}); RSS {:.0} MB",
        tui.rss_mb()
    );
    drop(tui);
}
