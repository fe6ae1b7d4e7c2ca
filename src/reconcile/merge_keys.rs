//! How lists are compared: item by item by a merge key (the Kubernetes
//! strategic-merge metadata of the common kinds), as a set, or as a whole.

use serde_json::Value;

use super::value_eq::values_equal;

/// How to pair the items of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// Items pair by these fields, in any order.
    Keyed(&'static [&'static str]),
    /// Scalars compared as a set, in any order.
    Set,
    /// The list compares as a whole, position by position.
    Atomic,
}

/// Lists keyed by fields other than ports, from the strategic-merge metadata
/// of core/v1, apps/v1 and admissionregistration/v1.
const KEYED_LISTS: &[(&str, &[&str])] = &[
    ("containers", &["name"]),
    ("initContainers", &["name"]),
    ("ephemeralContainers", &["name"]),
    ("volumes", &["name"]),
    ("env", &["name"]),
    ("imagePullSecrets", &["name"]),
    ("resourceClaims", &["name"]),
    ("schedulingGates", &["name"]),
    ("webhooks", &["name"]),
    ("volumeMounts", &["mountPath"]),
    ("volumeDevices", &["devicePath"]),
    ("hostAliases", &["ip"]),
    ("readinessGates", &["conditionType"]),
    ("resizePolicy", &["resourceName"]),
    (
        "topologySpreadConstraints",
        &["topologyKey", "whenUnsatisfiable"],
    ),
    ("ownerReferences", &["uid"]),
    ("conditions", &["type"]),
];

/// Scalar lists the API server merges as sets.
const SET_LISTS: &[&str] = &["finalizers"];

const CONTAINER_PORT_KEY: &[&str] = &["containerPort", "protocol"];
const SERVICE_PORT_KEY: &[&str] = &["port", "protocol"];

/// The kind of the list named `field`, given the items on both sides. A list
/// whose items lack their key or repeat it compares as a whole.
pub(crate) fn list_kind(field: &str, desired: &[Value], live: &[Value]) -> ListKind {
    let all = || desired.iter().chain(live);
    if SET_LISTS.contains(&field) {
        return if all().all(|item| !item.is_object() && !item.is_array()) {
            ListKind::Set
        } else {
            ListKind::Atomic
        };
    }
    let fields = if field == "ports" {
        if all().all(|item| item.get("containerPort").is_some()) {
            CONTAINER_PORT_KEY
        } else if all().all(|item| item.get("port").is_some()) {
            SERVICE_PORT_KEY
        } else {
            return ListKind::Atomic;
        }
    } else {
        match KEYED_LISTS.iter().find(|(name, _)| *name == field) {
            Some((_, fields)) => fields,
            None => return ListKind::Atomic,
        }
    };
    if keys_are_unique(fields, desired) && keys_are_unique(fields, live) {
        ListKind::Keyed(fields)
    } else {
        ListKind::Atomic
    }
}

/// The values of an item's key fields, with the API server's defaults for
/// fields left out (`protocol: TCP`); `None` when a key field is missing.
pub(crate) fn item_key(fields: &[&str], item: &Value) -> Option<Vec<Value>> {
    fields
        .iter()
        .map(|field| match item.get(*field) {
            Some(value) if !value.is_null() => Some(value.clone()),
            _ => default_key_value(field),
        })
        .collect()
}

/// Whether two keys name the same item.
pub(crate) fn keys_match(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_equal(x, y))
}

/// The item of `items` with this key, and its index.
pub(crate) fn find_item<'v>(
    fields: &[&str],
    key: &[Value],
    items: &'v [Value],
) -> Option<(usize, &'v Value)> {
    items
        .iter()
        .enumerate()
        .find(|(_, item)| item_key(fields, item).is_some_and(|k| keys_match(&k, key)))
}

fn default_key_value(field: &str) -> Option<Value> {
    (field == "protocol").then(|| Value::String("TCP".to_string()))
}

fn keys_are_unique(fields: &[&str], items: &[Value]) -> bool {
    let mut seen: Vec<Vec<Value>> = Vec::with_capacity(items.len());
    for item in items {
        let Some(key) = item_key(fields, item) else {
            return false;
        };
        if seen.iter().any(|other| keys_match(other, &key)) {
            return false;
        }
        seen.push(key);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(value: Value) -> Vec<Value> {
        value.as_array().unwrap().clone()
    }

    #[test]
    fn containers_and_env_are_keyed_by_name() {
        let list = items(json!([{"name": "a"}, {"name": "b"}]));
        assert_eq!(
            list_kind("containers", &list, &list),
            ListKind::Keyed(&["name"])
        );
        assert_eq!(list_kind("env", &list, &[]), ListKind::Keyed(&["name"]));
    }

    #[test]
    fn ports_are_keyed_by_port_and_protocol_with_tcp_default() {
        let container = items(json!([{"containerPort": 80}]));
        assert_eq!(
            list_kind("ports", &container, &[]),
            ListKind::Keyed(CONTAINER_PORT_KEY)
        );
        let service = items(json!([{"port": 53, "protocol": "UDP"}, {"port": 53}]));
        assert_eq!(
            list_kind("ports", &service, &[]),
            ListKind::Keyed(SERVICE_PORT_KEY)
        );
        assert_eq!(
            item_key(SERVICE_PORT_KEY, &service[1]),
            Some(vec![json!(53), json!("TCP")])
        );
    }

    #[test]
    fn repeated_or_missing_keys_fall_back_to_a_whole_list() {
        let repeated = items(json!([{"name": "a"}, {"name": "a"}]));
        assert_eq!(list_kind("volumes", &repeated, &[]), ListKind::Atomic);
        let missing = items(json!([{"image": "x"}]));
        assert_eq!(list_kind("containers", &[], &missing), ListKind::Atomic);
    }

    #[test]
    fn volume_mounts_are_keyed_by_mount_path_not_name() {
        let mounts = items(json!([
            {"name": "config", "mountPath": "/a"},
            {"name": "config", "mountPath": "/b"}
        ]));
        assert_eq!(
            list_kind("volumeMounts", &mounts, &mounts),
            ListKind::Keyed(&["mountPath"])
        );
    }

    #[test]
    fn finalizers_are_a_set_and_other_lists_are_atomic() {
        let finalizers = items(json!(["a", "b"]));
        assert_eq!(list_kind("finalizers", &finalizers, &[]), ListKind::Set);
        assert_eq!(list_kind("args", &finalizers, &[]), ListKind::Atomic);
    }

    #[test]
    fn find_item_matches_numbers_by_value() {
        let list = items(json!([{"port": 80}, {"port": 443.0, "protocol": "TCP"}]));
        let (index, _) = find_item(SERVICE_PORT_KEY, &[json!(443), json!("TCP")], &list).unwrap();
        assert_eq!(index, 1);
    }
}
