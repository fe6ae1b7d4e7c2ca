//! The simulated cluster: an in-process HTTP server that speaks the
//! Kubernetes API well enough for kube-rs and kubectl (discovery, the verbs,
//! server-side apply with managed fields, server defaults, watches, CRDs,
//! simulated controllers), with faults to inject and requests counted. It
//! exists for the demo and the tests; it depends on nothing else of ours.
//!
//! ```no_run
//! # async fn demo() -> Result<(), driftdeck::simcluster::SimError> {
//! use driftdeck::simcluster::{SimCluster, SimOptions};
//! let cluster = SimCluster::start(SimOptions::default()).await?;
//! println!("{}", cluster.kubeconfig_yaml());
//! cluster.shutdown().await?;
//! # Ok(()) }
//! ```

mod apply;
mod catalog;
mod controllers;
mod declared;
mod defaults;
mod discovery;
mod faults;
mod fieldset;
mod handlers;
mod lifecycle;
mod managed_fields;
mod metrics;
mod openapi;
mod patch;
mod protobuf;
mod quantity;
mod replica_sets;
mod routing;
mod schema;
mod selectors;
mod server;
mod state_file;
mod status;
mod store;
mod strategy;
mod table;
mod validation;
mod watch;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{FailingShare, FaultError, FaultSettings, Faults, Throttling, WriteDenial};
pub use metrics::{Metrics, MetricsSnapshot, RequestCount};

use controllers::ControllerOptions;
use handlers::App;
use lifecycle::{FieldValidation, WriteContext};
use status::ApiError;
use store::Store;

/// How to run the simulated cluster.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Run the simulated controllers (rollouts, load balancers, claims…).
    pub controllers: bool,
    /// How long a rollout takes to become ready.
    pub rollout_time: Duration,
    /// Load the objects from this file at start and save them there at
    /// shutdown; a missing file starts empty.
    pub state_file: Option<PathBuf>,
    /// How many changes watches can resume from; older resourceVersions
    /// are Expired.
    pub watch_history: usize,
    /// How often a watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
    /// How long to keep trying to listen on the port again after an
    /// offline period before the server gives up.
    pub rebind_timeout: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            controllers: true,
            rollout_time: Duration::from_secs(10),
            state_file: None,
            watch_history: 10_000,
            bookmark_interval: Duration::from_secs(60),
            rebind_timeout: server::REBIND_TIMEOUT,
        }
    }
}

