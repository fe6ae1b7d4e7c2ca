//! Field lookups for the small maps Kubernetes objects are made of: the
//! comparison does a lookup per field, and hashing the key costs more than
//! scanning a handful of entries.

use serde_json::{Map, Value};

/// Maps up to this size are scanned instead of hashed.
const SCAN_LIMIT: usize = 8;

/// The value of `key` in `map`.
pub(crate) fn field<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if map.len() <= SCAN_LIMIT {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// The value at a path of field names, `/status/phase`: a JSON pointer
/// without escapes or list indexes, read without allocating.
pub(crate) fn at<'v>(object: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('/')
        .skip(1)
        .try_fold(object, |value, key| field(value.as_object()?, key))
}

/// A field of the object's metadata.
pub(crate) fn metadata_field<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
    field(object.get("metadata")?.as_object()?, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_and_large_maps_find_the_same_fields() {
        for size in [0, 3, SCAN_LIMIT, SCAN_LIMIT + 1, 40] {
            let map: Map<String, Value> = (0..size).map(|i| (format!("k{i}"), json!(i))).collect();
            for i in 0..size {
                assert_eq!(field(&map, &format!("k{i}")), Some(&json!(i)));
            }
            assert_eq!(field(&map, "absent"), None);
        }
    }

    #[test]
    fn at_follows_field_names() {
        let object = json!({"status": {"phase": "Bound", "list": [1]}});
        assert_eq!(at(&object, "/status/phase"), Some(&json!("Bound")));
        assert_eq!(at(&object, ""), Some(&object));
        assert_eq!(at(&object, "/status/missing"), None);
        assert_eq!(at(&object, "/status/list/0"), None);
    }

    #[test]
    fn metadata_field_reads_under_metadata() {
        let object = json!({"metadata": {"name": "a"}});
        assert_eq!(metadata_field(&object, "name"), Some(&json!("a")));
        assert_eq!(metadata_field(&json!({"metadata": 1}), "name"), None);
    }
}
