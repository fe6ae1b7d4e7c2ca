//! The Commits pane as a GitOps log in a real terminal: the app's commits
//! with the deployed one and the pending ones marked, `a` for the whole
//! branch, and Enter on a commit showing what deploying it would change,
//! rendered by the engine from the repository.

use super::sim::within_timeout;
use super::terminal::{Home, Tmux};
use super::world::{APP, World, shop_objects};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_a_commit_shows_the_object_diff_against_the_deployed_revision() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let deployed = world.git(&["rev-parse", "--short=7", "HEAD"]);
        // A commit of another part of the repository, then the app's own.
        std::fs::write(world.repo().join("README.md"), "the shop\n").unwrap();
        world.commit("docs: say what the repository is");
        let (_, mut deployment) = shop_objects()
            .into_iter()
            .find(|(file, _)| *file == "deployment.json")
            .unwrap();
        deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27".into();
        world.write("deployment.json", &deployment);
        world.commit("bump web to nginx 1.27");
        let head = world.git(&["rev-parse", "--short=7", "HEAD"]);

        let home = Home::new(&std::fs::read_to_string(world.path("config.toml")).unwrap());
        let Some(tmux) = Tmux::start(&home, 160, 80) else {
            return;
        };
        let kubeconfig = world.path("kubeconfig");
        tmux.start_driftdeck(&home, "", &format!("--kubeconfig {}", kubeconfig.display()));
        tmux.wait_for("the app OutOfSync", |s| {
            s.contains(&format!("{APP} · OutOfSync"))
        });
        // The docs commit is not the app's: two of three, one behind.
        let screen = tmux.wait_for("the app's commits", |s| {
            s.contains("Commits · 2/3 · 1 behind")
        });
        assert!(
            screen.contains(&format!("↑ {head} HEAD bump web")),
            "{screen}"
        );
        assert!(
            screen.contains(&format!("● {deployed} the shop app")),
            "{screen}"
        );
        assert!(!screen.contains("docs: say what"), "{screen}");

        tmux.press("BTab");
        tmux.wait_for("the head in detail", |s| {
            s.contains(&format!("Diff · commit {head}"))
        });
        tmux.press("Enter");
        let screen = tmux.wait_for("what deploying the head would change", |s| {
            s.contains("Files changed by")
        });
        for expected in [
            format!("Deploying {head} instead of {deployed} (deployed), objects:"),
            "✗ changed Deployment shop/web".to_string(),
            "\"nginx:1.25\" → \"nginx:1.27\"".to_string(),
            "M apps/shop/deployment.json".to_string(),
        ] {
            assert!(screen.contains(&expected), "{expected}: {screen}");
        }

        tmux.press("a");
        let screen = tmux.wait_for("every commit", |s| s.contains("Commits · 3 · 2 behind"));
        assert!(
            screen.contains("↑ ") && screen.contains("docs: say what"),
            "{screen}"
        );
        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}
