//! Pairs desired objects with live ones by identity and judges every pair,
//! every desired object without a live one and every live one left over.

use serde_json::Value;

use super::resource_key::ResourceKey;
use super::resource_result::ResourceResult;
use crate::config::IgnoreRule;

/// An object with its identity already read.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedObject {
    pub key: ResourceKey,
    pub object: Value,
}

impl KeyedObject {
    /// Reads the identity of an object.
    pub fn new(object: Value) -> Result<KeyedObject, super::KeyError> {
        Ok(KeyedObject {
            key: ResourceKey::of(&object)?,
            object,
        })
    }
}

/// Results for desired objects in their order (Synced, OutOfSync or
/// Missing), then for live objects no desired one names (Extra). A desired
/// object that names no namespace pairs with the one live object of the same
/// group, kind and name, whatever its namespace.
pub fn assess_objects(
    desired: &[KeyedObject],
    live: &[KeyedObject],
    ignore: &[IgnoreRule],
) -> Vec<ResourceResult> {
    let mut paired = vec![false; live.len()];
    let mut results = Vec::with_capacity(desired.len());
    for wanted in desired {
        match find_live(&wanted.key, live, &paired) {
            Some(index) => {
                paired[index] = true;
                let found = &live[index];
                results.push(ResourceResult::compared(
                    found.key.clone(),
                    &wanted.object,
                    &found.object,
                    ignore,
                ));
            }
            None => results.push(ResourceResult::missing(wanted.key.clone(), &wanted.object)),
        }
    }
    for (found, _) in live.iter().zip(&paired).filter(|(_, paired)| !**paired) {
        results.push(ResourceResult::extra(found.key.clone(), &found.object));
    }
    results
}

fn find_live(key: &ResourceKey, live: &[KeyedObject], paired: &[bool]) -> Option<usize> {
    let unpaired = || live.iter().enumerate().filter(|(index, _)| !paired[*index]);
    if let Some((index, _)) = unpaired().find(|(_, l)| l.key == *key) {
        return Some(index);
    }
    if key.namespace.is_some() {
        return None;
    }
    let mut same_name = unpaired().filter(|(_, l)| {
        l.key.group == key.group && l.key.kind == key.kind && l.key.name == key.name
    });
    match (same_name.next(), same_name.next()) {
        (Some((index, _)), None) => Some(index),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::ResourceStatus;
    use serde_json::json;

    fn config_map(namespace: Option<&str>, name: &str, value: &str) -> KeyedObject {
        let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name}, "data": {"k": value}});
        if let Some(namespace) = namespace {
            object["metadata"]["namespace"] = json!(namespace);
        }
        KeyedObject::new(object).unwrap()
    }

    fn statuses(results: &[ResourceResult]) -> Vec<(String, ResourceStatus)> {
        results
            .iter()
            .map(|r| (r.key.to_string(), r.status))
            .collect()
    }

    #[test]
    fn pairs_by_identity_and_reports_missing_and_extra() {
        let desired = [
            config_map(Some("a"), "same", "1"),
            config_map(Some("a"), "changed", "new"),
            config_map(Some("a"), "missing", "1"),
        ];
        let live = [
            config_map(Some("a"), "extra", "1"),
            config_map(Some("a"), "changed", "old"),
            config_map(Some("a"), "same", "1"),
        ];
        let results = assess_objects(&desired, &live, &[]);
        assert_eq!(
            statuses(&results),
            vec![
                ("ConfigMap a/same".to_string(), ResourceStatus::Synced),
                ("ConfigMap a/changed".to_string(), ResourceStatus::OutOfSync),
                ("ConfigMap a/missing".to_string(), ResourceStatus::Missing),
                ("ConfigMap a/extra".to_string(), ResourceStatus::Extra),
            ]
        );
    }

    #[test]
    fn desired_without_namespace_pairs_with_the_only_candidate() {
        let desired = [config_map(None, "settings", "1")];
        let one = [config_map(Some("shop"), "settings", "1")];
        assert_eq!(
            statuses(&assess_objects(&desired, &one, &[])),
            vec![(
                "ConfigMap shop/settings".to_string(),
                ResourceStatus::Synced
            )]
        );
        let two = [
            config_map(Some("shop"), "settings", "1"),
            config_map(Some("blog"), "settings", "1"),
        ];
        let results = assess_objects(&desired, &two, &[]);
        assert_eq!(results[0].status, ResourceStatus::Missing);
        assert_eq!(results.len(), 3);
    }
}
