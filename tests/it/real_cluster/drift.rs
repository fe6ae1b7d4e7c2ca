//! The drift verdicts that matter most, one body per behaviour, run against
//! the simulated cluster and against the real API server: a verdict that
//! holds on one and not the other is a bug in the simulation or in driftdeck.

use std::time::Duration;

use driftdeck::cluster::{ClusterClient, KindCatalog, LiveCache, LiveStore, LiveUpdate};
use kube::config::Kubeconfig;
use serde_json::json;
use tokio::sync::mpsc;

use super::support::{Server, Shop, Which, verdicts};
use crate::live::support::resource;

/// Each behaviour as two tests, `on_sim::NAME` and `on_real::NAME`.
macro_rules! on_both_servers {
    ($($name:ident),* $(,)?) => {
        mod on_sim {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::simcluster::support::within_timeout(super::$name(super::Which::Sim)).await;
                }
            )*
        }
        mod on_real {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::simcluster::support::within_timeout(super::$name(super::Which::Real)).await;
                }
            )*
        }
    };
}

on_both_servers!(
    kubectl_server_side_apply_then_status_is_synced,
    server_defaults_never_show_as_drift,
    kubectl_edit_out_of_band_is_drift_owned_by_kubectl_edit,
    exact_status_agrees_with_the_plain_comparison,
    the_watch_resumes_after_the_api_server_restarts,
);

async fn kubectl_server_side_apply_then_status_is_synced(which: Which) {
    let shop = Shop::new(Server::start(which).await).await;
    let namespace = shop.app_dir().join("namespace.json");
    shop.kubectl(
        &["apply", "--server-side", "-f", namespace.to_str().unwrap()],
        None,
    )
    .await;
    shop.kubectl(
        &[
            "apply",
            "--server-side",
            "-f",
            shop.app_dir().to_str().unwrap(),
        ],
        None,
    )
    .await;
    let report = shop.status(&[]).await;
    assert_eq!(report["status"], "Synced", "{which:?}: {report:#}");
    assert_eq!(report["counts"]["Synced"], 5, "{which:?}: {report:#}");
    let diff = shop.driftdeck(&["diff", &shop.namespace]).await;
    assert_eq!(diff.code, 0, "{which:?}: {}{}", diff.stdout, diff.stderr);
}

async fn server_defaults_never_show_as_drift(which: Which) {
    let shop = Shop::new(Server::start(which).await).await;
    shop.apply_as_driftdeck().await;
    let deployment = &shop.objects()[1].1;
    let live = shop.live(deployment).await;
    let container = &live["spec"]["template"]["spec"]["containers"][0];
    // The server did fill in what Git left out…
    assert_eq!(container["imagePullPolicy"], "IfNotPresent", "{which:?}");
    assert_eq!(
        live["spec"]["strategy"]["type"], "RollingUpdate",
        "{which:?}"
    );
    assert_eq!(
        container["readinessProbe"]["periodSeconds"], 10,
        "{which:?}: {live:#}"
    );
    // …and none of it is drift.
    let report = shop.status(&[]).await;
    assert_eq!(report["status"], "Synced", "{which:?}: {report:#}");
    assert_eq!(report["counts"]["Synced"], 5, "{which:?}: {report:#}");
    assert_eq!(
        report["revision"],
        json!(shop.git(&["rev-parse", "HEAD"])),
        "{which:?}"
    );
}

