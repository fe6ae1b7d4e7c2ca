//! Discovery as the API server serves it: `/version`, the legacy documents
//! (`/api`, `/apis`, `/apis/{group}`, the resource lists) and aggregated
//! discovery (`apidiscovery.k8s.io/v2`), which kubectl 1.33 and kube's
//! `run_aggregated` ask for in two requests.

use serde_json::{Value, json};

use super::catalog::{Catalog, ResourceType};
use super::table::media_type_asks;

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];
/// The order the API server lists a custom resource's verbs in.
const CUSTOM_VERBS: &[&str] = &[
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
];

/// The verbs a resource list names for a type: namespaces cannot be deleted
/// as a collection.
fn verbs(t: &ResourceType) -> Vec<&'static str> {
    if t.is_custom() {
        return CUSTOM_VERBS.to_vec();
    }
    VERBS
        .iter()
        .copied()
        .filter(|verb| {
            !(t.group.is_empty() && t.plural == "namespaces" && *verb == "deletecollection")
        })
        .collect()
}

/// The media type of an aggregated discovery answer.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
pub const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// Which aggregated discovery version an Accept header asks for, if any.
pub fn aggregated_version(accept: &str) -> Option<&'static str> {
    ["v2", "v2beta1"].into_iter().find(|version| {
        media_type_asks(
            accept,
            "APIGroupDiscoveryList",
            "apidiscovery.k8s.io",
            version,
        )
    })
}

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0-driftdeck-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let listed: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = listed.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": listed, "preferredVersion": preferred})
}

/// The order kube-apiserver 1.33 lists its built-in groups in (by their
/// priority, not by name); custom resources' groups come after, by name.
const GROUP_ORDER: &[&str] = &[
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
];

/// The catalog's groups and versions in the order the API server lists them.
fn ordered_group_versions(catalog: &Catalog) -> Vec<(String, Vec<String>)> {
    let mut groups = catalog.group_versions();
    groups.sort_by_key(|(group, _)| {
        let rank = GROUP_ORDER
            .iter()
            .position(|known| known == group)
            .unwrap_or(GROUP_ORDER.len());
        (rank, group.clone())
    });
    groups
}

pub fn groups(catalog: &Catalog) -> Value {
    let groups: Vec<Value> = ordered_group_versions(catalog)
        .iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, versions)| group_entry(group, versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(catalog: &Catalog, name: &str) -> Option<Value> {
    let (group, versions) = catalog
        .group_versions()
        .into_iter()
        .find(|(g, _)| g == name && !g.is_empty())?;
    let mut entry = group_entry(&group, &versions);
    if let Some(map) = entry.as_object_mut() {
        map.insert("kind".into(), json!("APIGroup"));
        map.insert("apiVersion".into(), json!("v1"));
    }
    Some(entry)
}

fn types_of<'a>(
    catalog: &'a Catalog,
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'a ResourceType> {
    catalog
        .types()
        .filter(move |t| t.group == group && t.version == version)
        .map(|t| t.as_ref())
}

