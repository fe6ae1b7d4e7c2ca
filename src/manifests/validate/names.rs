//! Names, namespaces, label and annotation keys and values that the API
//! server would refuse, with its own wording of the rules.

use serde_json::Value;

use super::pod_template::pod_template;
use super::{kind_of_value, lookup};
use crate::manifests::DesiredObject;
use crate::manifests::field_lines::pointer as field_pointer;
use crate::manifests::problems::{Problem, Problems, Severity};
use crate::names::{
    LABEL_MAX, SUBDOMAIN_MAX, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain,
    is_label_value, is_qualified_name_part,
};

const SUBDOMAIN_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const LABEL_RULE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1035_RULE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const NAME_PART_RULE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_RULE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

fn too_long(max: usize) -> String {
    format!("must be no more than {max} characters")
}

/// A name under one rule: too long, or not of the rule's form.
fn named_rule(s: &str, max: usize, valid: fn(&str) -> bool, rule: &str) -> Result<(), String> {
    if s.len() > max {
        Err(too_long(max))
    } else if valid(s) {
        Ok(())
    } else {
        Err(rule.to_string())
    }
}

fn dns1123_label(s: &str) -> Result<(), String> {
    named_rule(s, LABEL_MAX, is_dns1123_label, LABEL_RULE)
}

fn dns1123_subdomain(s: &str) -> Result<(), String> {
    named_rule(s, SUBDOMAIN_MAX, is_dns1123_subdomain, SUBDOMAIN_RULE)
}

/// Service names.
fn dns1035_label(s: &str) -> Result<(), String> {
    named_rule(s, LABEL_MAX, is_dns1035_label, DNS1035_RULE)
}

/// RBAC names may hold anything but `/` and `%`, and may not be `.` or `..`.
fn path_segment_name(s: &str) -> Result<(), String> {
    if s == "." || s == ".." {
        return Err(format!("may not be '{s}'"));
    }
    if s.contains(['/', '%']) {
        return Err("may not contain '/' or '%'".to_string());
    }
    Ok(())
}

/// A label or annotation key: an optional DNS subdomain prefix and `/`,
/// then a name of at most 63 characters.
fn qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err("prefix part must be non-empty".to_string());
        }
        dns1123_subdomain(prefix).map_err(|why| format!("prefix part {why}"))?;
    }
    if name.is_empty() {
        return Err("name part must be non-empty".to_string());
    }
    named_rule(name, LABEL_MAX, is_qualified_name_part, NAME_PART_RULE).map_err(|why| {
        if name.len() > LABEL_MAX {
            format!("name part {why}")
        } else {
            why
        }
    })
}

/// A label value: empty, or label text of at most 63 characters.
fn label_value(value: &str) -> Result<(), String> {
    named_rule(value, LABEL_MAX, is_label_value, LABEL_VALUE_RULE)
}

/// The rule for an object's name, which depends on its kind.
fn name_rule(group: &str, kind: &str) -> fn(&str) -> Result<(), String> {
    match (group, kind) {
        ("", "Namespace") => dns1123_label,
        ("", "Service") => dns1035_label,
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => path_segment_name,
        _ => dns1123_subdomain,
    }
}

/// Name, namespace, labels and annotations of one object, and the labels of
/// its pod template.
pub(super) fn check(object: &DesiredObject, problems: &mut Problems) {
    let id = &object.id;
    let mut error = |pointer: &str, message: String| {
        problems.push(Problem::on_field(Severity::Error, object, pointer, message));
    };
    if let Err(why) = name_rule(&id.group, &id.kind)(&id.name) {
        error(
            "/metadata/name",
            format!("metadata.name \"{}\" is not valid: {why}", id.name),
        );
    }
    if let Some(Value::String(namespace)) = lookup(&object.value, "/metadata/namespace")
        && !namespace.is_empty()
        && let Err(why) = dns1123_label(namespace)
    {
        error(
            "/metadata/namespace",
            format!("metadata.namespace \"{namespace}\" is not valid: {why}"),
        );
    }
    let metadata = object.value.get("metadata");
    let mut check = |pointer: &str, labels: bool| {
        check_map(lookup(&object.value, pointer), pointer, labels, &mut error);
    };
    if metadata.is_some() {
        check("/metadata/labels", true);
        check("/metadata/annotations", false);
    }
    if let Some(template) = pod_template(object)
        && !template.prefix.is_empty()
    {
        let prefix = template.prefix.trim_end_matches('.').replace('.', "/");
        check(&format!("/{prefix}/metadata/labels"), true);
    }
}