/// Why the simulated cluster could not start, load, save or take objects.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on 127.0.0.1:{port} again after being offline: {source}")]
    Relisten {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the state file {path}: {source}")]
    ReadState {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state file {path} is not valid: {message}")]
    InvalidState { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot load {object}: {message}")]
    Load { object: String, message: String },
}

/// A running simulated cluster.
pub struct SimCluster {
    address: SocketAddr,
    store: Arc<Store>,
    faults: Faults,
    metrics: Metrics,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: JoinHandle<Result<(), SimError>>,
    /// Turns true when the server stops serving, asked to or not.
    server_ended: tokio::sync::watch::Receiver<bool>,
    controllers: Option<JoinHandle<()>>,
    state_file: Option<PathBuf>,
}

impl SimCluster {
    /// Starts the server on 127.0.0.1 (and the controllers, if asked),
    /// with the namespaces and the `kubernetes` Service of a new cluster,
    /// or with the objects of the state file.
    pub async fn start(options: SimOptions) -> Result<SimCluster, SimError> {
        let store = Arc::new(Store::new(options.watch_history));
        let loaded = match &options.state_file {
            Some(path) if path.exists() => state_file::load(&store, path)? > 0,
            _ => false,
        };
        if !loaded {
            bootstrap(&store)?;
        }
        store.write(|state| {
            for name in lifecycle::terminating_namespaces(state) {
                lifecycle::finalize_namespace(state, &name);
            }
        });
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))
            .await
            .map_err(|source| SimError::Listen {
                port: options.port,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| SimError::Listen {
            port: options.port,
            source,
        })?;
        let faults = Faults::new(store.clone());
        let metrics = Metrics::default();
        let (shutdown, shutdown_receiver) = tokio::sync::watch::channel(false);
        let app = Arc::new(App {
            store: store.clone(),
            faults: faults.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown_receiver.clone(),
            server_address: address.to_string(),
            bookmark_interval: options.bookmark_interval,
        });
        let router = handlers::router(app);
        let (ended, server_ended) = tokio::sync::watch::channel(false);
        let serving = server::serve(
            listener,
            address,
            router,
            shutdown_receiver.clone(),
            faults.offline(),
            options.rebind_timeout,
        );
        let server = tokio::spawn(async move {
            let served = serving.await;
            let _ = ended.send(true);
            served
        });
        let controllers = options.controllers.then(|| {
            tokio::spawn(controllers::run(
                store.clone(),
                ControllerOptions {
                    rollout_time: options.rollout_time,
                },
                shutdown_receiver,
            ))
        });
        Ok(SimCluster {
            address,
            store,
            faults,
            metrics,
            shutdown,
            server,
            server_ended,
            controllers,
            state_file: options.state_file,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A kubeconfig whose current context talks to this cluster: plain
    /// HTTP, no credentials, namespace `default`.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: driftdeck-sim\n  \
               cluster:\n    \
                 server: {url}\n\
             users:\n\
             - name: driftdeck-sim\n  \
               user: {{}}\n\
             contexts:\n\
             - name: driftdeck-sim\n  \
               context:\n    \
                 cluster: driftdeck-sim\n    \
                 user: driftdeck-sim\n    \
                 namespace: default\n\
             current-context: driftdeck-sim\n\
             preferences: {{}}\n",
            url = self.url()
        )
    }

    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SimError> {
        std::fs::write(path, self.kubeconfig_yaml()).map_err(|source| SimError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The handle to inject faults.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Requests served so far, by verb and resource.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Creates objects without HTTP, with the same treatment as a create
    /// (uid, resourceVersion, defaults, validation, managed fields under
    /// `field_manager`). Namespaces must exist first, as on a real cluster.
    pub fn load_objects(
        &self,
        objects: impl IntoIterator<Item = Value>,
        field_manager: &str,
    ) -> Result<usize, SimError> {
        let ctx = WriteContext {
            manager: field_manager,
            dry_run: false,
            field_validation: FieldValidation::Warn,
            admit: &lifecycle::admit_everything,
        };
        let mut count = 0;
        for object in objects {
            create_object(&self.store, object, &ctx)?;
            count += 1;
        }
        Ok(count)
    }

    /// Writes every object to a state file now.
    pub fn save_state(&self, path: &Path) -> Result<(), SimError> {
        state_file::save(&self.store, path)
    }

    /// Waits until the server stops serving on its own: it could not listen
    /// again after an offline period (`shutdown` then gives the error).
    pub async fn serving_ended(&self) {
        let mut ended = self.server_ended.clone();
        let _ = ended.wait_for(|ended| *ended).await;
    }

    /// Stops serving: open requests and watches end, connections close,
    /// and the state file (if any) is saved. An error if the server had
    /// already stopped because it could not listen again after being
    /// offline (the state is saved all the same).
    pub async fn shutdown(self) -> Result<(), SimError> {
        let _ = self.shutdown.send(true);
        let served = self.server.await.unwrap_or(Ok(()));
        if let Some(controllers) = self.controllers {
            let _ = controllers.await;
        }
        let saved = match &self.state_file {
            Some(path) => state_file::save(&self.store, path),
            None => Ok(()),
        };
        saved.and(served)
    }
}

fn describe(object: &Value) -> String {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let namespace = text("/metadata/namespace");
    let name = text("/metadata/name");
    let kind = text("/kind");
    if namespace.is_empty() {
        format!("{kind} {name:?}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

fn create_object(store: &Store, object: Value, ctx: &WriteContext<'_>) -> Result<(), SimError> {
    let failed = |message: String| SimError::Load {
        object: describe(&object),
        message,
    };
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    store
        .write(|state| {
            let rt = state.catalog.by_kind(api_version, kind).ok_or_else(|| {
                ApiError::bad_request(format!("no kind {kind} is served at {api_version}"))
            })?;
            lifecycle::create(state, &rt, &namespace, object.clone(), ctx)
        })
        .map(|_| ())
        .map_err(|e| failed(e.message))
}

/// What a new cluster has: its namespaces and the `kubernetes` Service.
fn bootstrap(store: &Store) -> Result<(), SimError> {
    let ctx = WriteContext {
        manager: "kube-apiserver",
        dry_run: false,
        field_validation: FieldValidation::Warn,
        admit: &lifecycle::admit_everything,
    };
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        create_object(
            store,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
            &ctx,
        )?;
    }
    create_object(
        store,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}
        }),
        &ctx,
    )
}
