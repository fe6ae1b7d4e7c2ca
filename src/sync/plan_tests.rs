use serde_json::json;

use super::*;
use crate::sync::test_support::{REV, app, checked, config_map, ours, plan_for, plan_pinned};

fn summary(plan: &SyncPlan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| {
            let done = if s.is_done() { "" } else { " (skipped)" };
            format!("{:?} {}{done}", s.action, s.key)
        })
        .collect()
}

#[test]
fn plan_creates_missing_updates_out_of_sync_and_leaves_synced_alone() {
    let desired = [
        config_map("new", "1"),
        config_map("changed", "2"),
        config_map("same", "3"),
    ];
    let live = [
        ours(config_map("changed", "old")),
        ours(config_map("same", "3")),
    ];
    let plan = plan_for(&app(""), &desired, &live, false).unwrap();
    assert_eq!(
        summary(&plan),
        vec!["Update ConfigMap shop/changed", "Create ConfigMap shop/new"]
    );
    assert_eq!(plan.steps[0].changes[0].path, "data.k");
    assert_eq!((plan.counts.create, plan.counts.update), (1, 1));
}

#[test]
fn a_plan_narrowed_to_one_object_keeps_its_step_and_counts_only_it() {
    let desired = [config_map("new", "1"), config_map("changed", "2")];
    let live = [
        ours(config_map("changed", "old")),
        ours(config_map("gone", "x")),
    ];
    let whole = plan_for(&app(""), &desired, &live, true).unwrap();
    assert_eq!(whole.steps.len(), 3);
    let key = |name: &str| ResourceKey::of(&config_map(name, "")).unwrap();
    let one = whole.clone().only(&key("changed"));
    assert_eq!(summary(&one), vec!["Update ConfigMap shop/changed"]);
    // Marked, so the sync leaves the app's inventory as it was.
    assert_eq!(one.only, Some(key("changed")));
    assert_eq!(whole.only, None);
    assert_eq!(
        (one.counts.create, one.counts.update, one.counts.prune),
        (0, 1, 0)
    );
    let prune = whole.clone().only(&key("gone"));
    assert_eq!(summary(&prune), vec!["Prune ConfigMap shop/gone"]);
    // An object with nothing to do (Synced, or unknown): an empty plan.
    assert!(whole.only(&key("elsewhere")).is_empty());
}

#[test]
fn synced_object_without_the_app_label_is_adopted() {
    let desired = [config_map("same", "3")];
    let plan = plan_for(&app(""), &desired, &[config_map("same", "3")], false).unwrap();
    assert_eq!(summary(&plan), vec!["Update ConfigMap shop/same"]);
    assert_eq!(
        plan.steps[0].changes[0].path,
        "metadata.labels.driftdeck.dev/app"
    );
}

#[test]
fn steps_order_by_wave_then_kind_then_name() {
    let mut early = config_map("zz-early", "1");
    early["metadata"]["annotations"] = json!({"argocd.argoproj.io/sync-wave": "-1"});
    let mut late = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "late",
        "annotations": {"driftdeck.dev/sync-wave": "2"}}});
    late["metadata"]["labels"] = json!({});
    let desired = [
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "shop"},
            "spec": {"ports": [{"port": 80}]}}),
        config_map("b", "1"),
        config_map("a", "1"),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        late,
        early,
    ];
    let plan = plan_for(&app(""), &desired, &[], false).unwrap();
    assert_eq!(
        summary(&plan),
        vec![
            "Create ConfigMap shop/zz-early",
            "Create Namespace shop",
            "Create ConfigMap shop/a",
            "Create ConfigMap shop/b",
            "Create Service shop/a",
            "Create Namespace late",
        ]
    );
    let waves: Vec<usize> = plan.apply_waves().iter().map(|w| w.len()).collect();
    assert_eq!(waves, vec![1, 4, 1]);
}

