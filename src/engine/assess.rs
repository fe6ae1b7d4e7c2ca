//! An app's verdict from its desired state and what could be read of its
//! live state: one result per resource, the app summary, and the manifest
//! problems that still stand once the live state is known. Pure.

use std::collections::BTreeSet;

use crate::cluster::{LiveRead, PodQuery, Wanted, kind_label};
use crate::config::AppConfig;
use crate::drift::{AppStatus, Health, ManualManagers, ResourceResult, summarize};
use crate::manifests::{Checked, Problem, ReferenceTarget, Severity};
use crate::report::AppReport;
use crate::resource::{ResourceKey, app_of, short_revision};
use crate::sync::inventory;

/// What to read live for a desired state: its objects by name (they may
/// carry no app label yet) and the targets of references Git leaves
/// unresolved, so they can be looked for in the cluster.
pub fn live_queries(checked: &Checked) -> (Vec<Wanted>, Vec<PodQuery>) {
    let mut wanted: Vec<Wanted> = checked
        .desired
        .objects
        .iter()
        .map(|object| Wanted {
            key: object.id.resource_key(),
            version: Some(object.id.version.clone()),
        })
        .collect();
    let mut pods = BTreeSet::new();
    for (_, reference) in checked.problems.unresolved_references() {
        match &reference.target {
            ReferenceTarget::Object {
                group,
                kind,
                namespace,
                name,
            } => wanted.push(Wanted {
                key: ResourceKey {
                    group: group.clone(),
                    kind: kind.clone(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                },
                version: None,
            }),
            ReferenceTarget::Pods {
                namespace,
                selector,
            } => {
                pods.insert(PodQuery {
                    namespace: namespace.clone(),
                    selector: selector.clone(),
                });
            }
            // The Service is in Git: a live port would be overwritten anyway.
            ReferenceTarget::ServicePort { .. } => {}
        }
    }
    (wanted, pods.into_iter().collect())
}

/// Compares the desired state at `revision` with the live state.
pub fn assess(
    app: &AppConfig,
    revision: &str,
    checked: &Checked,
    live: &LiveRead,
    manual: &ManualManagers,
) -> AppReport {
    let mut resources = Vec::with_capacity(checked.desired.objects.len());
    let mut desired_keys = BTreeSet::new();
    for object in &checked.desired.objects {
        let key = object.id.resource_key();
        if !desired_keys.insert(key.clone()) {
            continue; // defined twice: an error the problems already name
        }
        let result = if let Some(live_object) = live.objects.get(&key) {
            ResourceResult::compared_with(key, &object.value(), live_object, &app.ignore, manual)
        } else if let Some(unreadable) = live.unreadable.iter().find(|u| u.covers(&key)) {
            ResourceResult::unknown(
                key,
                format!("cannot read {}: {}", unreadable.what(), unreadable.cause),
            )
        } else if live.unserved.contains(&key) {
            let mut missing = ResourceResult::missing(key, &object.value());
            missing.reason = Some(format!(
                "the cluster does not serve {} {} (is its CustomResourceDefinition installed?)",
                kind_label(&object.id.group, &object.id.kind),
                object.id.version
            ));
            missing
        } else {
            ResourceResult::missing(key, &object.value())
        };
        resources.push(result);
    }

    // Extra only against a complete desired state: with errors, objects of a
    // broken file would look removed from Git.
    let complete = checked.can_sync();
    if complete {
        // The app's own: its label, or (without any label) listed in the
        // inventory of its last sync.
        let deployed = inventory::recorded(app, &live.objects);
        for (key, object) in &live.objects {
            // An object a controller made (a Deployment's ReplicaSets and
            // Pods) copies the label from its template; its owner is what
            // Git has.
            if desired_keys.contains(key)
                || !deployed.holds(&app.name, key, object)
                || has_controller(object)
            {
                continue;
            }
            let mut extra = ResourceResult::extra(key.clone(), object);
            if app_of(object).is_none() {
                extra.reason = Some(format!(
                    "in the cluster, no longer in Git; its app label is gone, the inventory of the sync to {} lists it",
                    short_revision(&deployed.revision)
                ));
            }
            resources.push(extra);
        }
    }
    resources.sort_by(|a, b| a.key.cmp(&b.key));

    let mut summary = summarize(&resources);
    if !complete {
        let errors = checked.problems.count(Severity::Error);
        let first = checked
            .problems
            .iter()
            .find(|p| p.is_error())
            .map(ToString::to_string);
        summary.status = AppStatus::Unknown;
        summary.reason = Some(format!(
            "the manifests at {} have {errors} error{}{}",
            short_revision(revision),
            if errors == 1 { "" } else { "s" },
            first.map(|p| format!(", first: {p}")).unwrap_or_default()
        ));
    }
    if summary.status == AppStatus::Unknown {
        // What cannot be compared cannot be called healthy either.
        summary.health = Health::Unknown;
    }
    AppReport {
        app: app.name.clone(),
        desired_revision: Some(revision.to_string()),
        pinned: None,
        summary,
        resources,
        problems: standing_problems(checked, live),
        stale_since: live.stale_since,
        stale_cause: live.stale_cause.clone(),
        engine: None,
        controller: None,
        driftdeck: None,
    }
}

/// True when a controller owns the object (an owner reference with
/// `controller: true`).
fn has_controller(object: &serde_json::Value) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|o| o.get("controller") == Some(&serde_json::Value::Bool(true)))
        })
}

