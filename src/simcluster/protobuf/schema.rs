//! The messages of the built-in kinds, read from `builtin.schema` (written
//! by `regenerate.py` from the Kubernetes sources): for each message, its
//! fields by number with their JSON names and types.

use std::collections::HashMap;

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    /// A message, by its short name (`apps.v1.DeploymentSpec`).
    Message(String),
}

/// One value, a list of them, or a map from strings to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    Single,
    Repeated,
    Map,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub field_type: FieldType,
    pub cardinality: Cardinality,
    /// JSON shows this field even when its value is zero (a Go pointer,
    /// or a field without `omitempty`).
    pub keeps_zero: bool,
    /// JSON shows the fields of this message in its parent (a Go struct
    /// embedded `,inline`).
    pub inline: bool,
}

#[derive(Debug, Default)]
pub struct Message {
    pub fields: HashMap<u32, Field>,
}

/// Why the schema text could not be read: a fault of `builtin.schema`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("builtin.schema line {line}: {message}")]
pub struct SchemaError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Schema {
    messages: HashMap<String, Message>,
}

impl Schema {
    pub fn parse(text: &str) -> Result<Schema, SchemaError> {
        let mut schema = Schema::default();
        let mut current: Option<String> = None;
        for (index, line) in text.lines().enumerate() {
            let fail = |message: String| SchemaError {
                line: index + 1,
                message,
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix("message ") {
                schema.messages.insert(name.to_string(), Message::default());
                current = Some(name.to_string());
                continue;
            }
            let message = current
                .as_ref()
                .and_then(|name| schema.messages.get_mut(name))
                .ok_or_else(|| fail("a field outside a message".into()))?;
            let words: Vec<&str> = line.split_whitespace().collect();
            let (number, name, type_text, flags) = match words.as_slice() {
                [number, name, type_text, flags @ ..] => (number, name, type_text, flags),
                _ => return Err(fail(format!("cannot read the field {line:?}"))),
            };
            if let Some(flag) = flags.iter().find(|f| !matches!(**f, "keep" | "inline")) {
                return Err(fail(format!("unknown flag {flag:?}")));
            }
            let number: u32 = number
                .parse()
                .map_err(|_| fail(format!("{number:?} is not a field number")))?;
            let (cardinality, type_name) = if let Some(rest) = type_text.strip_prefix("[]") {
                (Cardinality::Repeated, rest)
            } else if let Some(rest) = type_text.strip_prefix("{}") {
                (Cardinality::Map, rest)
            } else {
                (Cardinality::Single, *type_text)
            };
            let field_type = match type_name {
                "string" => FieldType::String,
                "bytes" => FieldType::Bytes,
                "bool" => FieldType::Bool,
                "int32" => FieldType::Int32,
                "int64" => FieldType::Int64,
                other => FieldType::Message(other.to_string()),
            };
            message.fields.insert(
                number,
                Field {
                    name: (*name).to_string(),
                    field_type,
                    cardinality,
                    keeps_zero: flags.contains(&"keep"),
                    inline: flags.contains(&"inline"),
                },
            );
        }
        Ok(schema)
    }

    pub fn message(&self, name: &str) -> Option<&Message> {
        self.messages.get(name)
    }
}

/// The message of a kind: `apps/v1` `Deployment` is `apps.v1.Deployment`,
/// `v1` `Pod` is `core.v1.Pod`, and a group is known by its first label
/// (`networking.k8s.io` → `networking`).
pub fn message_of_kind(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let package = match group.split('.').next() {
        Some("") | None => "core",
        Some(first) => first,
    };
    format!("{package}.{version}.{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Schema {
        Schema::parse(include_str!("builtin.schema")).unwrap()
    }

    #[test]
    fn every_message_a_field_names_is_in_the_schema() {
        let schema = builtin();
        for (name, message) in &schema.messages {
            for field in message.fields.values() {
                if let FieldType::Message(inner) = &field.field_type {
                    assert!(
                        schema.message(inner).is_some(),
                        "{name}.{} names {inner}",
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_served_builtin_kind_has_its_message() {
        let schema = builtin();
        for (api_version, kind) in [
            ("v1", "Namespace"),
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("v1", "Service"),
            ("v1", "ServiceAccount"),
            ("v1", "Pod"),
            ("v1", "PersistentVolumeClaim"),
            ("v1", "Endpoints"),
            ("v1", "Event"),
            ("apps/v1", "Deployment"),
            ("apps/v1", "StatefulSet"),
            ("apps/v1", "DaemonSet"),
            ("apps/v1", "ReplicaSet"),
            ("batch/v1", "Job"),
            ("batch/v1", "CronJob"),
            ("networking.k8s.io/v1", "Ingress"),
            ("networking.k8s.io/v1", "NetworkPolicy"),
            ("policy/v1", "PodDisruptionBudget"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("autoscaling/v1", "Scale"),
            ("coordination.k8s.io/v1", "Lease"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ] {
            assert!(
                schema
                    .message(&message_of_kind(api_version, kind))
                    .is_some(),
                "{api_version} {kind}"
            );
        }
    }

    #[test]
    fn deployment_fields_carry_names_types_and_zero_rules() {
        let schema = builtin();
        let spec = schema.message("apps.v1.DeploymentSpec").unwrap();
        let replicas = &spec.fields[&1];
        assert_eq!(replicas.name, "replicas");
        assert_eq!(replicas.field_type, FieldType::Int32);
        assert!(replicas.keeps_zero, "replicas is a pointer: 0 means 0");
        let paused = &spec.fields[&7];
        assert_eq!(paused.name, "paused");
        assert!(!paused.keeps_zero);
        let handler = &schema.message("core.v1.Probe").unwrap().fields[&1];
        assert!(handler.inline, "httpGet sits in the probe itself in JSON");
        let labels = &schema.message("meta.v1.ObjectMeta").unwrap().fields[&11];
        assert_eq!(
            (labels.name.as_str(), labels.cardinality),
            ("labels", Cardinality::Map)
        );
    }

    #[test]
    fn a_broken_line_is_reported_with_its_number() {
        let error = Schema::parse("message a.v1.A\n1 name string\nname\n").unwrap_err();
        assert_eq!(error.line, 3);
        let error = Schema::parse("message a.v1.A\n1 name string kept\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(Schema::parse("1 name string\n").is_err());
    }
}
