//! The verdict on one resource: sync status, health, what differs and why,
//! as `status`, `diff` and the TUI show it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compare::{FieldChange, compare, diff_label};
use super::health::{Health, HealthAssessment, health};
use super::normalize::Normalization;
use super::resource_key::ResourceKey;
use super::stamp::revision_of;
use super::{secret_mask, yaml_diff};
use crate::config::IgnoreRule;

/// Whether a resource matches Git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResourceStatus {
    Synced,
    /// Live differs from Git; the result's `changes` say where.
    OutOfSync,
    /// In Git, not in the cluster.
    Missing,
    /// Labelled as the app's, in the cluster, gone from Git: prunable.
    Extra,
    /// The live state could not be read.
    Unknown,
}

impl fmt::Display for ResourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Everything known about one resource of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceResult {
    #[serde(flatten)]
    pub key: ResourceKey,
    pub status: ResourceStatus,
    pub health: HealthAssessment,
    /// The commit the live object was applied from (`driftdeck.dev/revision`).
    pub revision: Option<String>,
    /// One line on why the resource is not Synced; `None` when it is.
    pub reason: Option<String>,
    /// The fields that differ; non-empty exactly when OutOfSync.
    pub changes: Vec<FieldChange>,
    /// Unified YAML diff, live → desired; the whole object for Missing and
    /// Extra; empty when Synced or Unknown.
    pub diff: String,
}

/// How many changed fields a reason names before it says "and N more".
const FIELDS_IN_REASON: usize = 3;

impl ResourceResult {
    /// A resource in Git and in the cluster.
    pub fn compared(
        key: ResourceKey,
        desired: &Value,
        live: &Value,
        ignore: &[IgnoreRule],
    ) -> ResourceResult {
        let drift = compare(desired, live, ignore);
        let (status, reason) = if drift.is_drift() {
            let reason = changes_reason(&drift.changes);
            (ResourceStatus::OutOfSync, Some(reason))
        } else {
            (ResourceStatus::Synced, None)
        };
        ResourceResult {
            key,
            status,
            health: health(live),
            revision: revision_of(live).map(str::to_string),
            reason,
            changes: drift.changes,
            diff: drift.diff,
        }
    }

    /// A resource in Git that the cluster does not have.
    pub fn missing(key: ResourceKey, desired: &Value) -> ResourceResult {
        let shown = whole_object(desired);
        ResourceResult {
            key,
            status: ResourceStatus::Missing,
            health: HealthAssessment::new(Health::Missing, "not in the cluster"),
            revision: None,
            reason: Some("in Git, not in the cluster".to_string()),
            changes: Vec::new(),
            diff: yaml_diff::unified(&diff_label(desired), &Value::Null, &shown),
        }
    }

    /// A live resource of the app that Git no longer has.
    pub fn extra(key: ResourceKey, live: &Value) -> ResourceResult {
        let shown = whole_object(live);
        ResourceResult {
            key,
            status: ResourceStatus::Extra,
            health: health(live),
            revision: revision_of(live).map(str::to_string),
            reason: Some("in the cluster, no longer in Git".to_string()),
            changes: Vec::new(),
            diff: yaml_diff::unified(&diff_label(live), &shown, &Value::Null),
        }
    }

    /// A resource whose live state could not be read, and why.
    pub fn unknown(key: ResourceKey, cause: impl Into<String>) -> ResourceResult {
        let cause = cause.into();
        ResourceResult {
            key,
            status: ResourceStatus::Unknown,
            health: HealthAssessment::new(Health::Unknown, cause.clone()),
            revision: None,
            reason: Some(cause),
            changes: Vec::new(),
            diff: String::new(),
        }
    }
}

/// An object shown whole: normalized, and masked when it is a Secret.
fn whole_object(object: &Value) -> Value {
    let object = if secret_mask::is_secret(object) {
        secret_mask::mask_pair(object, &Value::Null).0
    } else {
        object.clone()
    };
    Normalization::for_pair(&object, &object).strip(&object)
}

/// `spec.replicas, spec.template.spec.containers[web].image and 2 more differ`.
fn changes_reason(changes: &[FieldChange]) -> String {
    let named: Vec<&str> = changes
        .iter()
        .take(FIELDS_IN_REASON)
        .map(|c| c.path.as_str())
        .collect();
    let more = changes.len().saturating_sub(FIELDS_IN_REASON);
    let verb = if changes.len() == 1 { "differs" } else { "differ" };
    if more > 0 {
        format!("{} and {more} more {verb}", named.join(", "))
    } else {
        format!("{} {verb}", named.join(", "))
    }
}
