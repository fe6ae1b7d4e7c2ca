//! The desired state: the objects Git asks for, each with its identity and
//! the place it was written.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use super::field_lines::SourceDocument;
use super::file::Origin;
use super::identity::{ObjectId, Scope};

/// The objects Git asks for, in file and document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredState {
    pub objects: Vec<DesiredObject>,
}

/// One object of the desired state.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    /// Its namespace is the app's when the object names none and its kind is
    /// namespaced (or unknown).
    pub id: ObjectId,
    pub scope: Scope,
    /// The object as written (the namespace is not filled in); `Null` once
    /// `text` holds it (read both through `value()`).
    pub(super) value: Value,
    /// The object as JSON text, once `Checked::make_compact` made it so.
    pub(super) text: Option<Box<str>>,
    pub origin: Origin,
    /// The document it was parsed from.
    pub source: Arc<SourceDocument>,
}

impl DesiredObject {
    pub fn new(
        id: ObjectId,
        scope: Scope,
        value: Value,
        origin: Origin,
        source: Arc<SourceDocument>,
    ) -> DesiredObject {
        DesiredObject {
            id,
            scope,
            value,
            text: None,
            origin,
            source,
        }
    }

    /// The object as written (the namespace is not filled in): borrowed, or
    /// decoded from its text once the state was made compact. The text was
    /// written from a value, so it reads back.
    pub fn value(&self) -> Cow<'_, Value> {
        match &self.text {
            Some(text) => Cow::Owned(serde_json::from_str(text).unwrap_or(Value::Null)),
            None => Cow::Borrowed(&self.value),
        }
    }
}
