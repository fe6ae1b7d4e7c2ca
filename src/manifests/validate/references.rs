//! References from one object to another that the desired state does not
//! resolve. They are warnings, as the other object may already be in the
//! cluster; each carries the missing target as data for the engine.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use super::lookup;
use super::pod_template::{PodTemplate, pod_template};
use crate::manifests::DesiredObject;
use crate::manifests::field_lines::pointer;
use crate::manifests::identity::ObjectId;
use crate::manifests::problems::{
    PortRef, Problem, Problems, ReferenceTarget, Severity, UnresolvedReference,
};

const RBAC: &str = "rbac.authorization.k8s.io";

/// What the desired state defines, to look references up in.
pub(super) struct Defined<'a> {
    keys: HashSet<(&'a str, &'a str, Option<&'a str>, &'a str)>,
    /// `spec.ports` of each Service, by namespace and name.
    service_ports: HashMap<(&'a str, &'a str), &'a [Value]>,
    /// The labels of every pod template, by namespace.
    pod_labels: Vec<(&'a str, &'a Map<String, Value>)>,
    /// Which of `pod_labels` carry each label (namespace, key, text value),
    /// so a Service's selector is matched against the few templates that
    /// could match, not against all of them.
    with_label: HashMap<(&'a str, &'a str, &'a str), Vec<usize>>,
}

impl<'a> Defined<'a> {
    pub(super) fn new(objects: &'a [DesiredObject]) -> Self {
        let mut defined = Defined {
            keys: objects.iter().map(|o| o.id.key()).collect(),
            service_ports: HashMap::new(),
            pod_labels: Vec::new(),
            with_label: HashMap::new(),
        };
        for object in objects {
            let Some(namespace) = object.id.namespace.as_deref() else {
                continue;
            };
            if (object.id.group.as_str(), object.id.kind.as_str()) == ("", "Service") {
                let ports = lookup(&object.value, "/spec/ports").and_then(Value::as_array);
                defined.service_ports.insert(
                    (namespace, &object.id.name),
                    ports.map_or(&[], Vec::as_slice),
                );
            }
            if let Some(PodTemplate {
                labels: Some(Value::Object(labels)),
                ..
            }) = pod_template(object)
            {
                for (key, value) in labels {
                    if let Value::String(value) = value {
                        let templates = defined.with_label.entry((namespace, key, value));
                        templates.or_default().push(defined.pod_labels.len());
                    }
                }
                defined.pod_labels.push((namespace, labels));
            }
        }
        defined
    }
}

/// The references of `object` that `defined` does not resolve.
pub(super) fn check(object: &DesiredObject, defined: &Defined<'_>, problems: &mut Problems) {
    let Some(namespace) = object.id.namespace.as_deref() else {
        return;
    };
    let mut found = References {
        keys: &defined.keys,
        namespace,
        named: Vec::new(),
    };
    if let Some(template) = pod_template(object) {
        pod_references(&template, &mut found);
    }
    match (object.id.group.as_str(), object.id.kind.as_str()) {
        ("", "Service") => service_selector(object, namespace, defined, problems),
        ("networking.k8s.io", "Ingress") => {
            ingress_backends(object, namespace, defined, &mut found, problems);
        }
        (RBAC, "RoleBinding") => {
            if text(&object.value, "/roleRef/kind") == Some("Role")
                && let Some(name) = text(&object.value, "/roleRef/name")
            {
                found.add(RBAC, "Role", name, || {
                    Field::at("roleRef.name", "/roleRef/name")
                });
            }
        }
        _ => {}
    }
    for named in found.named {
        let target = ObjectId {
            group: named.group.to_string(),
            version: String::new(),
            kind: named.kind.to_string(),
            namespace: Some(namespace.to_string()),
            name: named.name.to_string(),
        };
        let message = format!(
            "refers to {target}, which Git does not define ({})",
            named.field.text
        );
        let problem = Problem::on_field(Severity::Warning, object, &named.field.pointer, message);
        problems.push(Problem {
            unresolved: Some(UnresolvedReference {
                field: named.field.text,
                target: ReferenceTarget::Object {
                    group: target.group,
                    kind: target.kind,
                    namespace: target.namespace,
                    name: target.name,
                },
            }),
            ..problem
        });
    }
}

/// A field of an object: as shown (`spec.volumes[config].configMap.name`)
/// and as a JSON pointer (`/spec/volumes/0/configMap/name`) to find its line.
#[derive(Clone)]
struct Field {
    text: String,
    pointer: String,
}

impl Field {
    fn at(text: &str, pointer: &str) -> Self {
        Field {
            text: text.to_string(),
            pointer: pointer.to_string(),
        }
    }

    /// A field inside this one; `label` names it in the text, `segment` in the pointer.
    fn child(&self, label: &str, segment: &str) -> Self {
        Field {
            text: format!("{}{label}", self.text),
            pointer: format!("{}{}", self.pointer, pointer([segment])),
        }
    }

