//! `driftdeck rollback argocd/NAME --to REV --git`: the revert commit is
//! pushed to the Application's repository (a `git daemon` on 127.0.0.1),
//! Argo CD is asked to refresh, and driftdeck writes none of the app's
//! objects: Argo CD applies the commit as it is configured to.

use serde_json::json;

use super::support::{
    commit_a_green_config_map, config_mapping_flux_source_to_the_repo, config_reading_sources,
    create, install_engines, read_back,
};
use crate::common_git;
use crate::live::rollback_git::operator_gitconfig;
use crate::live::support::{NAMESPACE, World};
use crate::simcluster::support::within_timeout;
use crate::source::support::GitDaemon;

/// An Application of the shop's folder at `repo_url`, Synced at `revision`.
fn application(repo_url: &str, revision: &str) -> serde_json::Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "shop", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "targetRevision": "main", "path": "apps/shop"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": NAMESPACE}
        },
        "status": {"sync": {"status": "Synced", "revision": revision}, "health": {"status": "Healthy"}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_argocd_app_is_rolled_back_in_git_and_argocd_asked_to_refresh() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        config_reading_sources(&world, "");
        let blue = world.git(&["rev-parse", "HEAD"]);
        // A bad change: the ConfigMap turns green.
        let green = commit_a_green_config_map(&world);
        let bare = world.bare_copy("shop.git");
        let daemon = GitDaemon::start(&world.path("served"), &world.path("trace"));
        let app = create(&world, application(&daemon.url("shop.git"), &green)).await;
        operator_gitconfig(&world.path("home"), "");
        let writes_before = world.writes();

        let run = world
            .driftdeck(&[
                "rollback",
                "argocd/shop",
                "--to",
                &blue[..7],
                "--git",
                "--yes",
                "-m",
                "Roll back the green",
            ])
            .await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("Argo CD applies it"), "{}", run.stdout);

        // The remote's main has the rollback on top of green, with the
        // folder as it was at blue.
        let head = common_git::git(&bare, &["rev-parse", "main"]);
        assert_ne!(head, green);
        assert_eq!(common_git::git(&bare, &["rev-parse", "main~1"]), green);
        assert_eq!(
            common_git::git(&bare, &["log", "-1", "--format=%s", "main"]),
            "Roll back the green"
        );
        assert_eq!(
            common_git::git(&bare, &["rev-parse", "main:apps/shop"]),
            common_git::git(&bare, &["rev-parse", &format!("{blue}:apps/shop")]),
            "the app's folder is restored"
        );
        assert!(run.stdout.contains(&head[..7]), "{}", run.stdout);

        // Argo CD is asked to refresh; that patch is driftdeck's only write.
        let written = read_back(&world, &app).await;
        assert_eq!(
            written["metadata"]["annotations"]["argocd.argoproj.io/refresh"], "normal",
            "{written:#}"
        );
        // driftdeck's lease on the cluster aside, the Application's
        // patch is its only write: none of the app's objects.
        let metrics = world.sim.metrics().snapshot();
        let leases: u64 = ["create", "update", "patch"]
            .iter()
            .map(|verb| metrics.count(verb, "leases.coordination.k8s.io"))
            .sum();
        assert_eq!(metrics.count("patch", "applications.argoproj.io"), 1);
        assert_eq!(
            world.writes() - writes_before - leases,
            1,
            "only the Application's patch: {metrics:#?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_app_rollback_without_git_or_without_a_source_is_refused_clearly() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        config_reading_sources(&world, "");
        let head = world.git(&["rev-parse", "HEAD"]);
        let mut several = application("git://127.0.0.1:1/x.git", &head);
        several["spec"]["sources"] = json!([several["spec"]["source"].clone()]);
        create(&world, several).await;
        let writes_before = world.writes();

        let pin = world
            .driftdeck(&["rollback", "argocd/shop", "--to", &head, "--yes"])
            .await;
        assert_eq!(pin.code, 2, "{}", pin.stderr);
        assert!(
            pin.stderr
                .contains("rollback of an Argo CD or Flux app is a Git rollback")
                && pin.stderr.contains("`R` on a history entry"),
            "{}",
            pin.stderr
        );

        let underived = world
            .driftdeck(&["rollback", "argocd/shop", "--to", &head, "--git", "--yes"])
            .await;
        assert_eq!(underived.code, 2, "{}", underived.stderr);
        assert!(
            underived
                .stderr
                .contains("cannot roll back in Git: the Application has several sources"),
            "{}",
            underived.stderr
        );

        let readonly = world
            .driftdeck(&[
                "--readonly",
                "rollback",
                "argocd/shop",
                "--to",
                &head,
                "--git",
                "--yes",
            ])
            .await;
        assert_eq!(readonly.code, 2, "{}", readonly.stderr);
        assert!(readonly.stderr.contains("read-only"), "{}", readonly.stderr);
        assert_eq!(world.writes(), writes_before, "nothing written");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flux_kustomization_is_rolled_back_in_its_mapped_clone_and_reconcile_requested() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        let url = config_mapping_flux_source_to_the_repo(&world);
        let blue = world.git(&["rev-parse", "HEAD"]);
        let green = commit_a_green_config_map(&world);
        create(
            &world,
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": "fleet", "namespace": "flux-system"},
                "spec": {"interval": "1m0s", "url": url, "ref": {"branch": "main"}}
            }),
        )
        .await;
        let kustomization = create(
            &world,
            json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "shop", "namespace": "flux-system"},
                "spec": {"interval": "10m0s", "path": "./apps/shop", "prune": true,
                         "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
                "status": {"lastAppliedRevision": format!("main@sha1:{green}"),
                           "lastAttemptedRevision": format!("main@sha1:{green}")}
            }),
        )
        .await;
        operator_gitconfig(&world.path("home"), "");

        let run = world
            .driftdeck(&[
                "rollback",
                "flux/flux-system/shop",
                "--to",
                &blue,
                "--git",
                "--yes",
                "-m",
                "Roll back the green",
            ])
            .await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("Flux applies it"), "{}", run.stdout);
        assert_eq!(world.git(&["rev-parse", "main~1"]), green);
        assert_eq!(
            world.git(&["rev-parse", "main:apps/shop"]),
            world.git(&["rev-parse", &format!("{blue}:apps/shop")]),
            "the app's folder is restored"
        );
        let written = read_back(&world, &kustomization).await;
        assert!(
            written["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].is_string(),
            "{written:#}"
        );
    })
    .await;
}