#[test]
fn prunes_come_after_applies_in_reverse_order() {
    let desired = [config_map("kept", "1")];
    let live = [
        ours(config_map("kept", "1")),
        ours(config_map("gone-a", "1")),
        ours(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gone-b", "namespace": "shop"}})),
        ours(config_map("gone-c", "1")),
    ];
    let plan = plan_for(
        &app(""),
        &[desired[0].clone(), config_map("new", "1")],
        &live,
        true,
    )
    .unwrap();
    assert_eq!(
        summary(&plan),
        vec![
            "Create ConfigMap shop/new",
            "Prune Deployment shop/gone-b",
            "Prune ConfigMap shop/gone-c",
            "Prune ConfigMap shop/gone-a",
        ]
    );
    assert_eq!(plan.prunes().count(), 3);
    assert_eq!(plan.apply_waves().concat().len(), 1);
}

#[test]
fn prune_never_touches_unlabelled_or_other_apps_objects() {
    let mut other = config_map("theirs", "1");
    other["metadata"]["labels"] = json!({APP_LABEL: "blog"});
    let live = [
        config_map("unlabelled", "1"),
        other,
        ours(config_map("old", "1")),
    ];
    let plan = plan_for(&app(""), &[config_map("kept", "1")], &live, true).unwrap();
    let pruned: Vec<String> = plan.prunes().map(|s| s.key.name.clone()).collect();
    assert_eq!(pruned, vec!["old"]);
}

/// The app's inventory ConfigMap listing `objects`.
fn inventory_of(objects: &[&Value]) -> Value {
    let shop = app("");
    let listed = Inventory {
        revision: REV.to_string(),
        objects: objects
            .iter()
            .map(|o| {
                let api_version = o["apiVersion"].as_str().unwrap().to_string();
                (ResourceKey::of(o).unwrap(), api_version)
            })
            .collect(),
    };
    listed.to_object("shop", &inventory::key_of(&shop))
}

#[test]
fn unlabelled_objects_the_inventory_lists_are_pruned_with_the_same_guards() {
    let leftover = config_map("leftover", "1");
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "old"}});
    let mut relabelled = config_map("moved", "1");
    relabelled["metadata"]["labels"] = json!({APP_LABEL: "blog"});
    let live = [
        inventory_of(&[&leftover, &namespace, &relabelled]),
        leftover.clone(),
        namespace.clone(),
        relabelled,
        config_map("by-hand", "1"),
    ];
    let plan = plan_for(&app(""), &[config_map("kept", "1")], &live, true).unwrap();
    assert_eq!(
        summary(&plan),
        vec![
            "Create ConfigMap shop/kept",
            "Prune ConfigMap shop/leftover",
            "Prune Namespace old (skipped)",
        ],
        "another app's label wins over the inventory; the inventory itself and \
         unlisted unlabelled objects are never pruned"
    );
    assert_eq!(plan.desired.objects.len(), 1);
}

#[test]
fn prunes_are_listed_but_not_done_when_prune_is_off() {
    let live = [ours(config_map("old", "1"))];
    let plan = plan_for(&app(""), &[config_map("kept", "1")], &live, false).unwrap();
    assert_eq!(
        summary(&plan),
        vec![
            "Create ConfigMap shop/kept",
            "Prune ConfigMap shop/old (skipped)"
        ]
    );
    assert_eq!(plan.prunes().count(), 0);
    assert_eq!(plan.counts.skipped, 1);
    assert!(
        plan.steps[1]
            .skipped
            .as_deref()
            .unwrap()
            .contains("--prune")
    );
    let on = plan_for(
        &app("prune = true\n"),
        &[config_map("kept", "1")],
        &live,
        true,
    )
    .unwrap();
    assert_eq!(on.prunes().count(), 1);
}

#[test]
fn namespaces_and_crds_are_pruned_only_when_the_app_says_so() {
    let namespace =
        ours(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "old"}}));
    let crd = ours(
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"}}),
    );
    let live = [namespace, crd];
    let desired = [config_map("kept", "1")];
    let plan = plan_for(&app(""), &desired, &live, true).unwrap();
    assert_eq!(plan.prunes().count(), 0);
    let reasons: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| s.skipped.as_deref())
        .collect();
    assert!(
        reasons[0].contains("prune_crds") || reasons[1].contains("prune_crds"),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("prune_namespaces")),
        "{reasons:?}"
    );
    let both = app("prune_namespaces = true\nprune_crds = true\n");
    assert_eq!(
        plan_for(&both, &desired, &live, true)
            .unwrap()
            .prunes()
            .count(),
        2
    );
}

#[test]
fn prune_refuses_empty_desired_state() {
    let live = [ours(config_map("old", "1"))];
    let err = plan_for(&app(""), &[], &live, true).unwrap_err();
    assert!(
        matches!(err, PlanError::EmptyDesiredState { prunable: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("allow_empty = true"), "{err}");
    let off = plan_for(&app(""), &[], &live, false).unwrap_err();
    assert!(matches!(off, PlanError::EmptyDesiredState { .. }), "{off}");
    let allowed = plan_for(&app("allow_empty = true\n"), &[], &live, true).unwrap();
    assert_eq!(allowed.prunes().count(), 1);
}

#[test]
fn manifest_errors_refuse_the_sync() {
    let broken = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
    let err = plan_for(&app(""), &[broken], &[ours(config_map("old", "1"))], true).unwrap_err();
    assert!(matches!(err, PlanError::ManifestErrors { .. }), "{err}");
    assert!(err.to_string().contains("driftdeck check"), "{err}");
}

#[test]
fn bad_sync_wave_names_the_object() {
    let mut odd = config_map("odd", "1");
    odd["metadata"]["annotations"] = json!({"driftdeck.dev/sync-wave": "first"});
    let err = plan_for(&app(""), &[odd], &[], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "app \"shop\": ConfigMap shop/odd: sync wave \"first\" is not a whole number"
    );
}

#[test]
fn steps_carry_the_stamped_object() {
    let desired =
        [json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}})];
    let plan = plan_for(&app(""), &desired, &[], false).unwrap();
    let object = plan.steps[0].object().unwrap();
    assert_eq!(object["metadata"]["namespace"], "shop");
    assert_eq!(object["metadata"]["labels"][APP_LABEL], "shop");
    assert_eq!(object["metadata"]["labels"][MANAGED_BY_LABEL], "driftdeck");
    assert_eq!(object["metadata"]["annotations"][REVISION_ANNOTATION], REV);
    assert_eq!(plan.steps[0].api_version, "v1");
}

