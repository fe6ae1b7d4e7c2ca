//! Reading back what driftdeck wrote on an object it applied.

use serde_json::Value;

use super::lookup::metadata_field;
use crate::resource::REVISION_ANNOTATION;

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
