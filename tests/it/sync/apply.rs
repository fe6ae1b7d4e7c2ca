//! A sync creates, updates and prunes; a dry run writes nothing; a Synced
//! app costs no write; no Secret value reaches the audit log.

use driftdeck::config::DriftConfig;
use driftdeck::sync::{ObjectResult, SyncAction, SyncOptions, SyncStatus};
use serde_json::json;

use super::sim::within_timeout;
use super::support::*;

fn results(outcome: &driftdeck::sync::SyncOutcome) -> Vec<String> {
    outcome
        .objects
        .iter()
        .map(|o| format!("{:?} {} {:?}", o.action, o.key, o.result))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_creates_updates_and_prunes_in_order() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("prune = true\n");
        let first = [
            namespace(NAMESPACE),
            config_map("settings", "blue"),
            config_map("old", "x"),
            deployment("web", "nginx:1.25"),
        ];
        let outcome = world.sync(&app, &first).await.unwrap();
        assert_eq!(outcome.status, SyncStatus::Succeeded, "{outcome:?}");
        assert_eq!(
            results(&outcome),
            vec![
                "Create Namespace shop Created",
                "Create ConfigMap shop/old Created",
                "Create ConfigMap shop/settings Created",
                "Create Deployment shop/web Created",
            ]
        );
        let live = world
            .get("ConfigMap", Some(NAMESPACE), "settings")
            .await
            .unwrap();
        assert_eq!(live["metadata"]["labels"]["driftdeck.dev/app"], APP);
        assert_eq!(
            live["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "driftdeck"
        );
        assert_eq!(
            live["metadata"]["annotations"]["driftdeck.dev/revision"],
            REVISION
        );
        let managers: Vec<&str> = live["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["manager"].as_str())
            .collect();
        assert_eq!(managers, vec!["driftdeck"]);

        let second = [
            namespace(NAMESPACE),
            config_map("settings", "green"),
            config_map("new", "y"),
            deployment("web", "nginx:1.25"),
        ];
        let outcome = world.sync(&app, &second).await.unwrap();
        assert_eq!(
            results(&outcome),
            vec![
                "Create ConfigMap shop/new Created",
                "Update ConfigMap shop/settings Updated",
                "Prune ConfigMap shop/old Pruned",
            ]
        );
        let settings = world
            .get("ConfigMap", Some(NAMESPACE), "settings")
            .await
            .unwrap();
        assert_eq!(settings["data"]["value"], "green");
        assert!(
            world
                .get("ConfigMap", Some(NAMESPACE), "old")
                .await
                .is_none()
        );

        let history = world.audit().history(APP).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].status, SyncStatus::Succeeded);
        assert_eq!(history[0].objects.len(), 3);
        assert_eq!(
            history[0].started.operator.kube_user.as_deref(),
            Some("alice-admin")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_writes_nothing() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        world.sync(&app, &[namespace(NAMESPACE)]).await.unwrap();
        let mut objects: Vec<_> = (0..10).map(|i| config_map(&format!("c{i}"), "v")).collect();
        objects.push(namespace(NAMESPACE));
        let plan = world.plan(&app, &objects, false).await.unwrap();
        assert_eq!(plan.steps.len(), 10);
        let options = SyncOptions::for_app(&app, &DriftConfig::default(), false, true);
        world.sim.metrics().reset();
        let (outcome, _) = world.run(&plan, &options).await;
        let outcome = outcome.unwrap();
        assert!(outcome.dry_run);
        assert!(
            outcome
                .objects
                .iter()
                .all(|o| o.result == ObjectResult::DryRunPassed)
        );
        let metrics = world.sim.metrics().snapshot();
        // Ten patches, every one a dry run: none of the objects exists.
        assert_eq!(metrics.count_verb("patch"), 10, "{metrics:?}");
        for verb in ["create", "update", "delete", "deletecollection"] {
            assert_eq!(metrics.count_verb(verb), 0, "{verb}: {metrics:?}");
        }
        for i in 0..10 {
            assert!(
                world
                    .get("ConfigMap", Some(NAMESPACE), &format!("c{i}"))
                    .await
                    .is_none()
            );
        }
        assert_eq!(
            world.audit().history(APP).unwrap().len(),
            1,
            "a dry run is not recorded"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_of_a_synced_app_writes_nothing() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        let objects = [
            namespace(NAMESPACE),
            config_map("settings", "blue"),
            deployment("web", "nginx:1.25"),
        ];
        world.sync(&app, &objects).await.unwrap();
        let plan = world.plan(&app, &objects, true).await.unwrap();
        assert!(plan.is_empty(), "{plan:?}");
        let before = world.client.requests();
        world.sim.metrics().reset();
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        assert_eq!(outcome.unwrap().status, SyncStatus::Succeeded);
        assert_eq!(world.client.requests().writes, before.writes);
        assert_eq!(world.sim.metrics().snapshot().total, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_value_reaches_the_audit_log_or_the_outcome() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        let objects = [namespace(NAMESPACE), secret("db", "s3cr3t-first")];
        world.sync(&app, &objects).await.unwrap();
        let plan = world
            .plan(
                &app,
                &[namespace(NAMESPACE), secret("db", "s3cr3t-second")],
                false,
            )
            .await
            .unwrap();
        assert_eq!(plan.steps[0].action, SyncAction::Update);
        assert_eq!(plan.steps[0].changes[0].path, "data.password");
        let (outcome, progress) = world.run(&plan, &world.options(&app)).await;
        let outcome = outcome.unwrap();
        let live = world.get("Secret", Some(NAMESPACE), "db").await.unwrap();
        assert_eq!(live["data"]["password"], json!("czNjcjN0LXNlY29uZA=="));
        let audit = std::fs::read_to_string(world.audit().file()).unwrap();
        let shown = format!(
            "{audit}{}{outcome:?}{progress:?}{plan:?}",
            serde_json::to_string(&plan).unwrap()
        );
        for value in [
            "s3cr3t-first",
            "s3cr3t-second",
            "czNjcjN0LWZpcnN0",
            "czNjcjN0LXNlY29uZA",
        ] {
            assert!(!shown.contains(value), "{value} leaked");
        }
        assert!(audit.contains("\"name\":\"db\""), "{audit}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_sync_writes_nothing_more_and_releases_the_lease() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        world.sync(&app, &[namespace(NAMESPACE)]).await.unwrap();
        let objects = [
            namespace(NAMESPACE),
            config_map("a", "v"),
            config_map("b", "v"),
        ];
        let plan = world.plan(&app, &objects, false).await.unwrap();
        let (sender, _receiver) = tokio::sync::mpsc::unbounded_channel();
        let (cancel, cancelled) = tokio::sync::watch::channel(false);
        cancel.send(true).unwrap();
        let operator = operator("alice");
        let audit = world.audit();
        let outcome = driftdeck::sync::run(
            driftdeck::sync::SyncRequest {
                client: &world.client,
                plan: &plan,
                options: &world.options(&app),
                operator: &operator,
                audit: Some(&audit),
            },
            &mut world.catalog,
            &sender,
            cancelled,
        )
        .await
        .unwrap();
        assert_eq!(outcome.status, SyncStatus::Cancelled);
        assert!(
            outcome
                .objects
                .iter()
                .all(|o| o.result == ObjectResult::NotStarted)
        );
        assert!(world.get("ConfigMap", Some(NAMESPACE), "a").await.is_none());
        assert!(
            world
                .get("Lease", Some(NAMESPACE), "driftdeck-shop")
                .await
                .is_none()
        );
        assert_eq!(audit.history(APP).unwrap()[0].status, SyncStatus::Cancelled);
    })
    .await;
}
