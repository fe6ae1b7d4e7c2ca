//! The shape of objects as the API server's merge code sees it: which maps
//! are structs and which are free maps, which lists merge by key (and by
//! which keys), which are sets and which are owned whole. Server-side apply,
//! managed fields and strategic merge patch all walk objects with it.
//!
//! Built-in kinds declare only what differs from the default (maps are
//! structs, lists are atomic); custom resources take their shape from the
//! CRD's OpenAPI schema.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// How one node of an object merges and is owned.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A leaf value.
    Scalar,
    /// A struct with declared fields; undeclared fields are treated loosely.
    Struct(Arc<HashMap<String, Shape>>),
    /// A map whose keys are data (labels, ConfigMap data).
    Map(Arc<Shape>),
    /// A map or struct owned and replaced as a whole (label selectors).
    Atomic,
    /// A list, with how its items merge.
    List(Arc<ListShape>),
    /// A part of a built-in type that is not modelled: maps are structs,
    /// lists are atomic.
    Loose,
    /// Schemaless custom resource content: maps are free maps, lists are
    /// atomic.
    Deduced,
}

#[derive(Debug, Clone)]
pub struct ListShape {
    pub merge: ListMerge,
    pub item: Shape,
    pub patch: PatchStrategy,
}

/// How server-side apply merges a list (`x-kubernetes-list-type`).
#[derive(Debug, Clone, PartialEq)]
pub enum ListMerge {
    Atomic,
    Set,
    Map(Vec<ListKey>),
}

/// One key of an associative list; `default` fills the key when an item
/// omits it (a container port's protocol is TCP).
#[derive(Debug, Clone, PartialEq)]
pub struct ListKey {
    pub name: String,
    pub default: Option<Value>,
}

/// How a strategic merge patch treats a list (`patchStrategy`,
/// `patchMergeKey`).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchStrategy {
    Replace,
    MergeByKey(String),
    MergePrimitives,
}

static SCALAR: Shape = Shape::Scalar;
static LOOSE: Shape = Shape::Loose;
static DEDUCED: Shape = Shape::Deduced;

/// What a value is at a node, given the shape there.
pub enum NodeKind<'a> {
    /// Owned and compared as a whole.
    Leaf,
    /// A map walked key by key; `free` maps' keys are data, so every key is a
    /// member of a field set, not only the leaves.
    Fields { free: bool },
    /// A list merged item by item.
    List(&'a ListShape),
}

impl Shape {
    /// The shape of `field` inside this map-like node.
    pub fn field(&self, field: &str) -> &Shape {
        match self {
            Shape::Struct(fields) => fields.get(field).unwrap_or(&LOOSE),
            Shape::Map(element) => element,
            Shape::Deduced => &DEDUCED,
            Shape::Loose => &LOOSE,
            Shape::Scalar | Shape::Atomic | Shape::List(_) => &SCALAR,
        }
    }

    /// The shape of the items of this list node.
    pub fn item(&self) -> &Shape {
        match self {
            Shape::List(list) => &list.item,
            Shape::Deduced => &DEDUCED,
            _ => &LOOSE,
        }
    }

    pub fn classify(&self, value: &Value) -> NodeKind<'_> {
        match (self, value) {
            (Shape::Struct(_) | Shape::Loose, Value::Object(_)) => NodeKind::Fields { free: false },
            (Shape::Map(_) | Shape::Deduced, Value::Object(_)) => NodeKind::Fields { free: true },
            (Shape::List(list), Value::Array(_)) if list.merge != ListMerge::Atomic => {
                NodeKind::List(list)
            }
            _ => NodeKind::Leaf,
        }
    }

    /// The strategic-merge-patch strategy of this node when it is a list.
    pub fn patch_strategy(&self) -> PatchStrategy {
        match self {
            Shape::List(list) => list.patch.clone(),
            _ => PatchStrategy::Replace,
        }
    }
}

fn st(fields: Vec<(&str, Shape)>) -> Shape {
    Shape::Struct(Arc::new(
        fields
            .into_iter()
            .map(|(name, shape)| (name.to_string(), shape))
            .collect(),
    ))
}

fn free_map() -> Shape {
    Shape::Map(Arc::new(Shape::Scalar))
}

fn keyed(keys: &[(&str, Option<Value>)], patch_key: &str, item: Shape) -> Shape {
    Shape::List(Arc::new(ListShape {
        merge: ListMerge::Map(
            keys.iter()
                .map(|(name, default)| ListKey {
                    name: name.to_string(),
                    default: default.clone(),
                })
                .collect(),
        ),
        item,
        patch: PatchStrategy::MergeByKey(patch_key.to_string()),
    }))
}

fn by_name(item: Shape) -> Shape {
    keyed(&[("name", None)], "name", item)
}

fn by_type() -> Shape {
    keyed(&[("type", None)], "type", Shape::Loose)
}

