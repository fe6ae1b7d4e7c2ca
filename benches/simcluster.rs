#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Scale of the simulated cluster: 10,000 Deployments loaded, listed in
//! pages of 500 through the kube client, and the memory of a server process
//! holding them (`driftdeck sim` started on the saved state).
//!
//! Goals (issue 3): the paged list in under 1 s, the server under 200 MB.
//!
//!     cargo bench --bench simcluster

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use driftdeck::simcluster::{SimCluster, SimOptions};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DynamicObject, ListParams};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

#[path = "../tests/common/memory.rs"]
mod memory;
use memory::memory_kib;

const DEPLOYMENTS: usize = 10_000;
const NAMESPACES: usize = 20;
const PAGE: u32 = 500;
const ROUNDS: usize = 5;

fn deployment(index: usize) -> Value {
    let name = format!("app-{index:05}");
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": name, "namespace": format!("team-{:02}", index % NAMESPACES),
            "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "driftdeck", "driftdeck.dev/app": format!("app-{}", index % 50)},
            "annotations": {"driftdeck.dev/revision": "3f2a91c0d2b64cb1d7a6e0b9a8f1c2d3e4f5a6b7"}
        },
        "spec": {
            "replicas": 1 + index % 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": name}},
                "spec": {"containers": [
                    {"name": "app", "image": format!("registry.example.com/app:{}.{}", index % 7, index % 13),
                     "ports": [{"containerPort": 8080, "name": "http"}],
                     "env": [{"name": "MODE", "value": "production"}, {"name": "INDEX", "value": index.to_string()}],
                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                     "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}},
                    {"name": "proxy", "image": "envoyproxy/envoy:v1.31.0", "ports": [{"containerPort": 9901}]}
                ]}
            }
        }
    })
}

async fn client_for(kubeconfig: Kubeconfig) -> kube::Client {
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    config.read_timeout = Some(Duration::from_secs(60));
    kube::Client::try_from(config).unwrap()
}

fn deployments_resource() -> ApiResource {
    ApiResource {
        group: "apps".into(),
        version: "v1".into(),
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        plural: "deployments".into(),
    }
}

/// Lists every Deployment in pages; the count and the time it took.
async fn paged_list<K>(api: &Api<K>) -> (usize, Duration)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let started = Instant::now();
    let mut params = ListParams::default().limit(PAGE);
    let mut count = 0;
    loop {
        let page = api.list(&params).await.unwrap();
        count += page.items.len();
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    (count, started.elapsed())
}

/// The same pages fetched as text only, to tell the server's share from
/// the client's parsing: the bytes, the time to fetch them, and the time
/// serde takes to read them into `DynamicObject`s as kube does.
async fn paged_fetch(client: &kube::Client) -> (usize, Duration, Duration) {
    let started = Instant::now();
    let mut token = String::new();
    let mut bytes = 0;
    let mut pages = Vec::new();
    loop {
        let mut uri = format!("/apis/apps/v1/deployments?limit={PAGE}");
        if !token.is_empty() {
            uri.push_str(&format!("&continue={token}"));
        }
        let request = axum::http::Request::get(uri).body(Vec::new()).unwrap();
        let text = client.request_text(request).await.unwrap();
        bytes += text.len();
        let head = &text[..text.len().min(400)];
        token = head
            .split_once("\"continue\":\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(t, _)| t.to_string())
            .unwrap_or_default();
        pages.push(text);
        if token.is_empty() {
            break;
        }
    }
    let fetched = started.elapsed();
    let parsing = Instant::now();
    for page in &pages {
        let list: kube::core::ObjectList<DynamicObject> = serde_json::from_str(page).unwrap();
        assert!(!list.items.is_empty());
    }
    (bytes, fetched, parsing.elapsed())
}

/// The paged list, `ROUNDS` times, as kube's dynamic API reads it
/// (`DynamicObject`, what driftdeck uses) or as a typed client does
/// (k8s-openapi's `Deployment`); the times, sorted.
async fn rounds(client: &kube::Client, typed: bool) -> Vec<Duration> {
    let dynamic: Api<DynamicObject> = Api::all_with(client.clone(), &deployments_resource());
    let typed_api: Api<Deployment> = Api::all(client.clone());
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let (count, elapsed) = if typed {
            paged_list(&typed_api).await
        } else {
            paged_list(&dynamic).await
        };
        assert_eq!(count, DEPLOYMENTS);
        times.push(elapsed);
    }
    times.sort();
    times
}

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn report(label: &str, times: &[Duration]) {
    println!(
        "{label}: best {}, median {}, worst {} ({ROUNDS} rounds, pages of {PAGE})",
        millis(times[0]),
        millis(times[times.len() / 2]),
        millis(times[times.len() - 1])
    );
}

async fn in_process(state: &Path) {
    let cluster = SimCluster::start(SimOptions {
        controllers: false,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let namespaces = (0..NAMESPACES).map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("team-{n:02}")}}));
    cluster.load_objects(namespaces, "bench").unwrap();
    let started = Instant::now();
    cluster
        .load_objects(
            (0..DEPLOYMENTS).map(deployment),
            "kubectl-client-side-apply",
        )
        .unwrap();
    let loaded = started.elapsed();
    println!(
        "load {DEPLOYMENTS} Deployments (create path, no HTTP): {} ({:.0} objects/s)",
        millis(loaded),
        DEPLOYMENTS as f64 / loaded.as_secs_f64()
    );
    let client = client_for(Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap()).await;
    report(
        "paged list of 10,000 Deployments, server in process",
        &rounds(&client, false).await,
    );
    report(
        "the same list read by a typed client (Api<Deployment>)",
        &rounds(&client, true).await,
    );
    let (bytes, fetched, parsed) = paged_fetch(&client).await;
    println!(
        "of which the server: the same pages fetched as text in {} ({} MiB, {} bytes per Deployment)",
        millis(fetched),
        bytes / (1024 * 1024),
        bytes / DEPLOYMENTS
    );
    println!(
        "of which the client: reading them into DynamicObjects takes {}",
        millis(parsed)
    );
    cluster.save_state(state).unwrap();
    cluster.shutdown().await.unwrap();
}

async fn separate_process(state: &Path, kubeconfig: &Path) {
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_driftdeck"))
        .arg("sim")
        .arg("--no-controllers")
        .arg("--state")
        .arg(state)
        .arg("--kubeconfig-out")
        .arg(kubeconfig)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = server.id().unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap()).lines();
    stderr.next_line().await.unwrap().unwrap();
    println!(
        "server process holding {DEPLOYMENTS} Deployments: {} MiB resident",
        memory_kib(pid, "VmRSS:") / 1024
    );
    let client = client_for(Kubeconfig::read_from(kubeconfig).unwrap()).await;
    report(
        "paged list of 10,000 Deployments, server in its own process",
        &rounds(&client, false).await,
    );
    report(
        "the same list read by a typed client (Api<Deployment>)",
        &rounds(&client, true).await,
    );
    println!(
        "server process after the lists: {} MiB resident, {} MiB at peak",
        memory_kib(pid, "VmRSS:") / 1024,
        memory_kib(pid, "VmHWM:") / 1024
    );
    server.start_kill().unwrap();
    let _ = server.wait().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    runtime.block_on(in_process(&state));
    runtime.block_on(separate_process(&state, &dir.path().join("kubeconfig")));
}
