//! A world for live-state tests: a Git repository holding one app, a
//! simulated cluster, a kubeconfig and a config file pointing at both, and
//! the built binary to run against them.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use driftdeck::simcluster::{SimCluster, SimOptions};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::sim;

use crate::common_git;

pub const APP: &str = "shop";
pub const NAMESPACE: &str = "shop";
pub const SECRET_VALUE: &str = "hunter2";

pub struct World {
    pub sim: SimCluster,
    pub dir: tempfile::TempDir,
    pub client: kube::Client,
}

/// The app's objects as Git has them.
pub fn shop_objects() -> Vec<(&'static str, Value)> {
    vec![
        (
            "namespace.json",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
        ),
        (
            "deployment.json",
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": NAMESPACE, "labels": {"app": "web", "tier": "frontend"}},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{
                            "name": "web", "image": "nginx:1.25",
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "LOG_LEVEL", "value": "info"}],
                            "envFrom": [{"configMapRef": {"name": "settings"}}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}
                        }]}
                    }
                }
            }),
        ),
        (
            "service.json",
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": NAMESPACE},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
            }),
        ),
        (
            "configmap.json",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "blue"}}),
        ),
        (
            "secret.json",
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "creds", "namespace": NAMESPACE}, "stringData": {"password": SECRET_VALUE}}),
        ),
    ]
}

impl World {
    /// A cluster whose rollouts finish quickly, and a repository with the
    /// app committed on `main`.
    pub async fn new() -> World {
        let sim = sim::start(SimOptions {
            rollout_time: Duration::from_millis(300),
            bookmark_interval: Duration::from_millis(500),
            ..SimOptions::default()
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let client = sim::client(&sim).await;
        let world = World { sim, dir, client };
        world.git(&["init", "-q", "-b", "main"]);
        for (file, object) in shop_objects() {
            world.write(file, &object);
        }
        world.commit("the shop app");
        world
            .sim
            .write_kubeconfig(&world.path("kubeconfig"))
            .unwrap();
        let config = format!(
            "[[app]]\nname = \"{APP}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"{NAMESPACE}\"\n",
            world.repo().display()
        );
        std::fs::write(world.path("config.toml"), config).unwrap();
        world
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn repo(&self) -> PathBuf {
        self.path("repo")
    }

    pub fn app_dir(&self) -> PathBuf {
        self.repo().join("apps/shop")
    }

    pub fn write(&self, file: &str, object: &Value) {
        std::fs::create_dir_all(self.app_dir()).unwrap();
        std::fs::write(
            self.app_dir().join(file),
            serde_json::to_string_pretty(object).unwrap(),
        )
        .unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.app_dir().join(file)).unwrap();
    }

    /// driftdeck's folders in the world's home, for an engine started in
    /// the test process.
    pub fn paths(&self) -> driftdeck::config::Paths {
        let home = self.path("home");
        driftdeck::config::Paths {
            config_file: self.path("config.toml"),
            config_given: true,
            themes_dir: home.join("themes"),
            data_dir: home.join("data"),
            cache_dir: home.join("cache"),
            log_dir: home.join("state"),
        }
    }

    /// A bare clone of the world's repository, as `served/NAME`, for a
    /// `git daemon` to serve from `served`.
    pub fn bare_copy(&self, name: &str) -> PathBuf {
        let served = self.path("served");
        std::fs::create_dir_all(&served).unwrap();
        let bare = served.join(name);
        let (from, to) = (self.repo(), bare.clone());
        common_git::git(
            self.dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                from.to_str().unwrap(),
                to.to_str().unwrap(),
            ],
        );
        bare
    }

    /// git in the world's repository.
    pub fn git(&self, args: &[&str]) -> String {
        std::fs::create_dir_all(self.repo()).unwrap();
        common_git::git(&self.repo(), args)
    }

    /// Commits everything in the work tree; gives the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Applies the app's objects, as the work tree has them, the way
    /// driftdeck's sync does: server-side apply as field manager `driftdeck`,
    /// with its labels and revision annotation.
    pub async fn apply_as_driftdeck(&self) {
        let revision = self.git(&["rev-parse", "HEAD"]);
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.app_dir())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        // The namespace first, as a sync's plan orders it.
        files.sort_by_key(|path| !path.ends_with("namespace.json"));
        for file in files {
            let mut object: Value =
                serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
            let metadata = object["metadata"].as_object_mut().unwrap();
            let labels = metadata.entry("labels").or_insert_with(|| json!({}));
            labels["app.kubernetes.io/managed-by"] = json!("driftdeck");
            labels["driftdeck.dev/app"] = json!(APP);
            metadata.insert(
                "annotations".into(),
                json!({"driftdeck.dev/revision": revision}),
            );
            self.apply(&object, "driftdeck").await;
        }
    }

    /// Server-side apply of `object` as `manager`, forcing conflicts.
    pub async fn apply(&self, object: &Value, manager: &str) {
        let api = self.api(object).await;
        let name = object["metadata"]["name"].as_str().unwrap();
        api.patch(
            name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(object),
        )
        .await
        .unwrap_or_else(|e| panic!("apply {name} as {manager}: {e}"));
    }

    pub async fn delete(&self, object: &Value) {
        let api = self.api(object).await;
        api.delete(
            object["metadata"]["name"].as_str().unwrap(),
            &Default::default(),
        )
        .await
        .unwrap();
    }

    async fn api(&self, object: &Value) -> Api<DynamicObject> {
        let kind = object["kind"].as_str().unwrap();
        let resource = sim::resource(&self.client, kind).await;
        match object["metadata"]["namespace"].as_str() {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        }
    }

    /// Runs the built binary against this world (with a timeout).
    pub async fn driftdeck(&self, args: &[&str]) -> Run {
        let mut command = self.command(args);
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("driftdeck finished in time")
            .expect("driftdeck runs");
        Run::from(output)
    }

    /// The built binary with the world's home, kubeconfig and config, to
    /// run or to spawn; killed when dropped.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let home = self.path("home");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_driftdeck"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("KUBECONFIG", self.path("kubeconfig"))
            .env("DRIFTDECK_CONFIG", self.path("config.toml"))
            .current_dir(self.dir.path())
            .kill_on_drop(true);
        command
    }

    /// `driftdeck status -o json`, the app's report; the exit code must be
    /// the one its status gives (0 Synced, 1 OutOfSync, 2 Unknown).
    pub async fn status(&self) -> Value {
        let run = self.driftdeck(&["status", "-o", "json"]).await;
        let reports: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("status printed no JSON ({e}): {}", run.stderr));
        let report = reports[0].clone();
        let expected = match report["status"].as_str() {
            Some("Synced") => 0,
            Some("OutOfSync") => 1,
            _ => 2,
        };
        assert_eq!(
            run.code, expected,
            "exit code for {}: {}",
            report["status"], run.stderr
        );
        report
    }

    /// Write requests the cluster has answered so far (every verb that
    /// changes state: the Lease's and the syncs'), as `/_sim/metrics`
    /// counts them.
    pub fn writes(&self) -> u64 {
        let metrics = self.sim.metrics().snapshot();
        ["create", "update", "patch", "delete", "deletecollection"]
            .iter()
            .map(|verb| metrics.count_verb(verb))
            .sum()
    }

    /// Everything driftdeck wrote to its log files.
    pub fn logs(&self) -> String {
        let dir = self.path("home/state/driftdeck");
        let mut text = String::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
        text
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The resource entry of `kind`/`name` in a report.
pub fn resource<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind && r["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {report:#}"))
}

/// Waits (up to a bound) until `check` holds, polling.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 10 s");
}
