//! Validation the API server does before storing an object: names, labels
//! and annotations, the rules of the common kinds, fields that cannot change
//! after creation, and custom resources against their schema. Every problem
//! becomes a cause of one 422 Invalid.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::catalog::{NameRule, ResourceType};
use super::status::Cause;
use crate::names::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_label_value,
    is_qualified_name_part,
};

const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// Problems with an object name under a kind's rule.
pub fn name_problems(name: &str, rule: NameRule) -> Vec<String> {
    match rule {
        NameRule::Subdomain if !is_dns1123_subdomain(name) => {
            if name.len() > 253 {
                vec!["must be no more than 253 characters".into()]
            } else {
                vec![SUBDOMAIN_MESSAGE.into()]
            }
        }
        NameRule::Label if !is_dns1123_label(name) => {
            if name.len() > 63 {
                vec!["must be no more than 63 characters".into()]
            } else {
                vec![LABEL_MESSAGE.into()]
            }
        }
        NameRule::Dns1035 if !is_dns1035_label(name) => {
            if name.len() > 63 {
                vec!["must be no more than 63 characters".into()]
            } else {
                vec![DNS1035_MESSAGE.into()]
            }
        }
        NameRule::PathSegment => {
            let mut problems = Vec::new();
            if name == "." || name == ".." {
                problems.push(format!("may not be '{name}'"));
            }
            for bad in ['/', '%'] {
                if name.contains(bad) {
                    problems.push(format!("may not contain '{bad}'"));
                }
            }
            problems
        }
        _ => Vec::new(),
    }
}

fn qualified_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !is_dns1123_subdomain(prefix)
    {
        return Some(format!("prefix part {SUBDOMAIN_MESSAGE}"));
    }
    if !is_qualified_name_part(name) {
        return Some(QUALIFIED_NAME_MESSAGE.into());
    }
    None
}

fn metadata_causes(object: &Value, causes: &mut Vec<Cause>) {
    if let Some(labels) = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            if let Some(problem) = qualified_key_problem(key) {
                causes.push(Cause::invalid("metadata.labels", &json!(key), &problem));
            }
            let text = value.as_str().unwrap_or_default();
            let valid = is_label_value(text);
            if !value.is_string() || !valid {
                causes.push(Cause::invalid(
                    "metadata.labels",
                    value,
                    LABEL_VALUE_MESSAGE,
                ));
            }
        }
    }
    if let Some(annotations) = object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (key, value) in annotations {
            if let Some(problem) = qualified_key_problem(key) {
                causes.push(Cause::invalid(
                    "metadata.annotations",
                    &json!(key),
                    &problem,
                ));
            }
            if !value.is_string() {
                causes.push(Cause::invalid(
                    "metadata.annotations",
                    value,
                    "must be a string",
                ));
            }
        }
    }
}

/// Every problem with `object` as a new version of `old` (absent on create).
pub fn validate(rt: &ResourceType, object: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut causes = Vec::new();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    for problem in name_problems(name, rt.name_rule) {
        causes.push(Cause::invalid("metadata.name", &json!(name), &problem));
    }
    metadata_causes(object, &mut causes);
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment")
        | ("apps", "ReplicaSet")
        | ("apps", "StatefulSet")
        | ("apps", "DaemonSet") => workload_causes(rt, object, old, &mut causes),
        ("batch", "Job") => job_causes(object, old, &mut causes),
        ("batch", "CronJob") => {
            if object
                .pointer("/spec/schedule")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                causes.push(Cause::required("spec.schedule", ""));
            }
            if let Some(pod) = object.pointer("/spec/jobTemplate/spec/template/spec") {
                pod_spec_causes(pod, "spec.jobTemplate.spec.template.spec", &mut causes);
            }
        }
        ("", "Pod") => match object.get("spec") {
            Some(spec) => pod_spec_causes(spec, "spec", &mut causes),
            None => causes.push(Cause::required("spec.containers", "")),
        },
        ("", "Service") => service_causes(object, old, &mut causes),
        ("", "ConfigMap") => {
            for field in ["data", "binaryData"] {
                if let Some(data) = object.get(field).and_then(Value::as_object) {
                    for key in data.keys() {
                        let valid = !key.is_empty()
                            && key.len() <= 253
                            && key
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                        if !valid {
                            causes.push(Cause::invalid(
                                field,
                                &json!(key),
                                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                            ));
                        }
                    }
                }
            }
        }
        ("", "PersistentVolumeClaim") => pvc_causes(object, old, &mut causes),
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            if object.get("roleRef").is_none_or(Value::is_null) {
                causes.push(Cause::required("roleRef.name", ""));
            }
            if let Some(old) = old
                && old.get("roleRef") != object.get("roleRef")
            {
                causes.push(Cause::invalid(
                    "roleRef",
                    object.get("roleRef").unwrap_or(&Value::Null),
                    "cannot change roleRef",
                ));
            }
        }
        _ => {}
    }
    if let Some(schema) = rt.crd.as_ref().and_then(|c| c.schema.as_ref()) {
        schema_causes(schema, object, "", &mut causes);
    }
    causes
}