fn string_set() -> Shape {
    Shape::List(Arc::new(ListShape {
        merge: ListMerge::Set,
        item: Shape::Scalar,
        patch: PatchStrategy::MergePrimitives,
    }))
}

fn tcp() -> Option<Value> {
    Some(Value::String("TCP".into()))
}

pub fn object_meta() -> Shape {
    st(vec![
        ("labels", free_map()),
        ("annotations", free_map()),
        ("finalizers", string_set()),
        (
            "ownerReferences",
            keyed(&[("uid", None)], "uid", Shape::Loose),
        ),
        ("managedFields", Shape::Atomic),
    ])
}

fn resources() -> Shape {
    st(vec![
        ("limits", free_map()),
        ("requests", free_map()),
        ("claims", by_name(Shape::Loose)),
    ])
}

fn container() -> Shape {
    st(vec![
        (
            "ports",
            keyed(
                &[("containerPort", None), ("protocol", tcp())],
                "containerPort",
                Shape::Loose,
            ),
        ),
        ("env", by_name(Shape::Loose)),
        (
            "volumeMounts",
            keyed(&[("mountPath", None)], "mountPath", Shape::Loose),
        ),
        (
            "volumeDevices",
            keyed(&[("devicePath", None)], "devicePath", Shape::Loose),
        ),
        ("resources", resources()),
    ])
}

fn pod_spec() -> Shape {
    st(vec![
        ("containers", by_name(container())),
        ("initContainers", by_name(container())),
        ("ephemeralContainers", by_name(container())),
        ("volumes", by_name(Shape::Loose)),
        ("imagePullSecrets", by_name(Shape::Loose)),
        ("hostAliases", keyed(&[("ip", None)], "ip", Shape::Loose)),
        (
            "topologySpreadConstraints",
            keyed(
                &[("topologyKey", None), ("whenUnsatisfiable", None)],
                "topologyKey",
                st(vec![("labelSelector", Shape::Atomic)]),
            ),
        ),
        ("resourceClaims", by_name(Shape::Loose)),
        ("schedulingGates", by_name(Shape::Loose)),
        ("nodeSelector", Shape::Atomic),
        ("overhead", free_map()),
    ])
}

fn pod_template() -> Shape {
    st(vec![("metadata", object_meta()), ("spec", pod_spec())])
}

fn conditions_status(extra: Vec<(&str, Shape)>) -> Shape {
    let mut fields = vec![("conditions", by_type())];
    fields.extend(extra);
    st(fields)
}

fn workload(extra: Vec<(&str, Shape)>) -> Shape {
    let mut spec = vec![("selector", Shape::Atomic), ("template", pod_template())];
    spec.extend(extra);
    top(st(spec), conditions_status(vec![]))
}

fn top(spec: Shape, status: Shape) -> Shape {
    st(vec![
        ("metadata", object_meta()),
        ("spec", spec),
        ("status", status),
    ])
}

fn loose_top(fields: Vec<(&str, Shape)>) -> Shape {
    let mut all = vec![("metadata", object_meta())];
    all.extend(fields);
    st(all)
}

/// The shape of a built-in kind, by its group and kind.
pub fn builtin(group: &str, kind: &str) -> Shape {
    match (group, kind) {
        ("", "Pod") => top(
            pod_spec(),
            conditions_status(vec![
                ("podIPs", keyed(&[("ip", None)], "ip", Shape::Loose)),
                ("hostIPs", keyed(&[("ip", None)], "ip", Shape::Loose)),
            ]),
        ),
        ("", "Service") => top(
            st(vec![
                (
                    "ports",
                    keyed(&[("port", None), ("protocol", tcp())], "port", Shape::Loose),
                ),
                ("selector", Shape::Atomic),
            ]),
            conditions_status(vec![]),
        ),
        ("", "ConfigMap") => loose_top(vec![("data", free_map()), ("binaryData", free_map())]),
        ("", "Secret") => loose_top(vec![("data", free_map()), ("stringData", free_map())]),
        ("", "Namespace") => top(Shape::Loose, conditions_status(vec![])),
        ("", "ServiceAccount") => loose_top(vec![("secrets", by_name(Shape::Loose))]),
        ("", "PersistentVolumeClaim") => top(
            st(vec![
                ("selector", Shape::Atomic),
                ("resources", resources()),
            ]),
            conditions_status(vec![
                ("capacity", free_map()),
                ("allocatedResources", free_map()),
            ]),
        ),
        ("apps", "Deployment") | ("apps", "ReplicaSet") | ("apps", "DaemonSet") => workload(vec![]),
        ("apps", "StatefulSet") => workload(vec![("volumeClaimTemplates", Shape::Loose)]),
        ("batch", "Job") => top(
            st(vec![
                ("selector", Shape::Atomic),
                ("template", pod_template()),
            ]),
            Shape::Loose,
        ),
        ("batch", "CronJob") => top(
            st(vec![(
                "jobTemplate",
                st(vec![
                    ("metadata", object_meta()),
                    (
                        "spec",
                        st(vec![
                            ("selector", Shape::Atomic),
                            ("template", pod_template()),
                        ]),
                    ),
                ]),
            )]),
            Shape::Loose,
        ),
        ("networking.k8s.io", "NetworkPolicy") => {
            top(st(vec![("podSelector", Shape::Atomic)]), Shape::Loose)
        }
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            loose_top(vec![("roleRef", Shape::Atomic)])
        }
        ("policy", "PodDisruptionBudget") => top(
            st(vec![("selector", Shape::Atomic)]),
            conditions_status(vec![("disruptedPods", free_map())]),
        ),
        ("autoscaling", "HorizontalPodAutoscaler") => top(Shape::Loose, conditions_status(vec![])),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            top(Shape::Loose, conditions_status(vec![]))
        }
        _ => loose_top(vec![]),
    }
}

