//! `metadata.managedFields`: which manager owns which fields, kept the way
//! the API server's field manager keeps it. A write by an `Update` manager
//! (create, PUT, patch) takes the fields it changed away from everyone else;
//! an `Apply` manager owns exactly what it applied (see `apply`).

use serde_json::{Map, Value, json};

use super::fieldset::{FieldSet, Path, PathElement, field};
use super::schema::{ListMerge, ListShape, NodeKind, Shape};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagerEntry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub time: String,
    pub subresource: String,
    pub fields: FieldSet,
}

impl ManagerEntry {
    /// How conflict messages name the manager: `"kubectl"`, or
    /// `"kube-controller-manager" with subresource "status" using apps/v1`.
    pub fn describe(&self) -> String {
        let mut text = format!("\"{}\"", self.manager);
        if !self.subresource.is_empty() {
            text.push_str(&format!(" with subresource \"{}\"", self.subresource));
        }
        if self.operation == Operation::Update {
            text.push_str(&format!(" using {}", self.api_version));
        }
        text
    }

    fn is(&self, manager: &str, operation: Operation, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// Every manager's entry of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedFields {
    pub entries: Vec<ManagerEntry>,
}

/// Who is writing, and through which endpoint.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub subresource: &'a str,
    pub now: &'a str,
}

impl ManagedFields {
    /// Reads the entries of an object; entries that cannot be read are
    /// dropped, as the API server resets managed fields it cannot decode.
    pub fn read(object: &Value) -> ManagedFields {
        let entries = object
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(read_entry).collect())
            .unwrap_or_default();
        ManagedFields { entries }
    }

    /// The JSON list, in the API server's order (Apply before Update, then
    /// by time and manager).
    pub fn to_json(&self) -> Value {
        let mut entries: Vec<&ManagerEntry> = self.entries.iter().collect();
        entries.sort_by(|a, b| {
            (
                a.operation,
                &a.time,
                &a.manager,
                &a.api_version,
                &a.subresource,
            )
                .cmp(&(
                    b.operation,
                    &b.time,
                    &b.manager,
                    &b.api_version,
                    &b.subresource,
                ))
        });
        Value::Array(
            entries
                .into_iter()
                .map(|entry| {
                    let mut map = Map::new();
                    map.insert("manager".into(), json!(entry.manager));
                    map.insert("operation".into(), json!(entry.operation.as_str()));
                    map.insert("apiVersion".into(), json!(entry.api_version));
                    map.insert("time".into(), json!(entry.time));
                    map.insert("fieldsType".into(), json!("FieldsV1"));
                    map.insert("fieldsV1".into(), entry.fields.to_fields_v1());
                    if !entry.subresource.is_empty() {
                        map.insert("subresource".into(), json!(entry.subresource));
                    }
                    Value::Object(map)
                })
                .collect(),
        )
    }

    pub fn find(
        &self,
        manager: &str,
        operation: Operation,
        subresource: &str,
    ) -> Option<&ManagerEntry> {
        self.entries
            .iter()
            .find(|e| e.is(manager, operation, subresource))
    }

    /// Sets the fields of one manager's entry, creating it when new; the
    /// time moves only when what it owns changed, as on a real server.
    pub fn set(&mut self, operation: Operation, writer: &Writer<'_>, fields: FieldSet) {
        match self
            .entries
            .iter_mut()
            .find(|e| e.is(writer.manager, operation, writer.subresource))
        {
            Some(entry) => {
                if entry.fields != fields || entry.api_version != writer.api_version {
                    entry.time = writer.now.to_string();
                }
                entry.fields = fields;
                entry.api_version = writer.api_version.to_string();
            }
            None => self.entries.push(ManagerEntry {
                manager: writer.manager.to_string(),
                operation,
                api_version: writer.api_version.to_string(),
                time: writer.now.to_string(),
                subresource: writer.subresource.to_string(),
                fields,
            }),
        }
    }

    pub fn drop_empty(&mut self) {
        self.entries.retain(|e| !e.fields.is_empty());
    }

    /// Everything any manager owns.
    pub fn union(&self) -> FieldSet {
        let mut all = FieldSet::new();
        for entry in &self.entries {
            all.add_all(&entry.fields);
        }
        all
    }
}

