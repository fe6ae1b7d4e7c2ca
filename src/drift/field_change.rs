//! What differs between a desired object and its live counterpart: each
//! changed field, and the object's drift with its diff.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// RFC 6901 pointer. List indexes are the item's index in the live list,
    /// or in the desired list for an item only Git has.
    pub pointer: String,
    /// The same place for people, list items named by their merge key:
    /// `spec.template.spec.containers[web].image`.
    pub path: String,
    pub change: ChangeKind,
    /// The live value; `None` when the field is not live. Masked for Secrets.
    pub live: Option<Value>,
    /// The value in Git; `None` when Git no longer sets it. Masked for Secrets.
    pub desired: Option<Value>,
    /// The manual-change manager (`kubectl-set`, …) that set a field Git
    /// does not have: a change made by hand, which a sync removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_hand: Option<String>,
}

/// What a sync would do to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// Both sides have it, with different values.
    Changed,
    /// Git sets it, the cluster does not have it.
    Added,
    /// The cluster has it, Git set it before and no longer does.
    Removed,
}

/// The drift of one object: empty when desired and live agree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceDiff {
    pub changes: Vec<FieldChange>,
    /// Unified YAML diff (live → what a sync would make it), 3 lines of
    /// context; empty when there is no drift.
    pub diff: String,
}

impl ResourceDiff {
    pub fn is_drift(&self) -> bool {
        !self.changes.is_empty()
    }
}
