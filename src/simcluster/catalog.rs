//! The resource types the simulated cluster serves: the built-in kinds of
//! issue 3 and the kinds CustomResourceDefinitions add. Discovery, routing
//! and storage all look types up here.

use std::sync::Arc;

use axum::body::Bytes;
use serde_json::Value;

use super::schema::{self, Shape};
use super::status::ErrorSubject;

/// Which names a kind accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NameRule {
    /// RFC 1123 subdomain: most kinds.
    Subdomain,
    /// RFC 1123 label: Namespace.
    Label,
    /// RFC 1035 label: Service.
    Dns1035,
    /// Anything but `.`, `..`, `/` and `%`: RBAC kinds.
    PathSegment,
}

/// Storage identity of a resource: group and plural, the same across its
/// versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    pub group: String,
    pub plural: String,
}

/// A column of the tables kubectl prints (`additionalPrinterColumns`).
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub kind: String,
    pub json_path: String,
}

/// One served resource at one version.
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub status_subresource: bool,
    /// Serves `/scale` (autoscaling/v1 Scale over `spec.replicas`).
    pub scale_subresource: bool,
    pub tracks_generation: bool,
    pub name_rule: NameRule,
    pub field_selectors: Vec<String>,
    pub shape: Shape,
    /// The CRD that serves this type, if it is a custom resource.
    pub crd: Option<CustomSource>,
}

/// What a custom resource type takes from its CRD.
#[derive(Debug, Clone)]
pub struct CustomSource {
    pub crd_name: String,
    pub schema: Option<Value>,
    pub printer_columns: Vec<PrinterColumn>,
    pub storage: bool,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }

    pub fn subject(&self) -> ErrorSubject<'_> {
        ErrorSubject {
            group: &self.group,
            plural: &self.plural,
            kind: &self.kind,
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn is_custom(&self) -> bool {
        self.crd.is_some()
    }

    /// Stored JSON as served at this version: a custom resource stored at
    /// another version takes this one's apiVersion (conversion `None`).
    pub fn present(&self, json: &Bytes) -> Bytes {
        if self.crd.is_none() {
            return json.clone();
        }
        let Ok(mut value) = serde_json::from_slice::<Value>(json) else {
            return json.clone();
        };
        let api_version = self.api_version();
        if value.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str()) {
            return json.clone();
        }
        if let Some(map) = value.as_object_mut() {
            map.insert("apiVersion".into(), Value::String(api_version));
        }
        Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
    }
}

struct Builtin {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    in_all: bool,
    status: bool,
    scale: bool,
    generation: bool,
    name_rule: NameRule,
    field_selectors: &'static [&'static str],
}

const fn builtin(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    short_names: &'static [&'static str],
) -> Builtin {
    Builtin {
        group,
        version,
        kind,
        plural,
        namespaced: true,
        short_names,
        in_all: false,
        status: false,
        scale: false,
        generation: false,
        name_rule: NameRule::Subdomain,
        field_selectors: &[],
    }
}

impl Builtin {
    const fn cluster_scoped(mut self) -> Self {
        self.namespaced = false;
        self
    }
    const fn in_all(mut self) -> Self {
        self.in_all = true;
        self
    }
    const fn with_status(mut self) -> Self {
        self.status = true;
        self
    }
    const fn with_scale(mut self) -> Self {
        self.scale = true;
        self
    }
    const fn generation(mut self) -> Self {
        self.generation = true;
        self
    }
    const fn names(mut self, rule: NameRule) -> Self {
        self.name_rule = rule;
        self
    }
    const fn selectors(mut self, fields: &'static [&'static str]) -> Self {
        self.field_selectors = fields;
        self
    }
}

const RBAC: &str = "rbac.authorization.k8s.io";