fn read_entry(value: &Value) -> Option<ManagerEntry> {
    let operation = match value.get("operation")?.as_str()? {
        "Apply" => Operation::Apply,
        "Update" => Operation::Update,
        _ => return None,
    };
    let fields = match value.get("fieldsV1") {
        Some(fields) => FieldSet::from_fields_v1(fields).ok()?,
        None => FieldSet::new(),
    };
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Some(ManagerEntry {
        manager: text("manager"),
        operation,
        api_version: text("apiVersion"),
        time: text("time"),
        subresource: text("subresource"),
        fields,
    })
}

/// Paths no manager owns: identity and bookkeeping the server sets, plus
/// whatever the endpoint resets (status on the main resource, everything
/// but status on `/status`).
#[derive(Debug, Clone)]
pub struct Untracked {
    /// Keep only these subtrees (for `/status` writes); empty keeps all.
    pub only: Vec<Path>,
    pub drop: Vec<Path>,
}

impl Untracked {
    /// For a write to the main resource; `status_reset` when the kind has a
    /// status subresource.
    pub fn main_resource(status_reset: bool) -> Self {
        let mut drop = system_paths();
        if status_reset {
            drop.push(vec![field("status")]);
        }
        Untracked {
            only: Vec::new(),
            drop,
        }
    }

    /// For a write to `/status` (which may also touch annotations, as the
    /// deployment controller does).
    pub fn status_subresource() -> Self {
        Untracked {
            only: vec![
                vec![field("status")],
                vec![field("metadata"), field("annotations")],
            ],
            drop: system_paths(),
        }
    }

    pub fn strip(&self, set: &FieldSet) -> FieldSet {
        let mut kept = if self.only.is_empty() {
            set.clone()
        } else {
            let paths: Vec<&[PathElement]> = self.only.iter().map(Vec::as_slice).collect();
            set.keep_only_subtrees(&paths)
        };
        for path in &self.drop {
            kept.remove_subtree(path);
        }
        kept
    }
}

fn system_paths() -> Vec<Path> {
    let mut paths = vec![vec![field("apiVersion")], vec![field("kind")]];
    for name in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
    ] {
        paths.push(vec![field("metadata"), field(name)]);
    }
    paths
}

/// Why an associative list item cannot be placed: it lacks a key field that
/// has no default.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingListKey {
    pub path: String,
    pub index: usize,
    pub key: String,
}

/// The path element of a list item: its keys for a keyed list, its value
/// for a set.
pub fn item_element(
    list: &ListShape,
    item: &Value,
    index: usize,
) -> Result<PathElement, (usize, String)> {
    match &list.merge {
        ListMerge::Set => Ok(PathElement::value(item)),
        ListMerge::Map(keys) => {
            let mut pairs = Vec::with_capacity(keys.len());
            for key in keys {
                match item.get(&key.name).or(key.default.as_ref()) {
                    Some(value) => pairs.push((key.name.clone(), value.clone())),
                    None => return Err((index, key.name.clone())),
                }
            }
            Ok(PathElement::key(&pairs))
        }
        ListMerge::Atomic => Ok(PathElement::Index(index)),
    }
}

/// The item's element, or its position when a key is missing (only
/// `apply` refuses such items; other writes still track them).
pub fn item_element_or_index(list: &ListShape, item: &Value, index: usize) -> PathElement {
    item_element(list, item, index).unwrap_or(PathElement::Index(index))
}

/// The fields a value sets, as structured-merge-diff's `ToFieldSet`: leaves,
/// list items, empty maps, and every key of a free map.
pub fn field_set(value: &Value, shape: &Shape) -> Result<FieldSet, MissingListKey> {
    let mut set = FieldSet::new();
    collect_fields(value, shape, &mut Vec::new(), &mut set)?;
    Ok(set)
}

