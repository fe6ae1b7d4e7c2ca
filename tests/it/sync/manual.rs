//! A change made by hand with the real kubectl is drift naming the field and
//! the manager, and a sync removes it.

use driftdeck::drift::ResourceStatus;
use driftdeck::sync::SyncStatus;

use super::sim::{Kubectl, within_timeout};
use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_set_env_is_drift_and_sync_removes_it() {
    within_timeout(async {
        let mut world = World::new().await;
        let Some(kubectl) =
            Kubectl::for_cluster(&world.sim, "kubectl_set_env_is_drift_and_sync_removes_it")
        else {
            return;
        };
        let app = world.app("");
        let objects = [namespace(NAMESPACE), deployment("web", "nginx:1.25")];
        world.sync(&app, &objects).await.unwrap();
        kubectl
            .ok(&[
                "set",
                "env",
                "deploy/web",
                "DEBUG_BACKDOOR=1",
                "-n",
                NAMESPACE,
            ])
            .await;

        let (results, _) = world.compare(&app, &checked(&objects)).await;
        let web = results.iter().find(|r| r.key.kind == "Deployment").unwrap();
        assert_eq!(web.status, ResourceStatus::OutOfSync, "{web:?}");
        assert_eq!(web.changes.len(), 1, "{:?}", web.changes);
        assert_eq!(
            web.changes[0].path,
            "spec.template.spec.containers[web].env[DEBUG_BACKDOOR]"
        );
        assert_eq!(web.changes[0].by_hand.as_deref(), Some("kubectl-set"));
        let reason = web.reason.as_deref().unwrap();
        assert!(reason.contains("added by hand (kubectl-set)"), "{reason}");

        let plan = world.plan(&app, &objects, false).await.unwrap();
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].takes_over, vec!["kubectl-set"]);
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        assert_eq!(outcome.unwrap().status, SyncStatus::Succeeded);

        let live = world
            .get("Deployment", Some(NAMESPACE), "web")
            .await
            .unwrap();
        let env = &live["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(env.as_array().unwrap().len(), 1, "{env}");
        assert_eq!(env[0]["name"], "LOG_LEVEL");
        let shown = kubectl
            .ok(&["get", "deploy/web", "-n", NAMESPACE, "-o", "json"])
            .await;
        assert!(!shown.contains("DEBUG_BACKDOOR"), "{shown}");
        let (results, _) = world.compare(&app, &checked(&objects)).await;
        assert!(
            results.iter().all(|r| r.status == ResourceStatus::Synced),
            "{results:?}"
        );
    })
    .await;
}
