//! The engine at a cluster's shape, small enough for CI (issue 10): several
//! apps whose objects another tool applied (no driftdeck label), two of
//! them sharing a namespace, beside objects of no app. The TUI's engine
//! and `driftdeck status` give the same verdicts, and the watches grow with
//! kinds and namespaces, not with objects.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use driftdeck::config::{Config, Paths};
use driftdeck::engine::{Engine, EngineEvent, EngineOptions};
use driftdeck::simcluster::SimOptions;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::sim::{self, within_timeout};
use crate::common_git::git;

/// App name and namespace; `web` and `api` share one.
const APPS: &[(&str, &str)] = &[("web", "front"), ("api", "front"), ("jobs", "batch")];
/// Apps in more namespaces than one watch per namespace is worth.
const SPREAD: &[(&str, &str)] = &[("a", "ns-a"), ("b", "ns-b"), ("c", "ns-c"), ("d", "ns-d")];
const PER_KIND: usize = 12;

fn objects(app: &str, namespace: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for i in 0..PER_KIND {
        let name = format!("{app}-{i}");
        let meta = json!({"name": name, "namespace": namespace});
        all.push(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}}}}),
        );
        all.push(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}),
        );
        all.push(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"index": i.to_string()}}),
        );
    }
    all
}

struct Scene {
    dir: tempfile::TempDir,
    sim: driftdeck::simcluster::SimCluster,
    client: kube::Client,
}

impl Scene {
    /// The apps' objects, as another tool left them (no label) or as
    /// driftdeck applied them (`labelled`).
    async fn new(labelled: bool) -> Scene {
        Scene::with_apps(labelled, APPS).await
    }

    async fn with_apps(labelled: bool, apps: &[(&str, &str)]) -> Scene {
        let sim = sim::start(SimOptions {
            controllers: false,
            ..SimOptions::default()
        })
        .await;
        let client = sim::client(&sim).await;
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let mut config = String::new();
        let namespaces: BTreeSet<&str> = apps.iter().map(|(_, ns)| *ns).collect();
        let mut live: Vec<Value> = namespaces
            .iter()
            .filter(|ns| **ns != "batch")
            .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
            .collect();
        for (app, namespace) in apps {
            let folder = repo.join("apps").join(app);
            std::fs::create_dir_all(&folder).unwrap();
            let mut items = objects(app, namespace);
            if *app == "jobs" {
                // A cluster-scoped kind too, in Git as in the cluster.
                items.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}));
            }
            let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
            std::fs::write(folder.join("all.json"), list.to_string()).unwrap();
            live.extend(items.into_iter().map(|mut object| {
                if labelled && object["kind"] != "Namespace" {
                    object["metadata"]["labels"] = json!({"driftdeck.dev/app": app});
                }
                object
            }));
            config.push_str(&format!(
                "[[app]]\nname = \"{app}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/{app}\"\nnamespace = \"{namespace}\"\n\n",
                repo.display()
            ));
        }
        // Objects of no app, in the apps' namespaces and elsewhere.
        for ns in [apps[0].1, "kube-system"] {
            live.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "someone-elses", "namespace": ns}, "data": {"x": "1"}}));
        }
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "three apps"]);
        live.sort_by_key(|o| o["kind"] != "Namespace");
        sim.load_objects(live, "kubectl").unwrap();
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Scene { dir, sim, client }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// The engine the TUI runs, on every app, with the request count reset.
    fn engine(&self) -> (Engine, mpsc::UnboundedReceiver<EngineEvent>) {
        let text = std::fs::read_to_string(self.path("config.toml")).unwrap();
        let config = Config::parse(Path::new("config.toml"), &text).unwrap();
        self.sim.metrics().reset();
        let (sender, events) = mpsc::unbounded_channel();
        let options = EngineOptions {
            kubeconfig: Some(self.path("kubeconfig")),
            ..EngineOptions::default()
        };
        (
            Engine::start(config.apps, self.paths(), options, sender),
            events,
        )
    }

    fn paths(&self) -> Paths {
        let home = self.path("home");
        Paths {
            config_file: self.path("config.toml"),
            config_given: true,
            themes_dir: home.join("themes"),
            data_dir: home.join("data"),
            cache_dir: home.join("cache"),
            log_dir: home.join("state"),
        }
    }
}

/// Waits for a settled report per app; gives each app's status.
async fn settled_statuses(events: &mut mpsc::UnboundedReceiver<EngineEvent>) -> Vec<String> {
    settled_statuses_of(events, APPS).await
}

