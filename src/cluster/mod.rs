//! The cluster side: a kube client per kubeconfig context, discovery, the
//! live objects of each app (read once, or kept current by watches).

mod client;
mod kinds;
mod live;
mod store;
mod watch;

use std::fmt;

use serde_json::Value;

pub use client::{ClusterClient, RequestTally};
pub use kinds::{KindCatalog, ServedKind, split_api_version};
pub use live::{LiveRead, Unreadable, Wanted, kind_label, read_app};
pub use store::{LiveStore, LiveUpdate, WatchId};
pub use watch::LiveCache;

/// The label driftdeck puts on every object it applies, naming the app.
pub const APP_LABEL: &str = "driftdeck.dev/app";

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
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !text.contains(&cause_text) {
                    text.push_str(": ");
                    text.push_str(&cause_text);
                }
                source = cause.source();
            }
            text
        }
    }
}

/// Which object: group, kind, namespace (none for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    pub fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            group: split_api_version(api_version).0.to_string(),
            kind: kind.to_string(),
            namespace: namespace.filter(|ns| !ns.is_empty()).map(str::to_string),
            name: name.to_string(),
        }
    }

    /// The key of an object with `apiVersion`, `kind` and `metadata.name`.
    pub fn of(object: &Value) -> Option<Self> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        let name = object.pointer("/metadata/name")?.as_str()?;
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        Some(ObjectKey::new(api_version, kind, namespace, name))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", kind_label(&self.group, &self.kind))?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_keys_read_group_namespace_and_name() {
        let key = ObjectKey::of(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}
        }))
        .unwrap();
        assert_eq!(key.to_string(), "apps/Deployment shop/web");
        let cluster_scoped = ObjectKey::of(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        )
        .unwrap();
        assert_eq!(cluster_scoped.to_string(), "Namespace shop");
        assert!(ObjectKey::of(&json!({"kind": "Namespace"})).is_none());
    }
}