/// The problems, minus the reference warnings the live state resolves; the
/// others say they were looked for in the cluster too.
fn standing_problems(checked: &Checked, live: &LiveRead) -> Vec<Problem> {
    checked
        .problems
        .iter()
        .filter_map(|problem| {
            let Some(reference) = &problem.unresolved else {
                return Some(problem.clone());
            };
            let found_live = match &reference.target {
                ReferenceTarget::Object {
                    group,
                    kind,
                    namespace,
                    name,
                } => Some(live.objects.keys().any(|key| {
                    key.group == *group
                        && key.kind == *kind
                        && key.namespace == *namespace
                        && key.name == *name
                })),
                ReferenceTarget::Pods {
                    namespace,
                    selector,
                } => live
                    .pods_found
                    .get(&PodQuery {
                        namespace: namespace.clone(),
                        selector: selector.clone(),
                    })
                    .copied(),
                ReferenceTarget::ServicePort { .. } => Some(false),
            };
            match found_live {
                Some(true) => None,
                Some(false) => {
                    let mut problem = problem.clone();
                    problem.message.push_str(", nor does the cluster have it");
                    Some(problem)
                }
                None => Some(problem.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::config::Config;
    use crate::drift::ResourceStatus;
    use crate::manifests::{ManifestFile, check_files};

    fn app() -> AppConfig {
        let text = "[[app]]\nname = \"shop\"\nrepo = \"r\"\nnamespace = \"shop\"\n";
        Config::parse(Path::new("config.toml"), text)
            .unwrap()
            .apps
            .remove(0)
    }

    fn labelled(kind: &str, name: &str, owned: bool) -> Value {
        let mut object = json!({"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": "shop", "labels": {crate::resource::APP_LABEL: "shop"}}});
        if owned {
            object["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1",
                "kind": "Deployment", "name": "web", "uid": "1", "controller": true}]);
        }
        object
    }

    #[test]
    fn objects_a_controller_made_from_a_labelled_template_are_not_extra() {
        let deployment = labelled("Deployment", "web", false);
        let file = ManifestFile {
            path: PathBuf::from("web.json"),
            bytes: deployment.to_string().into_bytes(),
            rendered_by: None,
        };
        let checked = check_files(&[file], Path::new("apps/shop"), "shop");
        let mut live = LiveRead::default();
        for object in [
            deployment,
            labelled("ReplicaSet", "web-5d8f", true),
            labelled("ReplicaSet", "left-behind", false),
        ] {
            live.objects
                .insert(ResourceKey::of(&object).unwrap(), Arc::new(object));
        }
        let report = assess(
            &app(),
            "0123456",
            &checked,
            &live,
            &ManualManagers::default(),
        );
        let extra: Vec<&str> = report
            .resources
            .iter()
            .filter(|r| r.status == ResourceStatus::Extra)
            .map(|r| r.key.name.as_str())
            .collect();
        assert_eq!(extra, vec!["left-behind"]);
    }

    #[test]
    fn an_unlabelled_object_the_inventory_lists_is_extra_and_the_inventory_is_not() {
        let app = app();
        let kept = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kept", "namespace": "shop"}});
        let file = ManifestFile {
            path: PathBuf::from("kept.json"),
            bytes: kept.to_string().into_bytes(),
            rendered_by: None,
        };
        let checked = check_files(&[file], Path::new("apps/shop"), "shop");
        let leftover = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "leftover", "namespace": "shop"}});
        let by_hand = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "by-hand", "namespace": "shop"}});
        let key = ResourceKey::of(&leftover).unwrap();
        let listed = crate::sync::Inventory {
            revision: "89abcdef".to_string(),
            objects: [(key.clone(), "v1".to_string())].into(),
        };
        let mut live = LiveRead::default();
        for object in [
            listed.to_object("shop", &inventory::key_of(&app)),
            leftover,
            by_hand,
        ] {
            live.objects
                .insert(ResourceKey::of(&object).unwrap(), Arc::new(object));
        }
        let report = assess(&app, "0123456", &checked, &live, &ManualManagers::default());
        let extra: Vec<(&str, &str)> = report
            .resources
            .iter()
            .filter(|r| r.status == ResourceStatus::Extra)
            .map(|r| (r.key.name.as_str(), r.reason.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(extra.len(), 1, "{extra:?}");
        assert_eq!(extra[0].0, "leftover");
        assert!(
            extra[0].1.contains("inventory of the sync to 89abcde"),
            "{extra:?}"
        );
    }
}
