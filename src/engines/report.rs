//! An engine app as a report, in the panes and the JSON of native apps:
//! the engine's verdict as the summary, the resources it lists as rows,
//! with the health of those the live cache holds.

use serde_json::Value;

use super::ControllerApp;
use crate::drift::{
    AppSummary, Health, HealthAssessment, ResourceResult, ResourceStatus, health, summarize,
};
use crate::engine::AppReport;
use crate::resource::ResourceKey;

/// The report on `app`; `live` finds an object in the live cache.
pub fn controller_report(
    app: &ControllerApp,
    live: impl Fn(&ResourceKey) -> Option<Value>,
) -> AppReport {
    let state = &app.state;
    let resources: Vec<ResourceResult> = state
        .resources
        .iter()
        .map(|resource| {
            let health = match (&resource.health, live(&resource.key)) {
                (Some(said), _) => said.clone(),
                (None, Some(object)) => health(&object),
                (None, None) => HealthAssessment::new(
                    Health::Unknown,
                    format!("{} keeps it; driftdeck does not watch it", state.kind),
                ),
            };
            let reason = match resource.status {
                ResourceStatus::Synced => None,
                other => Some(format!("{} says {other}", app.kind.engine().name())),
            };
            ResourceResult {
                key: resource.key.clone(),
                status: resource.status,
                health,
                revision: None,
                reason,
                changes: Vec::new(),
                diff: String::new(),
            }
        })
        .collect();
    let counted = summarize(&resources);
    AppReport {
        app: app.name.clone(),
        desired_revision: state.target_revision.clone(),
        summary: AppSummary {
            status: state.sync,
            health: state.health,
            revision: state.revision.clone(),
            counts: counted.counts,
            reason: state.message.clone(),
        },
        resources,
        problems: Vec::new(),
        stale_since: None,
        stale_cause: None,
        engine: Some(app.kind.engine()),
        controller: Some(Box::new(state.clone())),
        pinned: None,
    }
}
