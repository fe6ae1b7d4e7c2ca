//! The inventory (issue #16 item 8): what a sync applied is recorded in the
//! cluster, so an object of a newer commit whose label is gone still shows
//! as Extra after a backwards force-push, and a prune deletes it; an
//! unlabelled object the inventory does not list is never touched.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::sim::{self, within_timeout};
use super::support::{APP, NAMESPACE, World, resource};

async fn live(world: &World, kind: &str, name: &str) -> Option<Value> {
    let resource = sim::resource(&world.client, kind).await;
    let api: Api<DynamicObject> = Api::namespaced_with(world.client.clone(), NAMESPACE, &resource);
    api.get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NAMESPACE}, "data": {"flag": "on"}})
}

/// Removes driftdeck's labels from an object, as someone might by hand.
async fn strip_labels(world: &World, name: &str) {
    let resource = sim::resource(&world.client, "ConfigMap").await;
    let api: Api<DynamicObject> = Api::namespaced_with(world.client.clone(), NAMESPACE, &resource);
    let patch = json!({"metadata": {"labels": {
        "driftdeck.dev/app": null, "app.kubernetes.io/managed-by": null}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_leftover_of_a_force_push_back_is_extra_by_the_inventory_and_pruned() {
    within_timeout(async {
        let world = World::new().await;
        let first = world.git(&["rev-parse", "HEAD"]);
        world.write("feature.json", &config_map("feature-flags"));
        let second = world.commit("feature flags");
        let run = world.driftdeck(&["sync", APP, "--yes", "--no-wait"]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

        let recorded = live(&world, "ConfigMap", &format!("driftdeck-inventory-{APP}"))
            .await
            .expect("the sync recorded its inventory");
        assert_eq!(recorded["data"]["revision"], second.as_str());
        let objects = recorded["data"]["objects"].as_str().unwrap();
        assert!(
            objects.contains("v1 ConfigMap shop/feature-flags\n")
                && objects.contains("apps/v1 Deployment shop/web\n"),
            "{objects}"
        );
        assert_eq!(
            recorded["metadata"]["labels"]["driftdeck.dev/inventory"], APP,
            "{recorded}"
        );

        // The label goes, then Git goes back to the first commit; beside
        // it, an object nobody recorded and without a label.
        strip_labels(&world, "feature-flags").await;
        world
            .apply(&config_map("by-hand"), "kubectl-client-side-apply")
            .await;
        world.git(&["reset", "-q", "--hard", &first]);

        let report = world.status().await;
        assert_eq!(report["status"], "OutOfSync", "{report:#}");
        let leftover = resource(&report, "ConfigMap", "feature-flags");
        assert_eq!(leftover["status"], "Extra", "{leftover}");
        assert!(
            leftover["reason"].as_str().unwrap().contains("inventory"),
            "{leftover}"
        );
        let named: Vec<&str> = report["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(!named.contains(&"by-hand"), "{named:?}");
        assert!(
            !named.contains(&format!("driftdeck-inventory-{APP}").as_str()),
            "{named:?}"
        );

        // Without --prune it stays, and stays recorded.
        let kept = world.driftdeck(&["sync", APP, "--yes", "--no-wait"]).await;
        assert_eq!(kept.code, 0, "{}\n{}", kept.stdout, kept.stderr);
        assert!(live(&world, "ConfigMap", "feature-flags").await.is_some());
        assert_eq!(
            resource(&world.status().await, "ConfigMap", "feature-flags")["status"],
            "Extra"
        );

        let pruned = world
            .driftdeck(&["sync", APP, "--yes", "--prune", "--no-wait"])
            .await;
        assert_eq!(pruned.code, 0, "{}\n{}", pruned.stdout, pruned.stderr);
        assert!(
            pruned.stdout.contains("feature-flags"),
            "the plan names the prune: {}",
            pruned.stdout
        );
        assert!(live(&world, "ConfigMap", "feature-flags").await.is_none());
        assert!(
            live(&world, "ConfigMap", "by-hand").await.is_some(),
            "an unlabelled object the inventory does not list is never pruned"
        );
        let recorded = live(&world, "ConfigMap", &format!("driftdeck-inventory-{APP}"))
            .await
            .unwrap();
        assert_eq!(recorded["data"]["revision"], first.as_str());
        assert!(
            !recorded["data"]["objects"]
                .as_str()
                .unwrap()
                .contains("feature-flags")
        );
        assert_eq!(world.status().await["status"], "Synced");
    })
    .await;
}
