//! The unified YAML diff people read: live on the left, what a sync would
//! make it on the right, 3 lines of context.

use serde_json::Value;
use similar::TextDiff;

/// Lines of context around each change.
const CONTEXT_LINES: usize = 3;

/// A unified diff between two objects rendered as YAML; `label` names the
/// object in the `---`/`+++` headers. `Value::Null` stands for "no object".
pub(crate) fn unified(label: &str, live: &Value, desired: &Value) -> String {
    let old = to_yaml(live);
    let new = to_yaml(desired);
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("live/{label}"), &format!("desired/{label}"))
        .to_string()
}

fn to_yaml(object: &Value) -> String {
    if object.is_null() {
        return String::new();
    }
    // A serde_json value always has a YAML form; JSON is the fallback anyway.
    serde_saphyr::to_string(object)
        .or_else(|_| serde_json::to_string_pretty(object))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_shows_the_changed_line_with_three_lines_of_context() {
        let live = json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9});
        let mut desired = live.clone();
        desired["e"] = json!(50);
        let diff = unified("ConfigMap/shop/settings", &live, &desired);
        let expected = "\
--- live/ConfigMap/shop/settings
+++ desired/ConfigMap/shop/settings
@@ -2,7 +2,7 @@
 b: 2
 c: 3
 d: 4
-e: 5
+e: 50
 f: 6
 g: 7
 h: 8
";
        assert_eq!(diff, expected);
    }

    #[test]
    fn no_object_diffs_as_all_added() {
        let diff = unified("ConfigMap/x", &Value::Null, &json!({"a": 1}));
        assert!(diff.ends_with("@@ -0,0 +1 @@\n+a: 1\n"), "{diff}");
        assert_eq!(unified("x", &json!({"a": 1}), &json!({"a": 1})), "");
    }
}
