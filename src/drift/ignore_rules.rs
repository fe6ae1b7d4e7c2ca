//! Per-app ignore rules: the JSON pointers a rule names are removed from both
//! sides before they are compared, for the objects the rule matches.

use serde_json::Value;

use crate::config::IgnoreRule;
use crate::resource::ResourceKey;

/// Whether a rule applies to an object: every field it names must match.
pub(crate) fn rule_matches(rule: &IgnoreRule, key: &ResourceKey) -> bool {
    let matches = |wanted: &Option<String>, actual: Option<&str>| {
        wanted.as_deref().is_none_or(|w| Some(w) == actual)
    };
    matches(&rule.group, Some(&key.group))
        && matches(&rule.kind, Some(&key.kind))
        && matches(&rule.name, Some(&key.name))
        && matches(&rule.namespace, key.namespace.as_deref())
}

/// The pointers of every rule that applies to the object.
pub(crate) fn pointers_for<'r>(key: &ResourceKey, rules: &'r [IgnoreRule]) -> Vec<&'r str> {
    rules
        .iter()
        .filter(|rule| rule_matches(rule, key))
        .flat_map(|rule| rule.pointers.iter().map(String::as_str))
        .collect()
}

/// Removes the value a pointer names, if it is there.
pub(crate) fn remove_pointer(object: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match object.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = last.parse::<usize>()
                && index < items.len()
            {
                items.remove(index);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(kind: Option<&str>, name: Option<&str>, pointers: &[&str]) -> IgnoreRule {
        IgnoreRule {
            group: None,
            kind: kind.map(str::to_string),
            name: name.map(str::to_string),
            namespace: None,
            pointers: pointers.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn key(kind: &str, name: &str) -> ResourceKey {
        ResourceKey {
            group: "apps".to_string(),
            kind: kind.to_string(),
            namespace: Some("shop".to_string()),
            name: name.to_string(),
        }
    }

    #[test]
    fn rules_match_on_every_field_they_name() {
        let rules = vec![
            rule(Some("Deployment"), None, &["/spec/replicas"]),
            rule(Some("Deployment"), Some("other"), &["/spec/paused"]),
            rule(Some("Service"), None, &["/spec/clusterIP"]),
        ];
        assert_eq!(
            pointers_for(&key("Deployment", "web"), &rules),
            vec!["/spec/replicas"]
        );
        let mut namespaced = rule(None, None, &["/x"]);
        namespaced.namespace = Some("other".to_string());
        assert!(!rule_matches(&namespaced, &key("Deployment", "web")));
    }

    #[test]
    fn removing_a_pointer_handles_escapes_lists_and_absence() {
        let mut object = json!({"metadata": {"annotations": {"a/b": "1", "c": "2"}},
            "spec": {"items": [1, 2, 3]}});
        remove_pointer(&mut object, "/metadata/annotations/a~1b");
        remove_pointer(&mut object, "/spec/items/1");
        remove_pointer(&mut object, "/spec/missing/deeper");
        remove_pointer(&mut object, "/spec/items/9");
        remove_pointer(&mut object, "no-slash");
        assert_eq!(
            object,
            json!({"metadata": {"annotations": {"c": "2"}}, "spec": {"items": [1, 3]}})
        );
    }
}