async fn settled_statuses_of(
    events: &mut mpsc::UnboundedReceiver<EngineEvent>,
    apps: &[(&str, &str)],
) -> Vec<String> {
    let mut statuses: Vec<Option<String>> = vec![None; apps.len()];
    let wait = async {
        while statuses.iter().any(Option::is_none) {
            let Some(EngineEvent::Report {
                app,
                report,
                settled: true,
                ..
            }) = events.recv().await
            else {
                continue;
            };
            let index = apps.iter().position(|(name, _)| *name == app).unwrap();
            statuses[index] = Some(report.summary.status.to_string());
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("a settled report per app");
    statuses.into_iter().map(Option::unwrap).collect()
}

/// `driftdeck status -o json`, run without blocking the test's runtime,
/// which serves the simulated cluster.
async fn status_command(scene: &Scene) -> std::process::Output {
    let home = scene.path("home");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_driftdeck"))
        .args(["status", "-o", "json"])
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("KUBECONFIG", scene.path("kubeconfig"))
        .env("DRIFTDECK_CONFIG", scene.path("config.toml"))
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn unlabelled_objects_are_watched_per_kind_and_namespace_and_both_paths_agree() {
    within_timeout(async {
        let scene = Scene::new(false).await;
        // The TUI's engine.
        let (engine, mut events) = scene.engine();
        let statuses = settled_statuses(&mut events).await;
        assert_eq!(
            statuses,
            vec!["Synced"; APPS.len()],
            "every app matches Git"
        );
        // One label list per kind, plus one list of unlabelled objects per
        // kind and namespace that Git names: 2 namespaces × 3 kinds, and
        // Namespaces (cluster-scoped) once. Never one per object.
        let started = scene.sim.metrics().snapshot();
        for resource in ["deployments.apps", "services", "configmaps"] {
            assert_eq!(
                started.count("list", resource),
                1 + 2,
                "{resource}: {started:?}"
            );
        }
        assert_eq!(started.count("list", "namespaces"), 1 + 1);
        assert_eq!(started.count_verb("get"), 2, "discovery only: {started:?}");

        // A change by hand to an unlabelled object reaches the engine through
        // its namespace's watch, and only the app that has it changes.
        let configmaps = Api::<kube::api::DynamicObject>::namespaced_with(
            scene.client.clone(),
            "front",
            &sim::resource(&scene.client, "ConfigMap").await,
        );
        let patch = json!({"data": {"index": "changed"}});
        configmaps
            .patch("api-3", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
        let drifted = async {
            loop {
                if let Some(EngineEvent::Report { app, report, .. }) = events.recv().await
                    && app == "api"
                    && report.summary.status.to_string() == "OutOfSync"
                {
                    return report;
                }
            }
        };
        let report = tokio::time::timeout(Duration::from_secs(15), drifted)
            .await
            .expect("the drift reported");
        assert!(
            report
                .summary
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("api-3"),
            "{:?}",
            report.summary.reason
        );
        // Each list was followed by one watch, and nothing was listed again.
        let followed = scene.sim.metrics().snapshot();
        for resource in ["deployments.apps", "services", "configmaps", "namespaces"] {
            assert_eq!(
                followed.count("watch", resource),
                started.count("list", resource),
                "{resource}: {followed:?}"
            );
        }
        assert_eq!(followed.count_verb("list"), started.count_verb("list"));
        drop(engine);

        // The headless command runs the same engine, once: same verdicts,
        // and lists without watches.
        scene.sim.metrics().reset();
        let out = status_command(&scene).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "one app is OutOfSync: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
        let statuses: Vec<&str> = reports
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, vec!["Synced", "OutOfSync", "Synced"]);
        let extra: Vec<&Value> = reports
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["resources"].as_array().unwrap())
            .filter(|r| r["status"] == "Extra" || r["key"]["name"] == "someone-elses")
            .collect();
        assert!(extra.is_empty(), "objects of no app stay out: {extra:?}");
        let looked = scene.sim.metrics().snapshot();
        assert_eq!(looked.count_verb("watch"), 0, "{looked:?}");
        assert!(looked.count_verb("list") < 60, "{looked:?}");
    })
    .await;
}

#[tokio::test]
async fn labelled_objects_need_no_watch_beyond_one_per_kind() {
    within_timeout(async {
        let scene = Scene::new(true).await;
        let (_engine, mut events) = scene.engine();
        let statuses = settled_statuses(&mut events).await;
        assert_eq!(statuses, vec!["Synced"; APPS.len()]);
        let started = scene.sim.metrics().snapshot();
        for resource in ["deployments.apps", "services", "configmaps"] {
            assert_eq!(
                started.count("list", resource),
                1,
                "{resource}: {started:?}"
            );
        }
        // The Namespace in Git carries no label: its kind gets one more list.
        assert_eq!(started.count("list", "namespaces"), 2, "{started:?}");
    })
    .await;
}

#[tokio::test]
async fn a_kind_spread_over_many_namespaces_gets_one_watch_across_the_cluster() {
    within_timeout(async {
        let scene = Scene::with_apps(false, SPREAD).await;
        let (_engine, mut events) = scene.engine();
        let statuses = settled_statuses_of(&mut events, SPREAD).await;
        assert_eq!(statuses, vec!["Synced"; SPREAD.len()]);
        let started = scene.sim.metrics().snapshot();
        // The label list, then one list of the kind everywhere instead of
        // one per namespace (4 here).
        for resource in ["deployments.apps", "services", "configmaps"] {
            assert_eq!(
                started.count("list", resource),
                2,
                "{resource}: {started:?}"
            );
        }
    })
    .await;
}
