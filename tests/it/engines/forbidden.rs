//! An engine kind the operator may not list (RBAC answers 403): said, with
//! the kind and the context, where its apps would be; the other apps'
//! verdicts (native, and the other engine's) come as usual.

use super::support::{create, example, install_engines, sources_off};
use crate::live::support::{APP, World};
use crate::simcluster::support::within_timeout;

/// The shop (native), a Kustomization and an Application, with
/// Applications not listable.
pub async fn applications_forbidden() -> World {
    let world = World::new().await;
    sources_off(&world);
    install_engines(&world).await;
    create(&world, example("flux/kustomization-ready.yaml")).await;
    create(
        &world,
        example("argocd/application-outofsync-progressing.yaml"),
    )
    .await;
    world
        .sim
        .faults()
        .deny_lists("applications.argoproj.io")
        .unwrap();
    world
}

pub const CANNOT_LIST: &str = "cannot list Application (argoproj.io) in the current context: 403 Forbidden: applications.argoproj.io is forbidden";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_refused_is_named_and_the_other_apps_are_reported() {
    within_timeout(async {
        let world = applications_forbidden().await;
        let run = world.driftdeck(&["status", "-o", "json"]).await;
        let reports: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("no JSON ({e}): {}", run.stderr));
        let names: Vec<&str> = reports
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["app"].as_str().unwrap())
            .collect();
        assert!(names.contains(&APP), "{names:?}");
        assert!(names.contains(&"flux/flux-system/apps"), "{names:?}");
        assert!(!names.contains(&"argocd/podinfo"), "{names:?}");

        let run = world.driftdeck(&["sync", "argocd/podinfo", "--yes"]).await;
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(CANNOT_LIST), "{}", run.stderr);
    })
    .await;
}
