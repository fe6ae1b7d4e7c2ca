//! Rollback from the TUI at 80x24 against a simulated cluster: `R` on an
//! older commit shows the rollback's plan, `y` applies it and pins the app
//! (every object stamped with the pin), `p` then `y` unpins it.

use serde_json::Value;

use super::sim::within_timeout;
use super::terminal::{Home, Tmux};
use super::world::{APP, World};
use crate::live::rollback::{color, stamps, two_commits};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_on_a_commit_rolls_back_and_pins_then_p_unpins() {
    within_timeout(async {
        let world = World::new().await;
        let (first, _) = two_commits(&world).await;
        let short = &first[..7];
        let home = Home::new(&std::fs::read_to_string(world.path("config.toml")).unwrap());
        let Some(tmux) = Tmux::start(&home, 80, 24) else {
            return;
        };
        let kubeconfig = world.path("kubeconfig");
        tmux.start_driftdeck(&home, "", &format!("--kubeconfig {}", kubeconfig.display()));
        tmux.wait_for("the app Synced", |s| s.contains(&format!("{APP} · Synced")));
        tmux.wait_for("the first commit listed", |s| s.contains(short));

        // The Commits pane, its second commit (the first one made).
        for _ in 0..3 {
            tmux.press("Tab");
        }
        tmux.press("j");
        tmux.press("R");
        let screen = tmux.wait_for("the rollback's plan", |s| s.contains("y go"));
        assert!(
            screen.contains(&format!("Roll back {APP} to {short}")),
            "{screen}"
        );
        assert!(
            screen.contains("update ConfigMap shop/settings"),
            "{screen}"
        );
        tmux.press("y");
        let screen = tmux.wait_for("the pin", |s| {
            s.contains(&format!("{APP} is pinned to {short}"))
        });
        assert!(!screen.contains("y go"), "the dialog closed:\n{screen}");
        tmux.wait_for("the app Synced at its pin", |s| {
            s.contains(&format!("{APP} · Synced")) && s.contains(&format!("pin {short}"))
        });
        assert_eq!(color(&world).await, "blue");
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, first.as_str(), "{name}'s revision");
            assert_eq!(pinned, first.as_str(), "{name}'s pin");
        }

        tmux.press("p");
        tmux.wait_for("the question", |s| {
            s.contains(&format!("unpin {APP} from {short}"))
        });
        tmux.press("y");
        tmux.wait_for("unpinned, and compared with the head again", |s| {
            s.contains(&format!("{APP} is unpinned")) && s.contains(&format!("{APP} · OutOfSync"))
        });
        // Nothing was applied by unpinning: the objects keep their pin
        // until the next sync.
        let (_, _, pinned) = stamps(&world).await.remove(0);
        assert_eq!(pinned, Value::String(first.clone()));

        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}
