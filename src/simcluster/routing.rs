//! Reads a request's path and query the way the API server's router does:
//! discovery and OpenAPI documents, and resource paths down to a namespace,
//! a name and a subresource.

use std::collections::HashMap;

use super::catalog::Catalog;

/// What a path addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Version,
    Health,
    /// `/api`: the core group's versions.
    CoreVersions,
    /// `/apis`: every other group.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`: the resource list.
    Resources {
        group: String,
        version: String,
    },
    OpenApiV2,
    OpenApiV3Index,
    OpenApiV3 {
        group: String,
        version: String,
    },
    Resource(Target),
    Unknown,
}

/// A resource path: a collection, an object, or an object's subresource.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub group: String,
    pub version: String,
    pub plural: String,
    /// `None` for cluster-scoped resources and for lists across namespaces.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Resolves a path; resource paths are checked against the catalog, since
/// `namespaces/x/status` and `namespaces/x/pods` differ only by whether the
/// last segment is a namespaced resource.
pub fn route(path: &str, catalog: &Catalog) -> Route {
    let parts = segments(path);
    match parts.as_slice() {
        ["version"] => Route::Version,
        ["healthz"] | ["livez"] | ["readyz"] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", group] => Route::Group((*group).to_string()),
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiV3Index,
        ["openapi", "v3", "api", version] => Route::OpenApiV3 {
            group: String::new(),
            version: (*version).to_string(),
        },
        ["openapi", "v3", "apis", group, version] => Route::OpenApiV3 {
            group: (*group).to_string(),
            version: (*version).to_string(),
        },
        ["api", version, rest @ ..] => resource_route("", version, rest, catalog),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest, catalog),
        _ => Route::Unknown,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str], catalog: &Catalog) -> Route {
    let target = |namespace: Option<&str>, plural: &str, name: Option<&str>, sub: Option<&str>| {
        Route::Resource(Target {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
            namespace: namespace.map(String::from),
            name: name.map(String::from),
            subresource: sub.map(String::from),
        })
    };
    let namespaced_plural = |plural: &str| {
        catalog
            .find(group, version, plural)
            .is_some_and(|t| t.namespaced)
    };
    match rest {
        [] => Route::Resources {
            group: group.to_string(),
            version: version.to_string(),
        },
        [plural] => target(None, plural, None, None),
        ["namespaces", namespace, plural] if namespaced_plural(plural) => {
            target(Some(namespace), plural, None, None)
        }
        ["namespaces", namespace, plural, name] => {
            target(Some(namespace), plural, Some(name), None)
        }
        ["namespaces", namespace, plural, name, sub] => {
            target(Some(namespace), plural, Some(name), Some(sub))
        }
        [plural, name] => target(None, plural, Some(name), None),
        [plural, name, sub] => target(None, plural, Some(name), Some(sub)),
        _ => Route::Unknown,
    }
}

/// Query parameters, percent-decoded; the last value of a repeated key
/// wins, except `dryRun`, which is read as a list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    values: HashMap<String, Vec<String>>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Self {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            values
                .entry(percent_decode(key))
                .or_default()
                .push(percent_decode(value));
        }
        Self { values }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, key: &str) -> &[String] {
        self.values.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_and_cluster_paths_resolve() {
        let catalog = Catalog::builtin();
        assert_eq!(
            route(
                "/apis/apps/v1/namespaces/prod/deployments/web/status",
                &catalog
            ),
            Route::Resource(Target {
                group: "apps".into(),
                version: "v1".into(),
                plural: "deployments".into(),
                namespace: Some("prod".into()),
                name: Some("web".into()),
                subresource: Some("status".into()),
            })
        );
        let Route::Resource(ns_status) = route("/api/v1/namespaces/prod/status", &catalog) else {
            panic!("a resource")
        };
        assert_eq!(ns_status.plural, "namespaces");
        assert_eq!(ns_status.name.as_deref(), Some("prod"));
        assert_eq!(ns_status.subresource.as_deref(), Some("status"));
        let Route::Resource(pods) = route("/api/v1/namespaces/prod/pods", &catalog) else {
            panic!("a resource")
        };
        assert_eq!((pods.namespace.as_deref(), pods.name), (Some("prod"), None));
        assert_eq!(
            route("/apis/apps/v1", &catalog),
            Route::Resources {
                group: "apps".into(),
                version: "v1".into()
            }
        );
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let query = Query::parse(Some("labelSelector=tier%20in%20(a%2Cb)&watch=1&dryRun=All"));
        assert_eq!(query.get("labelSelector"), Some("tier in (a,b)"));
        assert!(query.flag("watch"));
        assert_eq!(query.all("dryRun"), ["All"]);
        assert_eq!(Query::parse(Some("x=100%")).get("x"), Some("100%"));
    }
}