    /// `.key`
    fn key(&self, key: &str) -> Self {
        self.child(&format!(".{key}"), key)
    }

    /// `[label]` for the item at `index` of a list.
    fn item(&self, label: &str, index: usize) -> Self {
        self.child(&format!("[{label}]"), &index.to_string())
    }
}

/// Objects an object in `namespace` names that the desired state does not
/// define, once each, with the first field naming them.
struct References<'a, 'd> {
    keys: &'d HashSet<(&'d str, &'d str, Option<&'d str>, &'d str)>,
    namespace: &'d str,
    named: Vec<Named<'a>>,
}

struct Named<'a> {
    group: &'static str,
    kind: &'static str,
    name: &'a str,
    field: Field,
}

impl<'a> References<'a, '_> {
    /// `field` is only built for a reference that is not resolved: most are.
    fn add(
        &mut self,
        group: &'static str,
        kind: &'static str,
        name: &'a str,
        field: impl FnOnce() -> Field,
    ) {
        if name.is_empty()
            || self
                .keys
                .contains(&(group, kind, Some(self.namespace), name))
        {
            return;
        }
        let known = self
            .named
            .iter()
            .any(|n| (n.group, n.kind, n.name) == (group, kind, name));
        if !known {
            self.named.push(Named {
                group,
                kind,
                name,
                field: field(),
            });
        }
    }
}

fn items(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    lookup(value, pointer).and_then(Value::as_str)
}

/// `optional: true` references may be missing by design.
fn required(reference: &&Value) -> bool {
    reference.get("optional").and_then(Value::as_bool) != Some(true)
}

/// `name` of a list item, or its index, to say which item a field is in.
fn item_label(item: &Value, index: usize) -> String {
    item.get("name")
        .and_then(Value::as_str)
        .map_or_else(|| index.to_string(), str::to_string)
}

/// ConfigMaps, Secrets, PersistentVolumeClaims and the ServiceAccount a pod
/// template names.
fn pod_references<'a>(template: &PodTemplate<'a>, found: &mut References<'a, '_>) {
    let Some(spec) = template.spec else { return };
    let at = || Field {
        text: format!("{}spec", template.prefix),
        pointer: format!("/{}spec", template.prefix.replace('.', "/")),
    };
    for (index, volume) in items(spec.get("volumes")).iter().enumerate() {
        let volume_at = || at().key("volumes").item(&item_label(volume, index), index);
        if let Some(config_map) = volume.get("configMap").filter(required)
            && let Some(name) = text(config_map, "/name")
        {
            let field = || volume_at().key("configMap").key("name");
            found.add("", "ConfigMap", name, field);
        }
        if let Some(secret) = volume.get("secret").filter(required)
            && let Some(name) = text(secret, "/secretName")
        {
            let field = || volume_at().key("secret").key("secretName");
            found.add("", "Secret", name, field);
        }
        if let Some(claim) = text(volume, "/persistentVolumeClaim/claimName") {
            let field = || volume_at().key("persistentVolumeClaim").key("claimName");
            found.add("", "PersistentVolumeClaim", claim, field);
        }
        let sources = items(lookup(volume, "/projected/sources"));
        for (source_index, source) in sources.iter().enumerate() {
            let source_at = || {
                let sources_at = volume_at().key("projected").key("sources");
                sources_at.item(&source_index.to_string(), source_index)
            };
            for (key, kind) in [("configMap", "ConfigMap"), ("secret", "Secret")] {
                if let Some(reference) = source.get(key).filter(required)
                    && let Some(name) = text(reference, "/name")
                {
                    found.add("", kind, name, || source_at().key(key).key("name"));
                }
            }
        }
    }
    for list in ["initContainers", "containers"] {
        for (index, container) in items(spec.get(list)).iter().enumerate() {
            let container_at = || at().key(list).item(&item_label(container, index), index);
            for (from_index, from) in items(container.get("envFrom")).iter().enumerate() {
                let from_at = || {
                    let env_from = container_at().key("envFrom");
                    env_from.item(&from_index.to_string(), from_index)
                };
                for (key, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                    if let Some(reference) = from.get(key).filter(required)
                        && let Some(name) = text(reference, "/name")
                    {
                        found.add("", kind, name, || from_at().key(key).key("name"));
                    }
                }
            }
            for (env_index, env) in items(container.get("env")).iter().enumerate() {
                let value_from = || {
                    let envs = container_at().key("env");
                    envs.item(&item_label(env, env_index), env_index)
                        .key("valueFrom")
                };
                for (key, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
                    if let Some(reference) = env
                        .get("valueFrom")
                        .and_then(|v| v.get(key))
                        .filter(required)
                        && let Some(name) = text(reference, "/name")
                    {
                        found.add("", kind, name, || value_from().key(key).key("name"));
                    }
                }
            }
        }
    }
    for key in ["serviceAccountName", "serviceAccount"] {
        // Every namespace has a "default" ServiceAccount.
        if let Some(account) = spec
            .get(key)
            .and_then(Value::as_str)
            .filter(|a| *a != "default")
        {
            found.add("", "ServiceAccount", account, || at().key(key));
            break;
        }
    }
}

