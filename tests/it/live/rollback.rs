//! `driftdeck rollback APP --to REV`, `unpin` and `sync --rev` through the
//! built binary against the simulated cluster: every object stamped with the
//! revision and the pin, the pin kept across processes, unpin and sync back
//! to the head removing the pin annotation.

use kube::api::{Api, DynamicObject};
use serde_json::{Value, json};

use super::sim::{self, within_timeout};
use super::support::{APP, NAMESPACE, Run, World, shop_objects};

/// Every object of the app as the cluster has it, by kind and name.
async fn live_objects(world: &World) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for (_, object) in shop_objects() {
        let kind = object["kind"].as_str().unwrap();
        let name = object["metadata"]["name"].as_str().unwrap();
        let resource = sim::resource(&world.client, kind).await;
        let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
            Some(ns) => Api::namespaced_with(world.client.clone(), ns, &resource),
            None => Api::all_with(world.client.clone(), &resource),
        };
        let live = api.get(name).await.unwrap();
        found.push((
            format!("{kind}/{name}"),
            serde_json::to_value(live).unwrap(),
        ));
    }
    found
}

/// Each object's revision and pin annotations.
pub(crate) async fn stamps(world: &World) -> Vec<(String, Value, Value)> {
    live_objects(world)
        .await
        .into_iter()
        .map(|(name, live)| {
            let annotations = &live["metadata"]["annotations"];
            (
                name,
                annotations["driftdeck.dev/revision"].clone(),
                annotations["driftdeck.dev/pinned"].clone(),
            )
        })
        .collect()
}

pub(crate) fn assert_ran(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

pub(crate) async fn color(world: &World) -> Value {
    let live = live_objects(world).await;
    let (_, settings) = live
        .iter()
        .find(|(n, _)| n == "ConfigMap/settings")
        .unwrap();
    settings["data"]["color"].clone()
}

/// The app synced at a first commit (blue), then at a second (green).
pub(crate) async fn two_commits(world: &World) -> (String, String) {
    let first = world.git(&["rev-parse", "HEAD"]);
    assert_ran(&world.driftdeck(&["sync", APP, "--yes"]).await);
    world.write(
        "configmap.json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "green"}}),
    );
    let second = world.commit("green");
    assert_ran(&world.driftdeck(&["sync", APP, "--yes"]).await);
    assert_eq!(color(world).await, "green");
    (first, second)
}

#[tokio::test]
async fn rollback_pins_every_object_and_unpin_then_sync_returns_to_the_head() {
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;

        let short = &first[..7];
        let run = world
            .driftdeck(&["rollback", APP, "--to", short, "--yes"])
            .await;
        assert_ran(&run);
        assert!(
            run.stdout.contains("update"),
            "the plan is shown: {}",
            run.stdout
        );
        assert!(
            run.stderr.contains(&format!("pinned to {short}")),
            "{}",
            run.stderr
        );
        assert_eq!(color(&world).await, "blue");
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, first.as_str(), "{name}'s revision");
            assert_eq!(pinned, first.as_str(), "{name}'s pin");
        }

        // A new process reads the pin back: compared at the pin, Synced.
        let report = world.status().await;
        assert_eq!(report["status"], "Synced", "{report:#}");
        assert_eq!(report["pinned"], first.as_str());
        assert_eq!(report["desired_revision"], first.as_str());
        let table = world.driftdeck(&["status"]).await;
        assert!(
            table.stdout.contains(&format!("pinned {short}")),
            "{}",
            table.stdout
        );
        let pins = std::fs::read_to_string(world.path("home/data/driftdeck/pins.json")).unwrap();
        assert!(pins.contains(&first), "{pins}");

        // The audit log says it was a rollback, from where to where.
        let history = world.driftdeck(&["history", APP, "-o", "json"]).await;
        assert_ran(&history);
        let history: Value = serde_json::from_str(&history.stdout).unwrap();
        assert_eq!(history[0]["operation"], "rollback", "{history:#}");
        assert_eq!(history[0]["revision"], first.as_str());
        assert_eq!(history[0]["from_revision"], second.as_str());
        assert_eq!(history[1]["operation"], "sync");

        // While pinned, a sync goes to the pin, and --rev is refused.
        let again = world.driftdeck(&["sync", APP, "--yes"]).await;
        assert_ran(&again);
        assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
        let other = world
            .driftdeck(&["sync", APP, "--rev", &second, "--yes"])
            .await;
        assert_ne!(other.code, 0);
        assert!(other.stderr.contains("pinned"), "{}", other.stderr);
        assert_eq!(color(&world).await, "blue");

        let unpin = world.driftdeck(&["unpin", APP]).await;
        assert_ran(&unpin);
        assert!(unpin.stderr.contains("unpinned"), "{}", unpin.stderr);
        let report = world.status().await;
        assert_eq!(report["status"], "OutOfSync", "{report:#}");
        assert_eq!(report["pinned"], Value::Null);

        assert_ran(&world.driftdeck(&["sync", APP, "--yes"]).await);
        assert_eq!(color(&world).await, "green");
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, second.as_str(), "{name}'s revision");
            assert_eq!(pinned, Value::Null, "{name} keeps no pin after the sync");
        }
        assert_eq!(world.status().await["status"], "Synced");
    })
    .await;
}

