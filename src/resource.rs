//! Kubernetes objects as driftdeck names them: the identity desired and live
//! objects are paired by (group, kind, namespace, name), and the stamps
//! driftdeck writes on every object it applies. Shared by the manifests, the
//! cluster and the comparison, so all three mean the same object.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which object a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceKey {
    /// The API group, `""` for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped objects and for desired objects that name no
    /// namespace (they go to the app's default one).
    pub namespace: Option<String>,
    pub name: String,
}

/// Why an object has no usable identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the object is not a mapping")]
    NotAnObject,
    #[error("the object has no kind")]
    NoKind,
    #[error("{kind} has no metadata.name")]
    NoName { kind: String },
}

/// The field manager driftdeck applies with; its entries in `managedFields`
/// are evidence of what Git set.
pub const FIELD_MANAGER: &str = "driftdeck";
/// Label naming the app an object belongs to.
pub const APP_LABEL: &str = "driftdeck.dev/app";
/// Label marking objects that driftdeck manages.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Annotation holding the commit id an object was applied from.
pub const REVISION_ANNOTATION: &str = "driftdeck.dev/revision";
/// Annotation holding the commit an app is pinned to (a rollback), on the
/// objects a sync applied while pinned, so that other operators see the pin.
pub const PINNED_ANNOTATION: &str = "driftdeck.dev/pinned";

/// The app an object belongs to by its `APP_LABEL`, if it carries one.
pub fn app_of(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/labels")
        .and_then(|labels| labels.get(APP_LABEL))
        .and_then(Value::as_str)
}

impl ResourceKey {
    pub fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ResourceKey {
        ResourceKey {
            group: group_of(api_version).to_string(),
            kind: kind.to_string(),
            namespace: namespace.filter(|ns| !ns.is_empty()).map(str::to_string),
            name: name.to_string(),
        }
    }

    /// The identity of an object, or what is missing from it.
    pub fn of(object: &Value) -> Result<ResourceKey, KeyError> {
        if !object.is_object() {
            return Err(KeyError::NotAnObject);
        }
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or(KeyError::NoKind)?;
        let name = object
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| KeyError::NoName {
                kind: kind.to_string(),
            })?;
        let namespace = object
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        Ok(ResourceKey {
            group: group_of(api_version).to_string(),
            kind: kind.to_string(),
            namespace,
            name: name.to_string(),
        })
    }
}

impl ResourceKey {
    /// `namespace/name`, or `name` for a cluster-scoped object.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The short form of a commit id people read: its first 7 characters.
/// Other revisions (a chart version, Flux's `main@sha1:…`, which
/// `short_revision_text` shortens) are kept whole.
pub fn short_revision(revision: &str) -> &str {
    if revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        revision.get(..7).unwrap_or(revision)
    } else {
        revision
    }
}

/// `short_revision`, and Flux's `BRANCH@sha1:ID` as `BRANCH@` and the
/// short id.
pub fn short_revision_text(revision: &str) -> String {
    match revision.split_once("@sha1:") {
        Some((reference, id)) => format!("{reference}@{}", short_revision(id)),
        None => short_revision(revision).to_string(),
    }
}

/// The group part of an `apiVersion`: `apps/v1` → `apps`, `v1` → `""`.
pub fn group_of(api_version: &str) -> &str {
    split_api_version(api_version).0
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// `Deployment default/nginx`, `ClusterRole admin`.
impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.qualified_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_reads_group_kind_namespace_and_name() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}});
        let key = ResourceKey::of(&object).unwrap();
        assert_eq!(key.group, "apps");
        assert_eq!(key.namespace.as_deref(), Some("shop"));
        assert_eq!(key.to_string(), "Deployment shop/web");
    }

    #[test]
    fn core_group_is_empty_and_cluster_scope_has_no_namespace() {
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        let key = ResourceKey::of(&object).unwrap();
        assert_eq!(key.group, "");
        assert_eq!(key.namespace, None);
        assert_eq!(key.to_string(), "Namespace shop");
    }

    #[test]
    fn api_versions_split_into_group_and_version() {
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(
            split_api_version("example.com/v1beta1"),
            ("example.com", "v1beta1")
        );
        let key = ResourceKey::new("networking.k8s.io/v1", "Ingress", Some(""), "web");
        assert_eq!(
            (key.group.as_str(), key.namespace),
            ("networking.k8s.io", None)
        );
    }

    #[test]
    fn key_names_what_is_missing() {
        assert_eq!(ResourceKey::of(&json!([1])), Err(KeyError::NotAnObject));
        assert_eq!(
            ResourceKey::of(&json!({"metadata": {"name": "x"}})),
            Err(KeyError::NoKind)
        );
        assert_eq!(
            ResourceKey::of(&json!({"kind": "Service", "metadata": {}}))
                .unwrap_err()
                .to_string(),
            "Service has no metadata.name"
        );
    }
}