fn immutable(field: &str, new: Option<&Value>, old: Option<&Value>, causes: &mut Vec<Cause>) {
    if new != old {
        causes.push(Cause::invalid(
            field,
            new.unwrap_or(&Value::Null),
            "field is immutable",
        ));
    }
}

fn workload_causes(
    rt: &ResourceType,
    object: &Value,
    old: Option<&Value>,
    causes: &mut Vec<Cause>,
) {
    let selector = object.pointer("/spec/selector");
    let labels = object.pointer("/spec/template/metadata/labels");
    match selector {
        None | Some(Value::Null) => causes.push(Cause::required("spec.selector", "")),
        Some(selector) => {
            let match_labels = selector.get("matchLabels").and_then(Value::as_object);
            let expressions = selector
                .get("matchExpressions")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty());
            if match_labels.is_none_or(|m| m.is_empty()) && !expressions {
                causes.push(Cause::invalid(
                    "spec.selector",
                    selector,
                    "empty selector is invalid for deployment",
                ));
            } else if let Some(match_labels) = match_labels {
                let fits = match_labels
                    .iter()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
                if !fits {
                    causes.push(Cause::invalid(
                        "spec.template.metadata.labels",
                        labels.unwrap_or(&Value::Null),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        }
    }
    if let Some(replicas) = object.pointer("/spec/replicas").and_then(Value::as_i64)
        && replicas < 0
    {
        causes.push(Cause::invalid(
            "spec.replicas",
            &json!(replicas),
            "must be greater than or equal to 0",
        ));
    }
    if rt.kind == "Deployment" {
        let strategy = object.pointer("/spec/strategy/type");
        if let Some(kind) = strategy.and_then(Value::as_str)
            && !matches!(kind, "Recreate" | "RollingUpdate")
        {
            causes.push(Cause::unsupported(
                "spec.strategy.type",
                &json!(kind),
                &["Recreate", "RollingUpdate"],
            ));
        }
        if strategy.and_then(Value::as_str) == Some("Recreate")
            && object.pointer("/spec/strategy/rollingUpdate").is_some()
        {
            causes.push(Cause::forbidden(
                "spec.strategy.rollingUpdate",
                "may not be specified when strategy `type` is 'Recreate'",
            ));
        }
    }
    match object.pointer("/spec/template/spec") {
        Some(pod) => {
            pod_spec_causes(pod, "spec.template.spec", causes);
            if let Some(policy) = pod.get("restartPolicy").and_then(Value::as_str)
                && policy != "Always"
            {
                causes.push(Cause::unsupported(
                    "spec.template.spec.restartPolicy",
                    &json!(policy),
                    &["Always"],
                ));
            }
        }
        None => causes.push(Cause::required("spec.template.spec.containers", "")),
    }
    if let Some(old) = old {
        immutable(
            "spec.selector",
            object.pointer("/spec/selector"),
            old.pointer("/spec/selector"),
            causes,
        );
    }
}

fn job_causes(object: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    match object.pointer("/spec/template/spec") {
        Some(pod) => {
            pod_spec_causes(pod, "spec.template.spec", causes);
            let policy = pod
                .get("restartPolicy")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !matches!(policy, "OnFailure" | "Never") {
                causes.push(Cause::unsupported(
                    "spec.template.spec.restartPolicy",
                    &json!(policy),
                    &["OnFailure", "Never"],
                ));
            }
        }
        None => causes.push(Cause::required("spec.template.spec.containers", "")),
    }
    if let Some(old) = old {
        immutable(
            "spec.selector",
            object.pointer("/spec/selector"),
            old.pointer("/spec/selector"),
            causes,
        );
        immutable(
            "spec.template",
            object.pointer("/spec/template"),
            old.pointer("/spec/template"),
            causes,
        );
    }
}

fn pod_spec_causes(spec: &Value, path: &str, causes: &mut Vec<Cause>) {
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(|c| c.is_empty()) {
        causes.push(Cause::required(format!("{path}.containers"), ""));
    }
    let mut seen = BTreeSet::new();
    for list in ["initContainers", "containers"] {
        for (index, container) in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{path}.{list}[{index}]");
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            if name.is_empty() {
                causes.push(Cause::required(format!("{at}.name"), ""));
            } else if !is_dns1123_label(name) {
                causes.push(Cause::invalid(
                    format!("{at}.name"),
                    &json!(name),
                    LABEL_MESSAGE,
                ));
            } else if !seen.insert(name.to_string()) {
                causes.push(Cause::duplicate(format!("{at}.name"), &json!(name)));
            }
            if container
                .get("image")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                causes.push(Cause::required(format!("{at}.image"), ""));
            }
            for (p, port) in container
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let number = port.get("containerPort").and_then(Value::as_i64);
                if !number.is_some_and(|n| (1..=65535).contains(&n)) {
                    causes.push(Cause::invalid(
                        format!("{at}.ports[{p}].containerPort"),
                        port.get("containerPort").unwrap_or(&Value::Null),
                        "must be between 1 and 65535, inclusive",
                    ));
                }
            }
        }
    }
}

