#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Sync (issue 11), against the simulated cluster:
//!
//! - new: a sync of 1,000 new objects (250 each of Deployment, Service,
//!   ConfigMap, Secret) into a fresh cluster — read live, compare, plan,
//!   Lease, dry run, apply — beside `kubectl apply --server-side -f` of the
//!   same objects (as YAML files of 10 documents) into another fresh cluster, the
//!   median of ROUNDS runs each. Goal: a wall-time ratio of at most 0.5.
//! - synced: a sync of the same app once it is Synced: the write requests
//!   the server counted (goal 0) and the engine's time beyond the comparison
//!   (plan and run; goal under 50 ms), beside the time of the comparison.
//!
//! The sync runs in process through `driftdeck::sync::run`, the function
//! the engine calls. `sync/binary.rs` measures the same through the built
//! binary, and `sync --all` of 10 apps × 1,000 objects (wall time and peak
//! RSS). Run all, or name some:
//!
//!     cargo bench --bench sync                    # everything
//!     cargo bench --bench sync -- synced          # the library's Synced app
//!     cargo bench --bench sync -- binary          # the three through the binary
//!     cargo bench --bench sync -- binary-new binary-synced all

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use driftdeck::cluster::{ClusterClient, KindCatalog, Wanted, read_once};
use driftdeck::config::{AppConfig, Config, DriftConfig};
use driftdeck::drift::{ManualManagers, ResourceResult};
use driftdeck::manifests::{Checked, ManifestFile, check_files};
use driftdeck::resource::ResourceKey;
use driftdeck::simcluster::{SimCluster, SimOptions};
use driftdeck::sync::{
    AuditLog, Operator, PlanRequest, SyncOptions, SyncOutcome, SyncRequest, SyncStatus, plan, run,
};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

const PER_KIND: usize = 250;
const NAMESPACE: &str = "bench";
const APP: &str = "bench";
const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";
const ROUNDS: usize = 3;

#[path = "sync/binary.rs"]
mod binary;

/// 250 objects of each of 4 kinds, as Git has them.
fn objects() -> Vec<Value> {
    objects_in(NAMESPACE)
}

/// The same objects in another namespace (another app's).
fn objects_in(namespace: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for i in 0..PER_KIND {
        let name = format!("svc-{i:03}");
        let meta = json!({"name": name, "namespace": namespace});
        all.push(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1 + i % 3, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": format!("example/app:1.{i}"),
                        "ports": [{"containerPort": 8080}],
                        "envFrom": [{"configMapRef": {"name": name}}, {"secretRef": {"name": name}}],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}));
        all.push(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        );
        all.push(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"mode": "production", "index": i.to_string()}}),
        );
        all.push(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta,
            "stringData": {"token": format!("t-{i}")}}),
        );
    }
    all
}

/// The objects in files of 10 YAML documents, as a repository would hold them.
fn files(objects: &[Value]) -> Vec<(String, Vec<u8>)> {
    objects
        .chunks(10)
        .enumerate()
        .map(|(index, chunk)| {
            let documents: Vec<String> = chunk
                .iter()
                .map(|o| serde_json::to_string_pretty(o).unwrap())
                .collect();
            (
                format!("part-{index:03}.yaml"),
                documents.join("\n---\n").into_bytes(),
            )
        })
        .collect()
}

/// A fresh cluster with the app's namespace.
async fn fresh_cluster() -> SimCluster {
    fresh_cluster_with(&[NAMESPACE.to_string()]).await
}

/// A fresh cluster with these namespaces.
async fn fresh_cluster_with(namespaces: &[String]) -> SimCluster {
    let sim = SimCluster::start(SimOptions {
        controllers: false,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let namespaces = namespaces
        .iter()
        .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}));
    sim.load_objects(namespaces, "bench").unwrap();
    sim
}

struct Syncer {
    app: AppConfig,
    checked: Checked,
    client: ClusterClient,
    catalog: KindCatalog,
    audit: AuditLog,
}

impl Syncer {
    async fn new(sim: &SimCluster, checked: Checked, dir: &Path) -> Syncer {
        let text =
            format!("[[app]]\nname = \"{APP}\"\nrepo = \"r\"\nnamespace = \"{NAMESPACE}\"\n");
        let app = Config::parse(Path::new("config.toml"), &text)
            .unwrap()
            .apps
            .remove(0);
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
        let client = ClusterClient::from_kubeconfig(kubeconfig, None)
            .await
            .unwrap();
        let catalog = KindCatalog::discover(&client).await.unwrap();
        Syncer {
            app,
            checked,
            client,
            catalog,
            audit: AuditLog::at(&dir.join("audit.jsonl")),
        }
    }

    /// Read live and compare, as the engine does before a sync.
    async fn compare(
        &mut self,
    ) -> (
        Vec<ResourceResult>,
        BTreeMap<ResourceKey, std::sync::Arc<Value>>,
    ) {
        let wanted: Vec<Wanted> = self
            .checked
            .desired
            .objects
            .iter()
            .map(|o| Wanted {
                key: o.id.resource_key(),
                version: Some(o.id.version.clone()),
            })
            .collect();
        let live = read_once(&self.client, &mut self.catalog, APP, &wanted)
            .await
            .unwrap();
        let manual = ManualManagers::default();
        let results = self
            .checked
            .desired
            .objects
            .iter()
            .map(|o| {
                let key = o.id.resource_key();
                match live.objects.get(&key) {
                    Some(found) => {
                        ResourceResult::compared_with(key, &o.value(), found, &[], &manual)
                    }
                    None => ResourceResult::missing(key, &o.value()),
                }
            })
            .collect();
        (results, live.objects)
    }

