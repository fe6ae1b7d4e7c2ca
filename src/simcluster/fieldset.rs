//! Sets of field paths, the unit of ownership in `metadata.managedFields`,
//! in the `FieldsV1` format the API server writes: `f:` for a field, `k:` for
//! an item of a keyed list, `v:` for an item of a set, `i:` for a position,
//! and `.` for a node that is itself a member and has children.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One step of a path into an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    Field(String),
    /// The keys of a keyed-list item as compact JSON with sorted keys.
    Key(String),
    /// A set item as compact JSON.
    Value(String),
    Index(usize),
}

impl PathElement {
    /// A keyed-list item's element from its key fields.
    pub fn key(pairs: &[(String, Value)]) -> Self {
        let mut sorted: Vec<&(String, Value)> = pairs.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut map = Map::new();
        for (name, value) in sorted {
            map.insert(name.clone(), value.clone());
        }
        PathElement::Key(Value::Object(map).to_string())
    }

    pub fn value(value: &Value) -> Self {
        PathElement::Value(value.to_string())
    }

    fn encode(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(json) => format!("k:{json}"),
            PathElement::Value(json) => format!("v:{json}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let (prefix, rest) = text.split_at_checked(2)?;
        match prefix {
            "f:" => Some(PathElement::Field(rest.to_string())),
            "k:" => {
                let value: Value = serde_json::from_str(rest).ok()?;
                let pairs: Vec<(String, Value)> = value
                    .as_object()?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Some(PathElement::key(&pairs))
            }
            "v:" => {
                let value: Value = serde_json::from_str(rest).ok()?;
                Some(PathElement::value(&value))
            }
            "i:" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }

    /// As the API server prints it in conflict messages:
    /// `.spec`, `[name="web"]`, `[="x"]`, `[0]`.
    fn display(&self) -> String {
        match self {
            PathElement::Field(name) => format!(".{name}"),
            PathElement::Key(json) => {
                let parsed: Value = serde_json::from_str(json).unwrap_or(Value::Null);
                let parts: Vec<String> = parsed
                    .as_object()
                    .map(|map| map.iter().map(|(k, v)| format!("{k}={v}")).collect())
                    .unwrap_or_default();
                format!("[{}]", parts.join(","))
            }
            PathElement::Value(json) => format!("[={json}]"),
            PathElement::Index(index) => format!("[{index}]"),
        }
    }
}

pub type Path = Vec<PathElement>;

/// A path as the API server prints it: `.spec.template.spec.containers[name="web"].image`.
pub fn display_path(path: &[PathElement]) -> String {
    path.iter().map(PathElement::display).collect()
}

/// A set of paths, stored as a tree.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: &[PathElement]) {
        match path.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path.split_first() {
            None => self.member,
            Some((first, rest)) => self
                .children
                .get(first)
                .is_some_and(|child| child.contains(rest)),
        }
    }

    /// The subtree under `element`, if any.
    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// Whether the set has no member at all.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.add_all(other);
        out
    }

    pub fn add_all(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (element, child) in &other.children {
            self.children
                .entry(element.clone())
                .or_default()
                .add_all(child);
        }
    }

    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (element, child) in &self.children {
            let rest = match other.children.get(element) {
                Some(other_child) => child.difference(other_child),
                None => child.clone(),
            };
            if !rest.is_empty() {
                out.children.insert(element.clone(), rest);
            }
        }
        out
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (element, child) in &self.children {
            if let Some(other_child) = other.children.get(element) {
                let both = child.intersection(other_child);
                if !both.is_empty() {
                    out.children.insert(element.clone(), both);
                }
            }
        }
        out
    }

    /// Drops `path` and everything below it.
    pub fn remove_subtree(&mut self, path: &[PathElement]) {
        match path.split_first() {
            None => *self = FieldSet::default(),
            Some((first, [])) => {
                self.children.remove(first);
            }
            Some((first, rest)) => {
                if let Some(child) = self.children.get_mut(first) {
                    child.remove_subtree(rest);
                    if child.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// Keeps only `path` and what is below it.
    pub fn keep_only_subtrees(&self, paths: &[&[PathElement]]) -> FieldSet {
        let mut out = FieldSet::new();
        for path in paths {
            if let Some(subtree) = self.descend(path) {
                let mut grafted = subtree.clone();
                for element in path.iter().rev() {
                    let mut parent = FieldSet::new();
                    parent.children.insert(element.clone(), grafted);
                    grafted = parent;
                }
                out.add_all(&grafted);
            }
        }
        out
    }

    fn descend(&self, path: &[PathElement]) -> Option<&FieldSet> {
        match path.split_first() {
            None => Some(self),
            Some((first, rest)) => self.children.get(first)?.descend(rest),
        }
    }

    /// Every member path, in the set's order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` JSON object.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (element, child) in &self.children {
            if child.is_empty() {
                continue;
            }
            map.insert(element.encode(), child.to_fields_v1());
        }
        Value::Object(map)
    }

    /// Reads a `fieldsV1` object; an entry it cannot read is an error that
    /// names it.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let mut root = FieldSet::new();
        root.read_children(value)?;
        Ok(root)
    }

    fn read_children(&mut self, value: &Value) -> Result<(), String> {
        let map = value
            .as_object()
            .ok_or_else(|| format!("expected an object in fieldsV1, found {value}"))?;
        for (text, child_value) in map {
            if text == "." {
                self.member = true;
                continue;
            }
            let element = PathElement::decode(text)
                .ok_or_else(|| format!("unreadable path element {text:?} in fieldsV1"))?;
            let child = self.children.entry(element).or_default();
            let has_children = child_value.as_object().is_some_and(|m| !m.is_empty());
            if has_children {
                child.read_children(child_value)?;
            } else {
                child.member = true;
            }
        }
        Ok(())
    }
}

pub fn field(name: &str) -> PathElement {
    PathElement::Field(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(parts: &[&str]) -> Path {
        parts.iter().map(|p| field(p)).collect()
    }

    #[test]
    fn fields_v1_marks_members_with_children_by_a_dot() {
        let mut set = FieldSet::new();
        let item = PathElement::key(&[("name".into(), json!("web"))]);
        let mut container = path(&["spec", "containers"]);
        container.push(item.clone());
        set.insert(&container);
        let mut image = container.clone();
        image.push(field("image"));
        set.insert(&image);
        set.insert(&path(&["spec", "replicas"]));
        assert_eq!(
            set.to_fields_v1(),
            json!({"f:spec": {
                "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}}},
                "f:replicas": {}
            }})
        );
        assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), set);
    }

    #[test]
    fn difference_keeps_only_what_the_other_lacks() {
        let mut a = FieldSet::new();
        a.insert(&path(&["spec", "replicas"]));
        a.insert(&path(&["spec", "paused"]));
        let mut b = FieldSet::new();
        b.insert(&path(&["spec", "replicas"]));
        let rest = a.difference(&b);
        assert_eq!(rest.paths(), vec![path(&["spec", "paused"])]);
        assert!(a.intersection(&b).contains(&path(&["spec", "replicas"])));
    }

    #[test]
    fn display_path_quotes_key_values_like_the_api_server() {
        let mut p = path(&["spec", "containers"]);
        p.push(PathElement::key(&[("name".into(), json!("web"))]));
        p.push(field("image"));
        assert_eq!(display_path(&p), ".spec.containers[name=\"web\"].image");
    }

    #[test]
    fn unreadable_fields_v1_is_an_error_naming_the_entry() {
        let error = FieldSet::from_fields_v1(&json!({"x:spec": {}})).unwrap_err();
        assert!(error.contains("x:spec"), "{error}");
    }
}