fn service_causes(object: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let spec = object.get("spec").cloned().unwrap_or(json!({}));
    let service_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    if !matches!(
        service_type,
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName"
    ) {
        causes.push(Cause::unsupported(
            "spec.type",
            &json!(service_type),
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ));
    }
    let ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    if ports.is_empty() && service_type != "ExternalName" && !headless {
        causes.push(Cause::required("spec.ports", ""));
    }
    if service_type == "ExternalName"
        && spec
            .get("externalName")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        causes.push(Cause::required("spec.externalName", ""));
    }
    let mut names = BTreeSet::new();
    for (index, port) in ports.iter().enumerate() {
        let at = format!("spec.ports[{index}]");
        let number = port.get("port").and_then(Value::as_i64);
        if !number.is_some_and(|n| (1..=65535).contains(&n)) {
            causes.push(Cause::invalid(
                format!("{at}.port"),
                port.get("port").unwrap_or(&Value::Null),
                "must be between 1 and 65535, inclusive",
            ));
        }
        let protocol = port
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("TCP");
        if !matches!(protocol, "TCP" | "UDP" | "SCTP") {
            causes.push(Cause::unsupported(
                format!("{at}.protocol"),
                &json!(protocol),
                &["SCTP", "TCP", "UDP"],
            ));
        }
        let name = port.get("name").and_then(Value::as_str).unwrap_or("");
        if ports.len() > 1 && name.is_empty() {
            causes.push(Cause::required(format!("{at}.name"), ""));
        } else if !name.is_empty() && !names.insert(name.to_string()) {
            causes.push(Cause::duplicate(format!("{at}.name"), &json!(name)));
        }
    }
    if let Some(old) = old {
        let old_ip = old.pointer("/spec/clusterIP");
        if old_ip.is_some()
            && object.pointer("/spec/clusterIP") != old_ip
            && service_type != "ExternalName"
        {
            causes.push(Cause::invalid(
                "spec.clusterIPs[0]",
                object.pointer("/spec/clusterIP").unwrap_or(&Value::Null),
                "may not change once set",
            ));
        }
    }
}

