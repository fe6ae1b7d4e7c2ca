//! Secrets: `stringData` in Git folds into `data` (the API server stores it
//! base64-encoded there), and every value is replaced by a mask that says
//! only whether the two sides agree. The comparison and everything it prints
//! see the masked copies, so no value, encoded or not, can reach the output.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::evidence::LAST_APPLIED_ANNOTATION;

/// A value that is the same in Git and live.
pub const MASK: &str = "(hidden)";
/// A live value that differs from Git's.
pub const MASK_LIVE_DIFFERS: &str = "(hidden: live value)";
/// A Git value that differs from the live one.
pub const MASK_GIT_DIFFERS: &str = "(hidden: value in Git)";

/// Whether the object is a core/v1 Secret.
pub(crate) fn is_secret(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Secret")
        && object
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_none_or(|v| v == "v1")
}

/// Masked copies of a desired and a live Secret.
pub(crate) fn mask_pair(desired: &Value, live: &Value) -> (Value, Value) {
    let desired_values = secret_values(desired, true);
    let live_values = secret_values(live, false);
    let mask_for = |key: &str, this_side: &'static str| -> &'static str {
        let desired = desired_values.iter().find(|(k, _)| k == key);
        let live = live_values.iter().find(|(k, _)| k == key);
        match (desired, live) {
            (Some((_, d)), Some((_, l))) if d != l => this_side,
            _ => MASK,
        }
    };
    let masked = |object: &Value, values: &[(String, Content)], differs: &'static str| {
        let mut copy = object.clone();
        // The annotation holds the applied values; evidence reads it from the
        // original, so the masked copy can go without it.
        if let Some(annotations) = copy
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
            .and_then(Value::as_object_mut)
        {
            annotations.shift_remove(LAST_APPLIED_ANNOTATION);
        }
        if let Some(map) = copy.as_object_mut() {
            map.shift_remove("stringData");
            if map.contains_key("data") || !values.is_empty() {
                let data: Map<String, Value> = values
                    .iter()
                    .map(|(key, _)| (key.clone(), Value::from(mask_for(key, differs))))
                    .collect();
                map.insert("data".to_string(), Value::Object(data));
            }
        }
        copy
    };
    (
        masked(desired, &desired_values, MASK_GIT_DIFFERS),
        masked(live, &live_values, MASK_LIVE_DIFFERS),
    )
}

/// A Secret value as bytes; text that is not valid base64 is kept as text so
/// that it still compares.
#[derive(PartialEq)]
enum Content {
    Bytes(Vec<u8>),
    Undecodable(String),
}

/// The values of `data`, and of `stringData` when it is Git's (the API server
/// never returns it), in key order; `stringData` wins over `data`.
fn secret_values(object: &Value, with_string_data: bool) -> Vec<(String, Content)> {
    let mut values: Vec<(String, Content)> = Vec::new();
    let mut put = |key: &str, content: Content| match values.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = content,
        None => values.push((key.to_string(), content)),
    };
    if let Some(data) = object.get("data").and_then(Value::as_object) {
        for (key, value) in data {
            put(key, decode(value));
        }
    }
    if with_string_data && let Some(data) = object.get("stringData").and_then(Value::as_object) {
        for (key, value) in data {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            put(key, Content::Bytes(text.into_bytes()));
        }
    }
    values
}

/// Null and `""` are both the empty value.
fn decode(value: &Value) -> Content {
    match value {
        Value::Null => Content::Bytes(Vec::new()),
        Value::String(text) => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match STANDARD.decode(&compact) {
                Ok(bytes) => Content::Bytes(bytes),
                Err(_) => Content::Undecodable(text.clone()),
            }
        }
        other => Content::Undecodable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_get_the_same_mask_and_different_ones_differ() {
        let desired = json!({"kind": "Secret", "data": {"a": "c2FtZQ==", "b": "bmV3"}});
        let live = json!({"kind": "Secret", "data": {"a": "c2FtZQ==", "b": "b2xk", "c": "eA=="}});
        let (d, l) = mask_pair(&desired, &live);
        assert_eq!(d["data"], json!({"a": MASK, "b": MASK_GIT_DIFFERS}));
        assert_eq!(
            l["data"],
            json!({"a": MASK, "b": MASK_LIVE_DIFFERS, "c": MASK})
        );
    }

    #[test]
    fn string_data_in_git_compares_with_base64_data_live() {
        let desired = json!({"kind": "Secret", "stringData": {"password": "s3cret"}});
        let live = json!({"kind": "Secret", "data": {"password": "czNjcmV0"}});
        let (d, l) = mask_pair(&desired, &live);
        assert_eq!(d, json!({"kind": "Secret", "data": {"password": MASK}}));
        assert_eq!(l, json!({"kind": "Secret", "data": {"password": MASK}}));
    }

    #[test]
    fn null_and_empty_are_the_same_value() {
        let desired = json!({"kind": "Secret", "data": {"a": ""}});
        let live = json!({"kind": "Secret", "data": {"a": null}});
        let (d, l) = mask_pair(&desired, &live);
        assert_eq!(d["data"]["a"], MASK);
        assert_eq!(l["data"]["a"], MASK);
    }

    #[test]
    fn masked_copies_hold_no_value() {
        let desired = json!({"kind": "Secret", "data": {"k": "dG9wc2VjcmV0"}, "stringData": {"s": "plain-secret"}});
        let applied = json!({"data": {"k": "b3RoZXI="}}).to_string();
        let live = json!({"kind": "Secret", "data": {"k": "b3RoZXI=", "s": "bm9wZQ=="},
            "metadata": {"annotations": {LAST_APPLIED_ANNOTATION: applied}}});
        let (d, l) = mask_pair(&desired, &live);
        let text = format!("{d}{l}");
        for value in [
            "dG9wc2VjcmV0",
            "topsecret",
            "plain-secret",
            "b3RoZXI=",
            "bm9wZQ==",
        ] {
            assert!(!text.contains(value), "{value} leaked: {text}");
        }
    }

    #[test]
    fn only_core_secrets_are_masked() {
        assert!(is_secret(&json!({"apiVersion": "v1", "kind": "Secret"})));
        assert!(!is_secret(
            &json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "Secret"})
        ));
        assert!(!is_secret(
            &json!({"apiVersion": "v1", "kind": "ConfigMap"})
        ));
    }
}
