//! The kinds an API server serves, from discovery, cached per context.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject};
use kube::discovery::{ApiResource, Discovery, Scope, verbs};

use super::{ClusterClient, ClusterError};
use crate::resource::split_api_version;

/// One kind at one version, as the server serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedKind {
    pub resource: ApiResource,
    pub namespaced: bool,
    /// Supports list and watch, so it can be cached by a watch.
    pub watchable: bool,
    /// The version the server recommends for this group.
    pub preferred: bool,
}

/// Kinds that carry no app's objects but change all the time; never watched.
const NOT_WATCHED: &[(&str, &str)] = &[
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("coordination.k8s.io", "Lease"),
];

impl ServedKind {
    /// The API for objects of this kind in `namespace` (ignored when the kind
    /// is cluster-scoped).
    pub fn api_for(&self, client: &ClusterClient, namespace: Option<&str>) -> Api<DynamicObject> {
        match (self.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(client.kube().clone(), ns, &self.resource),
            (true, None) => Api::default_namespaced_with(client.kube().clone(), &self.resource),
            (false, _) => Api::all_with(client.kube().clone(), &self.resource),
        }
    }
}

/// The result of discovery for one context.
#[derive(Debug, Clone)]
pub struct KindCatalog {
    /// By (group, version, kind).
    kinds: HashMap<(String, String, String), ServedKind>,
    discovered_at: Instant,
}

/// Unknown kinds trigger a new discovery, but not more often than this.
const REDISCOVERY_INTERVAL: Duration = Duration::from_secs(10);

/// Whether a failed aggregated discovery means the server does not offer it
/// (older servers, proxies), rather than that it is down, throttling or not
/// answering, when asking each group would only fail slower.
fn answers_without_aggregation(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => status.code < 500 && status.code != 429,
        kube::Error::Service(_) | kube::Error::HyperError(_) => false,
        _ => true,
    }
}

impl KindCatalog {
    /// Asks the server which kinds it serves: the aggregated discovery
    /// endpoints (2 requests) when it has them, else one request per group version.
    /// Each step is bounded by the client's request timeout; only a server
    /// that answers without aggregated discovery is asked group by group,
    /// not one that is down, throttling or not answering.
    pub async fn discover(client: &ClusterClient) -> Result<KindCatalog, ClusterError> {
        let timeout = client.request_timeout();
        let fail = |e| ClusterError::api(client.context(), "discovery", e);
        let no_answer = |_| ClusterError::Api {
            context: client.context().to_string(),
            what: "discovery".to_string(),
            cause: super::NoAnswer(timeout).to_string(),
        };
        let aggregated = Discovery::new(client.kube().clone()).run_aggregated();
        let discovery = match tokio::time::timeout(timeout, aggregated)
            .await
            .map_err(no_answer)?
        {
            Ok(discovery) => discovery,
            Err(refused) if !answers_without_aggregation(&refused) => return Err(fail(refused)),
            Err(aggregated) => {
                tracing::debug!(context = client.context(), %aggregated, "aggregated discovery refused, asking each group");
                let each_group = Discovery::new(client.kube().clone()).run();
                tokio::time::timeout(timeout, each_group)
                    .await
                    .map_err(no_answer)?
                    .map_err(fail)?
            }
        };
        let mut kinds = HashMap::new();
        for group in discovery.groups() {
            let preferred = group.preferred_version_or_latest().to_string();
            for version in group.versions() {
                for (resource, caps) in group.versioned_resources(version) {
                    let key = (
                        resource.group.clone(),
                        resource.version.clone(),
                        resource.kind.clone(),
                    );
                    let not_watched = NOT_WATCHED
                        .iter()
                        .any(|(g, k)| *g == resource.group && *k == resource.kind);
                    let kind = ServedKind {
                        namespaced: caps.scope == Scope::Namespaced,
                        watchable: !not_watched
                            && caps.supports_operation(verbs::LIST)
                            && caps.supports_operation(verbs::WATCH),
                        preferred: version == preferred,
                        resource,
                    };
                    kinds.insert(key, kind);
                }
            }
        }
        Ok(KindCatalog {
            kinds,
            discovered_at: Instant::now(),
        })
    }

    /// The kind for an object's `apiVersion` and `kind`.
    pub fn find(&self, api_version: &str, kind: &str) -> Option<&ServedKind> {
        let (group, version) = split_api_version(api_version);
        self.lookup(group, Some(version), kind)
    }

    /// The version of a kind the server recommends.
    pub fn preferred(&self, group: &str, kind: &str) -> Option<&ServedKind> {
        self.kinds
            .values()
            .find(|k| k.preferred && k.resource.group == group && k.resource.kind == kind)
    }

    /// The kind at `version` (or the preferred one), running discovery again
    /// (at most every few seconds) when it is unknown: a CRD may have been
    /// created since.
    pub async fn resolve(
        &mut self,
        client: &ClusterClient,
        group: &str,
        version: Option<&str>,
        kind: &str,
    ) -> Result<Option<ServedKind>, ClusterError> {
        if let Some(found) = self.lookup(group, version, kind) {
            return Ok(Some(found.clone()));
        }
        if self.discovered_at.elapsed() >= REDISCOVERY_INTERVAL {
            *self = KindCatalog::discover(client).await?;
        }
        Ok(self.lookup(group, version, kind).cloned())
    }

    /// The kind at `version` (or the preferred one) as last discovered:
    /// `None` means the server does not serve it.
    pub fn lookup(&self, group: &str, version: Option<&str>, kind: &str) -> Option<&ServedKind> {
        match version {
            Some(version) => {
                self.kinds
                    .get(&(group.to_string(), version.to_string(), kind.to_string()))
            }
            None => self.preferred(group, kind),
        }
    }

    /// One version of every kind that can be watched: where an app's objects
    /// can be found by their label.
    pub fn watchable(&self) -> Vec<&ServedKind> {
        let mut kinds: Vec<&ServedKind> = self
            .kinds
            .values()
            .filter(|k| k.watchable && k.preferred)
            .collect();
        kinds.sort_by(|a, b| {
            (&a.resource.group, &a.resource.kind).cmp(&(&b.resource.group, &b.resource.kind))
        });
        kinds
    }
}
