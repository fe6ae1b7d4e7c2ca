//! Starting a simulated cluster and clients for it (kube-rs, raw HTTP,
//! kubectl), with a timeout around every test.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use driftdeck::simcluster::{SimCluster, SimOptions};
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiResource, Discovery};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long any one test may take before it fails instead of hanging.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs a test body under `TEST_TIMEOUT`.
pub async fn within_timeout<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test did not finish in time");
}

/// How long `eventually` waits for its condition.
const EVENTUALLY: Duration = Duration::from_secs(30);

/// Polls `check` until it holds: a test that waits on what it checks is
/// slower on a loaded machine, not wrong.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {EVENTUALLY:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Options for tests: no controllers unless asked, short everything.
pub fn quiet() -> SimOptions {
    SimOptions {
        controllers: false,
        rollout_time: Duration::from_millis(400),
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

/// The `ApiResource` of a kind, found through discovery.
pub async fn resource(client: &Client, kind: &str) -> ApiResource {
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(ar, _)| ar.kind == kind)
        .map(|(ar, _)| ar)
        .unwrap_or_else(|| panic!("{kind} is served"))
}

pub async fn namespaced(client: &Client, kind: &str, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &resource(client, kind).await)
}

pub fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).unwrap()
}

pub fn deployment(name: &str, image: &str, replicas: i64) -> Value {
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "main", "image": image}]}}}
    })
}

pub fn namespace(name: &str) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// The status code of a kube error that came from the API server.
pub fn api_code(error: &kube::Error) -> (u16, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A raw HTTP/1.1 answer.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// One request over a fresh connection, for what a kube client hides
/// (headers, the `/_sim` endpoints, refused connections).
pub async fn http(
    cluster: &SimCluster,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<Answer> {
    http_with(cluster, method, path, &[], body.as_bytes()).await
}

/// `http` with more headers and any body.
pub async fn http_with(
    cluster: &SimCluster,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut stream = tokio::net::TcpStream::connect(cluster.address()).await?;
    let content_type = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        cluster.address(),
        body.len()
    );
    if !content_type {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// The kubectl 1.33 of `../shared/tools/kube-tools`, if installed.
pub fn kubectl() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/kube-tools");
    let from_script = std::process::Command::new(&script)
        .arg("--check")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("kubectl"));
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("driftdeck-tools/bin/kubectl"));
    from_script.into_iter().chain(cache).find(|p| p.is_file())
}

/// kubectl pointed at one cluster, with its own kubeconfig, home and
/// discovery cache.
pub struct Kubectl {
    pub binary: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Kubectl {
    /// `None` (after saying why) when kubectl 1.33 is not installed.
    pub fn for_cluster(cluster: &SimCluster, test: &str) -> Option<Kubectl> {
        let Some(binary) = kubectl() else {
            eprintln!(
                "skipping {test}: kubectl 1.33 is not installed (run ../shared/tools/kube-tools)"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        cluster
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Some(Kubectl { binary, dir })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.binary);
        command
            .arg("--kubeconfig")
            .arg(self.path("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.path("cache"))
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .kill_on_drop(true);
        command
    }

    /// Runs kubectl to the end (with a timeout).
    pub async fn run(&self, args: &[&str]) -> Output {
        tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("kubectl finished in time")
            .expect("kubectl runs")
    }

    /// Runs kubectl and expects success.
    pub async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}
