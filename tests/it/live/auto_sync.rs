//! Auto-sync and self-heal through the built binary's `driftdeck watch`,
//! against the simulated cluster and a Git repository polled every second:
//! a new commit is synced once, a `kubectl scale` is reverted and the
//! correction backs off when it comes back, manifests with errors are
//! never synced, and a pinned app's new commits wait until it is unpinned
//! (by another process, which the running watch takes in).

use serde_json::{Value, json};

use super::rollback::{assert_ran, stamps, two_commits};
use super::rollback_git::{self, bare_copy};
use super::sim::{self, Kubectl, within_timeout};
use super::support::{APP, NAMESPACE, World, eventually};
use super::watch::{Watching, configure, is_sync_ended, is_verdict};
use crate::source::support::GitDaemon;
use driftdeck::sync::{AuditLog, AuditRecord, SyncTrigger};

/// The triggers and revisions of the syncs in the audit log, oldest first.
fn audited(world: &World) -> Vec<(SyncTrigger, String)> {
    AuditLog::at(&world.path("home/data/driftdeck/audit.jsonl"))
        .records()
        .unwrap()
        .into_iter()
        .filter_map(|record| match record {
            AuditRecord::Start(start) => {
                assert!(start.automatic, "{start:?}");
                Some((start.trigger, start.revision))
            }
            AuditRecord::Completion(_) => None,
        })
        .collect()
}

async fn replicas(world: &World) -> i64 {
    let resource = sim::resource(&world.client, "Deployment").await;
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(world.client.clone(), NAMESPACE, &resource);
    let web = serde_json::to_value(api.get("web").await.unwrap()).unwrap();
    web["spec"]["replicas"].as_i64().unwrap()
}

#[tokio::test]
async fn a_new_commit_is_synced_once_and_watch_exits_0_on_ctrl_c() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        configure(&world, "auto_sync = true\nsettle_delay = \"1s\"\n");
        let mut watch = Watching::start(&world, &[]);
        watch
            .until("the app Synced", |l| is_verdict(l, "Synced"))
            .await;
        assert!(audited(&world).is_empty(), "nothing to sync yet");

        world.write(
            "configmap.json",
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "green"}}),
        );
        let head = world.commit("green");
        let started = watch
            .until("the auto-sync started", |l| l["auto"] == "started")
            .await;
        let since_start = watch.seen.len();
        assert_eq!(started["trigger"], "auto");
        assert_eq!(started["revision"], head.as_str());
        let ended = watch.until("the sync's end", is_sync_ended).await;
        assert_eq!(ended["status"], "succeeded", "{ended}");
        assert_eq!(ended["updated"], 1, "{ended}");
        assert_eq!(ended["trigger"], "auto");
        watch
            .seen_since_or_until(since_start, "Synced at the new head", |l| {
                is_verdict(l, "Synced") && l["revision"] == head.as_str()
            })
            .await;
        let after_sync = world.writes();

        // Polls and reports go on; the same revision is never synced again.
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        assert_eq!(world.writes(), after_sync, "written again: {:#?}", watch.seen);
        assert_eq!(audited(&world), vec![(SyncTrigger::Auto, head.clone())]);
        let syncs = watch.seen.iter().filter(|l| is_sync_ended(l)).count();
        assert_eq!(syncs, 1);

        let (code, stderr) = watch.interrupt().await;
        assert_eq!(code, Some(0), "{stderr}");
    })
    .await;
}

#[tokio::test]
async fn self_heal_reverts_a_kubectl_scale_and_backs_off_when_it_returns() {
    within_timeout(async {
        let world = World::new().await;
        let Some(kubectl) = Kubectl::for_cluster(&world.sim, "self_heal_reverts_a_kubectl_scale")
        else {
            return;
        };
        world.apply_as_driftdeck().await;
        configure(
            &world,
            "auto_sync = true\nself_heal = true\nsettle_delay = \"1s\"\nself_heal_backoff = \"4s\"\n",
        );
        let mut watch = Watching::start(&world, &[]);
        watch.until("Synced", |l| is_verdict(l, "Synced")).await;

        let scale = ["scale", "deployment/web", "-n", NAMESPACE, "--replicas=5"];
        kubectl.ok(&scale).await;
        watch
            .until("the drift", |l| is_verdict(l, "OutOfSync"))
            .await;
        let since_drift = watch.seen.len();
        let first = watch.until("the first correction", is_sync_ended).await;
        assert_eq!(first["trigger"], "self-heal", "{first}");
        assert_eq!(first["status"], "succeeded", "{first}");
        watch
            .seen_since_or_until(since_drift, "Synced again", |l| is_verdict(l, "Synced"))
            .await;
        assert_eq!(replicas(&world).await, 2);

        // Back at once: the correction waits the backoff, and says so.
        kubectl.ok(&scale).await;
        let since_return = watch.seen.len();
        let waiting = watch
            .until("the backoff", |l| {
                l["auto"] == "waiting" && l["backoff_seconds"].is_u64()
            })
            .await;
        assert_eq!(waiting["backoff_seconds"], 4, "{waiting}");
        assert_eq!(waiting["trigger"], "self-heal");
        let second = watch.until("the second correction", is_sync_ended).await;
        assert_eq!(second["status"], "succeeded", "{second}");
        watch
            .seen_since_or_until(since_return, "Synced again", |l| is_verdict(l, "Synced"))
            .await;
        assert_eq!(replicas(&world).await, 2);
        let triggers: Vec<SyncTrigger> = audited(&world).into_iter().map(|(t, _)| t).collect();
        assert_eq!(triggers, vec![SyncTrigger::SelfHeal, SyncTrigger::SelfHeal]);

        let (code, stderr) = watch.interrupt().await;
        assert_eq!(code, Some(0), "{stderr}");
        let logs = world.logs();
        assert!(logs.contains("self-heal backing off"), "{logs}");
    })
    .await;
}