fn pvc_causes(object: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    if object
        .pointer("/spec/accessModes")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        causes.push(Cause::required(
            "spec.accessModes",
            "at least 1 access mode is required",
        ));
    }
    if object.pointer("/spec/resources/requests/storage").is_none() {
        causes.push(Cause::required("spec.resources[storage]", ""));
    }
    if let Some(old) = old {
        let strip = |v: Option<&Value>| {
            let mut spec = v.cloned().unwrap_or(Value::Null);
            if let Some(resources) = spec.get_mut("resources").and_then(Value::as_object_mut) {
                resources.shift_remove("requests");
            }
            if let Some(map) = spec.as_object_mut() {
                map.shift_remove("volumeName");
                map.shift_remove("volumeAttributesClassName");
            }
            spec
        };
        if strip(object.get("spec")) != strip(old.get("spec")) {
            causes.push(Cause::forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            ));
        }
    }
}

/// The structural checks of a CRD schema: types, required fields, enums.
fn schema_causes(schema: &Value, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(expected) = schema.get("type").and_then(Value::as_str)
        && !path.is_empty()
    {
        let int_or_string = schema.get("x-kubernetes-int-or-string").is_some();
        let fits = match expected {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string() || (int_or_string && value.is_i64()),
            "integer" => value.is_i64() || value.is_u64() || (int_or_string && value.is_string()),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits && !value.is_null() {
            causes.push(Cause::type_invalid(
                path,
                json_type(value),
                &format!(
                    "{path} in body must be of type {expected}: \"{}\"",
                    json_type(value)
                ),
            ));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let names: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
        let supported: Vec<&str> = names.iter().map(String::as_str).collect();
        causes.push(Cause::unsupported(path, value, &supported));
    }
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, child) in map {
                if path.is_empty() && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let child_schema = properties
                    .and_then(|p| p.get(key))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(child_schema) = child_schema {
                    schema_causes(child_schema, child, &at(key), causes);
                }
            }
            // After the properties' own problems, as the API server lists them.
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for key in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(key) {
                        causes.push(Cause::required(at(key), ""));
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    schema_causes(item_schema, item, &format!("{path}[{index}]"), causes);
                }
            }
        }
        _ => {}
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::catalog::Catalog;

    fn deployment_type() -> std::sync::Arc<ResourceType> {
        Catalog::builtin()
            .find("apps", "v1", "deployments")
            .unwrap()
    }

    #[test]
    fn names_follow_the_kinds_rule() {
        assert!(name_problems("web-1", NameRule::Subdomain).is_empty());
        assert!(name_problems("a.b.c", NameRule::Subdomain).is_empty());
        assert!(!name_problems("Web", NameRule::Subdomain).is_empty());
        assert!(!name_problems("a.b", NameRule::Label).is_empty());
        assert!(!name_problems("1abc", NameRule::Dns1035).is_empty());
        assert!(name_problems("system:node", NameRule::PathSegment).is_empty());
        assert_eq!(
            name_problems("a/b", NameRule::PathSegment),
            vec!["may not contain '/'"]
        );
    }

    #[test]
    fn deployment_whose_selector_misses_the_template_labels_is_invalid() {
        let d = json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "other"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
        }});
        let causes = validate(&deployment_type(), &d, None);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.template.metadata.labels");
    }

    #[test]
    fn changing_a_deployment_selector_is_refused() {
        let old = json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "v": "2"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
        }});
        let mut new = old.clone();
        new["spec"]["selector"]["matchLabels"]["v"] = json!("2");
        let causes = validate(&deployment_type(), &new, Some(&old));
        assert_eq!(
            causes[0].message.rsplit(": ").next(),
            Some("field is immutable")
        );
    }

    #[test]
    fn bad_label_values_are_invalid() {
        let d = json!({"metadata": {"name": "cm", "labels": {"ok": "yes", "bad": "no way!"}}});
        let rt = Catalog::builtin().find("", "v1", "configmaps").unwrap();
        let causes = validate(&rt, &d, None);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "metadata.labels");
    }
}
