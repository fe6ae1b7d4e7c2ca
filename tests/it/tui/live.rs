//! The TUI against a simulated cluster and a Git repository: an app seen
//! Synced, then OutOfSync after a change made behind driftdeck's back, with
//! the changed field named in the diff pane, then Synced again once Git
//! agrees and `r` reads it.

use serde_json::json;

use super::sim::within_timeout;
use super::terminal::{Home, Tmux};
use super::world::{APP, NAMESPACE, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_turns_out_of_sync_after_an_out_of_band_change_with_the_field_named() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let home = Home::new(&std::fs::read_to_string(world.path("config.toml")).unwrap());
        let Some(tmux) = Tmux::start(&home, 160, 48) else {
            return;
        };
        let kubeconfig = world.path("kubeconfig");
        tmux.start_driftdeck(&home, "", &format!("--kubeconfig {}", kubeconfig.display()));
        let synced = format!("{APP} · Synced · Healthy · deployed");
        let screen = tmux.wait_for("the app Synced and Healthy", |s| s.contains(&synced));
        assert!(screen.contains("all 5 resources match Git"), "{screen}");
        assert!(
            screen.contains("● "),
            "the deployed commit is marked:\n{screen}"
        );

        // Another field manager changes the ConfigMap: the watch shows it.
        let change = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "red"}});
        world.apply(&change, "intruder").await;
        let out_of_sync = format!("{APP} · OutOfSync");
        let screen = tmux.wait_for("the app OutOfSync", |s| s.contains(&out_of_sync));
        assert!(
            screen.contains("ConfigMap shop/settings: data.color changed"),
            "the reason names the field:\n{screen}"
        );

        // The ConfigMap sorts first; Enter on the app opens its resources,
        // and the diff pane follows the selected one.
        tmux.press("Enter");
        let screen = tmux.wait_for("the ConfigMap's diff", |s| {
            s.contains("Diff · ConfigMap shop/settings")
        });
        assert!(
            screen.contains(r#"data.color: "red" → "blue""#),
            "the changed field, live → Git:\n{screen}"
        );
        assert!(screen.contains("-  color: red"), "{screen}");
        assert!(screen.contains("+  color: blue"), "{screen}");

        // Git catches up; the app polls every minute, `r` reads it now.
        world.write("configmap.json", &change);
        let commit = world.commit("settings: red it is");
        tmux.press("r");
        // Pending (↑): newer than the deployed commit; the age cuts the subject.
        let head = format!("↑ {} HEAD settings: red", &commit[..7]);
        let screen = tmux.wait_for("the new head, and the app Synced", |s| {
            s.contains(&head) && s.contains(&synced)
        });
        assert!(
            screen.contains("no drift, the live object matches Git"),
            "{screen}"
        );

        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}