#[test]
fn plan_json_and_debug_never_hold_secret_values() {
    let secret = |value: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
            "stringData": {"password": value}})
    };
    let mut live = ours(secret("x"));
    live["data"] = json!({"password": "b2xkLXZhbHVl"});
    live.as_object_mut().unwrap().remove("stringData");
    let plan = plan_for(&app(""), &[secret("new-value")], &[live], false).unwrap();
    assert_eq!(plan.steps[0].changes[0].path, "data.password");
    let shown = format!("{}{plan:?}", serde_json::to_string(&plan).unwrap());
    for value in ["new-value", "b2xkLXZhbHVl", "old-value", "bmV3LXZhbHVl"] {
        assert!(!shown.contains(value), "{value} leaked: {shown}");
    }
}

#[test]
fn fields_set_by_hand_are_taken_over() {
    let desired = [config_map("c", "1")];
    let mut live = ours(config_map("c", "1"));
    live["data"]["backdoor"] = json!("1");
    live["metadata"]["managedFields"] = json!([
        {"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:data": {"f:backdoor": {}}}},
        {"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {}}]);
    let plan = plan_for(&app(""), &desired, &[live], false).unwrap();
    assert_eq!(plan.steps[0].takes_over, vec!["kubectl-edit"]);
    assert_eq!(
        plan.steps[0].changes[0].by_hand.as_deref(),
        Some("kubectl-edit")
    );
}

#[test]
fn unreadable_live_state_refuses_the_sync() {
    let checked = checked(&[config_map("c", "1")]);
    let key = ResourceKey::new("v1", "ConfigMap", Some("shop"), "c");
    let results = [ResourceResult::unknown(key, "403 Forbidden")];
    let err = plan(&PlanRequest {
        app: &app(""),
        revision: REV,
        checked: &checked,
        results: &results,
        live: &BTreeMap::new(),
        prune: false,
        manual: &ManualManagers::default(),
        pin: None,
        restamp: false,
    })
    .unwrap_err();
    assert!(err.to_string().contains("403 Forbidden"), "{err}");
}

fn stamped_at(object: Value, revision: &str, pin: Option<&str>) -> Value {
    let mut object = ours(object);
    object["metadata"]["annotations"] = json!({REVISION_ANNOTATION: revision});
    if let Some(pin) = pin {
        object["metadata"]["annotations"][PINNED_ANNOTATION] = json!(pin);
    }
    object
}

#[test]
fn a_pinned_sync_restamps_synced_objects_and_stamps_the_pin() {
    let desired = [config_map("same", "1"), config_map("done", "1")];
    let head = "9".repeat(40);
    let live = [
        stamped_at(config_map("same", "1"), &head, None),
        stamped_at(config_map("done", "1"), REV, Some(REV)),
    ];
    let plan = plan_pinned(&app(""), &desired, &live, false, Some(REV)).unwrap();
    assert_eq!(summary(&plan), ["Update ConfigMap shop/same"]);
    let paths: Vec<&str> = plan.steps[0]
        .changes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "metadata.annotations.driftdeck.dev/revision",
            "metadata.annotations.driftdeck.dev/pinned"
        ]
    );
    let object = plan.steps[0].object().unwrap();
    assert_eq!(object["metadata"]["annotations"][PINNED_ANNOTATION], REV);
    assert_eq!(object["metadata"]["annotations"][REVISION_ANNOTATION], REV);
}

#[test]
fn an_unpinned_sync_removes_a_pin_left_on_synced_objects() {
    let desired = [config_map("pinned", "1"), config_map("plain", "1")];
    let old = "1".repeat(40);
    let live = [
        stamped_at(config_map("pinned", "1"), &old, Some(&old)),
        stamped_at(config_map("plain", "1"), &old, None),
    ];
    let plan = plan_for(&app(""), &desired, &live, false).unwrap();
    assert_eq!(summary(&plan), ["Update ConfigMap shop/pinned"]);
    let change = &plan.steps[0].changes[0];
    assert_eq!(change.path, "metadata.annotations.driftdeck.dev/pinned");
    assert_eq!(change.change, ChangeKind::Removed);
    let object = plan.steps[0].object().unwrap();
    assert!(
        object["metadata"]["annotations"]
            .get(PINNED_ANNOTATION)
            .is_none()
    );
}
