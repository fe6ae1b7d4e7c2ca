//! What a sync refuses, and what it leaves behind when the server fails
//! midway: nothing written when the dry run fails, nothing pruned that is
//! not the app's or when Git renders nothing, a clean error and a released
//! Lease after a failure.

use driftdeck::simcluster::WriteDenial;
use driftdeck::sync::{ObjectResult, PlanError, SyncError, SyncStatus};
use serde_json::json;

use super::sim::within_timeout;
use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_invalid_object_in_a_hundred_writes_nothing_and_is_named() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        world.sync(&app, &[namespace(NAMESPACE)]).await.unwrap();
        let mut objects: Vec<_> = (0..99)
            .map(|i| config_map(&format!("c{i:02}"), "v"))
            .collect();
        let mut broken = deployment("broken", "nginx:1.25");
        broken["spec"]["replicas"] = json!(-1);
        objects.insert(57, broken);
        let plan = world.plan(&app, &objects, false).await.unwrap();
        assert_eq!(plan.counts.create, 100);
        world.sim.metrics().reset();
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        let err = outcome.unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(&err, SyncError::DryRun { failures, .. } if failures.len() == 1),
            "{message}"
        );
        assert!(message.contains("Deployment shop/broken"), "{message}");
        assert!(message.contains("spec.replicas"), "{message}");
        assert!(message.contains("nothing was written"), "{message}");
        for i in [0, 56, 98] {
            let name = format!("c{i:02}");
            assert!(
                world
                    .get("ConfigMap", Some(NAMESPACE), &name)
                    .await
                    .is_none(),
                "{name} was written"
            );
        }
        // The Lease is gone and the audit log says the sync failed.
        assert!(
            world
                .get("Lease", Some(NAMESPACE), "driftdeck-shop")
                .await
                .is_none()
        );
        let history = world.audit().history(APP).unwrap();
        assert_eq!(history[0].status, SyncStatus::Failed);
        assert!(history[0].error.as_deref().unwrap().contains("broken"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_render_prunes_nothing() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("prune = true\n");
        world
            .sync(&app, &[namespace(NAMESPACE), config_map("settings", "v")])
            .await
            .unwrap();
        let err = world.plan(&app, &[], true).await.unwrap_err();
        assert!(
            matches!(err, PlanError::EmptyDesiredState { prunable: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("allow_empty"), "{err}");
        assert!(
            world
                .get("ConfigMap", Some(NAMESPACE), "settings")
                .await
                .is_some()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlabelled_object_is_never_pruned() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("prune = true\n");
        world
            .sync(
                &app,
                &[
                    namespace(NAMESPACE),
                    config_map("settings", "v"),
                    config_map("gone", "v"),
                ],
            )
            .await
            .unwrap();
        // Made by hand beside the app, without its label.
        let api = super::sim::namespaced(&world.kube, "ConfigMap", NAMESPACE).await;
        api.create(
            &Default::default(),
            &super::sim::object(config_map("by-hand", "v")),
        )
        .await
        .unwrap();
        let outcome = world
            .sync(&app, &[namespace(NAMESPACE), config_map("settings", "v")])
            .await
            .unwrap();
        let pruned: Vec<String> = outcome
            .objects
            .iter()
            .filter(|o| o.result == ObjectResult::Pruned)
            .map(|o| o.key.name.clone())
            .collect();
        assert_eq!(pruned, vec!["gone"]);
        assert!(
            world
                .get("ConfigMap", Some(NAMESPACE), "by-hand")
                .await
                .is_some()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_failing_mid_sync_gives_a_clean_error_and_a_partial_audit() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("prune = true\n");
        // `late/denied` is written in wave 1, in a namespace wave 0 creates:
        // the dry run cannot check it before its namespace exists, so the
        // admission webhook's refusal comes midway through the sync.
        world
            .sim
            .faults()
            .deny_writes(WriteDenial {
                resource: "configmaps".into(),
                namespace: "late".into(),
                name: "denied".into(),
                code: 403,
                message: "changes to late/denied are frozen".into(),
            })
            .unwrap();
        let mut denied = config_map("denied", "v");
        denied["metadata"]["namespace"] = json!("late");
        let objects = [
            namespace(NAMESPACE),
            namespace("late"),
            config_map("first", "v"),
            with_wave(denied, 1),
            with_wave(config_map("after", "v"), 2),
        ];
        let plan = world.plan(&app, &objects, true).await.unwrap();
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        let outcome = outcome.unwrap();
        assert_eq!(outcome.status, SyncStatus::Failed);
        let error = outcome.error.clone().unwrap();
        assert!(error.contains("ConfigMap late/denied"), "{error}");
        assert!(error.contains("frozen"), "{error}");
        let result = |name: &str| {
            outcome
                .objects
                .iter()
                .find(|o| o.key.name == name)
                .unwrap()
                .result
        };
        assert_eq!(result("first"), ObjectResult::Created);
        assert_eq!(result("denied"), ObjectResult::Failed);
        assert_eq!(result("after"), ObjectResult::NotStarted);
        assert!(
            world
                .get("ConfigMap", Some(NAMESPACE), "after")
                .await
                .is_none()
        );
        assert!(
            world
                .get("Lease", Some(NAMESPACE), "driftdeck-shop")
                .await
                .is_none()
        );

        let history = world.audit().history(APP).unwrap();
        assert_eq!(history[0].status, SyncStatus::Failed);
        assert_eq!(history[0].objects, outcome.objects);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_into_a_new_namespace_is_dry_run_whole() {
    within_timeout(async {
        // The Lease makes the app's namespace before the dry run, so objects
        // in it are checked even though the plan creates the Namespace.
        let mut world = World::new().await;
        let app = world.app("");
        let mut broken = deployment("broken", "nginx:1.25");
        broken["spec"]["replicas"] = json!(-1);
        let objects = [namespace(NAMESPACE), config_map("settings", "v"), broken];
        let plan = world.plan(&app, &objects, false).await.unwrap();
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        let err = outcome.unwrap_err();
        assert!(err.to_string().contains("Deployment shop/broken"), "{err}");
        assert!(
            world
                .get("ConfigMap", Some(NAMESPACE), "settings")
                .await
                .is_none()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_with_another_manager_is_refused_unless_forced() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        let objects = [namespace(NAMESPACE), deployment("web", "nginx:1.25")];
        world.sync(&app, &objects).await.unwrap();
        // Another tool applies its own replica count.
        let api = super::sim::namespaced(&world.kube, "Deployment", NAMESPACE).await;
        let theirs = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NAMESPACE}, "spec": {"replicas": 3}});
        api.patch(
            "web",
            &kube::api::PatchParams::apply("other-tool").force(),
            &kube::api::Patch::Apply(&theirs),
        )
        .await
        .unwrap();

        let plan = world.plan(&app, &objects, false).await.unwrap();
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        let message = outcome.unwrap_err().to_string();
        assert!(message.contains("Deployment shop/web"), "{message}");
        assert!(message.contains("other-tool"), "{message}");
        assert!(message.contains(".spec.replicas"), "{message}");
        assert!(message.contains("--force"), "{message}");
        let live = world
            .get("Deployment", Some(NAMESPACE), "web")
            .await
            .unwrap();
        assert_eq!(live["spec"]["replicas"], 3);

        let forced = world.app("force = true\n");
        let (outcome, _) = world.run(&plan, &world.options(&forced)).await;
        assert_eq!(outcome.unwrap().status, SyncStatus::Succeeded);
        let live = world
            .get("Deployment", Some(NAMESPACE), "web")
            .await
            .unwrap();
        assert_eq!(live["spec"]["replicas"], 1);
    })
    .await;
}
