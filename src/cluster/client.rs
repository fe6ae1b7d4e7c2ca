//! A kube client for one kubeconfig context, with every request counted
//! where it leaves the process, bounded in time, and reads retried by our
//! policy (see `retry`) instead of kube's.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use kube::client::{Body, ClientBuilder};
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::ClusterError;
use super::retry::{READ_RETRIES, is_transient, parse_retry_after, wait_before_retry};

/// How long one list or get may take before it counts as unreadable.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How long one request may wait for its answer unless the config says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The request timeout of every client made from now on, in milliseconds:
/// set once from the config before any cluster is reached.
static REQUEST_TIMEOUT_MS: AtomicU64 = AtomicU64::new(30_000);

/// Sets the request timeout for the clients connected after this call.
pub fn set_request_timeout(timeout: Duration) {
    let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    REQUEST_TIMEOUT_MS.store(millis.max(1), Ordering::Relaxed);
}

fn request_timeout() -> Duration {
    Duration::from_millis(REQUEST_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// A request that got no answer in time.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {}", seconds(*.0))]
pub struct NoAnswer(pub Duration);

/// `30 s`, `1.5 s`.
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

/// Requests made to one API server, by what they were for.
#[derive(Debug, Default)]
pub struct RequestCounts {
    reads: AtomicU64,
    watches: AtomicU64,
    writes: AtomicU64,
}

/// A copy of the counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RequestTally {
    /// GETs that are not watches: discovery, list, get.
    pub reads: u64,
    /// Watch requests, first ones and renewals.
    pub watches: u64,
    /// POST, PUT, PATCH and DELETE.
    pub writes: u64,
}

impl RequestTally {
    pub fn total(&self) -> u64 {
        self.reads + self.watches + self.writes
    }
}

impl RequestCounts {
    fn record(&self, kind: RequestKind) {
        let counter = match kind {
            RequestKind::Read => &self.reads,
            RequestKind::Watch => &self.watches,
            RequestKind::Write => &self.writes,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn tally(&self) -> RequestTally {
        RequestTally {
            reads: self.reads.load(Ordering::Relaxed),
            watches: self.watches.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }
}

fn is_watch(query: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair == "watch=true" || pair == "watch=1")
}

/// A connection to the API server of one kubeconfig context.
#[derive(Clone)]
pub struct ClusterClient {
    client: kube::Client,
    context: String,
    counts: Arc<RequestCounts>,
    timeout: Duration,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("context", &self.context)
            .finish()
    }
}

impl ClusterClient {
    /// Connects with `kubeconfig`, or the one kubectl would use (`KUBECONFIG`,
    /// else `~/.kube/config`), to `context` or the current context.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
    ) -> Result<ClusterClient, ClusterError> {
        let read = match kubeconfig {
            Some(file) => Kubeconfig::read_from(file),
            None => Kubeconfig::read(),
        };
        let kubeconfig = read.map_err(|e| ClusterError::Kubeconfig {
            context: context.unwrap_or("(current)").to_string(),
            cause: e.to_string(),
        })?;
        ClusterClient::from_kubeconfig(kubeconfig, context).await
    }

    pub async fn from_kubeconfig(
        kubeconfig: Kubeconfig,
        context: Option<&str>,
    ) -> Result<ClusterClient, ClusterError> {
        let name = match context {
            Some(name) => name.to_string(),
            None => kubeconfig
                .current_context
                .clone()
                .ok_or_else(|| ClusterError::Kubeconfig {
                    context: "(current)".to_string(),
                    cause: "the kubeconfig names no current context; give the app a context"
                        .to_string(),
                })?,
        };
        let fail = |cause: String| ClusterError::Kubeconfig {
            context: name.clone(),
            cause,
        };
        let options = KubeConfigOptions {
            context: Some(name.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| fail(e.to_string()))?;
        // kube's retry sits below any layer of ours: its waits would be
        // uncounted and unreported. Ours (`Guarded`) replaces it.
        config.default_retry = false;
        let default_namespace = config.default_namespace.clone();
        let wire = ClientBuilder::try_from(config)
            .map_err(|e| fail(e.to_string()))?
            .build();
        let counts = Arc::new(RequestCounts::default());
        let timeout = request_timeout();
        let guarded = Guarded {
            wire,
            counts: counts.clone(),
            timeout,
        };
        Ok(ClusterClient {
            client: kube::Client::new(guarded, default_namespace),
            context: name,
            counts,
            timeout,
        })
    }

    pub fn kube(&self) -> &kube::Client {
        &self.client
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn requests(&self) -> RequestTally {
        self.counts.tally()
    }

    /// How long one request may wait for its answer.
    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }
}

/// What a request is, for counting and retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestKind {
    Read,
    Watch,
    Write,
}

impl RequestKind {
    fn of<B>(request: &http::Request<B>) -> RequestKind {
        if request.method() != http::Method::GET {
            RequestKind::Write
        } else if is_watch(request.uri().query().unwrap_or("")) {
            RequestKind::Watch
        } else {
            RequestKind::Read
        }
    }
}

/// The service every request of a `ClusterClient` goes through, above the
/// wire: each attempt is counted as it leaves; each waits for its answer
/// (the response head; a watch's stream then runs on) at most the request
/// timeout, retries included; reads answered 429, 503 or 504 are asked
/// again after the policy's wait, while the wait ends before that deadline.
/// Watches and writes are never retried here: a watch reports each failure
/// and retries itself, and a write is the caller's to repeat.
#[derive(Clone)]
struct Guarded {
    wire: kube::Client,
    counts: Arc<RequestCounts>,
    timeout: Duration,
}

impl tower::Service<http::Request<Body>> for Guarded {
    type Response = http::Response<Body>;
    type Error = kube::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let guarded = self.clone();
        Box::pin(async move { guarded.send(request).await })
    }
}