fn collect_fields(
    value: &Value,
    shape: &Shape,
    path: &mut Path,
    set: &mut FieldSet,
) -> Result<(), MissingListKey> {
    match (shape.classify(value), value) {
        (NodeKind::Fields { free }, Value::Object(map)) => {
            for (key, child) in map {
                path.push(field(key));
                collect_fields(child, shape.field(key), path, set)?;
                let empty_map = child.as_object().is_some_and(Map::is_empty);
                if free || child.is_null() || empty_map {
                    set.insert(path);
                }
                path.pop();
            }
        }
        (NodeKind::List(list), Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                let element =
                    item_element(list, item, index).map_err(|(index, key)| MissingListKey {
                        path: super::fieldset::display_path(path),
                        index,
                        key,
                    })?;
                path.push(element);
                if matches!(list.merge, ListMerge::Map(_)) {
                    collect_fields(item, &list.item, path, set)?;
                }
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
    Ok(())
}

/// What changed between two versions of an object.
#[derive(Debug, Default, Clone)]
pub struct Comparison {
    pub added: FieldSet,
    pub removed: FieldSet,
    pub modified: FieldSet,
}

impl Comparison {
    pub fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }
}

/// Compares two versions of an object: new paths, removed paths and changed
/// leaves. A container that appears is itself added; `null` counts as an
/// empty container that exists.
pub fn compare(old: &Value, new: &Value, shape: &Shape) -> Comparison {
    let mut comparison = Comparison::default();
    compare_node(
        Some(old),
        Some(new),
        shape,
        &mut Vec::new(),
        &mut comparison,
    );
    comparison
}

fn compare_node(
    old: Option<&Value>,
    new: Option<&Value>,
    shape: &Shape,
    path: &mut Path,
    out: &mut Comparison,
) {
    let sample = match (old, new) {
        (Some(o), Some(n)) if o.is_null() => n,
        (Some(o), _) => o,
        (None, Some(n)) => n,
        (None, None) => return,
    };
    let other_side_fits = |value: Option<&Value>| match value {
        None => true,
        Some(v) => v.is_null() || std::mem::discriminant(v) == std::mem::discriminant(sample),
    };
    let structural = !matches!(shape.classify(sample), NodeKind::Leaf)
        && other_side_fits(old)
        && other_side_fits(new);
    if !structural {
        match (old, new) {
            (None, Some(_)) => out.added.insert(path),
            (Some(_), None) => out.removed.insert(path),
            (Some(o), Some(n)) if o != n => out.modified.insert(path),
            _ => {}
        }
        return;
    }
    match shape.classify(sample) {
        NodeKind::Fields { .. } => {
            let empty = Map::new();
            let old_map = old.and_then(Value::as_object).unwrap_or(&empty);
            let new_map = new.and_then(Value::as_object).unwrap_or(&empty);
            for (key, old_child) in old_map {
                path.push(field(key));
                compare_node(
                    Some(old_child),
                    new_map.get(key),
                    shape.field(key),
                    path,
                    out,
                );
                path.pop();
            }
            for (key, new_child) in new_map {
                if !old_map.contains_key(key) {
                    path.push(field(key));
                    compare_node(None, Some(new_child), shape.field(key), path, out);
                    path.pop();
                }
            }
        }
        NodeKind::List(list) => {
            let keyed = |value: Option<&Value>| -> Vec<(PathElement, Value)> {
                value
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| (item_element_or_index(list, item, i), item.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let old_items = keyed(old);
            let new_items = keyed(new);
            let item_shape = &list.item;
            let is_set = list.merge == ListMerge::Set;
            for (element, old_item) in &old_items {
                let new_item = new_items.iter().find(|(e, _)| e == element).map(|(_, v)| v);
                path.push(element.clone());
                if is_set {
                    if new_item.is_none() {
                        out.removed.insert(path);
                    }
                } else {
                    compare_node(Some(old_item), new_item, item_shape, path, out);
                }
                path.pop();
            }
            for (element, new_item) in &new_items {
                if !old_items.iter().any(|(e, _)| e == element) {
                    path.push(element.clone());
                    if is_set {
                        out.added.insert(path);
                    } else {
                        compare_node(None, Some(new_item), item_shape, path, out);
                    }
                    path.pop();
                }
            }
        }
        NodeKind::Leaf => {}
    }
    match (old, new) {
        (None, Some(_)) => out.added.insert(path),
        (Some(_), None) => out.removed.insert(path),
        _ => {}
    }
}

/// Records an `Update` write (create, PUT, patch, a controller's status
/// write): the writer owns what it added or changed, everyone else loses
/// it, and removed fields leave every set.
pub fn track_update(
    managed: &mut ManagedFields,
    old: &Value,
    new: &Value,
    shape: &Shape,
    writer: &Writer<'_>,
    untracked: &Untracked,
) {
    let comparison = compare(old, new, shape);
    let changed = untracked.strip(&comparison.changed());
    let removed = untracked.strip(&comparison.removed);
    for entry in &mut managed.entries {
        if entry.is(writer.manager, Operation::Update, writer.subresource) {
            continue;
        }
        entry.fields = entry.fields.difference(&changed).difference(&removed);
    }
    let previous = managed
        .find(writer.manager, Operation::Update, writer.subresource)
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let owned = previous.difference(&removed).union(&changed);
    managed.set(Operation::Update, writer, owned);
    managed.drop_empty();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::schema::builtin;
    use serde_json::json;

    fn writer<'a>(manager: &'a str) -> Writer<'a> {
        Writer {
            manager,
            api_version: "apps/v1",
            subresource: "",
            now: "2025-01-01T00:00:00Z",
        }
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": image, "ports": [{"containerPort": 80}]}
            ]}}}
        })
    }

    #[test]
    fn field_set_keys_ports_by_port_and_defaulted_protocol() {
        let shape = builtin("apps", "Deployment");
        let set = field_set(&deployment(1, "nginx"), &shape).unwrap();
        let fields = set.to_fields_v1();
        let container =
            &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
        assert_eq!(container["."], json!({}));
        assert_eq!(
            container["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]["f:containerPort"],
            json!({})
        );
        assert_eq!(fields["f:metadata"]["f:labels"]["f:app"], json!({}));
        assert!(fields["f:metadata"]["f:labels"].get(".").is_none());
    }

    #[test]
    fn update_takes_changed_fields_from_other_managers() {
        let shape = builtin("apps", "Deployment");
        let untracked = Untracked::main_resource(true);
        let mut managed = ManagedFields::default();
        let empty = json!({"metadata": {}, "spec": {}});
        track_update(
            &mut managed,
            &empty,
            &deployment(1, "nginx"),
            &shape,
            &writer("creator"),
            &untracked,
        );
        track_update(
            &mut managed,
            &deployment(1, "nginx"),
            &deployment(3, "nginx"),
            &shape,
            &writer("scaler"),
            &untracked,
        );
        let replicas = vec![field("spec"), field("replicas")];
        let creator = managed.find("creator", Operation::Update, "").unwrap();
        let scaler = managed.find("scaler", Operation::Update, "").unwrap();
        assert!(!creator.fields.contains(&replicas));
        assert!(scaler.fields.contains(&replicas));
        assert_eq!(scaler.fields.paths().len(), 1);
        assert!(!creator.fields.contains(&[field("metadata"), field("name")]));
    }

    #[test]
    fn a_new_map_is_itself_added() {
        let shape = builtin("apps", "Deployment");
        let comparison = compare(&json!({"metadata": {}}), &deployment(1, "x"), &shape);
        assert!(
            comparison
                .added
                .contains(&[field("metadata"), field("labels")])
        );
        assert!(!comparison.added.contains(&[field("metadata")]));
    }
}