async fn kubectl_edit_out_of_band_is_drift_owned_by_kubectl_edit(which: Which) {
    let shop = Shop::new(Server::start(which).await).await;
    shop.apply_as_driftdeck().await;
    // kubectl edit with an editor that changes the image and the replicas,
    // as an operator would by hand.
    let editor = "sed -i -e 's/nginx:1.25/nginx:1.27/' -e 's/replicas: 2/replicas: 5/'";
    shop.kubectl(
        &["edit", "-n", &shop.namespace, "deployment/web"],
        Some(editor),
    )
    .await;
    let live = shop.live(&shop.objects()[1].1).await;
    assert_eq!(live["spec"]["replicas"], 5, "{which:?}: the edit was made");
    let edit = live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["manager"] == "kubectl-edit")
        .unwrap_or_else(|| panic!("{which:?}: no kubectl-edit manager in {live:#}"));
    assert_eq!(edit["operation"], "Update", "{which:?}");
    assert!(
        edit["fieldsV1"]["f:spec"]["f:replicas"].is_object(),
        "{which:?}: kubectl-edit owns spec.replicas: {edit:#}"
    );

    let report = shop.status(&[]).await;
    assert_eq!(report["status"], "OutOfSync", "{which:?}: {report:#}");
    let web = resource(&report, "Deployment", "web");
    let mut changes: Vec<&str> = web["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        ["spec.replicas", "spec.template.spec.containers[web].image"],
        "{which:?}: {report:#}"
    );
    assert_eq!(resource(&report, "Service", "web")["status"], "Synced");
}

async fn exact_status_agrees_with_the_plain_comparison(which: Which) {
    let shop = Shop::new(Server::start(which).await).await;
    shop.apply_as_driftdeck().await;
    let plain = shop.status(&[]).await;
    let exact = shop.status(&["--exact"]).await;
    assert_eq!(plain["status"], "Synced", "{which:?}: {plain:#}");
    assert_eq!(verdicts(&exact), verdicts(&plain), "{which:?}: in sync");

    shop.kubectl(
        &[
            "patch",
            "-n",
            &shop.namespace,
            "configmap/settings",
            "--type=merge",
            "-p",
            r#"{"data":{"color":"red"}}"#,
        ],
        None,
    )
    .await;
    let plain = shop.status(&[]).await;
    let exact = shop.status(&["--exact"]).await;
    assert_eq!(plain["status"], "OutOfSync", "{which:?}: {plain:#}");
    assert_eq!(
        resource(&plain, "ConfigMap", "settings")["status"],
        "OutOfSync"
    );
    assert_eq!(verdicts(&exact), verdicts(&plain), "{which:?}: drifted");
}

async fn the_watch_resumes_after_the_api_server_restarts(which: Which) {
    let mut shop = Shop::new(Server::start_own(which).await).await;
    shop.apply_as_driftdeck().await;
    let kubeconfig = Kubeconfig::from_yaml(&shop.server.kubeconfig_yaml()).unwrap();
    let client = ClusterClient::from_kubeconfig(kubeconfig, None)
        .await
        .unwrap();
    let catalog = KindCatalog::discover(&client).await.unwrap();
    let (sender, mut updates) = mpsc::unbounded_channel();
    let mut store = LiveStore::default();
    let kinds: Vec<_> = catalog
        .watchable()
        .into_iter()
        .filter(|kind| kind.resource.kind == "ConfigMap")
        .collect();
    let _cache = LiveCache::start(
        client,
        &kinds,
        sender,
        true,
        std::sync::Arc::new(|_: &str| true),
        &mut store,
    );
    until_color(which, &shop.namespace, "blue", &mut store, &mut updates).await;

    shop.server.restart().await;
    shop.write_kubeconfig();
    let mut settings = shop.objects()[3].1.clone();
    settings["metadata"]["labels"] = json!({"driftdeck.dev/app": shop.namespace});
    settings["data"]["color"] = json!("green");
    shop.client = shop.server.client().await;
    shop.apply(&settings, "someone").await;
    until_color(which, &shop.namespace, "green", &mut store, &mut updates).await;
}

/// Applies the cache's updates until the app's ConfigMap has `want`.
async fn until_color(
    which: Which,
    app: &str,
    want: &str,
    store: &mut LiveStore,
    updates: &mut mpsc::UnboundedReceiver<LiveUpdate>,
) {
    let color = |store: &LiveStore| {
        store
            .app_view(app, &[])
            .objects
            .values()
            .find(|o| o["kind"] == "ConfigMap")
            .and_then(|o| o["data"]["color"].as_str().map(str::to_string))
    };
    let wait = async {
        while color(store).as_deref() != Some(want) {
            let update = updates.recv().await.expect("the watches are running");
            store.apply(update);
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("{which:?}: the color {want} did not arrive"));
}