const BUILTINS: &[Builtin] = &[
    builtin("", "v1", "Namespace", "namespaces", &["ns"])
        .cluster_scoped()
        .with_status()
        .names(NameRule::Label)
        .selectors(&["status.phase"]),
    builtin("", "v1", "ConfigMap", "configmaps", &["cm"]),
    builtin("", "v1", "Secret", "secrets", &[]).selectors(&["type"]),
    builtin("", "v1", "Service", "services", &["svc"])
        .in_all()
        .with_status()
        .names(NameRule::Dns1035),
    builtin("", "v1", "ServiceAccount", "serviceaccounts", &["sa"]),
    builtin("", "v1", "Pod", "pods", &["po"])
        .in_all()
        .with_status()
        .generation()
        .selectors(&[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
        ]),
    builtin(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        &["pvc"],
    )
    .with_status(),
    builtin("", "v1", "Endpoints", "endpoints", &["ep"]),
    builtin("", "v1", "Event", "events", &["ev"]).selectors(&[
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ]),
    builtin("apps", "v1", "Deployment", "deployments", &["deploy"])
        .in_all()
        .with_status()
        .with_scale()
        .generation(),
    builtin("apps", "v1", "StatefulSet", "statefulsets", &["sts"])
        .in_all()
        .with_status()
        .with_scale()
        .generation(),
    builtin("apps", "v1", "DaemonSet", "daemonsets", &["ds"])
        .in_all()
        .with_status()
        .generation(),
    builtin("apps", "v1", "ReplicaSet", "replicasets", &["rs"])
        .in_all()
        .with_status()
        .with_scale()
        .generation(),
    builtin("batch", "v1", "Job", "jobs", &[])
        .in_all()
        .with_status()
        .generation()
        .selectors(&["status.successful"]),
    builtin("batch", "v1", "CronJob", "cronjobs", &["cj"])
        .in_all()
        .with_status()
        .generation(),
    builtin("networking.k8s.io", "v1", "Ingress", "ingresses", &["ing"])
        .with_status()
        .generation(),
    builtin(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        &["netpol"],
    )
    .generation(),
    builtin(RBAC, "v1", "Role", "roles", &[]).names(NameRule::PathSegment),
    builtin(RBAC, "v1", "RoleBinding", "rolebindings", &[]).names(NameRule::PathSegment),
    builtin(RBAC, "v1", "ClusterRole", "clusterroles", &[])
        .cluster_scoped()
        .names(NameRule::PathSegment),
    builtin(RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", &[])
        .cluster_scoped()
        .names(NameRule::PathSegment),
    builtin(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        &["pdb"],
    )
    .with_status()
    .generation(),
    builtin(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        &["hpa"],
    )
    .in_all()
    .with_status()
    .generation(),
    builtin("coordination.k8s.io", "v1", "Lease", "leases", &[]),
    builtin(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        &["crd", "crds"],
    )
    .cluster_scoped()
    .with_status()
    .generation(),
];

/// Every type served, in discovery order: built-ins first, then custom
/// resources in the order their CRDs were created.
#[derive(Debug, Clone)]
pub struct Catalog {
    types: Vec<Arc<ResourceType>>,
}

/// Why a CRD cannot be served; the text becomes a 422 cause.
#[derive(Debug, Clone, PartialEq)]
pub struct CrdProblem {
    pub field: String,
    pub message: String,
}

impl Catalog {
    pub fn builtin() -> Self {
        let types = BUILTINS
            .iter()
            .map(|b| {
                Arc::new(ResourceType {
                    group: b.group.to_string(),
                    version: b.version.to_string(),
                    kind: b.kind.to_string(),
                    plural: b.plural.to_string(),
                    singular: b.kind.to_lowercase(),
                    namespaced: b.namespaced,
                    short_names: b.short_names.iter().map(|s| s.to_string()).collect(),
                    categories: if b.in_all {
                        vec!["all".to_string()]
                    } else {
                        Vec::new()
                    },
                    status_subresource: b.status,
                    scale_subresource: b.scale,
                    tracks_generation: b.generation,
                    name_rule: b.name_rule,
                    field_selectors: b.field_selectors.iter().map(|s| s.to_string()).collect(),
                    shape: schema::builtin(b.group, b.kind),
                    crd: None,
                })
            })
            .collect();
        Self { types }
    }

    pub fn types(&self) -> impl Iterator<Item = &Arc<ResourceType>> {
        self.types.iter()
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .cloned()
    }

    /// The type an object's `apiVersion` and `kind` name.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.kind == kind)
            .cloned()
    }

    /// The version objects of this resource are stored at.
    pub fn storage_type(&self, key: &ResourceKey) -> Option<Arc<ResourceType>> {
        let mut versions = self
            .types
            .iter()
            .filter(|t| t.group == key.group && t.plural == key.plural);
        let first = versions.next()?.clone();
        if first.crd.as_ref().is_none_or(|c| c.storage) {
            return Some(first);
        }
        Some(
            versions
                .find(|t| t.crd.as_ref().is_some_and(|c| c.storage))
                .cloned()
                .unwrap_or(first),
        )
    }

    /// Groups and their versions, in discovery order.
    pub fn group_versions(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        out
    }

    /// Checks a CRD and gives the types it serves; the catalog is unchanged.
    pub fn types_of_crd(&self, crd: &Value) -> Result<Vec<ResourceType>, Vec<CrdProblem>> {
        let text = |pointer: &str| crd.pointer(pointer).and_then(Value::as_str).unwrap_or("");
        let name = text("/metadata/name");
        let group = text("/spec/group");
        let plural = text("/spec/names/plural");
        let kind = text("/spec/names/kind");
        let scope = text("/spec/scope");
        let mut problems = Vec::new();
        let mut require = |value: &str, field: &str| {
            if value.is_empty() {
                problems.push(CrdProblem {
                    field: field.into(),
                    message: "Required value".into(),
                });
            }
        };
        require(group, "spec.group");
        require(plural, "spec.names.plural");
        require(kind, "spec.names.kind");
        if !matches!(scope, "Namespaced" | "Cluster") {
            problems.push(CrdProblem {
                field: "spec.scope".into(),
                message: format!(
                    "Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\""
                ),
            });
        }
        if !plural.is_empty() && !group.is_empty() && name != format!("{plural}.{group}") {
            problems.push(CrdProblem {
                field: "metadata.name".into(),
                message: format!(
                    "Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"
                ),
            });
        }
        if !group.is_empty() && !group.contains('.') {
            problems.push(CrdProblem {
                field: "spec.group".into(),
                message: format!(
                    "Invalid value: \"{group}\": should be a domain with at least one dot"
                ),
            });
        }
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if versions.is_empty() {
            problems.push(CrdProblem {
                field: "spec.versions".into(),
                message:
                    "Invalid value: null: must have exactly one version marked as storage version"
                        .into(),
            });
        } else if versions
            .iter()
            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .count()
            != 1
        {
            problems.push(CrdProblem {
                field: "spec.versions".into(),
                message: "Invalid value: must have exactly one version marked as storage version"
                    .into(),
            });
        }
        let taken = self.types.iter().any(|t| {
            t.group == group
                && t.plural == plural
                && t.crd.as_ref().is_none_or(|c| c.crd_name != name)
        });
        if taken {
            problems.push(CrdProblem {
                field: "spec.names.plural".into(),
                message: format!("Invalid value: \"{plural}\": is already served"),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let strings = |pointer: &str| -> Vec<String> {
            crd.pointer(pointer)
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let singular = match text("/spec/names/singular") {
            "" => kind.to_lowercase(),
            s => s.to_string(),
        };
        let mut types = Vec::new();
        for version in &versions {
            if version.get("served").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let schema = version.pointer("/schema/openAPIV3Schema").cloned();
            let printer_columns = version
                .get("additionalPrinterColumns")
                .and_then(Value::as_array)
                .map(|columns| {
                    columns
                        .iter()
                        .map(|c| PrinterColumn {
                            name: c.get("name").and_then(Value::as_str).unwrap_or("").into(),
                            kind: c
                                .get("type")
                                .and_then(Value::as_str)
                                .unwrap_or("string")
                                .into(),
                            json_path: c
                                .get("jsonPath")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .into(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            types.push(ResourceType {
                group: group.into(),
                version: version
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .into(),
                kind: kind.into(),
                plural: plural.into(),
                singular: singular.clone(),
                namespaced: scope == "Namespaced",
                short_names: strings("/spec/names/shortNames"),
                categories: strings("/spec/names/categories"),
                status_subresource: version.pointer("/subresources/status").is_some(),
                scale_subresource: false,
                tracks_generation: true,
                name_rule: NameRule::Subdomain,
                field_selectors: Vec::new(),
                shape: schema::from_openapi(schema.as_ref()),
                crd: Some(CustomSource {
                    crd_name: name.into(),
                    schema,
                    printer_columns,
                    storage: version.get("storage").and_then(Value::as_bool) == Some(true),
                }),
            });
        }
        Ok(types)
    }

    /// Serves the types of a CRD (replacing what it served before).
    pub fn install(&mut self, crd_name: &str, types: Vec<ResourceType>) {
        self.remove_crd(crd_name);
        self.types.extend(types.into_iter().map(Arc::new));
    }

    pub fn remove_crd(&mut self, crd_name: &str) {
        self.types
            .retain(|t| t.crd.as_ref().is_none_or(|c| c.crd_name != crd_name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(name: &str) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                     "versions": [{"name": "v1", "served": true, "storage": true,
                                   "subresources": {"status": {}}}]}
        })
    }

    #[test]
    fn a_crd_adds_its_kind_and_removing_it_takes_it_away() {
        let mut catalog = Catalog::builtin();
        let types = catalog.types_of_crd(&crd("widgets.example.com")).unwrap();
        catalog.install("widgets.example.com", types);
        let widget = catalog.find("example.com", "v1", "widgets").unwrap();
        assert!(widget.namespaced && widget.status_subresource);
        assert_eq!(widget.short_names, vec!["wd"]);
        catalog.remove_crd("widgets.example.com");
        assert!(catalog.find("example.com", "v1", "widgets").is_none());
    }

    #[test]
    fn a_crd_whose_name_does_not_match_is_refused() {
        let problems = Catalog::builtin()
            .types_of_crd(&crd("gadgets.example.com"))
            .unwrap_err();
        assert_eq!(problems[0].field, "metadata.name");
    }

    #[test]
    fn core_kinds_are_found_by_api_version_and_kind() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.by_kind("v1", "Service").unwrap().plural, "services");
        assert_eq!(
            catalog
                .by_kind("apps/v1", "Deployment")
                .unwrap()
                .short_names,
            vec!["deploy"]
        );
        assert!(catalog.by_kind("apps/v1", "Nope").is_none());
    }
}
