//! Faults to inject, from tests (`SimCluster::faults()`) or over HTTP
//! (`/_sim/faults`): added latency, a share of requests failing with 500 or
//! 503, 429 with Retry-After, every watch dropped at once, connections
//! refused for a while, writes to a named object denied as an admission
//! webhook would, and the watch history expired as by an etcd compaction.
//!
//! Shares are exact, not random: a fraction of 0.25 fails every fourth
//! request, so tests that use them are deterministic.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::time::Instant;

use super::catalog::ResourceType;
use super::status::ApiError;
use super::store::Store;

/// A share of requests that fail with one status code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailingShare {
    /// 0.0 to 1.0.
    pub fraction: f64,
    /// 500 or 503.
    pub code: u16,
}

/// A share of requests answered 429 with a Retry-After.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    pub fraction: f64,
    pub retry_after_seconds: u64,
}

/// Writes to one object refused as by a validating admission webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteDenial {
    /// The resource's plural (`deployments`) or kind (`Deployment`).
    pub resource: String,
    /// The namespace; empty for cluster-scoped objects or any namespace.
    #[serde(default)]
    pub namespace: String,
    pub name: String,
    /// 403 (Forbidden) or 422 (Invalid).
    #[serde(default = "forbidden")]
    pub code: u16,
    pub message: String,
}

fn forbidden() -> u16 {
    403
}

/// The faults in force, as `/_sim/faults` reads and writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSettings {
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub errors: Option<FailingShare>,
    #[serde(default)]
    pub throttle: Option<Throttling>,
    #[serde(default)]
    pub deny_writes: Vec<WriteDenial>,
    /// Resources (`applications.argoproj.io`, `configmaps`) whose lists
    /// and watches are refused 403, as RBAC refuses a user without `list`.
    #[serde(default)]
    pub deny_lists: Vec<String>,
}

/// Why fault settings were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("the fraction of failing requests must be between 0 and 1, got {0}")]
    Fraction(f64),
    #[error("requests can fail with 500 or 503, not {0}")]
    ErrorCode(u16),
    #[error("a webhook denial answers 403 or 422, not {0}")]
    DenialCode(u16),
}

impl FaultSettings {
    fn check(&self) -> Result<(), FaultError> {
        for fraction in [
            self.errors.map(|e| e.fraction),
            self.throttle.map(|t| t.fraction),
        ]
        .into_iter()
        .flatten()
        {
            if !(0.0..=1.0).contains(&fraction) {
                return Err(FaultError::Fraction(fraction));
            }
        }
        if let Some(errors) = self.errors
            && !matches!(errors.code, 500 | 503)
        {
            return Err(FaultError::ErrorCode(errors.code));
        }
        if let Some(denial) = self
            .deny_writes
            .iter()
            .find(|d| !matches!(d.code, 403 | 422))
        {
            return Err(FaultError::DenialCode(denial.code));
        }
        Ok(())
    }
}

#[derive(Default)]
struct Shares {
    settings: FaultSettings,
    error_credit: f64,
    throttle_credit: f64,
}

struct FaultState {
    shares: Mutex<Shares>,
    drop_watches: watch::Sender<u64>,
    offline_until: watch::Sender<Option<Instant>>,
}

/// The handle to inject faults; cheap to clone.
#[derive(Clone)]
pub struct Faults {
    state: Arc<FaultState>,
    store: Arc<Store>,
}

