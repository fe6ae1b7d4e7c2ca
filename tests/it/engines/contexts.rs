//! The same engine app in two kubeconfig contexts (`argocd/podinfo` in
//! `kind-a` and `kind-b`): asking it by name is an error naming both
//! contexts, since both engines would act; `--context` says which one.

use super::support::{create, example, install_engines, read_back, sources_off};
use crate::live::support::World;
use crate::simcluster::support::within_timeout;

/// Two contexts on the world's cluster, each with a native app (so both
/// are read).
fn two_contexts(world: &World) {
    let kubeconfig = std::fs::read_to_string(world.path("kubeconfig")).unwrap();
    let context = |name: &str| {
        format!(
            "- name: {name}\n  context:\n    cluster: driftdeck-sim\n    user: driftdeck-sim\n    namespace: default\n"
        )
    };
    let (head, tail) = kubeconfig.split_once("contexts:\n").unwrap();
    let (_, rest) = tail.split_once("current-context:").unwrap();
    let both = format!(
        "{head}contexts:\n{}{}current-context: kind-a\n{}",
        context("kind-a"),
        context("kind-b"),
        rest.split_once('\n').unwrap().1
    );
    std::fs::write(world.path("kubeconfig"), both).unwrap();
    let mut config = String::new();
    for name in ["kind-a", "kind-b"] {
        config.push_str(&format!(
            "[[app]]\nname = \"shop-{name}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"shop\"\ncontext = \"{name}\"\n\n",
            world.repo().display()
        ));
    }
    std::fs::write(world.path("config.toml"), config).unwrap();
    sources_off(world);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_app_in_two_contexts_is_refused_naming_both_until_context_says_which() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        let object = example("argocd/application-outofsync-progressing.yaml");
        create(&world, object.clone()).await;
        two_contexts(&world);

        let run = world.driftdeck(&["sync", "argocd/podinfo", "--yes"]).await;
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("app \"argocd/podinfo\" is in the contexts kind-a and kind-b"),
            "{}",
            run.stderr
        );
        assert!(read_back(&world, &object).await["operation"].is_null());

        let run = world
            .driftdeck(&["--context", "kind-b", "sync", "argocd/podinfo", "--dry-run"])
            .await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("would sync Application argocd/podinfo"),
            "{}",
            run.stdout
        );
    })
    .await;
}
