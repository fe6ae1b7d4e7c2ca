//! The verdict on one resource: sync status, health, what differs and why,
//! as `status`, `diff` and the TUI show it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compare::{compare_with, diff_label};
use super::field_change::{ChangeKind, FieldChange};
use super::health::{Health, HealthAssessment, health};
use super::manual_changes::ManualManagers;
use super::normalize::{Normalization, display_form};
use super::stamp::revision_of;
use super::{secret_mask, yaml_diff};
use crate::config::IgnoreRule;
use crate::resource::ResourceKey;

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

impl ResourceStatus {
    /// The state's word, as the screen shows it and the filter matches it.
    pub fn word(self) -> &'static str {
        match self {
            ResourceStatus::Synced => "Synced",
            ResourceStatus::OutOfSync => "OutOfSync",
            ResourceStatus::Missing => "Missing",
            ResourceStatus::Extra => "Extra",
            ResourceStatus::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for ResourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
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
        ResourceResult::compared_with(key, desired, live, ignore, &ManualManagers::default())
    }

    /// `compared`, with the config's list of manual-change managers.
    pub fn compared_with(
        key: ResourceKey,
        desired: &Value,
        live: &Value,
        ignore: &[IgnoreRule],
        manual: &ManualManagers,
    ) -> ResourceResult {
        let drift = compare_with(desired, live, ignore, manual);
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
    display_form(
        Normalization::for_pair(&object, &object).strip(&object),
        &object,
    )
}

/// `spec.replicas changed, spec.ports[53/UDP] added in Git and 2 more fields differ`.
fn changes_reason(changes: &[FieldChange]) -> String {
    let named: Vec<String> = changes
        .iter()
        .take(FIELDS_IN_REASON)
        .map(|c| {
            let what = match (c.change, &c.by_hand) {
                (_, Some(manager)) => format!("added by hand ({manager})"),
                (ChangeKind::Changed, None) => "changed".to_string(),
                (ChangeKind::Added, None) => "added in Git".to_string(),
                (ChangeKind::Removed, None) => "removed from Git".to_string(),
            };
            format!("{} {what}", c.path)
        })
        .collect();
    match changes.len().saturating_sub(FIELDS_IN_REASON) {
        0 => named.join(", "),
        1 => format!("{} and 1 more field differ", named.join(", ")),
        more => format!("{} and {more} more fields differ", named.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(kind: &str, name: &str) -> ResourceKey {
        ResourceKey {
            group: String::new(),
            kind: kind.to_string(),
            namespace: Some("shop".to_string()),
            name: name.to_string(),
        }
    }

    fn config_map(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop",
                "annotations": {"driftdeck.dev/revision": "abc123"}},
            "data": data})
    }

    #[test]
    fn out_of_sync_says_which_fields_and_how() {
        let desired = config_map(json!({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}));
        let live = config_map(json!({"a": "0"}));
        let result = ResourceResult::compared(key("ConfigMap", "settings"), &desired, &live, &[]);
        assert_eq!(result.status, ResourceStatus::OutOfSync);
        assert_eq!(result.revision.as_deref(), Some("abc123"));
        assert_eq!(
            result.reason.as_deref(),
            Some(
                "data.a changed, data.b added in Git, data.c added in Git and 2 more fields differ"
            )
        );
        assert_eq!(result.changes.len(), 5);
    }

    #[test]
    fn synced_has_no_reason_no_changes_and_no_diff() {
        let object = config_map(json!({"a": "1"}));
        let result = ResourceResult::compared(key("ConfigMap", "settings"), &object, &object, &[]);
        assert_eq!(result.status, ResourceStatus::Synced);
        assert_eq!(
            (result.reason, result.changes.len(), result.diff.as_str()),
            (None, 0, "")
        );
    }

    #[test]
    fn missing_shows_the_whole_desired_object_and_is_missing_health() {
        let result =
            ResourceResult::missing(key("ConfigMap", "settings"), &config_map(json!({"a": "1"})));
        assert_eq!(result.health.status, Health::Missing);
        assert!(
            result.diff.contains("+data:\n+  a: \"1\"\n"),
            "{}",
            result.diff
        );
        assert!(!result.diff.contains("revision"), "{}", result.diff);
    }

    #[test]
    fn extra_secret_is_shown_masked() {
        let live = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": "c2VjcmV0"}});
        let result = ResourceResult::extra(key("Secret", "db"), &live);
        assert_eq!(result.status, ResourceStatus::Extra);
        assert!(
            result.diff.contains("-  password: (hidden)"),
            "{}",
            result.diff
        );
        assert!(!result.diff.contains("c2VjcmV0"), "{}", result.diff);
    }

    #[test]
    fn unknown_carries_the_cause() {
        let result = ResourceResult::unknown(key("Service", "web"), "connection refused");
        assert_eq!(
            result.health,
            HealthAssessment::new(Health::Unknown, "connection refused")
        );
        assert_eq!(result.reason.as_deref(), Some("connection refused"));
    }
}
