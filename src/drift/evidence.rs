//! Evidence that Git once set a field the live object still has: the
//! `driftdeck` field manager owns it in `managedFields`, or kubectl's
//! last-applied-configuration annotation holds it. Without evidence a
//! live-only field is a server default or another manager's, not drift.

use std::cell::OnceCell;

use serde_json::Value;

use super::field_path::{Locator, Segment};
use super::lookup::{field, metadata_field};
use super::manual_changes::{CLIENT_SIDE_APPLY, ManualManagers};
use super::merge_keys::{find_same_key, key_json, same_key};
use super::value_eq::{is_empty_like, values_equal};
use crate::resource::FIELD_MANAGER;

/// The annotation `kubectl apply` keeps the applied object in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a live object says about what was applied to it before.
pub(crate) struct Evidence<'a> {
    last_applied_text: Option<&'a str>,
    /// Parsed on first use: most objects never need it.
    last_applied: OnceCell<Option<Value>>,
    /// The `fieldsV1` sets of every `driftdeck` Apply entry in `managedFields`.
    owned_by_driftdeck: Vec<&'a Value>,
    /// The managers and `fieldsV1` sets of manual changes (kubectl edit, …).
    set_by_hand: Vec<(&'a str, &'a Value)>,
}

impl<'a> Evidence<'a> {
    #[cfg(test)]
    pub(crate) fn of(live: &'a Value) -> Evidence<'a> {
        Evidence::with_manual(live, &ManualManagers::default())
    }

    pub(crate) fn with_manual(live: &'a Value, manual: &ManualManagers) -> Evidence<'a> {
        let last_applied_text = metadata_field(live, "annotations")
            .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
            .and_then(Value::as_str);
        let owned_by_driftdeck = metadata_field(live, "managedFields")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER))
                    // driftdeck writes only by server-side apply; an Update
                    // entry under its name (a create, say) also owns the
                    // server's defaults, which Git never set.
                    .filter(|e| e.get("operation").and_then(Value::as_str) == Some("Apply"))
                    .filter_map(|e| e.get("fieldsV1"))
                    .collect()
            })
            .unwrap_or_default();
        let set_by_hand = manual
            .entries_in(live)
            .into_iter()
            .filter_map(|e| Some((e.get("manager")?.as_str()?, e.get("fieldsV1")?)))
            .collect();
        Evidence {
            last_applied_text,
            last_applied: OnceCell::new(),
            owned_by_driftdeck,
            set_by_hand,
        }
    }

    /// The manual-change manager that owns the field at `path`, or a field
    /// below it: a change made by hand, drift even where Git never set it.
    pub(crate) fn set_by_hand(&self, path: &[Segment<'_>]) -> Option<&'a str> {
        self.set_by_hand
            .iter()
            .find(|(manager, fields)| {
                let owned = path
                    .iter()
                    .try_fold(*fields, |node, segment| managed_fields_child(node, segment))
                    .is_some();
                owned && (*manager != CLIENT_SIDE_APPLY || self.last_applied_holds(path))
            })
            .map(|(manager, _)| *manager)
    }

    fn last_applied_holds(&self, path: &[Segment<'_>]) -> bool {
        self.last_applied_may_have(path)
            && self
                .last_applied()
                .is_some_and(|applied| last_applied_has(applied, path))
    }

    /// Whether Git once set the field at `path`.
    #[cfg(test)]
    pub(crate) fn has(&self, path: &[Segment<'_>]) -> bool {
        let mut owned = self.owned_roots().to_vec();
        for segment in path {
            owned = owned
                .iter()
                .filter_map(|node| Evidence::owned_child(node, segment))
                .collect();
        }
        self.has_at(path, !owned.is_empty())
    }

    /// Whether Git once set the field at `path`, given whether driftdeck's
    /// field sets have it (`owned_child` from `owned_roots`, step by step).
    pub(crate) fn has_at(&self, path: &[Segment<'_>], owned_by_driftdeck: bool) -> bool {
        owned_by_driftdeck || self.last_applied_holds(path)
    }

    /// The top of every driftdeck field set.
    pub(crate) fn owned_roots(&self) -> &[&'a Value] {
        &self.owned_by_driftdeck
    }

    /// One step down a field set: `f:<field>` for fields, `k:{…}` for list
    /// items by key, `v:<json>` for set members. Items of atomic lists have
    /// no entries of their own: the list is owned whole.
    pub(crate) fn owned_child(node: &'a Value, segment: &Segment<'_>) -> Option<&'a Value> {
        managed_fields_child(node, segment)
    }

    /// A quick look at the annotation's text before parsing it: a field whose
    /// name is not there as a JSON key cannot be in it. Most live-only fields
    /// are server defaults, so most objects never need the parse.
    fn last_applied_may_have(&self, path: &[Segment<'_>]) -> bool {
        let Some(text) = self.last_applied_text else {
            return false;
        };
        let Some(name) = path.iter().rev().find_map(|segment| match segment {
            Segment::Field(name) => Some(*name),
            Segment::Item(_) => None,
        }) else {
            return true;
        };
        // Names JSON may write with escapes, and long ones, are left to the parse.
        let mut needle = [b'"'; 66];
        if name.is_empty()
            || name.len() > needle.len() - 2
            || name
                .bytes()
                .any(|b| !b.is_ascii_graphic() || b"\\\"<>&".contains(&b))
        {
            return true;
        }
        needle[1..=name.len()].copy_from_slice(name.as_bytes());
        match std::str::from_utf8(&needle[..name.len() + 2]) {
            Ok(quoted) => text.contains(quoted),
            Err(_) => true,
        }
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
fn last_applied_has(applied: &Value, path: &[Segment<'_>]) -> bool {
    let mut here = applied;
    for segment in path {
        let next = match segment {
            Segment::Field(name) => here.get(name),
            Segment::Item(item) => {
                let items = here.as_array().map(Vec::as_slice).unwrap_or_default();
                match &item.locator {
                    Locator::Keyed { fields, item } => find_same_key(fields, item, items),
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

fn managed_fields_child<'a>(node: &'a Value, segment: &Segment<'_>) -> Option<&'a Value> {
    let entries = node.as_object()?;
    match segment {
        Segment::Field(name) => {
            let mut entry = String::with_capacity(name.len() + 2);
            entry.push_str("f:");
            entry.push_str(name);
            field(entries, &entry)
        }
        Segment::Item(item) => match &item.locator {
            // The API server writes keys one way; reading every entry is
            // the fallback for other writers.
            Locator::Keyed { fields, item } => entries
                .get(&format!("k:{}", key_json(fields, item)))
                .or_else(|| {
                    entries.iter().find_map(|(entry, owned)| {
                        let key: Value = serde_json::from_str(entry.strip_prefix("k:")?).ok()?;
                        same_key(fields, &key, item).then_some(owned)
                    })
                }),
            Locator::Member(value) => entries.get(&format!("v:{value}")).or_else(|| {
                entries.iter().find_map(|(entry, owned)| {
                    let member: Value = serde_json::from_str(entry.strip_prefix("v:")?).ok()?;
                    values_equal(&member, value).then_some(owned)
                })
            }),
            Locator::Position(_) => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::field_path::Item;
    use serde_json::json;

    fn field(name: &str) -> Segment<'_> {
        Segment::Field(name)
    }

    fn keyed<'v>(fields: &'static [&'static str], item: &'v Value) -> Segment<'v> {
        Segment::Item(Item {
            locator: Locator::Keyed { fields, item },
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
        let https = json!({"port": 443});
        let port = keyed(&["port", "protocol"], &https);
        assert!(evidence.has(&[field("spec"), field("ports"), port]));
        let http = json!({"port": 80, "protocol": "TCP"});
        let other_port = keyed(&["port", "protocol"], &http);
        assert!(!evidence.has(&[field("spec"), field("ports"), other_port]));
        let finalizer = json!("example.com/x");
        let member = Segment::Item(Item {
            locator: Locator::Member(&finalizer),
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
        let https = json!({"port": 443.0, "protocol": "TCP"});
        let port = keyed(&["port", "protocol"], &https);
        assert!(evidence.has(&[field("spec"), field("ports"), port]));
    }

    #[test]
    fn keys_written_another_way_are_still_found() {
        let live = json!({"metadata": {"managedFields": [{"manager": "driftdeck", "operation": "Apply", "fieldsV1": {
            "f:ports": {"k:{\"protocol\": \"TCP\", \"port\": 443}": {}}}}]}});
        let https = json!({"port": 443});
        assert!(Evidence::of(&live).has(&[field("ports"), keyed(&["port", "protocol"], &https)]));
    }

    #[test]
    fn an_update_entry_under_driftdecks_name_is_no_evidence() {
        // A create records the server's defaults under the creating manager;
        // driftdeck only applies, so only its Apply entries say what Git set.
        let owned = json!({"f:spec": {"f:strategy": {}}});
        let update = json!({"metadata": {"managedFields": [
            {"manager": "driftdeck", "operation": "Update", "fieldsV1": owned}]}});
        assert!(!Evidence::of(&update).has(&[field("spec"), field("strategy")]));
        let apply = json!({"metadata": {"managedFields": [
            {"manager": "driftdeck", "operation": "Apply", "fieldsV1": owned}]}});
        assert!(Evidence::of(&apply).has(&[field("spec"), field("strategy")]));
    }

    #[test]
    fn quick_look_finds_only_whole_quoted_keys() {
        let applied = json!({"spec": {"containerPort": 80, "a/b": 1, "x<y": 2}});
        let live =
            json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: applied.to_string()}}});
        let evidence = Evidence::of(&live);
        assert!(evidence.last_applied_may_have(&[field("spec"), field("containerPort")]));
        assert!(!evidence.last_applied_may_have(&[field("spec"), field("port")]));
        assert!(!evidence.last_applied_may_have(&[field("spec"), field("Port")]));
        assert!(evidence.last_applied_may_have(&[field("spec"), field("a/b")]));
        assert!(evidence.last_applied_may_have(&[field("spec"), field("x<y")]));
        assert!(evidence.has(&[field("spec"), field("x<y")]));
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