    /// Plan and run; the outcome and the time it took.
    async fn sync(
        &mut self,
        results: &[ResourceResult],
        live: &BTreeMap<ResourceKey, std::sync::Arc<Value>>,
    ) -> (SyncOutcome, Duration) {
        let started = Instant::now();
        let planned = plan(&PlanRequest {
            app: &self.app,
            revision: REVISION,
            checked: &self.checked,
            results,
            live,
            prune: true,
            manual: &ManualManagers::default(),
            pin: None,
            restamp: false,
            signature: None,
        })
        .unwrap();
        let options = SyncOptions::for_app(&self.app, &DriftConfig::default(), false, false);
        let (sender, _receiver) = mpsc::unbounded_channel();
        let (_cancel, cancelled) = watch::channel(false);
        let operator = Operator::current(None, None);
        let outcome = run(
            SyncRequest {
                client: &self.client,
                plan: &planned,
                options: &options,
                operator: &operator,
                audit: Some(&self.audit),
            },
            &mut self.catalog,
            &sender,
            cancelled,
        )
        .await
        .unwrap();
        (outcome, started.elapsed())
    }
}

fn checked(objects: &[Value]) -> Checked {
    let files: Vec<ManifestFile> = files(objects)
        .into_iter()
        .map(|(path, bytes)| ManifestFile {
            path: PathBuf::from(path),
            bytes,
            rendered_by: None,
        })
        .collect();
    check_files(&files, Path::new("apps/bench"), NAMESPACE)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn kubectl() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/kube-tools");
    let out = Command::new(script).arg("--check").output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("kubectl"))
}

async fn new_objects() {
    let objects = objects();
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    for (name, bytes) in files(&objects) {
        std::fs::write(manifests.join(name), bytes).unwrap();
    }
    let mut driftdeck_times = Vec::new();
    let mut writes = 0;
    for _ in 0..ROUNDS {
        let sim = fresh_cluster().await;
        let started = Instant::now();
        let mut syncer = Syncer::new(&sim, checked(&objects), dir.path()).await;
        let (results, live) = syncer.compare().await;
        let (outcome, _) = syncer.sync(&results, &live).await;
        driftdeck_times.push(started.elapsed());
        assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
        assert_eq!(outcome.objects.len(), objects.len());
        writes = syncer.client.requests().writes;
        sim.shutdown().await.unwrap();
    }
    let driftdeck_time = median(driftdeck_times);
    let Some(kubectl_time) = kubectl_median(dir.path(), &manifests).await else {
        println!(
            "new: driftdeck sync of {} objects {driftdeck_time:.1?} ({writes} write requests); kubectl skipped: not installed (run ../shared/tools/kube-tools)",
            objects.len()
        );
        return;
    };
    println!(
        "new: driftdeck sync of {} objects {driftdeck_time:.1?} ({writes} write requests: dry run and apply) vs kubectl apply --server-side -f {kubectl_time:.1?}: ratio {:.2} (goal <= 0.5, median of {ROUNDS})",
        objects.len(),
        driftdeck_time.as_secs_f64() / kubectl_time.as_secs_f64()
    );
}

/// `kubectl apply --server-side -f` of the manifests into a fresh cluster,
/// the median of ROUNDS; `None` without kubectl.
async fn kubectl_median(dir: &Path, manifests: &Path) -> Option<Duration> {
    let kubectl = kubectl()?;
    let mut kubectl_times = Vec::new();
    for round in 0..ROUNDS {
        let sim = fresh_cluster().await;
        let kubeconfig = dir.join(format!("kubeconfig-{round}"));
        sim.write_kubeconfig(&kubeconfig).unwrap();
        let home = dir.join(format!("home-{round}"));
        let started = Instant::now();
        let out = tokio::process::Command::new(&kubectl)
            .args(["apply", "--server-side", "-f"])
            .arg(manifests)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(home.join("kube-cache"))
            .env("HOME", &home)
            .output()
            .await
            .unwrap();
        kubectl_times.push(started.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sim.shutdown().await.unwrap();
    }
    Some(median(kubectl_times))
}

async fn synced() {
    let objects = objects();
    let dir = tempfile::tempdir().unwrap();
    let sim = fresh_cluster().await;
    let mut syncer = Syncer::new(&sim, checked(&objects), dir.path()).await;
    let (results, live) = syncer.compare().await;
    syncer.sync(&results, &live).await;
    let mut compare_times = Vec::new();
    let mut engine_times = Vec::new();
    let mut writes = 0;
    for _ in 0..ROUNDS {
        sim.metrics().reset();
        let started = Instant::now();
        let (results, live) = syncer.compare().await;
        compare_times.push(started.elapsed());
        let (outcome, engine) = syncer.sync(&results, &live).await;
        engine_times.push(engine);
        assert_eq!(outcome.status, SyncStatus::Succeeded);
        let metrics = sim.metrics().snapshot();
        writes += ["create", "update", "patch", "delete", "deletecollection"]
            .iter()
            .map(|verb| metrics.count_verb(verb))
            .sum::<u64>();
    }
    println!(
        "synced: sync of a Synced app of {} objects: {writes} write requests in {ROUNDS} syncs (goal 0); plan and run {:.1?} (goal < 50 ms) after reading live and comparing {:.1?} (median of {ROUNDS})",
        objects.len(),
        median(engine_times),
        median(compare_times)
    );
}

#[tokio::main]
async fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    if run("new") {
        new_objects().await;
    }
    if run("synced") {
        synced().await;
    }
    // Through the built binary, as a user runs it.
    if run("binary") || run("binary-new") {
        binary::new_objects().await;
    }
    if run("binary") || run("binary-synced") {
        binary::synced().await;
    }
    if run("binary") || run("all") {
        binary::all_apps().await;
    }
}
