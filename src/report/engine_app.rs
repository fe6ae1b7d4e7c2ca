//! An engine app as a report, in the panes and the JSON of native apps:
//! the engine's verdict as the summary, the resources it lists as rows,
//! with the health of those the live cache holds; where driftdeck read the
//! app's source, its own comparison beside the engine's verdict.

use std::collections::HashSet;

use serde_json::Value;

use super::AppReport;
use crate::drift::{
    AppStatus, AppSummary, Health, HealthAssessment, ResourceResult, ResourceStatus, health,
    summarize,
};
use crate::engines::{ControllerApp, OwnComparison};
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
        driftdeck: None,
    }
}

/// What driftdeck could make of an engine app's source.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnVerdict {
    /// Rendered and compared like a native app: its report.
    Compared {
        report: Box<AppReport>,
        source: String,
    },
    /// Not compared, and why.
    NotCompared(String),
}

/// The engine's report with driftdeck's own comparison: the summary stays
/// the engine's (that is what the controller says); the resources are
/// driftdeck's, each with its diff, then those only the engine lists.
pub fn with_own_verdict(mut report: AppReport, own: OwnVerdict) -> AppReport {
    let engine_sync = report.summary.status;
    let comparison = match own {
        OwnVerdict::NotCompared(reason) => OwnComparison {
            sync: None,
            revision: None,
            source: None,
            reason: Some(reason),
            disagrees: false,
        },
        OwnVerdict::Compared {
            report: own,
            source,
        } => {
            let sync = own.summary.status;
            let known = |s: AppStatus| matches!(s, AppStatus::Synced | AppStatus::OutOfSync);
            let reason = (sync == AppStatus::Unknown)
                .then(|| own.summary.reason.clone())
                .flatten();
            let compared: HashSet<&ResourceKey> = own.resources.iter().map(|r| &r.key).collect();
            let engine_only: Vec<ResourceResult> = report
                .resources
                .drain(..)
                .filter(|listed| !compared.contains(&listed.key))
                .collect();
            let own = *own;
            report.resources = own.resources;
            report.resources.extend(engine_only);
            report.problems = own.problems;
            report.summary.counts = summarize(&report.resources).counts;
            OwnComparison {
                sync: Some(sync),
                revision: own.desired_revision,
                source: Some(source),
                reason,
                disagrees: known(sync) && known(engine_sync) && sync != engine_sync,
            }
        }
    };
    report.driftdeck = Some(Box::new(comparison));
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EnginesConfig;
    use crate::engines::Engine;
    use serde_json::json;

    fn application(sync: &str, resources: Value) -> ControllerApp {
        let object = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd"},
            "status": {"sync": {"status": sync}, "health": {"status": "Healthy"},
                       "resources": resources}
        });
        ControllerApp::of(&object, &EnginesConfig::default()).unwrap()
    }

    fn config_map(name: &str, color: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "web"}, "data": {"color": color}})
    }

    fn key(name: &str) -> ResourceKey {
        ResourceKey {
            group: String::new(),
            kind: "ConfigMap".to_string(),
            namespace: Some("web".to_string()),
            name: name.to_string(),
        }
    }

    #[test]
    fn driftdeck_s_resources_replace_the_engine_s_and_a_disagreement_is_marked() {
        let app = application(
            "Synced",
            json!([
                {"version": "v1", "kind": "ConfigMap", "namespace": "web", "name": "settings", "status": "Synced"},
                {"version": "v1", "kind": "ConfigMap", "namespace": "web", "name": "old", "status": "OutOfSync", "requiresPruning": true}
            ]),
        );
        let engine = controller_report(&app, |_| None);
        let changed = ResourceResult::compared(
            key("settings"),
            &config_map("settings", "blue"),
            &config_map("settings", "red"),
            &[],
        );
        let mut own = AppReport::unknown("argocd/web", Some("a".repeat(40)), "");
        own.resources = vec![changed];
        own.summary = summarize(&own.resources);
        let merged = with_own_verdict(
            engine,
            OwnVerdict::Compared {
                report: Box::new(own),
                source: "/srv/deploy web".to_string(),
            },
        );
        assert_eq!(
            merged.summary.status,
            AppStatus::Synced,
            "the engine's verdict"
        );
        let keys: Vec<&str> = merged
            .resources
            .iter()
            .map(|r| r.key.name.as_str())
            .collect();
        assert_eq!(
            keys,
            ["settings", "old"],
            "driftdeck's, then the engine's own"
        );
        assert!(!merged.resources[0].diff.is_empty());
        let counts = &merged.summary.counts;
        assert_eq!((counts.synced, counts.out_of_sync + counts.extra), (0, 2));
        let own = merged.driftdeck.as_deref().unwrap();
        assert_eq!(own.sync, Some(AppStatus::OutOfSync));
        assert!(own.disagrees);
        assert_eq!(
            own.note(Engine::Argocd, AppStatus::Synced).unwrap(),
            "Argo CD says Synced; driftdeck sees OutOfSync at aaaaaaa"
        );
    }

    #[test]
    fn without_a_comparison_the_engine_s_report_stands_with_the_reason() {
        let engine = controller_report(&application("OutOfSync", json!([])), |_| None);
        let merged = with_own_verdict(
            engine.clone(),
            OwnVerdict::NotCompared("cannot read the source x: refused".to_string()),
        );
        assert_eq!(merged.resources, engine.resources);
        assert_eq!(merged.summary, engine.summary);
        let own = merged.driftdeck.as_deref().unwrap();
        assert!(!own.disagrees);
        assert_eq!(
            own.note(Engine::Flux, AppStatus::OutOfSync).unwrap(),
            "cannot read the source x: refused; showing Flux's verdict"
        );
    }
}