impl Faults {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        Self {
            state: Arc::new(FaultState {
                shares: Mutex::new(Shares::default()),
                drop_watches: watch::channel(0).0,
                offline_until: watch::channel(None).0,
            }),
            store,
        }
    }

    fn shares(&self) -> MutexGuard<'_, Shares> {
        self.state
            .shares
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces every setting at once.
    pub fn set(&self, settings: FaultSettings) -> Result<(), FaultError> {
        settings.check()?;
        let mut shares = self.shares();
        shares.settings = settings;
        shares.error_credit = 0.0;
        shares.throttle_credit = 0.0;
        Ok(())
    }

    pub fn settings(&self) -> FaultSettings {
        self.shares().settings.clone()
    }

    /// Removes every fault (connections already refused stay refused until
    /// their time is up).
    pub fn clear(&self) {
        *self.shares() = Shares::default();
    }

    /// Adds `latency` before every answer.
    pub fn set_latency(&self, latency: Duration) {
        let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.shares().settings.latency_ms = millis;
    }

    /// Fails `fraction` of requests with `code` (500 or 503).
    pub fn fail_requests(&self, fraction: f64, code: u16) -> Result<(), FaultError> {
        let mut settings = self.settings();
        settings.errors = Some(FailingShare { fraction, code });
        self.set(settings)
    }

    /// Answers `fraction` of requests with 429 and `Retry-After`.
    pub fn throttle_requests(
        &self,
        fraction: f64,
        retry_after: Duration,
    ) -> Result<(), FaultError> {
        let mut settings = self.settings();
        settings.throttle = Some(Throttling {
            fraction,
            retry_after_seconds: retry_after.as_secs().max(1),
        });
        self.set(settings)
    }

    /// Refuses writes to one object, as an admission webhook would.
    pub fn deny_writes(&self, denial: WriteDenial) -> Result<(), FaultError> {
        let mut settings = self.settings();
        settings.deny_writes.push(denial);
        self.set(settings)
    }

    /// Refuses lists and watches of a resource (`applications.argoproj.io`)
    /// with 403, as RBAC does.
    pub fn deny_lists(&self, resource: &str) -> Result<(), FaultError> {
        let mut settings = self.settings();
        settings.deny_lists.push(resource.to_string());
        self.set(settings)
    }

    /// Ends every open watch now, as a dropped connection would.
    pub fn drop_watches(&self) {
        self.state
            .drop_watches
            .send_modify(|generation| *generation += 1);
    }

    /// Refuses connections for `duration`: the listener closes, open
    /// connections are cut, and it listens again on the same port after.
    /// Called again while offline, it sets the time to come back anew, so
    /// `Duration::ZERO` ends an offline period now.
    pub fn go_offline(&self, duration: Duration) {
        self.state
            .offline_until
            .send_replace(Some(Instant::now() + duration));
    }

    /// Forgets the watch history, as an etcd compaction does: watches that
    /// resume from an older resourceVersion get 410 Expired.
    pub fn expire_watch_history(&self) {
        self.store.write(|state| state.compact());
    }

    pub(crate) fn watch_drops(&self) -> watch::Receiver<u64> {
        self.state.drop_watches.subscribe()
    }

    pub(crate) fn offline(&self) -> watch::Receiver<Option<Instant>> {
        self.state.offline_until.subscribe()
    }

    /// The latency to add and whether this request fails, decided in
    /// request order.
    pub(crate) fn before_request(&self) -> (Duration, Option<ApiError>) {
        let mut shares = self.shares();
        let latency = Duration::from_millis(shares.settings.latency_ms);
        if let Some(throttle) = shares.settings.throttle {
            shares.throttle_credit += throttle.fraction;
            if shares.throttle_credit >= 1.0 - f64::EPSILON {
                shares.throttle_credit -= 1.0;
                return (
                    latency,
                    Some(ApiError::too_many_requests(throttle.retry_after_seconds)),
                );
            }
        }
        if let Some(errors) = shares.settings.errors {
            shares.error_credit += errors.fraction;
            if shares.error_credit >= 1.0 - f64::EPSILON {
                shares.error_credit -= 1.0;
                let error = if errors.code == 503 {
                    ApiError::service_unavailable(
                        "the simulated cluster is unavailable (injected fault)",
                    )
                } else {
                    ApiError::internal("injected fault")
                };
                return (latency, Some(error));
            }
        }
        (latency, None)
    }

    /// Whether a list or watch (`verb`) of `resource` (as the metrics name
    /// it) is refused.
    pub(crate) fn list_denied(&self, verb: &str, resource: &str) -> Option<ApiError> {
        if !matches!(verb, "list" | "watch") {
            return None;
        }
        let shares = self.shares();
        shares
            .settings
            .deny_lists
            .iter()
            .any(|denied| denied == resource)
            .then(|| ApiError::cannot_list(verb, resource))
    }

    /// Whether a write to this object is denied.
    pub(crate) fn admit(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let shares = self.shares();
        let denial = shares.settings.deny_writes.iter().find(|d| {
            (d.resource == rt.plural || d.resource == rt.kind)
                && d.name == name
                && (d.namespace.is_empty() || d.namespace == namespace)
        });
        match denial {
            Some(d) => Err(ApiError::denied_by_webhook(
                d.code,
                "deny.driftdeck.dev",
                &d.message,
                rt.subject(),
                name,
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_of_requests_fail_exactly() {
        let faults = Faults::new(Arc::new(Store::new(10)));
        faults.fail_requests(0.25, 503).unwrap();
        let failed = (0..100)
            .filter(|_| faults.before_request().1.is_some())
            .count();
        assert_eq!(failed, 25);
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let faults = Faults::new(Arc::new(Store::new(10)));
        assert_eq!(
            faults.fail_requests(1.5, 500),
            Err(FaultError::Fraction(1.5))
        );
        assert_eq!(
            faults.fail_requests(0.5, 404),
            Err(FaultError::ErrorCode(404))
        );
    }
}
