//! One sync per app at a time, across processes and operators: a
//! `coordination.k8s.io/v1` Lease `driftdeck-APP`, held and renewed while a
//! sync runs and deleted after. A Lease left by a crashed process expires
//! by its duration and is then taken over.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::client::REQUEST_TIMEOUT;
use super::{ClusterClient, describe_kube_error};
use crate::resource::{APP_LABEL, MANAGED_BY_LABEL};

/// How long a Lease stays held without renewal: a crashed sync blocks the
/// app for at most this long.
pub const LEASE_DURATION: Duration = Duration::from_secs(60);
/// Tells this process's Lease from another's with the same user@host.
const HOLDER_TOKEN_ANNOTATION: &str = "driftdeck.dev/holder-token";

#[derive(Debug, Clone, thiserror::Error)]
pub enum LeaseError {
    #[error(
        "app \"{app}\": another sync is running: Lease {namespace}/{name} is held by {holder} since {since}"
    )]
    Held {
        app: String,
        namespace: String,
        name: String,
        holder: String,
        since: String,
    },
    #[error("app \"{app}\": Lease {namespace}/{name}: {cause}")]
    Api {
        app: String,
        namespace: String,
        name: String,
        cause: String,
    },
}

/// The Lease's name for an app.
pub fn lease_name(app: &str) -> String {
    format!("driftdeck-{app}")
}

/// Where and by whom a Lease is taken.
#[derive(Debug, Clone)]
pub struct LeaseRequest<'a> {
    pub app: &'a str,
    pub namespace: &'a str,
    /// `user@host`, shown to whoever is refused.
    pub holder: &'a str,
    pub duration: Duration,
}

/// A held Lease: renewed by a task until released (or dropped, which
/// releases it in the background).
#[derive(Debug)]
pub struct SyncLease {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), LeaseError>>>,
}

/// The Lease as this process holds it.
struct Held {
    api: Api<Lease>,
    app: String,
    namespace: String,
    name: String,
    token: String,
    lease: Lease,
    duration: Duration,
}

impl SyncLease {
    /// Takes the app's Lease, or says who holds it. An expired Lease is taken over.
    pub async fn acquire(
        client: &ClusterClient,
        request: &LeaseRequest<'_>,
    ) -> Result<SyncLease, LeaseError> {
        let name = lease_name(request.app);
        let api: Api<Lease> = Api::namespaced(client.kube().clone(), request.namespace);
        let fail = |cause: String| LeaseError::Api {
            app: request.app.to_string(),
            namespace: request.namespace.to_string(),
            name: name.clone(),
            cause,
        };
        let token = uuid::Uuid::new_v4().to_string();
        let mut lease = wanted(request, &name, &token);
        let existing = timed(api.get_opt(&name)).await.map_err(|f| fail(f.text))?;
        let written = match existing {
            None => match timed(api.create(&PostParams::default(), &lease)).await {
                Err(failure) if failure.code == 404 => {
                    ensure_namespace(client, request.namespace)
                        .await
                        .map_err(|f| fail(f.text))?;
                    timed(api.create(&PostParams::default(), &lease)).await
                }
                other => other,
            },
            Some(current) => {
                if let Some(refusal) = held_by_other(&current, request, &name) {
                    return Err(refusal);
                }
                lease.metadata.resource_version = current.metadata.resource_version.clone();
                let transitions = current
                    .spec
                    .as_ref()
                    .and_then(|s| s.lease_transitions)
                    .unwrap_or(0);
                if let Some(spec) = lease.spec.as_mut() {
                    spec.lease_transitions = Some(transitions + 1);
                }
                timed(api.replace(&name, &PostParams::default(), &lease)).await
            }
        };
        let lease = match written {
            Ok(lease) => lease,
            // Another process wrote it between our read and our write.
            Err(failure) if failure.code == 409 => {
                let current = timed(api.get(&name)).await.map_err(|f| fail(f.text))?;
                return Err(held_by_other(&current, request, &name)
                    .unwrap_or_else(|| fail("taken by another sync at the same moment".into())));
            }
            Err(failure) => return Err(fail(failure.text)),
        };
        let held = Held {
            api,
            app: request.app.to_string(),
            namespace: request.namespace.to_string(),
            name,
            token,
            lease,
            duration: request.duration,
        };
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(held.hold(stopped));
        Ok(SyncLease {
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Stops renewing and deletes the Lease.
    pub async fn release(mut self) -> Result<(), LeaseError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Held {
    /// Renews until told to stop (or the guard is dropped), then releases.
    async fn hold(mut self, mut stopped: oneshot::Receiver<()>) -> Result<(), LeaseError> {
        let every = self.duration / 3;
        loop {
            tokio::select! {
                _ = &mut stopped => return self.release().await,
                _ = tokio::time::sleep(every) => {
                    if let Err(failure) = self.renew().await {
                        tracing::warn!(app = %self.app, cause = %failure.text, "cannot renew the sync Lease");
                    }
                }
            }
        }
    }

    async fn renew(&mut self) -> Result<(), Failure> {
        if let Some(spec) = self.lease.spec.as_mut() {
            spec.renew_time = Some(MicroTime(Timestamp::now()));
        }
        self.lease = timed(
            self.api
                .replace(&self.name, &PostParams::default(), &self.lease),
        )
        .await?;
        Ok(())
    }

    async fn release(self) -> Result<(), LeaseError> {
        let fail = |cause: String| LeaseError::Api {
            app: self.app.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            cause,
        };
        // Delete only our own Lease: one taken over after expiry is not ours.
        let current = timed(self.api.get_opt(&self.name))
            .await
            .map_err(|f| fail(f.text))?;
        let Some(current) = current.filter(|l| token_of(l) == Some(self.token.as_str())) else {
            return Ok(());
        };
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: current.metadata.resource_version.clone(),
                uid: None,
            }),
            ..DeleteParams::default()
        };
        match timed(self.api.delete(&self.name, &params)).await {
            Ok(_) => Ok(()),
            Err(failure) if failure.code == 404 => Ok(()),
            Err(failure) => Err(fail(failure.text)),
        }
    }
}

impl Drop for SyncLease {
    fn drop(&mut self) {
        // The task sees the sender go and releases the Lease.
        self.stop.take();
    }
}

fn wanted(request: &LeaseRequest<'_>, name: &str, token: &str) -> Lease {
    let now = MicroTime(Timestamp::now());
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(request.namespace.to_string()),
            labels: Some(
                [
                    (MANAGED_BY_LABEL.to_string(), "driftdeck".to_string()),
                    (APP_LABEL.to_string(), request.app.to_string()),
                ]
                .into(),
            ),
            annotations: Some([(HOLDER_TOKEN_ANNOTATION.to_string(), token.to_string())].into()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(request.holder.to_string()),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_duration_seconds: Some(
                i32::try_from(request.duration.as_secs().max(1)).unwrap_or(i32::MAX),
            ),
            lease_transitions: Some(0),
            ..LeaseSpec::default()
        }),
    }
}

