//! The cluster side: a kube client per kubeconfig context, discovery, the
//! live objects of each app (read once, or kept current by watches).

mod apply;
mod client;
mod kinds;
mod lease;
mod live;
mod live_object;
mod live_update;
mod read_once;
mod retry;
mod store;
mod watch;
mod watch_task;

pub use apply::{
    ApplyMode, WriteRefusal, apply, delete, dry_run_apply, get, merge_patch, replace_managed_fields,
};
pub use client::{
    ClusterClient, DEFAULT_REQUEST_TIMEOUT, NoAnswer, RequestTally, seconds, set_request_timeout,
};
pub use kinds::{KindCatalog, ServedKind};
pub use lease::{LEASE_DURATION, LeaseError, LeaseRequest, SyncLease, lease_name};
pub use live::{LiveRead, PodQuery, Unreadable, Wanted, kind_label, probe_pods};
pub use live_object::LiveObject;
pub use live_update::{LiveUpdate, WatchId};
pub use read_once::read_once;
pub use store::LiveStore;
pub use watch::{LiveCache, Tracked};
pub use watch_task::KeepManagers;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("kubeconfig context \"{context}\": {cause}")]
    Kubeconfig { context: String, cause: String },
    #[error("cluster \"{context}\": {what}: {cause}")]
    Api {
        context: String,
        what: String,
        cause: String,
    },
    #[error("cluster \"{context}\" cannot be reached: {cause}")]
    Unreachable { context: String, cause: String },
}

impl ClusterError {
    fn api(context: &str, what: &str, err: kube::Error) -> Self {
        ClusterError::Api {
            context: context.to_string(),
            what: what.to_string(),
            cause: describe_kube_error(&err),
        }
    }
}

/// A kube error as one line: the API's status and message, or the chain of
/// causes of a connection failure.
pub fn describe_kube_error(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                "error"
            } else {
                &status.reason
            };
            format!("{} {reason}: {}", status.code, status.message)
        }
        kube::Error::Service(inner) => match inner.downcast_ref::<NoAnswer>() {
            Some(no_answer) => no_answer.to_string(),
            None => crate::causes::with_causes(err),
        },
        other => crate::causes::with_causes(other),
    }
}
