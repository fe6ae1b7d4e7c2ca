//! Requests served, by verb and resource, so that tests and benchmarks can
//! count what a client cost (`SimCluster::metrics()`, `/_sim/metrics`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// One line of the count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCount {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`; `get` for discovery and OpenAPI documents.
    pub verb: String,
    /// `deployments.apps`, `pods`, `deployments.apps/status`, `discovery`,
    /// `openapi`, `version`.
    pub resource: String,
    pub count: u64,
}

/// The counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    pub total: u64,
    pub requests: Vec<RequestCount>,
}

impl MetricsSnapshot {
    /// Requests with this verb on this resource.
    pub fn count(&self, verb: &str, resource: &str) -> u64 {
        self.requests
            .iter()
            .filter(|r| r.verb == verb && r.resource == resource)
            .map(|r| r.count)
            .sum()
    }

    /// Requests with this verb on any resource.
    pub fn count_verb(&self, verb: &str) -> u64 {
        self.requests
            .iter()
            .filter(|r| r.verb == verb)
            .map(|r| r.count)
            .sum()
    }
}

/// The counter; cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
}

impl Metrics {
    fn counts(&self) -> MutexGuard<'_, BTreeMap<(String, String), u64>> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn record(&self, verb: &str, resource: &str) {
        *self
            .counts()
            .entry((verb.to_string(), resource.to_string()))
            .or_insert(0) += 1;
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let counts = self.counts();
        MetricsSnapshot {
            total: counts.values().sum(),
            requests: counts
                .iter()
                .map(|((verb, resource), count)| RequestCount {
                    verb: verb.clone(),
                    resource: resource.clone(),
                    count: *count,
                })
                .collect(),
        }
    }

    pub fn reset(&self) {
        self.counts().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_by_verb_and_resource() {
        let metrics = Metrics::default();
        metrics.record("list", "deployments.apps");
        metrics.record("list", "deployments.apps");
        metrics.record("watch", "deployments.apps");
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.total, 3);
        assert_eq!(snapshot.count("list", "deployments.apps"), 2);
        assert_eq!(snapshot.count_verb("watch"), 1);
        metrics.reset();
        assert_eq!(metrics.snapshot().total, 0);
    }
}
