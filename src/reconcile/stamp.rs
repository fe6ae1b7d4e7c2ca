//! What driftdeck writes on every object it applies, and how to read it back.

use serde_json::Value;

use super::lookup::metadata_field;

/// The field manager driftdeck applies with; its entries in `managedFields`
/// are evidence of what Git set.
pub const FIELD_MANAGER: &str = "driftdeck";
/// Label naming the app an object belongs to.
pub const APP_LABEL: &str = "driftdeck.dev/app";
/// Label marking objects that driftdeck manages.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Annotation holding the commit id an object was applied from.
pub const REVISION_ANNOTATION: &str = "driftdeck.dev/revision";

/// The revision recorded on a live object, if any.
pub fn revision_of(live: &Value) -> Option<&str> {
    metadata_field(live, "annotations")?
        .get(REVISION_ANNOTATION)?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn revision_is_read_from_the_annotation() {
        let live = json!({"metadata": {"annotations": {"driftdeck.dev/revision": "3f2a91c"}}});
        assert_eq!(revision_of(&live), Some("3f2a91c"));
        assert_eq!(revision_of(&json!({"metadata": {}})), None);
    }
}
