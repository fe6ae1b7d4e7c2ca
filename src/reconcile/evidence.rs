//! Evidence that Git once set a field the live object still has: the
//! `driftdeck` field manager owns it in `managedFields`, or kubectl's
//! last-applied-configuration annotation holds it. Without evidence a
//! live-only field is a server default or another manager's, not drift.

use std::cell::OnceCell;

use serde_json::Value;

use super::field_path::{Locator, Segment};
use super::merge_keys::{find_item, item_key, keys_match};
use super::stamp::FIELD_MANAGER;
use super::value_eq::{is_empty_like, values_equal};

/// The annotation `kubectl apply` keeps the applied object in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a live object says about what was applied to it before.
pub(crate) struct Evidence<'a> {
    last_applied_text: Option<&'a str>,
    /// Parsed on first use: most objects never need it.
    last_applied: OnceCell<Option<Value>>,
    /// The `fieldsV1` sets of every `driftdeck` entry in `managedFields`.
    owned_by_driftdeck: Vec<&'a Value>,
}

impl<'a> Evidence<'a> {
    pub(crate) fn of(live: &'a Value) -> Evidence<'a> {
        let last_applied_text = live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
            .and_then(Value::as_str);
        let owned_by_driftdeck = live
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER))
                    .filter_map(|e| e.get("fieldsV1"))
                    .collect()
            })
            .unwrap_or_default();
        Evidence {
            last_applied_text,
            last_applied: OnceCell::new(),
            owned_by_driftdeck,
        }
    }

    /// Whether Git once set the field at `path`.
    pub(crate) fn has(&self, path: &[Segment]) -> bool {
        self.owned_by_driftdeck
            .iter()
            .any(|fields| managed_fields_have(fields, path))
            || self
                .last_applied()
                .is_some_and(|applied| last_applied_has(applied, path))
    }

    fn last_applied(&self) -> Option<&Value> {
        self.last_applied
            .get_or_init(|| {
                self.last_applied_text
                    .and_then(|text| serde_json::from_str(text).ok())
            })
            .as_ref()
    }
}

/// Walks the applied object along `path`; a value that is set there counts.
fn last_applied_has(applied: &Value, path: &[Segment]) -> bool {
    let mut here = applied;
    for segment in path {
        let next = match segment {
            Segment::Field(name) => here.get(name),
            Segment::Item(item) => {
                let items = here.as_array().map(Vec::as_slice).unwrap_or_default();
                match &item.locator {
                    Locator::Keyed { fields, values } => {
                        find_item(fields, values, items).map(|(_, found)| found)
                    }
                    Locator::Position(index) => items.get(*index),
                    Locator::Member(value) => items.iter().find(|v| values_equal(v, value)),
                }
            }
        };
        match next {
            Some(value) => here = value,
            None => return false,
        }
    }
    !is_empty_like(here)
}

/// Walks a `fieldsV1` set: `f:<field>` for fields, `k:{…}` for list items by
/// key, `v:<json>` for set members. Items of atomic lists have no entries of
/// their own: the list is owned as a whole.
fn managed_fields_have(fields: &Value, path: &[Segment]) -> bool {
    let mut here = fields;
    for segment in path {
        let Some(entries) = here.as_object() else {
            return false;
        };
        let next = match segment {
            Segment::Field(name) => entries.get(&format!("f:{name}")),
            Segment::Item(item) => match &item.locator {
                Locator::Keyed { fields, values } => entries.iter().find_map(|(entry, owned)| {
                    let key: Value = serde_json::from_str(entry.strip_prefix("k:")?).ok()?;
                    let key = item_key(fields, &key)?;
                    keys_match(&key, values).then_some(owned)
                }),
                Locator::Member(value) => entries.iter().find_map(|(entry, owned)| {
                    let member: Value = serde_json::from_str(entry.strip_prefix("v:")?).ok()?;
                    values_equal(&member, value).then_some(owned)
                }),
                Locator::Position(_) => None,
            },
        };
        match next {
            Some(value) => here = value,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::field_path::Item;
    use serde_json::json;

    fn field(name: &str) -> Segment {
        Segment::Field(name.to_string())
    }

    fn keyed(fields: &'static [&'static str], values: Vec<Value>) -> Segment {
        Segment::Item(Item {
            locator: Locator::Keyed { fields, values },
            live_index: Some(0),
            desired_index: None,
        })
    }

    #[test]
    fn driftdeck_managed_fields_are_evidence() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kube-controller-manager", "fieldsV1": {"f:spec": {"f:paused": {}}}},
            {"manager": "driftdeck", "operation": "Apply", "fieldsV1": {"f:spec": {
                "f:replicas": {},
                "f:ports": {"k:{\"port\":443,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}},
                "f:finalizers": {"v:\"example.com/x\"": {}}
            }}}
        ]}});
        let evidence = Evidence::of(&live);
        assert!(evidence.has(&[field("spec"), field("replicas")]));
        assert!(!evidence.has(&[field("spec"), field("paused")]));
        let port = keyed(&["port", "protocol"], vec![json!(443), json!("TCP")]);
        assert!(evidence.has(&[field("spec"), field("ports"), port]));
        let other_port = keyed(&["port", "protocol"], vec![json!(80), json!("TCP")]);
        assert!(!evidence.has(&[field("spec"), field("ports"), other_port]));
        let member = Segment::Item(Item {
            locator: Locator::Member(json!("example.com/x")),
            live_index: Some(0),
            desired_index: None,
        });
        assert!(evidence.has(&[field("spec"), field("finalizers"), member]));
    }

    #[test]
    fn last_applied_annotation_is_evidence() {
        let applied = json!({"spec": {"ports": [{"port": 443}], "replicas": 2, "paused": null}});
        let live = json!({"metadata": {"annotations": {
            LAST_APPLIED_ANNOTATION: applied.to_string()
        }}});
        let evidence = Evidence::of(&live);
        assert!(evidence.has(&[field("spec"), field("replicas")]));
        assert!(!evidence.has(&[field("spec"), field("paused")]));
        let port = keyed(&["port", "protocol"], vec![json!(443), json!("TCP")]);
        assert!(evidence.has(&[field("spec"), field("ports"), port]));
    }

    #[test]
    fn other_managers_and_broken_annotations_are_no_evidence() {
        let live = json!({"metadata": {
            "annotations": {LAST_APPLIED_ANNOTATION: "{not json"},
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
        }});
        assert!(!Evidence::of(&live).has(&[field("spec"), field("replicas")]));
    }
}
