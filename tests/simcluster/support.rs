//! Starting a simulated cluster and a kube client for it, with a timeout
//! around every test.

use std::future::Future;
use std::time::Duration;

use driftdeck::simcluster::{SimCluster, SimOptions};
use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};

/// How long any one test may take before it fails instead of hanging.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a test body under `TEST_TIMEOUT`.
pub async fn within_timeout<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test did not finish in time");
}

/// Options for tests: no controllers unless asked, short everything.
pub fn quiet() -> SimOptions {
    SimOptions {
        controllers: false,
        rollout_time: Duration::from_millis(300),
        bookmark_interval: Duration::from_millis(200),
        ..SimOptions::default()
    }
}

pub async fn start(options: SimOptions) -> SimCluster {
    SimCluster::start(options)
        .await
        .expect("the simulated cluster starts")
}

pub async fn client(cluster: &SimCluster) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    config.read_timeout = Some(Duration::from_secs(30));
    Client::try_from(config).unwrap()
}
