//! What names an object in a cluster: group, version, kind, namespace, name.

use std::fmt;

use serde::Serialize;

use crate::resource::ResourceKey;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectId {
    /// `""` for the core group (`apiVersion: v1`).
    pub group: String,
    pub version: String,
    pub kind: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectId {
    /// Two objects with the same key are the same object in the cluster,
    /// whatever version of the API they are written in.
    pub fn key(&self) -> (&str, &str, Option<&str>, &str) {
        (
            &self.group,
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }

    /// The identity the cluster and the comparison pair objects by.
    pub fn resource_key(&self) -> ResourceKey {
        ResourceKey {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// `Deployment "shop/web"` for a namespaced object, `Namespace "shop"` for a
/// cluster-scoped one.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} \"{namespace}/{}\"", self.kind, self.name),
            None => write!(f, "{} \"{}\"", self.kind, self.name),
        }
    }
}

/// Whether a kind lives in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Namespaced,
    Cluster,
    /// Neither a built-in kind nor one a CustomResourceDefinition in the
    /// desired state defines; treated as namespaced until discovery says otherwise.
    Unknown,
}

/// Built-in kinds that are not namespaced (Kubernetes 1.33), by group and kind.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "ComponentStatus"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
];

/// Groups whose kinds are all built in: a kind of theirs missing from
/// [`CLUSTER_SCOPED`] is namespaced.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// The scope of a built-in kind; `None` for kinds of other groups.
pub fn built_in_scope(group: &str, kind: &str) -> Option<Scope> {
    if CLUSTER_SCOPED.contains(&(group, kind)) {
        Some(Scope::Cluster)
    } else if BUILT_IN_GROUPS.contains(&group) {
        Some(Scope::Namespaced)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_have_a_scope() {
        assert_eq!(built_in_scope("", "Namespace"), Some(Scope::Cluster));
        assert_eq!(built_in_scope("", "ConfigMap"), Some(Scope::Namespaced));
        assert_eq!(
            built_in_scope("apps", "Deployment"),
            Some(Scope::Namespaced)
        );
        assert_eq!(
            built_in_scope("rbac.authorization.k8s.io", "ClusterRole"),
            Some(Scope::Cluster)
        );
        assert_eq!(built_in_scope("cert-manager.io", "ClusterIssuer"), None);
    }

    #[test]
    fn display_names_kind_namespace_and_name() {
        let mut id = ObjectId {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        };
        assert_eq!(id.to_string(), "Deployment \"shop/web\"");
        id.namespace = None;
        assert_eq!(id.to_string(), "Deployment \"web\"");
    }
}
