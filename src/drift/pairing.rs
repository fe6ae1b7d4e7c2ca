//! Pairs desired objects with live ones by identity and judges every pair,
//! every desired object without a live one and every live one left over.

use std::collections::HashMap;

use serde_json::Value;

use super::resource_result::ResourceResult;
use crate::config::IgnoreRule;
use crate::resource::ResourceKey;

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
    let by_key: HashMap<&ResourceKey, usize> = live
        .iter()
        .enumerate()
        .map(|(index, object)| (&object.key, index))
        .collect();
    let mut by_name: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (index, object) in live.iter().enumerate() {
        let key = &object.key;
        by_name
            .entry((&key.group, &key.kind, &key.name))
            .or_default()
            .push(index);
    }
    let mut paired = vec![false; live.len()];
    let mut results = Vec::with_capacity(desired.len());
    for wanted in desired {
        let key = &wanted.key;
        let found = match by_key.get(key) {
            Some(index) => Some(*index),
            None if key.namespace.is_none() => {
                match by_name.get(&(key.group.as_str(), key.kind.as_str(), key.name.as_str())) {
                    Some(candidates) if candidates.len() == 1 => Some(candidates[0]),
                    _ => None,
                }
            }
            None => None,
        };
        match found.filter(|index| !paired[*index]) {
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
            None => results.push(ResourceResult::missing(key.clone(), &wanted.object)),
        }
    }
    for (found, _) in live.iter().zip(&paired).filter(|(_, paired)| !**paired) {
        results.push(ResourceResult::extra(found.key.clone(), &found.object));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::ResourceStatus;
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