#[tokio::test]
async fn manifests_with_errors_are_never_auto_synced() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        configure(&world, "auto_sync = true\nself_heal = true\nsettle_delay = \"0s\"\n");
        let mut watch = Watching::start(&world, &[]);
        watch.until("Synced", |l| is_verdict(l, "Synced")).await;

        // A change and a broken file in one commit.
        world.write(
            "configmap.json",
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "red"}}),
        );
        std::fs::write(world.app_dir().join("broken.yaml"), "kind: [unclosed\n").unwrap();
        world.commit("red, and a broken file");
        world.sim.metrics().reset();
        let held = watch
            .until("the hold", |l| l["auto"] == "held")
            .await;
        let reason = held["reason"].as_str().unwrap();
        assert!(reason.contains("error"), "{reason}");
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        assert_eq!(world.writes(), 0, "{:#?}", watch.seen);
        assert!(audited(&world).is_empty());
        assert!(!watch.seen.iter().any(|l: &Value| is_sync_ended(l)));
        let (code, _) = watch.interrupt().await;
        assert_eq!(code, Some(0));

        let unknown = world.driftdeck(&["watch", "shop", "nope"]).await;
        assert_eq!(unknown.code, 2, "{}", unknown.stderr);
        assert!(unknown.stderr.contains("unknown app \"nope\""), "{}", unknown.stderr);
    })
    .await;
}

#[tokio::test]
async fn a_pinned_app_is_not_auto_synced_until_another_process_unpins_it() {
    within_timeout(async {
        let world = World::new().await;
        let (first, _) = two_commits(&world).await;
        let bare = bare_copy(&world);
        let daemon = GitDaemon::start(&world.path("served"), &world.path("trace"));
        rollback_git::configure(
            &world,
            &daemon.url("deploy.git"),
            "poll = \"1s\"\nauto_sync = true\nsettle_delay = \"0s\"\n",
        );
        assert_ran(
            &world
                .driftdeck(&["rollback", APP, "--to", &first, "--yes"])
                .await,
        );
        let mut watch = Watching::start(&world, &[]);
        watch
            .until("Synced at the pin", |l| {
                is_verdict(l, "Synced") && l["revision"] == first.as_str()
            })
            .await;
        let writes = world.writes();

        // A new commit pushed; the engine fetches it, then polls twice more.
        let fetches = daemon.commands("fetch");
        world.write(
            "extra.json",
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "extra", "namespace": NAMESPACE}, "data": {"n": "1"}}),
        );
        let head = world.commit("an extra ConfigMap");
        world.git(&["push", "-q", bare.to_str().unwrap(), "main"]);
        eventually("the new commit fetched", || async {
            daemon.commands("fetch") > fetches
        })
        .await;
        let polls = daemon.commands("ls-refs");
        eventually("two more polls", || async {
            daemon.commands("ls-refs") >= polls + 2
        })
        .await;
        assert_eq!(
            world.writes(),
            writes,
            "synced while pinned: {:#?}",
            watch.seen
        );

        // `driftdeck unpin` in another process: the running watch takes it
        // in at its next poll and syncs the head by itself.
        assert_ran(&world.driftdeck(&["unpin", APP]).await);
        let started = watch
            .until("the auto-sync", |l| l["auto"] == "started")
            .await;
        assert_eq!(started["revision"], head.as_str(), "{started}");
        let ended = watch.until("the sync's end", is_sync_ended).await;
        assert_eq!(ended["status"], "succeeded", "{ended}");
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, head.as_str(), "{name}'s revision");
            assert_eq!(pinned, Value::Null, "{name} keeps no pin");
        }
        let automatic: Vec<(SyncTrigger, String)> =
            AuditLog::at(&world.path("home/data/driftdeck/audit.jsonl"))
                .records()
                .unwrap()
                .into_iter()
                .filter_map(|record| match record {
                    AuditRecord::Start(start) if start.automatic => {
                        Some((start.trigger, start.revision))
                    }
                    _ => None,
                })
                .collect();
        assert_eq!(automatic, vec![(SyncTrigger::Auto, head.clone())]);

        let (code, stderr) = watch.interrupt().await;
        assert_eq!(code, Some(0), "{stderr}");
    })
    .await;
}
