//! Which engine apps driftdeck shows, and what finding them costs: nothing
//! beyond discovery where the engines' kinds are not served, one watch per
//! served kind where they are, none for an engine turned off.

use super::support::{config_without_apps, create, example, install_engines, reports};
use crate::live::support::World;
use crate::simcluster::support::within_timeout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_crds_finding_engine_apps_costs_no_request() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        world.sim.metrics().reset();
        let with_engines = world.driftdeck(&["status", "-o", "json"]).await;
        assert_eq!(with_engines.code, 0, "{}", with_engines.stderr);
        let total_with = world.sim.metrics().snapshot().total;
        std::fs::write(
            world.path("config.toml"),
            format!(
                "{}\n[engines]\nargocd = false\nflux = false\n",
                std::fs::read_to_string(world.path("config.toml")).unwrap()
            ),
        )
        .unwrap();
        world.sim.metrics().reset();
        let without = world.driftdeck(&["status", "-o", "json"]).await;
        assert_eq!(without.code, 0, "{}", without.stderr);
        let total_without = world.sim.metrics().snapshot().total;
        assert_eq!(
            total_with, total_without,
            "looking for engine apps where none is served costs nothing"
        );
        let listed: serde_json::Value = serde_json::from_str(&with_engines.stdout).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1, "only the native app");
        assert_eq!(listed[0]["engine"], serde_json::Value::Null);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_kinds_cost_one_list_each_and_a_turned_off_engine_none() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        for file in [
            "argocd/application-synced-healthy-history.yaml",
            "argocd/application-velero-synced-healthy.yaml",
            "flux/kustomization-ready.yaml",
            "flux/helmrelease-ready-history.yaml",
        ] {
            create(&world, example(file)).await;
        }
        config_without_apps(&world, "");
        world.sim.metrics().reset();
        let all = reports(&world, &[]).await;
        let names: Vec<&str> = all.iter().filter_map(|r| r["app"].as_str()).collect();
        assert_eq!(
            names,
            [
                "argocd/argo-cd/velero-test",
                "argocd/guestbook",
                "flux/flux-system/apps",
                "helm/podinfo/podinfo"
            ]
        );
        let snapshot = world.sim.metrics().snapshot();
        assert_eq!(snapshot.count("list", "applications.argoproj.io"), 1);
        assert_eq!(
            snapshot.count("list", "kustomizations.kustomize.toolkit.fluxcd.io"),
            1
        );
        assert_eq!(
            snapshot.count("list", "helmreleases.helm.toolkit.fluxcd.io"),
            1
        );

        // The Argo CD namespace decides which names carry a namespace.
        config_without_apps(
            &world,
            "[engines]\nflux = false\nargocd_namespace = \"argo-cd\"\n",
        );
        world.sim.metrics().reset();
        let argo_only = reports(&world, &[]).await;
        let names: Vec<&str> = argo_only.iter().filter_map(|r| r["app"].as_str()).collect();
        assert_eq!(names, ["argocd/argocd/guestbook", "argocd/velero-test"]);
        // Flux's kinds are then only looked at as any kind is, for objects
        // carrying driftdeck's label; Argo CD's still once.
        assert_eq!(
            world
                .sim
                .metrics()
                .snapshot()
                .count("list", "applications.argoproj.io"),
            1
        );

        // One app asked for by name.
        let one = reports(&world, &["argocd/velero-test"]).await;
        assert_eq!(one.len(), 1);
        assert_eq!(one[0]["status"], "Synced");
        let missing = world.driftdeck(&["status", "argocd/nothing-here"]).await;
        assert_eq!(missing.code, 2);
        assert!(
            missing
                .stderr
                .contains("no Argo CD or Flux app by this name"),
            "{}",
            missing.stderr
        );
    })
    .await;
}