pub fn resources(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for t in types_of(catalog, group, version) {
        let mut entry = json!({
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": verbs(t),
        });
        // Empty lists are left out, as the API server's omitempty does.
        if let Some(map) = entry.as_object_mut() {
            if !t.short_names.is_empty() {
                map.insert("shortNames".into(), json!(t.short_names));
            }
            if !t.categories.is_empty() {
                map.insert("categories".into(), json!(t.categories));
            }
        }
        resources.push(entry);
        if t.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", t.plural),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": STATUS_VERBS,
            }));
        }
        if t.scale_subresource {
            resources.push(json!({
                "name": format!("{}/scale", t.plural),
                "singularName": "",
                "namespaced": t.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": STATUS_VERBS,
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    // Sorted by name, subresources after their resource, as served.
    resources.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    // The core group's list is the one without an apiVersion.
    if group.is_empty() {
        return Some(json!({
            "kind": "APIResourceList",
            "groupVersion": version,
            "resources": resources,
        }));
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{group}/{version}"),
        "resources": resources,
    }))
}

fn aggregated_group(catalog: &Catalog, group: &str, versions: &[String]) -> Value {
    // A response kind in the resource's own group and version leaves both
    // empty; empty lists are left out; everything sorted by name.
    let own = |kind: &str| json!({"group": "", "version": "", "kind": kind});
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| {
            let mut resources: Vec<Value> = types_of(catalog, group, version)
                .map(|t| {
                    let mut subresources = Vec::new();
                    if t.scale_subresource {
                        let scale = json!({"group": "autoscaling", "version": "v1", "kind": "Scale"});
                        subresources.push(json!({"subresource": "scale", "responseKind": scale, "verbs": STATUS_VERBS}));
                    }
                    if t.status_subresource {
                        subresources.push(json!({"subresource": "status", "responseKind": own(&t.kind), "verbs": STATUS_VERBS}));
                    }
                    let mut entry = json!({
                        "resource": t.plural,
                        "responseKind": own(&t.kind),
                        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": t.singular,
                        "verbs": verbs(t),
                    });
                    if let Some(map) = entry.as_object_mut() {
                        if !t.short_names.is_empty() {
                            map.insert("shortNames".into(), json!(t.short_names));
                        }
                        if !t.categories.is_empty() {
                            map.insert("categories".into(), json!(t.categories));
                        }
                        if !subresources.is_empty() {
                            map.insert("subresources".into(), json!(subresources));
                        }
                    }
                    entry
                })
                .collect();
            resources.sort_by(|a, b| a["resource"].as_str().cmp(&b["resource"].as_str()));
            json!({"version": version, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

/// Aggregated discovery of the core group (`core`) or of every other group.
pub fn aggregated(catalog: &Catalog, core: bool, version: &str) -> Value {
    let items: Vec<Value> = ordered_group_versions(catalog)
        .iter()
        .filter(|(group, _)| group.is_empty() == core)
        .map(|(group, versions)| aggregated_group(catalog, group, versions))
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_header_selects_aggregated_v2() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(kubectl), Some("v2"));
        assert_eq!(aggregated_version("application/json"), None);
        assert_eq!(
            aggregated_version(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            ),
            Some("v2beta1")
        );
    }

    #[test]
    fn resource_lists_carry_status_subresources() {
        let list = resources(&Catalog::builtin(), "apps", "v1").unwrap();
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"deployments") && names.contains(&"deployments/status"));
        assert!(resources(&Catalog::builtin(), "apps", "v9").is_none());
    }

    #[test]
    fn resource_lists_read_as_the_api_servers() {
        let core = resources(&Catalog::builtin(), "", "v1").unwrap();
        assert!(core.get("apiVersion").is_none(), "the core list has none");
        let entries = core["resources"].as_array().unwrap();
        let names: Vec<&str> = entries
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        let entry = |name: &str| entries.iter().find(|r| r["name"] == name).unwrap();
        assert!(
            entry("secrets").get("shortNames").is_none(),
            "no empty lists"
        );
        assert_eq!(entry("configmaps")["shortNames"], json!(["cm"]));
        let verbs = entry("namespaces")["verbs"].as_array().unwrap();
        assert!(!verbs.contains(&json!("deletecollection")));
        let apps = resources(&Catalog::builtin(), "apps", "v1").unwrap();
        assert_eq!(apps["apiVersion"], "v1");
    }

    #[test]
    fn aggregated_discovery_reads_as_the_api_servers() {
        let catalog = Catalog::builtin();
        let core = aggregated(&catalog, true, "v2");
        assert!(core["items"][0]["metadata"].get("name").is_none());
        let groups = aggregated(&catalog, false, "v2");
        let names: Vec<&str> = groups["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["metadata"]["name"].as_str().unwrap())
            .collect();
        let position = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert!(
            position("apps") < position("batch"),
            "by priority: {names:?}"
        );
        assert!(
            position("batch") < position("coordination.k8s.io"),
            "{names:?}"
        );
        let apps = &groups["items"][position("apps")]["versions"][0]["resources"];
        let deployments = apps
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "deployments")
            .unwrap();
        assert_eq!(
            deployments["responseKind"],
            json!({"group": "", "version": "", "kind": "Deployment"})
        );
        let subresources: Vec<&str> = deployments["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subresource"].as_str().unwrap())
            .collect();
        assert_eq!(subresources, ["scale", "status"]);
    }
}