/// A Service whose selector matches no pod template sends traffic nowhere.
fn service_selector(
    service: &DesiredObject,
    namespace: &str,
    defined: &Defined<'_>,
    problems: &mut Problems,
) {
    if text(&service.value, "/spec/type") == Some("ExternalName") {
        return;
    }
    let Some(Value::Object(selector)) = lookup(&service.value, "/spec/selector") else {
        return;
    };
    if selector.is_empty() {
        return;
    }
    let selects = |(ns, labels): &(&str, &Map<String, Value>)| {
        *ns == namespace
            && selector
                .iter()
                .all(|(key, value)| labels.get(key) == Some(value))
    };
    // Only templates with the selector's first text label can match.
    let first_text = selector
        .iter()
        .find_map(|(key, value)| Some((key.as_str(), value.as_str()?)));
    let matches = match first_text {
        Some((key, value)) => defined
            .with_label
            .get(&(namespace, key, value))
            .is_some_and(|templates| {
                templates
                    .iter()
                    .any(|&index| selects(&defined.pod_labels[index]))
            }),
        None => defined.pod_labels.iter().any(selects),
    };
    if matches {
        return;
    }
    let written: Vec<String> = selector
        .iter()
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
        .collect();
    let selector: BTreeMap<String, String> = selector
        .iter()
        .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
        .collect();
    let message = format!(
        "selector {} matches no pod template in Git (spec.selector)",
        written.join(",")
    );
    let problem = Problem::on_field(Severity::Warning, service, "/spec/selector", message);
    problems.push(Problem {
        unresolved: Some(UnresolvedReference {
            field: "spec.selector".to_string(),
            target: ReferenceTarget::Pods {
                namespace: namespace.to_string(),
                selector,
            },
        }),
        ..problem
    });
}

/// The Services (and their ports) an Ingress sends traffic to.
fn ingress_backends<'a>(
    ingress: &'a DesiredObject,
    namespace: &str,
    defined: &Defined<'_>,
    found: &mut References<'a, '_>,
    problems: &mut Problems,
) {
    // Each backend with its place: the default one, or rule and path indexes.
    let mut backends = Vec::new();
    if let Some(backend) = lookup(&ingress.value, "/spec/defaultBackend/service") {
        backends.push((None, backend));
    }
    for (rule_index, rule) in items(lookup(&ingress.value, "/spec/rules"))
        .iter()
        .enumerate()
    {
        for (path_index, path) in items(lookup(rule, "/http/paths")).iter().enumerate() {
            if let Some(backend) = lookup(path, "/backend/service") {
                backends.push((Some((rule_index, path_index)), backend));
            }
        }
    }
    let field_of = |place: Option<(usize, usize)>| match place {
        None => Field::at(
            "spec.defaultBackend.service",
            "/spec/defaultBackend/service",
        ),
        Some((rule_index, path_index)) => Field::at("spec.rules", "/spec/rules")
            .item(&rule_index.to_string(), rule_index)
            .key("http")
            .key("paths")
            .item(&path_index.to_string(), path_index)
            .key("backend")
            .key("service"),
    };
    for (place, backend) in backends {
        let Some(service) = text(backend, "/name") else {
            continue;
        };
        let Some(ports) = defined.service_ports.get(&(namespace, service)) else {
            found.add("", "Service", service, || field_of(place).key("name"));
            continue;
        };
        let (port, port_field) = match (
            lookup(backend, "/port/number").and_then(Value::as_i64),
            text(backend, "/port/name"),
        ) {
            (Some(number), _) => (PortRef::Number(number), "number"),
            (None, Some(name)) => (PortRef::Name(name.to_string()), "name"),
            (None, None) => continue,
        };
        let served = ports.iter().any(|p| match &port {
            PortRef::Number(n) => p.get("port").and_then(Value::as_i64) == Some(*n),
            PortRef::Name(name) => text(p, "/name") == Some(name.as_str()),
        });
        if served {
            continue;
        }
        let field = field_of(place).key("port").key(port_field);
        let message = format!(
            "refers to port {port} of Service \"{namespace}/{service}\", which Git does not define ({})",
            field.text
        );
        let problem = Problem::on_field(Severity::Warning, ingress, &field.pointer, message);
        problems.push(Problem {
            unresolved: Some(UnresolvedReference {
                field: field.text,
                target: ReferenceTarget::ServicePort {
                    namespace: namespace.to_string(),
                    service: service.to_string(),
                    port,
                },
            }),
            ..problem
        });
    }
}
