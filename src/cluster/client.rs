//! A kube client for one kubeconfig context, with every request counted.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::ClusterError;

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
    fn record<B>(&self, request: &http::Request<B>) {
        let counter = if request.method() != http::Method::GET {
            &self.writes
        } else if is_watch(request.uri().query().unwrap_or("")) {
            &self.watches
        } else {
            &self.reads
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
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let counts = Arc::new(RequestCounts::default());
        let client = ClientBuilder::try_from(config)
            .map_err(|e| fail(e.to_string()))?
            .with_layer(&CountLayer(counts.clone()))
            .build();
        Ok(ClusterClient {
            client,
            context: name,
            counts,
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
}

/// A tower layer that counts the requests passing through it.
struct CountLayer(Arc<RequestCounts>);

impl<S> tower::Layer<S> for CountLayer {
    type Service = CountService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountService {
            inner,
            counts: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct CountService<S> {
    inner: S,
    counts: Arc<RequestCounts>,
}

impl<S, B> tower::Service<http::Request<B>> for CountService<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.counts.record(&request);
        self.inner.call(request)
    }
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
        counts.record(&request(http::Method::GET, "/api/v1/pods?labelSelector=a"));
        counts.record(&request(
            http::Method::GET,
            "/api/v1/pods?watch=true&resourceVersion=5",
        ));
        counts.record(&request(
            http::Method::GET,
            "/api/v1/pods?resourceVersion=5&watch=1",
        ));
        counts.record(&request(http::Method::PATCH, "/api/v1/namespaces/a/pods/b"));
        counts.record(&request(http::Method::GET, "/api/v1/pods?watchful=true"));
        let tally = counts.tally();
        assert_eq!((tally.reads, tally.watches, tally.writes), (2, 2, 1));
        assert_eq!(tally.total(), 5);
    }
}
