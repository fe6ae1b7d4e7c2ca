//! Where a field is inside an object, written two ways: an RFC 6901 JSON
//! pointer for programs and a dotted path with list items named by their
//! merge key for people (`spec.template.spec.containers[web].image`); and
//! which paths hold a quantity by the Kubernetes schema.

use std::fmt::Write as _;

use serde_json::Value;

use super::merge_keys::key_field;

/// One step from a value to one of its children.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment<'a> {
    Field(&'a str),
    Item(Item<'a>),
}

/// A list item, with its index on each side that has it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item<'a> {
    pub(crate) locator: Locator<'a>,
    pub(crate) live_index: Option<usize>,
    pub(crate) desired_index: Option<usize>,
}

/// How a list item is found again in another copy of the list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Locator<'a> {
    /// By the values of the list's merge-key fields in `item`.
    Keyed {
        fields: &'static [&'static str],
        item: &'a Value,
    },
    /// By position, in a list compared as a whole.
    Position(usize),
    /// By value, in a list that is a set of scalars (finalizers).
    Member(&'a Value),
}

/// The JSON pointer: list indexes are the item's index in the live list, or
/// in the desired list for an item only Git has.
pub(crate) fn pointer(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for segment in path {
        out.push('/');
        match segment {
            Segment::Field(name) => out.push_str(&name.replace('~', "~0").replace('/', "~1")),
            Segment::Item(item) => {
                let index = item.live_index.or(item.desired_index).unwrap_or(0);
                let _ = write!(out, "{index}");
            }
        }
    }
    out
}

/// The dotted path for people: `spec.ports[443/TCP].targetPort`.
pub(crate) fn display(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if name.contains(['.', '[', ']']) {
                    let _ = write!(out, "\"{name}\"");
                } else {
                    out.push_str(name);
                }
            }
            Segment::Item(item) => {
                out.push('[');
                match &item.locator {
                    Locator::Keyed { fields, item } => {
                        let parts: Vec<String> = fields
                            .iter()
                            .map(|field| {
                                key_field(item, field).map(scalar_text).unwrap_or_default()
                            })
                            .collect();
                        out.push_str(&parts.join("/"));
                    }
                    Locator::Position(index) => {
                        let _ = write!(out, "{index}");
                    }
                    Locator::Member(value) => out.push_str(&scalar_text(value)),
                }
                out.push(']');
            }
        }
    }
    out
}

/// Maps whose values are quantities: container resources, quotas, limit
/// ranges, capacities.
const QUANTITY_MAPS: &[&str] = &[
    "limits",
    "requests",
    "hard",
    "used",
    "capacity",
    "allocatable",
    "overhead",
    "max",
    "min",
    "default",
    "defaultRequest",
    "maxLimitRequestRatio",
];

/// Fields that are quantities themselves.
const QUANTITY_FIELDS: &[&str] = &["sizeLimit", "divisor"];

/// Whether the value at this path is a quantity by the Kubernetes schema.
pub(crate) fn is_quantity_path(path: &[Segment<'_>]) -> bool {
    match path {
        [.., Segment::Field(parent), Segment::Field(field)] => {
            QUANTITY_FIELDS.contains(field) || QUANTITY_MAPS.contains(parent)
        }
        [Segment::Field(field)] => QUANTITY_FIELDS.contains(field),
        _ => false,
    }
}

/// A scalar as written, without JSON quotes around strings.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str) -> Segment<'_> {
        Segment::Field(name)
    }

    #[test]
    fn pointer_escapes_and_uses_live_indexes() {
        let path = vec![
            field("metadata"),
            field("annotations"),
            field("example.com/a~b"),
        ];
        assert_eq!(pointer(&path), "/metadata/annotations/example.com~1a~0b");
        let container = json!({"name": "web"});
        let item = Segment::Item(Item {
            locator: Locator::Keyed {
                fields: &["name"],
                item: &container,
            },
            live_index: Some(2),
            desired_index: Some(0),
        });
        let path = vec![field("spec"), field("containers"), item, field("image")];
        assert_eq!(pointer(&path), "/spec/containers/2/image");
        assert_eq!(display(&path), "spec.containers[web].image");
    }

    #[test]
    fn display_names_items_by_key_values() {
        let port = json!({"port": 443});
        let item = Segment::Item(Item {
            locator: Locator::Keyed {
                fields: &["port", "protocol"],
                item: &port,
            },
            live_index: None,
            desired_index: Some(1),
        });
        let path = vec![field("spec"), field("ports"), item];
        assert_eq!(display(&path), "spec.ports[443/TCP]");
        assert_eq!(pointer(&path), "/spec/ports/1");
        let labels = vec![
            field("metadata"),
            field("labels"),
            field("app.kubernetes.io/name"),
        ];
        assert_eq!(
            display(&labels),
            "metadata.labels.\"app.kubernetes.io/name\""
        );
    }

    #[test]
    fn quantity_paths_follow_the_schema() {
        let path = |names: &[&'static str]| -> Vec<Segment<'static>> {
            names.iter().map(|n| Segment::Field(n)).collect()
        };
        assert!(is_quantity_path(&path(&["resources", "limits", "cpu"])));
        assert!(is_quantity_path(&path(&["emptyDir", "sizeLimit"])));
        assert!(!is_quantity_path(&path(&["spec", "replicas"])));
        assert!(!is_quantity_path(&path(&["env"])));
    }
}