fn token_of(lease: &Lease) -> Option<&str> {
    lease
        .metadata
        .annotations
        .as_ref()?
        .get(HOLDER_TOKEN_ANNOTATION)
        .map(String::as_str)
}

/// The refusal when a live, unexpired Lease has a holder.
fn held_by_other(current: &Lease, request: &LeaseRequest<'_>, name: &str) -> Option<LeaseError> {
    let spec = current.spec.as_ref()?;
    let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty())?;
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    let expires = renewed
        .checked_add(jiff::SignedDuration::from_secs(duration))
        .ok()?;
    if expires <= Timestamp::now() {
        return None;
    }
    let since = spec.acquire_time.as_ref().map_or(renewed, |t| t.0);
    Some(LeaseError::Held {
        app: request.app.to_string(),
        namespace: request.namespace.to_string(),
        name: name.to_string(),
        holder: holder.to_string(),
        since: since.round(jiff::Unit::Second).unwrap_or(since).to_string(),
    })
}

/// Creates the namespace the Lease goes in when it does not exist yet (a
/// first sync into a new namespace): unlabelled, so no app ever prunes it.
async fn ensure_namespace(client: &ClusterClient, namespace: &str) -> Result<(), Failure> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.kube().clone());
    let object = k8s_openapi::api::core::v1::Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.to_string()),
            ..ObjectMeta::default()
        },
        ..Default::default()
    };
    match timed(api.create(&PostParams::default(), &object)).await {
        Ok(_) => Ok(()),
        Err(failure) if failure.code == 409 => Ok(()),
        Err(failure) => Err(failure),
    }
}

/// Why a request failed: the API's status code (0 when there was no
/// answer) and the error as one line.
#[derive(Debug)]
struct Failure {
    code: u16,
    text: String,
}

impl From<Failure> for String {
    fn from(failure: Failure) -> String {
        failure.text
    }
}

/// A request with the cluster layer's timeout.
async fn timed<T>(request: impl Future<Output = Result<T, kube::Error>>) -> Result<T, Failure> {
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Err(_) => Err(Failure {
            code: 0,
            text: format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()),
        }),
        Ok(Err(err)) => Err(Failure {
            code: match &err {
                kube::Error::Api(status) => status.code,
                _ => 0,
            },
            text: describe_kube_error(&err),
        }),
        Ok(Ok(value)) => Ok(value),
    }
}