impl Guarded {
    async fn send(self, request: http::Request<Body>) -> kube::Result<http::Response<Body>> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let kind = RequestKind::of(&request);
        let mut failures = 0u32;
        let mut request = Some(request);
        loop {
            let Some(original) = request.take() else {
                return Err(kube::Error::Service(Box::new(NoAnswer(self.timeout))));
            };
            // A read keeps its original to ask again; its body is empty.
            let this = if kind == RequestKind::Read {
                match copy_request(&original) {
                    Some(copy) => {
                        request = Some(original);
                        copy
                    }
                    None => original,
                }
            } else {
                original
            };
            self.counts.record(kind);
            let answer = tokio::time::timeout_at(deadline, self.wire.send(this))
                .await
                .map_err(|_| kube::Error::Service(Box::new(NoAnswer(self.timeout))))??;
            let code = answer.status().as_u16();
            if request.is_none() || !is_transient(code) || failures >= READ_RETRIES {
                return Ok(answer);
            }
            let retry_after = answer
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let wait = wait_before_retry(failures, retry_after);
            if tokio::time::Instant::now() + wait >= deadline {
                return Ok(answer);
            }
            tracing::debug!(code, ?wait, "transient answer to a read; asking again");
            drop(answer);
            tokio::time::sleep(wait).await;
            failures += 1;
        }
    }
}

/// A copy of a request whose body is in memory.
fn copy_request(request: &http::Request<Body>) -> Option<http::Request<Body>> {
    let body = request.body().try_clone()?;
    let mut copy = http::Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: http::Method, uri: &str) -> http::Request<()> {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .unwrap()
    }

    #[test]
    fn counts_reads_watches_and_writes_apart() {
        let counts = RequestCounts::default();
        for (method, uri) in [
            (http::Method::GET, "/api/v1/pods?labelSelector=a"),
            (
                http::Method::GET,
                "/api/v1/pods?watch=true&resourceVersion=5",
            ),
            (http::Method::GET, "/api/v1/pods?resourceVersion=5&watch=1"),
            (http::Method::PATCH, "/api/v1/namespaces/a/pods/b"),
            (http::Method::GET, "/api/v1/pods?watchful=true"),
        ] {
            counts.record(RequestKind::of(&request(method, uri)));
        }
        let tally = counts.tally();
        assert_eq!((tally.reads, tally.watches, tally.writes), (2, 2, 1));
        assert_eq!(tally.total(), 5);
    }
}
