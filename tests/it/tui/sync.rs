//! Syncing from the TUI at 80x24 against a simulated cluster: `s` shows the
//! plan (a create, an update and a prune, by name), esc writes nothing, `y`
//! syncs and the app turns Synced with the result in the status bar; under
//! `--readonly` there is no sync.

use serde_json::json;

use super::sim::within_timeout;
use super::terminal::{Home, Tmux};
use super::world::{APP, NAMESPACE, World};

/// The shop deployed, then Git moved on (a ConfigMap changed, one added)
/// and a labelled ConfigMap left live that Git no longer has; pruning on.
async fn drifted_shop() -> World {
    let world = World::new().await;
    world.apply_as_driftdeck().await;
    let config_map = |name: &str, data| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": NAMESPACE}, "data": data})
    };
    world.write(
        "configmap.json",
        &config_map("settings", json!({"color": "green"})),
    );
    world.write(
        "greeting.json",
        &config_map("greeting", json!({"text": "hi"})),
    );
    world.commit("green, and a greeting");
    let mut old = config_map("old", json!({"stale": "yes"}));
    old["metadata"]["labels"] =
        json!({"driftdeck.dev/app": APP, "app.kubernetes.io/managed-by": "driftdeck"});
    world.apply(&old, "driftdeck").await;
    let mut config = std::fs::read_to_string(world.path("config.toml")).unwrap();
    config.push_str("prune = true\n");
    std::fs::write(world.path("config.toml"), config).unwrap();
    world
}

/// The TUI on the world's cluster in tmux at 80x24; `None` without tmux.
fn driftdeck_at_80x24(world: &World, flags: &str) -> Option<(Home, Tmux)> {
    let home = Home::new(&std::fs::read_to_string(world.path("config.toml")).unwrap());
    let tmux = Tmux::start(&home, 80, 24)?;
    let kubeconfig = world.path("kubeconfig");
    let args = format!("{flags} --kubeconfig {}", kubeconfig.display());
    tmux.start_driftdeck(&home, "", &args);
    Some((home, tmux))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_shows_the_plan_esc_writes_nothing_and_y_syncs_the_app() {
    within_timeout(async {
        let world = drifted_shop().await;
        let Some((_home, tmux)) = driftdeck_at_80x24(&world, "") else {
            return;
        };
        tmux.wait_for("the app OutOfSync", |s| {
            s.contains(&format!("{APP} · OutOfSync"))
        });

        world.sim.metrics().reset();
        tmux.press("s");
        let screen = tmux.wait_for("the plan", |s| s.contains("to prune"));
        for line in [
            "1 to create · 1 to update · 1 to prune",
            "+ create ConfigMap shop/greeting",
            "~ update ConfigMap shop/settings: data.color",
            "- prune  ConfigMap shop/old",
            "y go · esc cancel",
        ] {
            assert!(screen.contains(line), "{line} missing:\n{screen}");
        }
        tmux.press("Escape");
        tmux.wait_for("the dialog closed", |s| !s.contains("to prune"));
        assert_eq!(world.writes(), 0, "esc wrote nothing");

        tmux.press("s");
        tmux.wait_for("the plan again", |s| s.contains("y go"));
        tmux.press("y");
        let screen = tmux.wait_for("the sync's result", |s| s.contains("shop: synced: "));
        assert!(
            screen.contains("1 created, 1 updated, 1 pruned"),
            "{screen}"
        );
        tmux.wait_for("the app Synced", |s| s.contains(&format!("{APP} · Synced")));
        assert!(world.writes() > 0);

        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_has_no_sync_key_and_refuses_s() {
    within_timeout(async {
        let world = drifted_shop().await;
        let Some((_home, tmux)) = driftdeck_at_80x24(&world, "--readonly") else {
            return;
        };
        let screen = tmux.wait_for("the app OutOfSync", |s| {
            s.contains(&format!("{APP} · OutOfSync"))
        });
        assert!(!screen.contains("s sync"), "{screen}");
        tmux.press("?");
        let help = tmux.wait_for("the help", |s| s.contains("Help"));
        assert!(!help.contains("sync the app"), "{help}");
        tmux.press("Escape");
        world.sim.metrics().reset();
        tmux.press("s");
        let screen = tmux.wait_for("the refusal", |s| s.contains("read-only"));
        assert!(!screen.contains("to prune"), "{screen}");
        assert_eq!(world.writes(), 0);
        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}
