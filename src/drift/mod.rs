//! The drift rules: desired against live (README "Drift and health"), the
//! health of live objects, and the verdicts per resource and per app. Pure
//! functions over `serde_json::Value` objects; no I/O.

mod app_summary;
mod compare;
mod evidence;
mod field_change;
mod field_path;
mod health;
mod ignore_rules;
mod lookup;
mod manual_changes;
mod merge_keys;
mod normalize;
mod pairing;
mod quantity;
mod resource_result;
mod secret_mask;
mod stamp;
mod value_eq;
mod walk;
mod yaml_diff;

pub use crate::resource::{
    APP_LABEL, FIELD_MANAGER, KeyError, MANAGED_BY_LABEL, PINNED_ANNOTATION, REVISION_ANNOTATION,
    ResourceKey, group_of,
};
pub use app_summary::{AppStatus, AppSummary, StatusCounts, summarize};
pub use compare::{compare, compare_with};
pub use evidence::LAST_APPLIED_ANNOTATION;
pub use field_change::{ChangeKind, FieldChange, ResourceDiff};
pub use health::{Health, HealthAssessment, health};
pub use manual_changes::{MANUAL_MANAGERS, ManualManagers};
pub use pairing::{KeyedObject, assess_objects};
pub use quantity::Quantity;
pub use resource_result::{ResourceResult, ResourceStatus};
pub use secret_mask::{MASK, MASK_GIT_DIFFERS, MASK_LIVE_DIFFERS};
pub use stamp::{pin_of, revision_of};
