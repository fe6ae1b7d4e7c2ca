//! Taking over fields set by hand: the `managedFields` entries of manual-change
//! managers are folded into driftdeck's Apply entry, so that the apply that
//! follows, which does not set them, removes them (what Flux's
//! kustomize-controller does). Pure.

use serde_json::{Map, Value};

use crate::drift::ManualManagers;
use crate::resource::FIELD_MANAGER;

/// The `managedFields` a live object should have before the apply: without
/// the manual managers' entries, their fields owned by driftdeck's Apply
/// entry. `None` when no manual manager owns anything.
pub fn taken_over(live: &Value, manual: &ManualManagers) -> Option<Vec<Value>> {
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    let is_manual = |entry: &Value| {
        entry
            .get("manager")
            .and_then(Value::as_str)
            .is_some_and(|m| manual.contains(m))
    };
    if !entries.iter().any(is_manual) {
        return None;
    }
    let is_ours = |entry: &Value| {
        entry.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)
            && entry.get("operation").and_then(Value::as_str) == Some("Apply")
            && entry
                .get("subresource")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
    };
    let mut owned = Value::Object(Map::new());
    let mut kept = Vec::with_capacity(entries.len());
    let mut ours = None;
    for entry in entries {
        if is_manual(entry) {
            if let Some(fields) = entry.get("fieldsV1") {
                merge_fields(&mut owned, fields);
            }
        } else if is_ours(entry) && ours.is_none() {
            ours = Some(kept.len());
            kept.push(entry.clone());
        } else {
            kept.push(entry.clone());
        }
    }
    match ours.and_then(|index| kept.get_mut(index)) {
        Some(entry) => {
            let fields = entry.as_object_mut().map(|e| {
                e.entry("fieldsV1")
                    .or_insert_with(|| Value::Object(Map::new()))
            });
            if let Some(fields) = fields {
                merge_fields(fields, &owned);
            }
        }
        None => {
            let api_version = live
                .get("apiVersion")
                .cloned()
                .unwrap_or(Value::String("v1".into()));
            let mut entry = Map::new();
            entry.insert("manager".into(), Value::String(FIELD_MANAGER.into()));
            entry.insert("operation".into(), Value::String("Apply".into()));
            entry.insert("apiVersion".into(), api_version);
            entry.insert(
                "time".into(),
                Value::String(
                    jiff::Timestamp::now()
                        .round(jiff::Unit::Second)
                        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string()),
                ),
            );
            entry.insert("fieldsType".into(), Value::String("FieldsV1".into()));
            entry.insert("fieldsV1".into(), owned);
            kept.push(Value::Object(entry));
        }
    }
    Some(kept)
}

/// The union of two `fieldsV1` sets.
fn merge_fields(into: &mut Value, from: &Value) {
    let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) else {
        return;
    };
    for (name, child) in from {
        match into.get_mut(name) {
            Some(existing) => merge_fields(existing, child),
            None => {
                into.insert(name.clone(), child.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn manual_entries_fold_into_driftdecks_apply_entry() {
        let live = json!({"apiVersion": "apps/v1", "metadata": {"managedFields": [
            {"manager": "driftdeck", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kubectl-set", "operation": "Update", "fieldsV1": {"f:spec": {"f:paused": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
             "fieldsV1": {"f:status": {}}}
        ]}});
        let entries = taken_over(&live, &ManualManagers::default()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["manager"], "driftdeck");
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}, "f:paused": {}}})
        );
        assert_eq!(entries[1]["manager"], "kube-controller-manager");
    }

    #[test]
    fn driftdeck_gets_an_apply_entry_when_it_had_none() {
        let live = json!({"apiVersion": "v1", "metadata": {"managedFields": [
            {"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:data": {"f:x": {}}}}]}});
        let entries = taken_over(&live, &ManualManagers::default()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["manager"], "driftdeck");
        assert_eq!(entries[0]["operation"], "Apply");
        assert_eq!(entries[0]["fieldsV1"], json!({"f:data": {"f:x": {}}}));
    }

    #[test]
    fn nothing_to_take_over_without_manual_entries() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "driftdeck", "operation": "Apply", "fieldsV1": {}}]}});
        assert_eq!(taken_over(&live, &ManualManagers::default()), None);
        assert_eq!(taken_over(&json!({}), &ManualManagers::default()), None);
    }
}
