//! The OpenAPI documents kubectl reads. kubectl 1.33 asks `/openapi/v3`
//! whether each kind's PATCH accepts `fieldValidation` (if so, it leaves
//! validation to the server) and whether it accepts strategic merge patches
//! (if so, it computes client-side apply patches from the OpenAPI schema).
//!
//! Each group-version document therefore lists every kind's paths with
//! their query parameters, but its PATCH omits the strategic merge content
//! type: kubectl then falls back to `/openapi/v2`, which answers 404, and
//! then to its compiled-in Go types, which carry the exact merge keys of
//! every built-in kind. Custom resources get JSON merge patches, as on a
//! real cluster.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value, json};

use super::catalog::{Catalog, ResourceType};

fn api_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn definition_name(t: &ResourceType) -> String {
    let group = if t.group.is_empty() {
        "core"
    } else {
        t.group.as_str()
    };
    format!("io.driftdeck.sim.{group}.{}.{}", t.version, t.kind)
}

fn query_parameter(name: &str, kind: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": true}})
}

fn operation(t: &ResourceType, action: &str, parameters: Vec<Value>, body_types: &[&str]) -> Value {
    let reference = json!({"$ref": format!("#/components/schemas/{}", definition_name(t))});
    let mut op = json!({
        "operationId": format!("{action}{}", t.kind),
        "parameters": parameters,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": t.group, "version": t.version, "kind": t.kind},
    });
    if !body_types.is_empty()
        && let Some(map) = op.as_object_mut()
    {
        let content: Map<String, Value> = body_types
            .iter()
            .map(|media| ((*media).to_string(), json!({"schema": {"type": "object"}})))
            .collect();
        map.insert(
            "requestBody".into(),
            json!({"content": content, "required": true}),
        );
    }
    op
}

fn paths_of(t: &ResourceType, paths: &mut Map<String, Value>) {
    let prefix = format!("/{}", api_prefix(&t.group, &t.version));
    let collection = if t.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", t.plural)
    } else {
        format!("{prefix}/{}", t.plural)
    };
    let writes = || {
        vec![
            query_parameter("dryRun", "string"),
            query_parameter("fieldManager", "string"),
            query_parameter("fieldValidation", "string"),
        ]
    };
    let mut patch_parameters = writes();
    patch_parameters.push(query_parameter("force", "boolean"));
    let list_parameters = [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "timeoutSeconds",
    ]
    .iter()
    .map(|p| query_parameter(p, "string"))
    .collect();
    paths.insert(
        collection.clone(),
        json!({
            "get": operation(t, "list", list_parameters, &[]),
            "post": operation(t, "post", writes(), &["application/json", "application/yaml"]),
            "delete": operation(t, "deletecollection", writes(), &[]),
        }),
    );
    paths.insert(
        format!("{collection}/{{name}}"),
        json!({
            "get": operation(t, "get", vec![], &[]),
            "put": operation(t, "put", writes(), &["application/json", "application/yaml"]),
            "patch": operation(t, "patch", patch_parameters, &[
                "application/apply-patch+yaml",
                "application/json-patch+json",
                "application/merge-patch+json",
            ]),
            "delete": operation(t, "delete", writes(), &[]),
        }),
    );
}

fn schema_of(t: &ResourceType) -> Value {
    let gvk = json!([{"group": t.group, "version": t.version, "kind": t.kind}]);
    let mut schema = t
        .crd
        .as_ref()
        .and_then(|c| c.schema.clone())
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if let Some(map) = schema.as_object_mut() {
        map.insert("x-kubernetes-group-version-kind".into(), gvk);
    }
    schema
}

/// The document of one group-version, or `None` when it is not served.
pub fn group_version_document(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for t in catalog
        .types()
        .filter(|t| t.group == group && t.version == version)
    {
        paths_of(t, &mut paths);
        schemas.insert(definition_name(t), schema_of(t));
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (driftdeck simulated cluster)", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// `/openapi/v3`: where each group-version's document is, with a hash that
/// changes when the document does (clients cache by it).
pub fn index(catalog: &Catalog) -> Value {
    let mut paths = Map::new();
    for (group, versions) in catalog.group_versions() {
        for version in versions {
            let Some(document) = group_version_document(catalog, &group, &version) else {
                continue;
            };
            let mut hasher = DefaultHasher::new();
            document.to_string().hash(&mut hasher);
            let prefix = api_prefix(&group, &version);
            paths.insert(
                prefix.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{prefix}?hash={:016X}", hasher.finish())}),
            );
        }
    }
    json!({"paths": paths})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_accept_field_validation_but_not_strategic_merge() {
        let document = group_version_document(&Catalog::builtin(), "apps", "v1").unwrap();
        let patch =
            &document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        let names: Vec<&str> = patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"fieldValidation"));
        assert!(
            patch["requestBody"]["content"]
                .get("application/strategic-merge-patch+json")
                .is_none()
        );
        let index = index(&Catalog::builtin());
        assert!(
            index["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/api/v1?hash=")
        );
    }
}
