//! The line of a field inside a document, so a problem points at the label
//! or reference that is wrong rather than at the top of its object. The
//! document is parsed again with spans only when a problem needs a line.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::limits::{self, MAX_NODES_PER_DOCUMENT, NodeBudget};

/// One YAML document of a file or rendered stream. The documents of a file
/// share one copy of its text.
pub struct SourceDocument {
    stream: Arc<str>,
    /// Where the document is in `stream`.
    range: Range<usize>,
    /// 1-based line of the file or stream where the document starts.
    pub first_line: usize,
}

impl SourceDocument {
    /// The document at `range` of `stream`, which starts at `first_line`.
    pub fn new(stream: Arc<str>, range: Range<usize>, first_line: usize) -> Self {
        SourceDocument {
            stream,
            range,
            first_line,
        }
    }

    pub fn text(&self) -> &str {
        self.stream.get(self.range.clone()).unwrap_or_default()
    }
}

/// Two documents are the same when their text and place are.
impl PartialEq for SourceDocument {
    fn eq(&self, other: &Self) -> bool {
        self.first_line == other.first_line && self.text() == other.text()
    }
}

impl Eq for SourceDocument {}

impl fmt::Debug for SourceDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceDocument")
            .field("text", &self.text())
            .field("first_line", &self.first_line)
            .finish()
    }
}

impl SourceDocument {
    /// The line of `pointer` (a JSON pointer such as `/metadata/name`) in the
    /// object that starts at `object_line`; the line of the nearest parent
    /// that exists when the field itself does not.
    pub fn line_of(&self, object_line: usize, pointer: &str) -> Option<usize> {
        limits::on_parser_stack(|| self.find_line(object_line, pointer)).flatten()
    }

    fn find_line(&self, object_line: usize, pointer: &str) -> Option<usize> {
        let (options, _) = NodeBudget::new(MAX_NODES_PER_DOCUMENT).yaml_options();
        let root: Spanned<Node> = serde_saphyr::from_str_with_options(self.text(), options).ok()?;
        let to_stream = |line: u64| self.first_line + (line.max(1) as usize) - 1;
        let object = find_object(&root, &|line| to_stream(line) == object_line)?;
        let mut node = object;
        // The line of the key of a field, not of its value, which for a
        // block mapping or list starts on the next line.
        let mut line = object.referenced.line();
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            let child = match &node.value {
                Node::Map(entries) => entries
                    .iter()
                    .find(|(key, _)| key.value.0 == segment)
                    .map(|(key, value)| (key.referenced.line(), value)),
                Node::Seq(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|item| (item.referenced.line(), item)),
                Node::Leaf => None,
            };
            match child {
                Some((at, child)) => {
                    line = at;
                    node = child;
                }
                None => break,
            }
        }
        Some(to_stream(line))
    }
}

/// Builds a JSON pointer from its segments, escaping `~` and `/`.
pub fn pointer<S: AsRef<str>>(segments: impl IntoIterator<Item = S>) -> String {
    segments
        .into_iter()
        .fold(String::new(), |mut pointer, segment| {
            pointer.push('/');
            pointer.push_str(&segment.as_ref().replace('~', "~0").replace('/', "~1"));
            pointer
        })
}

/// The first mapping, in document order, that starts at the object's line:
/// the document itself, or an item of a `kind: List`.
fn find_object<'a>(
    node: &'a Spanned<Node>,
    at_line: &dyn Fn(u64) -> bool,
) -> Option<&'a Spanned<Node>> {
    if matches!(node.value, Node::Map(_)) && at_line(node.referenced.line()) {
        return Some(node);
    }
    match &node.value {
        Node::Map(entries) => entries.iter().find_map(|(_, v)| find_object(v, at_line)),
        Node::Seq(items) => items.iter().find_map(|item| find_object(item, at_line)),
        Node::Leaf => None,
    }
}

/// A YAML tree that keeps only structure and places.
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
}

/// A mapping key of any scalar type, as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  template:
    spec:
      volumes:
      - name: config
        configMap:
          name: settings
";

    fn document() -> SourceDocument {
        SourceDocument::new(Arc::from(DEPLOYMENT), 0..DEPLOYMENT.len(), 10)
    }

    #[test]
    fn finds_the_line_of_a_field() {
        let doc = document();
        assert_eq!(doc.line_of(11, "/metadata/name"), Some(14));
        let label = pointer(["metadata", "labels", "app.kubernetes.io/name"]);
        assert_eq!(label, "/metadata/labels/app.kubernetes.io~1name");
        assert_eq!(doc.line_of(11, &label), Some(16));
        assert_eq!(
            doc.line_of(11, "/spec/template/spec/volumes/0/configMap/name"),
            Some(23)
        );
    }

    #[test]
    fn a_missing_field_gives_its_nearest_parent() {
        assert_eq!(
            document().line_of(11, "/spec/template/spec/nodeName"),
            Some(19)
        );
    }

    #[test]
    fn list_items_are_found_by_their_line() {
        let text = "kind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  metadata:\n    name: b\n";
        let doc = SourceDocument::new(Arc::from(text), 0..text.len(), 1);
        assert_eq!(doc.line_of(5, "/metadata/name"), Some(7));
        assert_eq!(doc.line_of(3, "/metadata/name"), Some(4));
    }
}
