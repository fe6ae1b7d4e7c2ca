//! How lists are compared: item by item by a merge key (the Kubernetes
//! strategic-merge metadata of the common kinds), as a set, or as a whole.

use std::fmt::Write as _;
use std::sync::LazyLock;

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

/// The value of one key field of an item, with the API server's default for
/// a field left out (`protocol: TCP`); `None` when it has neither.
pub(crate) fn key_field<'v>(item: &'v Value, field: &str) -> Option<&'v Value> {
    match item.get(field) {
        Some(value) if !value.is_null() => Some(value),
        _ if field == "protocol" => Some(&DEFAULT_PROTOCOL),
        _ => None,
    }
}

/// Whether two items have the same key.
pub(crate) fn same_key(fields: &[&str], a: &Value, b: &Value) -> bool {
    fields
        .iter()
        .all(|field| match (key_field(a, field), key_field(b, field)) {
            (Some(x), Some(y)) => values_equal(x, y),
            _ => false,
        })
}

/// The item of `items` with the same key as `item`.
pub(crate) fn find_same_key<'v>(
    fields: &[&str],
    item: &Value,
    items: &'v [Value],
) -> Option<&'v Value> {
    items.iter().find(|other| same_key(fields, item, other))
}

/// The key as `managedFields` writes it: `{"port":80,"protocol":"TCP"}`,
/// fields in name order.
pub(crate) fn key_json(fields: &[&str], item: &Value) -> String {
    let mut sorted: Vec<&str> = fields.to_vec();
    sorted.sort_unstable();
    let mut json = String::from("{");
    for (index, field) in sorted.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        let value = key_field(item, field).unwrap_or(&Value::Null);
        let _ = write!(json, "{}:{value}", Value::from(*field));
    }
    json.push('}');
    json
}

static DEFAULT_PROTOCOL: LazyLock<Value> = LazyLock::new(|| Value::from("TCP"));

fn keys_are_unique(fields: &[&str], items: &[Value]) -> bool {
    items.iter().enumerate().all(|(index, item)| {
        fields.iter().all(|field| key_field(item, field).is_some())
            && !items[..index]
                .iter()
                .any(|earlier| same_key(fields, earlier, item))
    })
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
        assert_eq!(key_field(&service[1], "protocol"), Some(&json!("TCP")));
        assert!(!same_key(SERVICE_PORT_KEY, &service[0], &service[1]));
        assert_eq!(
            key_json(SERVICE_PORT_KEY, &service[1]),
            r#"{"port":53,"protocol":"TCP"}"#
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
    fn keys_match_numbers_by_value() {
        let list = items(json!([{"port": 80}, {"port": 443.0, "protocol": "TCP"}]));
        let found = find_same_key(SERVICE_PORT_KEY, &json!({"port": 443}), &list).unwrap();
        assert_eq!(found, &list[1]);
    }

    #[test]
    fn key_json_sorts_fields_by_name() {
        let item =
            json!({"whenUnsatisfiable": "DoNotSchedule", "topologyKey": "zone", "maxSkew": 1});
        assert_eq!(
            key_json(&["whenUnsatisfiable", "topologyKey"], &item),
            r#"{"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"}"#
        );
    }
}
