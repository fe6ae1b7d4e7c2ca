//! Reading back what driftdeck wrote on an object it applied.

use serde_json::Value;

use super::lookup::metadata_field;
use crate::resource::{PINNED_ANNOTATION, REVISION_ANNOTATION};

/// The revision recorded on a live object, if any.
pub fn revision_of(live: &Value) -> Option<&str> {
    annotation(live, REVISION_ANNOTATION)
}

/// The revision the object's app was pinned to when it was applied, if any.
pub fn pin_of(live: &Value) -> Option<&str> {
    annotation(live, PINNED_ANNOTATION)
}

fn annotation<'a>(live: &'a Value, name: &str) -> Option<&'a str> {
    metadata_field(live, "annotations")?.get(name)?.as_str()
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
        let pinned = json!({"metadata": {"annotations": {"driftdeck.dev/pinned": "3f2a91c"}}});
        assert_eq!(pin_of(&pinned), Some("3f2a91c"));
        assert_eq!(pin_of(&live), None);
    }
}