/// The shape of a custom resource from its CRD version's
/// `openAPIV3Schema`; without a schema the content is deduced.
pub fn from_openapi(schema: Option<&Value>) -> Shape {
    let Some(schema) = schema else {
        return loose_top_deduced();
    };
    let mut top_fields: HashMap<String, Shape> = HashMap::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            if name != "metadata" {
                top_fields.insert(name.clone(), openapi_node(property));
            }
        }
    }
    top_fields.insert("metadata".into(), object_meta());
    if !top_fields.contains_key("spec") && preserves_unknown(schema) {
        top_fields.insert("spec".into(), Shape::Deduced);
    }
    Shape::Struct(Arc::new(top_fields))
}

fn loose_top_deduced() -> Shape {
    st(vec![
        ("metadata", object_meta()),
        ("spec", Shape::Deduced),
        ("status", Shape::Deduced),
    ])
}

fn preserves_unknown(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn openapi_node(schema: &Value) -> Shape {
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("");
    if schema.get("x-kubernetes-int-or-string").is_some() {
        return Shape::Scalar;
    }
    match kind {
        "object" => {
            if schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic") {
                return Shape::Atomic;
            }
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                let fields = properties
                    .iter()
                    .map(|(name, property)| (name.clone(), openapi_node(property)))
                    .collect();
                return Shape::Struct(Arc::new(fields));
            }
            match schema.get("additionalProperties") {
                Some(element @ Value::Object(_)) => Shape::Map(Arc::new(openapi_node(element))),
                _ => Shape::Deduced,
            }
        }
        "array" => {
            let item = schema
                .get("items")
                .map(openapi_node)
                .unwrap_or(Shape::Deduced);
            let list_type = schema
                .get("x-kubernetes-list-type")
                .and_then(Value::as_str)
                .unwrap_or("atomic");
            let merge = match list_type {
                "set" => ListMerge::Set,
                "map" => ListMerge::Map(
                    schema
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|keys| {
                            keys.iter()
                                .filter_map(Value::as_str)
                                .map(|name| ListKey {
                                    name: name.to_string(),
                                    default: None,
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                _ => ListMerge::Atomic,
            };
            Shape::List(Arc::new(ListShape {
                merge,
                item,
                patch: PatchStrategy::Replace,
            }))
        }
        "" if preserves_unknown(schema) => Shape::Deduced,
        _ => Shape::Scalar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_containers_merge_by_name_and_ports_by_port_and_protocol() {
        let shape = builtin("apps", "Deployment");
        let containers = shape
            .field("spec")
            .field("template")
            .field("spec")
            .field("containers");
        let Shape::List(list) = containers else {
            panic!("containers is a list")
        };
        assert_eq!(list.patch, PatchStrategy::MergeByKey("name".into()));
        let Shape::List(ports) = list.item.field("ports") else {
            panic!("ports is a list")
        };
        let ListMerge::Map(keys) = &ports.merge else {
            panic!("ports are keyed")
        };
        assert_eq!(keys[1].default, Some(json!("TCP")));
        assert!(matches!(
            shape.field("spec").field("selector"),
            Shape::Atomic
        ));
    }

    #[test]
    fn crd_schema_gives_list_map_keys_and_free_maps() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "items": {"type": "array", "x-kubernetes-list-type": "map",
                              "x-kubernetes-list-map-keys": ["id"],
                              "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}}
                }}
            }
        });
        let shape = from_openapi(Some(&schema));
        let spec = shape.field("spec");
        assert!(matches!(spec.field("tags"), Shape::Map(_)));
        let Shape::List(items) = spec.field("items") else {
            panic!("items is a list")
        };
        assert_eq!(
            items.merge,
            ListMerge::Map(vec![ListKey {
                name: "id".into(),
                default: None
            }])
        );
    }
}
