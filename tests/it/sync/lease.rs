//! One sync per app at a time: the Lease refuses a second sync naming who
//! holds it, and an expired Lease is taken over.

use driftdeck::cluster::{LeaseError, LeaseRequest, SyncLease};
use driftdeck::simcluster::FaultSettings;
use driftdeck::sync::{SyncError, SyncStatus};
use serde_json::json;
use std::time::Duration;

use super::sim::within_timeout;
use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_sync_is_refused_naming_the_holder() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        world.sync(&app, &[namespace(NAMESPACE)]).await.unwrap();
        let held = SyncLease::acquire(
            &world.client,
            &LeaseRequest {
                app: APP,
                namespace: NAMESPACE,
                holder: "bob@buildhost",
                duration: Duration::from_secs(60),
            },
        )
        .await
        .unwrap();
        let plan = world
            .plan(&app, &[namespace(NAMESPACE), config_map("c", "v")], false)
            .await
            .unwrap();
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        let err = outcome.unwrap_err();
        assert!(
            matches!(err, SyncError::Lease(LeaseError::Held { .. })),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("held by bob@buildhost since 20"),
            "{message}"
        );
        assert!(world.get("ConfigMap", Some(NAMESPACE), "c").await.is_none());

        held.release().await.unwrap();
        assert!(
            world
                .get("Lease", Some(NAMESPACE), "driftdeck-shop")
                .await
                .is_none()
        );
        let (outcome, _) = world.run(&plan, &world.options(&app)).await;
        assert_eq!(outcome.unwrap().status, SyncStatus::Succeeded);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_syncs_one_is_refused() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        world.sync(&app, &[namespace(NAMESPACE)]).await.unwrap();
        let objects: Vec<_> = (0..5).map(|i| config_map(&format!("c{i}"), "v")).collect();
        let plan = world.plan(&app, &objects, false).await.unwrap();
        let options = world.options(&app);
        // Slow requests keep the first sync's Lease held while the second asks.
        world
            .sim
            .faults()
            .set(FaultSettings {
                latency_ms: 30,
                ..FaultSettings::default()
            })
            .unwrap();
        let mut catalogs = (world.catalog.clone(), world.catalog.clone());
        let (a, b) = tokio::join!(
            sync_as(&world, &plan, &options, &mut catalogs.0, "alice"),
            sync_as(&world, &plan, &options, &mut catalogs.1, "bob")
        );
        let (ok, refused) = match (a, b) {
            (Ok(ok), Err(refused)) => (ok, (refused, "alice")),
            (Err(refused), Ok(ok)) => (ok, (refused, "bob")),
            other => panic!("expected one sync and one refusal, got {other:?}"),
        };
        assert_eq!(ok.status, SyncStatus::Succeeded);
        let message = refused.0.to_string();
        assert!(
            message.contains(&format!("held by {}@workstation", refused.1)),
            "{message}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_lease_is_taken_over() {
    within_timeout(async {
        let world = World::new().await;
        world.get("Namespace", None, "default").await.unwrap();
        let leases = super::sim::namespaced(&world.kube, "Lease", "default").await;
        let stale = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "driftdeck-shop", "namespace": "default"},
            "spec": {"holderIdentity": "ghost@crashed", "leaseDurationSeconds": 60,
                "acquireTime": "2020-01-01T00:00:00.000000Z", "renewTime": "2020-01-01T00:00:00.000000Z"}});
        leases
            .create(&Default::default(), &super::sim::object(stale))
            .await
            .unwrap();
        let request = LeaseRequest {
            app: APP,
            namespace: "default",
            holder: "alice@workstation",
            duration: Duration::from_secs(60),
        };
        let taken = SyncLease::acquire(&world.client, &request).await.unwrap();
        let lease = world.get("Lease", Some("default"), "driftdeck-shop").await.unwrap();
        assert_eq!(lease["spec"]["holderIdentity"], "alice@workstation");
        assert_eq!(lease["spec"]["leaseTransitions"], 1);
        let again = SyncLease::acquire(&world.client, &LeaseRequest { holder: "carol@other", ..request.clone() })
            .await
            .unwrap_err();
        assert!(again.to_string().contains("held by alice@workstation"), "{again}");
        taken.release().await.unwrap();
        assert!(world.get("Lease", Some("default"), "driftdeck-shop").await.is_none());
    })
    .await;
}

async fn sync_as(
    world: &World,
    plan: &driftdeck::sync::SyncPlan,
    options: &driftdeck::sync::SyncOptions,
    catalog: &mut driftdeck::cluster::KindCatalog,
    user: &str,
) -> Result<driftdeck::sync::SyncOutcome, SyncError> {
    let (sender, _receiver) = tokio::sync::mpsc::unbounded_channel();
    let (_cancel, cancelled) = tokio::sync::watch::channel(false);
    let operator = operator(user);
    driftdeck::sync::run(
        driftdeck::sync::SyncRequest {
            client: &world.client,
            plan,
            options,
            operator: &operator,
            audit: None,
        },
        catalog,
        &sender,
        cancelled,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_lease_is_renewed_past_its_duration() {
    within_timeout(async {
        let world = World::new().await;
        let request = LeaseRequest {
            app: APP,
            namespace: "default",
            holder: "alice@workstation",
            duration: Duration::from_secs(2),
        };
        let held = SyncLease::acquire(&world.client, &request).await.unwrap();
        let first = world
            .get("Lease", Some("default"), "driftdeck-shop")
            .await
            .unwrap();
        // Twice the Lease's duration: without renewals it would have expired.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let renewed = world
            .get("Lease", Some("default"), "driftdeck-shop")
            .await
            .unwrap();
        assert_ne!(first["spec"]["renewTime"], renewed["spec"]["renewTime"]);
        let other = LeaseRequest {
            holder: "bob@elsewhere",
            ..request.clone()
        };
        let refused = SyncLease::acquire(&world.client, &other).await.unwrap_err();
        assert!(matches!(refused, LeaseError::Held { .. }), "{refused}");
        held.release().await.unwrap();
        SyncLease::acquire(&world.client, &other)
            .await
            .unwrap()
            .release()
            .await
            .unwrap();
    })
    .await;
}