#[tokio::test]
async fn sync_at_a_revision_deploys_it_once_without_pinning() {
    within_timeout(async {
        let world = World::new().await;
        let (first, _) = two_commits(&world).await;
        let run = world
            .driftdeck(&["sync", APP, "--rev", &first[..9], "--yes"])
            .await;
        assert_ran(&run);
        assert_eq!(color(&world).await, "blue");
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, first.as_str(), "{name}'s revision");
            assert_eq!(pinned, Value::Null, "{name}");
        }
        // Compared with the head still: the older revision is drift.
        let report = world.status().await;
        assert_eq!(report["status"], "OutOfSync", "{report:#}");
        assert_eq!(report["pinned"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn unknown_revisions_read_only_and_a_corrupt_pins_file_are_refused() {
    within_timeout(async {
        let world = World::new().await;
        assert_ran(&world.driftdeck(&["sync", APP, "--yes"]).await);

        for command in ["rollback", "sync"] {
            let flag = if command == "rollback" {
                "--to"
            } else {
                "--rev"
            };
            let run = world
                .driftdeck(&[command, APP, flag, "no-such-rev", "--yes"])
                .await;
            assert_eq!(run.code, 2, "{command}: {}", run.stderr);
            assert!(run.stderr.contains("no-such-rev"), "{}", run.stderr);
        }

        let head = world.git(&["rev-parse", "HEAD"]);
        let read_only = world
            .driftdeck(&["--readonly", "rollback", APP, "--to", &head, "--yes"])
            .await;
        assert_eq!(read_only.code, 2);
        assert!(
            read_only.stderr.contains("read-only"),
            "{}",
            read_only.stderr
        );
        let read_only = world.driftdeck(&["--readonly", "unpin", APP]).await;
        assert_eq!(read_only.code, 2);
        assert!(!world.path("home/data/driftdeck/pins.json").exists());

        let pins = world.path("home/data/driftdeck/pins.json");
        std::fs::write(&pins, "{\"shop\": 42}").unwrap();
        let unpin = world.driftdeck(&["unpin", APP]).await;
        assert_eq!(unpin.code, 2);
        assert!(
            unpin.stderr.contains(&pins.display().to_string()),
            "{}",
            unpin.stderr
        );
        let report = world.status().await;
        assert_eq!(report["status"], "Unknown", "{report:#}");
        assert!(
            report["reason"].as_str().unwrap().contains("pins.json"),
            "{report:#}"
        );
        assert_eq!(std::fs::read_to_string(&pins).unwrap(), "{\"shop\": 42}");
    })
    .await;
}
