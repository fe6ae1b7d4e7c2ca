//! The two servers a test body runs against: the simulated cluster, and a
//! real kube-apiserver with etcd started by `tools/real-cluster/up`. Also the
//! app world the drift tests share: a Git repository with one app in its own
//! namespace, a kubeconfig and a config file, kubectl and the built binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use driftdeck::simcluster::{SimCluster, SimOptions};
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

use crate::common_git;
use crate::live::support::Run;
use crate::simcluster::support as sim;

/// Which server a test body runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Sim,
    Real,
}

/// The `up` and `down` scripts of this clone.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools/real-cluster")
        .join(name)
}

/// A kube-apiserver and its etcd, running until dropped. The `up` script's
/// watcher also stops them when this test process ends, which is what ends
/// the one shared by every test of a run.
pub struct RealCluster {
    dir: PathBuf,
    kubeconfig: String,
}

impl RealCluster {
    /// Starts one from the binaries `up --build-only` built (as `.ci/run`
    /// does first): a test does not wait minutes for a build; the reason in
    /// the error says why it could not start.
    pub fn start() -> Result<RealCluster, String> {
        let dir = std::env::temp_dir().join(format!(
            "driftdeck-real-cluster-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut cluster = RealCluster {
            dir,
            kubeconfig: String::new(),
        };
        cluster.kubeconfig = cluster.up()?;
        Ok(cluster)
    }

    fn up(&self) -> Result<String, String> {
        let output = Command::new(script("up"))
            .arg("--no-build")
            .arg("--dir")
            .arg(&self.dir)
            .arg("--owner-pid")
            .arg(std::process::id().to_string())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script("up").display()))?;
        if !output.status.success() {
            return Err(format!(
                "tools/real-cluster/up failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Stops kube-apiserver and starts it again on the same port, over the
    /// same etcd: what a control-plane upgrade or crash looks like to a
    /// client.
    pub fn restart_apiserver(&self) {
        let down = Command::new(script("down"))
            .arg("--dir")
            .arg(&self.dir)
            .arg("--apiserver-only")
            .status()
            .unwrap();
        assert!(down.success(), "down --apiserver-only failed");
        self.up().unwrap_or_else(|reason| panic!("{reason}"));
    }

    /// The one real server the tests of this process share, started by the
    /// first test that asks for it.
    pub fn shared() -> &'static RealCluster {
        static SHARED: OnceLock<Result<RealCluster, String>> = OnceLock::new();
        match SHARED.get_or_init(RealCluster::start) {
            Ok(cluster) => cluster,
            Err(reason) => panic!("the real API server did not start: {reason}"),
        }
    }
}

impl Drop for RealCluster {
    fn drop(&mut self) {
        let _ = Command::new(script("down"))
            .arg("--dir")
            .arg(&self.dir)
            .status();
    }
}

enum Held {
    Sim {
        cluster: Option<SimCluster>,
        options: SimOptions,
        _state: tempfile::TempDir,
    },
    SharedReal,
    OwnReal(RealCluster),
}

/// A running server of either kind.
pub struct Server {
    held: Held,
}

impl Server {
    /// The real server is the process's shared one: tests keep to their own
    /// namespaces.
    pub async fn start(which: Which) -> Server {
        match which {
            Which::Sim => Server::sim().await,
            Which::Real => {
                tokio::task::spawn_blocking(RealCluster::shared)
                    .await
                    .unwrap();
                Server {
                    held: Held::SharedReal,
                }
            }
        }
    }

    /// A server this test alone uses, for tests that restart it or change
    /// what every client of the server sees (CRDs).
    pub async fn start_own(which: Which) -> Server {
        match which {
            Which::Sim => Server::sim().await,
            Which::Real => {
                let cluster = tokio::task::spawn_blocking(RealCluster::start)
                    .await
                    .unwrap()
                    .unwrap_or_else(|reason| panic!("the real API server did not start: {reason}"));
                Server {
                    held: Held::OwnReal(cluster),
                }
            }
        }
    }

    /// The simulated cluster as the real one is here: no controllers, so
    /// that both answer alike; state kept in a file so that it survives a
    /// restart.
    async fn sim() -> Server {
        let state = tempfile::tempdir().unwrap();
        let mut options = sim::quiet();
        options.state_file = Some(state.path().join("state.json"));
        let cluster = sim::start(options.clone()).await;
        options.port = cluster.address().port();
        Server {
            held: Held::Sim {
                cluster: Some(cluster),
                options,
                _state: state,
            },
        }
    }

    pub fn kubeconfig_yaml(&self) -> String {
        match &self.held {
            Held::Sim { cluster, .. } => cluster.as_ref().unwrap().kubeconfig_yaml(),
            Held::SharedReal => RealCluster::shared().kubeconfig.clone(),
            Held::OwnReal(real) => real.kubeconfig.clone(),
        }
    }

    pub async fn client(&self) -> Client {
        let kubeconfig = Kubeconfig::from_yaml(&self.kubeconfig_yaml()).unwrap();
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap();
        config.read_timeout = Some(Duration::from_secs(30));
        Client::try_from(config).unwrap()
    }

    /// Stops the API server and starts it again at the same address with
    /// the same objects.
    pub async fn restart(&mut self) {
        match &mut self.held {
            Held::Sim {
                cluster, options, ..
            } => {
                cluster.take().unwrap().shutdown().await.unwrap();
                *cluster = Some(sim::start(options.clone()).await);
            }
            // The tests run on a multi-threaded runtime: the client's tasks
            // go on while this thread waits for the script.
            Held::OwnReal(real) => tokio::task::block_in_place(|| real.restart_apiserver()),
            Held::SharedReal => panic!("a test that restarts the server starts its own"),
        }
    }
}

/// A namespace of its own for each test, as the real server is shared.
pub fn unique_namespace(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// The `ApiResource` of a kind, through discovery, on either server.
pub async fn api_for(client: &Client, object: &Value) -> Api<DynamicObject> {
    let kind = object["kind"].as_str().unwrap();
    let resource = sim::resource(client, kind).await;
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// One app in a namespace of its own, both named `shop-…` after the test's
/// own suffix, as the real server is shared by the tests of a run.
pub struct Shop {
    pub server: Server,
    /// The app's name and its namespace's.
    pub namespace: String,
    pub dir: tempfile::TempDir,
    pub client: Client,
}

impl Shop {
    pub async fn new(server: Server) -> Shop {
        let namespace = unique_namespace("shop");
        let dir = tempfile::tempdir().unwrap();
        let client = server.client().await;
        let shop = Shop {
            server,
            namespace,
            dir,
            client,
        };
        shop.git(&["init", "-q", "-b", "main"]);
        for (file, object) in shop.objects() {
            shop.write(file, &object);
        }
        shop.git(&["add", "-A"]);
        shop.git(&["commit", "-qm", "the shop app"]);
        shop.write_kubeconfig();
        let config = format!(
            "[[app]]\nname = \"{}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"{}\"\n",
            shop.namespace,
            shop.repo().display(),
            shop.namespace
        );
        std::fs::write(shop.path("config.toml"), config).unwrap();
        shop
    }

    /// After a restart the sim's port is the same, the real server's CA
    /// and token too: rewriting is for clarity, not need.
    pub fn write_kubeconfig(&self) {
        std::fs::write(self.path("kubeconfig"), self.server.kubeconfig_yaml()).unwrap();
    }

    /// The app as Git has it: objects the API server fills with defaults
    /// (a Deployment's strategy and pod spec, a Service's IPs and policies).
    pub fn objects(&self) -> Vec<(&'static str, Value)> {
        let ns = self.namespace.as_str();
        vec![
            (
                "namespace.json",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            ),
            (
                "deployment.json",
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
                    "spec": {
                        "replicas": 2,
                        "selector": {"matchLabels": {"app": "web"}},
                        "template": {
                            "metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{
                                "name": "web", "image": "nginx:1.25",
                                "ports": [{"containerPort": 8080}],
                                "env": [{"name": "LOG_LEVEL", "value": "info"}],
                                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                                "resources": {"requests": {"cpu": "0.1", "memory": "64Mi"}}
                            }]}
                        }
                    }
                }),
            ),
            (
                "service.json",
                json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "web", "namespace": ns},
                    "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
                }),
            ),
            (
                "configmap.json",
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "settings", "namespace": ns}, "data": {"color": "blue"}}),
            ),
            (
                "secret.json",
                json!({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "creds", "namespace": ns}, "stringData": {"password": "hunter2"}}),
            ),
        ]
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

    fn write(&self, file: &str, object: &Value) {
        std::fs::create_dir_all(self.app_dir()).unwrap();
        std::fs::write(
            self.app_dir().join(file),
            serde_json::to_string_pretty(object).unwrap(),
        )
        .unwrap();
    }

    pub fn git(&self, args: &[&str]) -> String {
        std::fs::create_dir_all(self.repo()).unwrap();
        common_git::git(&self.repo(), args)
    }

    /// Applies the app the way driftdeck's sync does: server-side apply as
    /// field manager `driftdeck`, with its labels and revision annotation,
    /// the namespace first.
    pub async fn apply_as_driftdeck(&self) {
        let revision = self.git(&["rev-parse", "HEAD"]);
        for (_, mut object) in self.objects() {
            let metadata = object["metadata"].as_object_mut().unwrap();
            let labels = metadata.entry("labels").or_insert_with(|| json!({}));
            labels["app.kubernetes.io/managed-by"] = json!("driftdeck");
            labels["driftdeck.dev/app"] = json!(self.namespace);
            metadata.insert(
                "annotations".into(),
                json!({"driftdeck.dev/revision": revision}),
            );
            self.apply(&object, "driftdeck").await;
        }
    }

    /// Server-side apply of `object` as `manager`, forcing conflicts.
    pub async fn apply(&self, object: &Value, manager: &str) {
        let api = api_for(&self.client, object).await;
        let name = object["metadata"]["name"].as_str().unwrap();
        api.patch(
            name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(object),
        )
        .await
        .unwrap_or_else(|e| panic!("apply {name} as {manager}: {e}"));
    }

    /// The live object, as the server has it.
    pub async fn live(&self, kind_of: &Value) -> Value {
        let api = api_for(&self.client, kind_of).await;
        let object = api
            .get(kind_of["metadata"]["name"].as_str().unwrap())
            .await
            .unwrap();
        serde_json::to_value(object).unwrap()
    }

    /// The real kubectl 1.33 against this server; the tests that use it fail
    /// when it is not installed, since CI installs it.
    pub async fn kubectl(&self, args: &[&str], editor: Option<&str>) -> String {
        let binary = sim::kubectl().unwrap_or_else(|| {
            panic!("kubectl 1.33 is not installed: run ../shared/tools/kube-tools")
        });
        let mut command = tokio::process::Command::new(binary);
        command
            .arg("--kubeconfig")
            .arg(self.path("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.path("kubectl-cache"))
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .kill_on_drop(true);
        if let Some(editor) = editor {
            command.env("KUBE_EDITOR", editor);
        }
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("kubectl finished in time")
            .expect("kubectl runs");
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs the built binary against this app and server (with a timeout).
    pub async fn driftdeck(&self, args: &[&str]) -> Run {
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
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("driftdeck finished in time")
            .expect("driftdeck runs");
        Run::from(output)
    }

    /// `driftdeck status -o json` (plus `extra` flags), the app's report;
    /// the exit code must say the same (0 Synced, 1 OutOfSync).
    pub async fn status(&self, extra: &[&str]) -> Value {
        let mut args = vec!["status", "-o", "json"];
        args.extend_from_slice(extra);
        let run = self.driftdeck(&args).await;
        let reports: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("status failed ({e}): {}", run.stderr));
        let report = reports[0].clone();
        let expected = match report["status"].as_str() {
            Some("Synced") => 0,
            Some("OutOfSync") => 1,
            _ => 2,
        };
        assert_eq!(
            run.code, expected,
            "exit code of {report:#}: {}",
            run.stderr
        );
        report
    }
}

/// Each resource's verdict and changed paths, sorted: what two reports on
/// one state must agree on.
pub fn verdicts(report: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut verdicts: Vec<_> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut changes: Vec<String> = r["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["path"].as_str().unwrap().to_string())
                .collect();
            changes.sort();
            (
                format!(
                    "{} {}",
                    r["kind"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                ),
                r["status"].as_str().unwrap().to_string(),
                changes,
            )
        })
        .collect();
    verdicts.sort();
    verdicts
}
