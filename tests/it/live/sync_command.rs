//! `driftdeck sync APP` through the built binary, against the simulated
//! cluster: the engine plans, dry-runs, applies, prunes and waits for health.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::sim::{self, within_timeout};
use super::support::{APP, NAMESPACE, SECRET_VALUE, World, resource};

async fn live(world: &World, kind: &str, name: &str) -> Option<Value> {
    let resource = sim::resource(&world.client, kind).await;
    let api: Api<DynamicObject> = Api::namespaced_with(world.client.clone(), NAMESPACE, &resource);
    api.get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

#[tokio::test]
async fn sync_creates_the_app_waits_for_health_and_status_is_then_synced() {
    within_timeout(async {
        let world = World::new().await;
        let run = world.driftdeck(&["sync", APP, "--yes"]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("create"),
            "the plan is shown: {}",
            run.stdout
        );
        assert!(run.stdout.contains("Healthy"), "{}", run.stdout);
        assert!(
            !run.stdout.contains(SECRET_VALUE) && !run.stderr.contains(SECRET_VALUE),
            "no Secret value in the output"
        );
        let web = live(&world, "Deployment", "web").await.expect("created");
        assert_eq!(web["metadata"]["labels"]["driftdeck.dev/app"], APP);
        let head = world.git(&["rev-parse", "HEAD"]);
        assert_eq!(
            web["metadata"]["annotations"]["driftdeck.dev/revision"],
            head.as_str()
        );

        let report = world.status().await;
        assert_eq!(report["status"], "Synced", "{report}");

        // Already synced: nothing to do, nothing written.
        world.sim.metrics().reset();
        let again = world.driftdeck(&["sync", APP, "--yes"]).await;
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
        let metrics = world.sim.metrics().snapshot();
        let writes: u64 = ["create", "update", "patch", "delete"]
            .iter()
            .map(|verb| metrics.count_verb(verb))
            .sum();
        assert_eq!(writes, 0, "{metrics:?}");

        let history = world.driftdeck(&["history", APP, "-o", "json"]).await;
        assert_eq!(history.code, 0, "{}", history.stderr);
        assert!(!history.stdout.contains(SECRET_VALUE));
    })
    .await;
}

#[tokio::test]
async fn a_change_by_hand_is_drift_and_sync_removes_it() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let resource_api = sim::resource(&world.client, "Deployment").await;
        let api: Api<DynamicObject> =
            Api::namespaced_with(world.client.clone(), NAMESPACE, &resource_api);
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "DEBUG_BACKDOOR", "value": "1"}]}]}}}});
        api.patch(
            "web",
            &PatchParams {
                field_manager: Some("kubectl-set".into()),
                ..PatchParams::default()
            },
            &Patch::Strategic(&patch),
        )
        .await
        .unwrap();
        let report = world.status().await;
        assert_eq!(report["status"], "OutOfSync", "{report}");
        let web = resource(&report, "Deployment", "web");
        assert!(
            web["reason"].as_str().unwrap_or_default().contains("env"),
            "{web}"
        );

        let run = world.driftdeck(&["sync", APP, "--yes", "--no-wait"]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("kubectl-set"), "{}", run.stdout);
        let web = live(&world, "Deployment", "web").await.unwrap();
        let env = &web["spec"]["template"]["spec"]["containers"][0]["env"];
        assert!(!env.to_string().contains("DEBUG_BACKDOOR"), "{env}");
    })
    .await;
}

#[tokio::test]
async fn sync_refuses_without_a_terminal_or_when_read_only_and_dry_run_writes_nothing() {
    within_timeout(async {
        let world = World::new().await;
        let asked = world.driftdeck(&["sync", APP]).await;
        assert_eq!(asked.code, 2);
        assert!(asked.stderr.contains("--yes"), "{}", asked.stderr);

        let read_only = world.driftdeck(&["--readonly", "sync", APP, "--yes"]).await;
        assert_eq!(read_only.code, 2);
        assert!(
            read_only.stderr.contains("read-only"),
            "{}",
            read_only.stderr
        );

        let dry = world.driftdeck(&["sync", APP, "--dry-run"]).await;
        assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
        assert!(dry.stdout.contains("nothing written"), "{}", dry.stdout);
        assert!(live(&world, "Deployment", "web").await.is_none());
        assert!(live(&world, "ConfigMap", "settings").await.is_none());
    })
    .await;
}
