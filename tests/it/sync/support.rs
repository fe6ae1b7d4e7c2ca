//! A simulated cluster, a client and a catalog for it, and the steps of a
//! sync as the engine takes them: read live, compare, plan, run.

use std::path::{Path, PathBuf};

use driftdeck::cluster::{ClusterClient, KindCatalog, LiveRead, Wanted, read_once};
use driftdeck::config::{AppConfig, Config, DriftConfig};
use driftdeck::drift::{ManualManagers, ResourceResult};
use driftdeck::manifests::{Checked, ManifestFile, check_files};
use driftdeck::simcluster::SimCluster;
use driftdeck::sync::{
    AuditLog, Operator, PlanError, PlanRequest, SyncError, SyncOptions, SyncOutcome, SyncPlan,
    SyncProgress, SyncRequest, plan, run,
};
use kube::api::{Api, DynamicObject};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::sim;

pub const APP: &str = "shop";
pub const NAMESPACE: &str = "shop";
pub const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";

pub struct World {
    pub sim: SimCluster,
    pub client: ClusterClient,
    pub kube: kube::Client,
    pub catalog: KindCatalog,
    pub dir: tempfile::TempDir,
}

impl World {
    pub async fn new() -> World {
        let sim = sim::start(sim::quiet()).await;
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
        let client = ClusterClient::from_kubeconfig(kubeconfig, None)
            .await
            .unwrap();
        let catalog = KindCatalog::discover(&client).await.unwrap();
        let kube = sim::client(&sim).await;
        let dir = tempfile::tempdir().unwrap();
        World {
            sim,
            client,
            kube,
            catalog,
            dir,
        }
    }

    /// The app `shop` in namespace `shop`, with `extra` lines of config.
    pub fn app(&self, extra: &str) -> AppConfig {
        let text = format!(
            "[[app]]\nname = \"{APP}\"\nrepo = \"r\"\nnamespace = \"{NAMESPACE}\"\n{extra}"
        );
        Config::parse(Path::new("config.toml"), &text)
            .unwrap()
            .apps
            .remove(0)
    }

    /// Where the built binary finds it with `XDG_DATA_HOME=home/data`.
    pub fn audit(&self) -> AuditLog {
        AuditLog::at(&self.dir.path().join("home/data/driftdeck/audit.jsonl"))
    }

    /// Runs the built binary with the world's home and a config naming the app.
    pub fn driftdeck(&self, args: &[&str]) -> std::process::Output {
        let home = self.dir.path().join("home");
        let config = self.dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!("[[app]]\nname = \"{APP}\"\nrepo = \"r\"\nnamespace = \"{NAMESPACE}\"\n"),
        )
        .unwrap();
        crate::timed::output(
            std::process::Command::new(env!("CARGO_BIN_EXE_driftdeck"))
                .args(args)
                .env_clear()
                .env("HOME", &home)
                .env("XDG_DATA_HOME", home.join("data"))
                .env("XDG_STATE_HOME", home.join("state"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                .env("DRIFTDECK_CONFIG", &config),
        )
    }

    /// The plan for `objects` as Git, against what the cluster has now.
    pub async fn plan(
        &mut self,
        app: &AppConfig,
        objects: &[Value],
        prune: bool,
    ) -> Result<SyncPlan, PlanError> {
        let checked = checked(objects);
        let (results, live) = self.compare(app, &checked).await;
        plan(&PlanRequest {
            app,
            revision: REVISION,
            checked: &checked,
            results: &results,
            live: &live,
            prune,
            manual: &ManualManagers::default(),
            pin: None,
            restamp: false,
            signature: None,
        })
    }

    /// Reads live and compares every desired object, as the engine does.
    pub async fn compare(
        &mut self,
        app: &AppConfig,
        checked: &Checked,
    ) -> (
        Vec<ResourceResult>,
        std::collections::BTreeMap<driftdeck::resource::ResourceKey, std::sync::Arc<Value>>,
    ) {
        let wanted: Vec<Wanted> = checked
            .desired
            .objects
            .iter()
            .map(|o| Wanted {
                key: o.id.resource_key(),
                version: Some(o.id.version.clone()),
            })
            .collect();
        let live = self.read_live(&app.name, &wanted).await;
        let results = checked
            .desired
            .objects
            .iter()
            .map(|o| {
                let key = o.id.resource_key();
                match live.objects.get(&key) {
                    Some(found) => ResourceResult::compared_with(
                        key,
                        &o.value(),
                        found,
                        &app.ignore,
                        &ManualManagers::default(),
                    ),
                    None => ResourceResult::missing(key, &o.value()),
                }
            })
            .collect();
        (results, live.objects)
    }

    async fn read_live(&mut self, app: &str, wanted: &[Wanted]) -> LiveRead {
        read_once(&self.client, &mut self.catalog, app, wanted)
            .await
            .unwrap()
    }

    pub fn options(&self, app: &AppConfig) -> SyncOptions {
        SyncOptions::for_app(app, &DriftConfig::default(), false, false)
    }

    /// Runs a plan, recording to the world's audit log; gives the progress seen too.
    pub async fn run(
        &mut self,
        plan: &SyncPlan,
        options: &SyncOptions,
    ) -> (Result<SyncOutcome, SyncError>, Vec<SyncProgress>) {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let (_cancel, cancelled) = watch::channel(false);
        let operator = operator("alice");
        let audit = self.audit();
        let outcome = run(
            SyncRequest {
                client: &self.client,
                plan,
                options,
                operator: &operator,
                audit: Some(&audit),
            },
            &mut self.catalog,
            &sender,
            cancelled,
        )
        .await;
        drop(sender);
        let mut seen = Vec::new();
        while let Some(progress) = receiver.recv().await {
            seen.push(progress);
        }
        (outcome, seen)
    }

    /// Plans and runs a sync of `objects` with the app's policy.
    pub async fn sync(
        &mut self,
        app: &AppConfig,
        objects: &[Value],
    ) -> Result<SyncOutcome, SyncError> {
        let plan = self.plan(app, objects, app.sync.prune).await?;
        let options = self.options(app);
        self.run(&plan, &options).await.0
    }

    pub async fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let resource = sim::resource(&self.kube, kind).await;
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(self.kube.clone(), ns, &resource),
            None => Api::all_with(self.kube.clone(), &resource),
        };
        api.get_opt(name)
            .await
            .unwrap()
            .map(|o| serde_json::to_value(o).unwrap())
    }
}

pub fn operator(user: &str) -> Operator {
    Operator {
        user: user.to_string(),
        host: "workstation".to_string(),
        kube_user: Some(format!("{user}-admin")),
    }
}

/// Objects as Git has them, checked as `driftdeck check` would.
pub fn checked(objects: &[Value]) -> Checked {
    let files: Vec<ManifestFile> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| ManifestFile {
            path: PathBuf::from(format!("{i:04}.json")),
            bytes: o.to_string().into_bytes(),
            rendered_by: None,
        })
        .collect();
    check_files(&files, Path::new("apps/shop"), NAMESPACE)
}

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

pub fn config_map(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NAMESPACE}, "data": {"value": value}})
}

pub fn secret(name: &str, password: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": NAMESPACE}, "stringData": {"password": password}})
}

pub fn deployment(name: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image,
                    "env": [{"name": "LOG_LEVEL", "value": "info"}]}]}}}})
}

pub fn with_wave(mut object: Value, wave: i64) -> Value {
    object["metadata"]["annotations"] = json!({"driftdeck.dev/sync-wave": wave.to_string()});
    object
}