/// A map of labels (`labels`: values are checked too) or annotations at
/// `pointer` (`/metadata/labels`, called `metadata.labels` in messages).
fn check_map(
    map: Option<&Value>,
    pointer: &str,
    labels: bool,
    error: &mut impl FnMut(&str, String),
) {
    let field = || pointer.trim_start_matches('/').replace('/', ".");
    let entries = match map {
        None | Some(Value::Null) => return,
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            error(
                pointer,
                format!("{} is {}, not a mapping", field(), kind_of_value(other)),
            );
            return;
        }
    };
    for (key, value) in entries {
        // Built only for a problem: most labels are fine.
        let at = || format!("{pointer}{}", field_pointer([key]));
        if let Err(why) = qualified_name(key) {
            error(
                &at(),
                format!("{}: key \"{key}\" is not valid: {why}", field()),
            );
        }
        match value {
            Value::String(text) if labels => {
                if let Err(why) = label_value(text) {
                    error(
                        &at(),
                        format!(
                            "{}: value \"{text}\" of \"{key}\" is not valid: {why}",
                            field()
                        ),
                    );
                }
            }
            Value::String(_) => {}
            other => error(
                &at(),
                format!(
                    "{}: value of \"{key}\" is {}, not a string (quote it)",
                    field(),
                    kind_of_value(other)
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_are_lowercase_dotted_labels() {
        assert!(dns1123_subdomain("web-1.example").is_ok());
        assert!(dns1123_subdomain("Web").is_err());
        assert!(dns1123_subdomain("web_1").is_err());
        assert!(dns1123_subdomain("-web").is_err());
        assert!(dns1123_subdomain("web.").is_err());
        assert!(dns1123_subdomain("").is_err());
        assert_eq!(
            dns1123_subdomain(&"a".repeat(254)).unwrap_err(),
            "must be no more than 253 characters"
        );
    }

    #[test]
    fn labels_have_no_dots_and_at_most_63_characters() {
        assert!(dns1123_label("prod-eu").is_ok());
        assert!(dns1123_label("prod.eu").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1035_label("web").is_ok());
        assert!(dns1035_label("1web").is_err());
    }

    #[test]
    fn qualified_names_have_an_optional_prefix() {
        assert!(qualified_name("app").is_ok());
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("My_Key.1").is_ok());
        assert!(qualified_name("bad key").is_err());
        assert!(qualified_name("/name").is_err());
        assert!(qualified_name("Example.com/name").is_err());
        assert!(qualified_name("a/b/c").is_err());
        assert!(qualified_name(&"k".repeat(64)).is_err());
    }

    #[test]
    fn label_values_may_be_empty() {
        assert!(label_value("").is_ok());
        assert!(label_value("v1.2_3-x").is_ok());
        assert!(label_value("front end").is_err());
        assert!(label_value("-x").is_err());
        assert!(label_value(&"v".repeat(64)).is_err());
    }

    #[test]
    fn rbac_names_are_path_segments() {
        let rule = name_rule("rbac.authorization.k8s.io", "ClusterRole");
        assert!(rule("system:controller:job-controller").is_ok());
        assert!(rule("a/b").is_err());
        assert!(rule("..").is_err());
    }
}
