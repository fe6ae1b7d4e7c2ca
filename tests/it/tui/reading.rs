//! Finding and reading drift in a real terminal, against a simulated
//! cluster: the filter with its count, the YAML views, the external diff
//! viewer (a script that records what it was given, Secrets masked), the
//! command line with completion, and the sort kept for the next run.

use serde_json::json;

use super::sim::within_timeout;
use super::terminal::{Home, Tmux};
use super::world::{APP, NAMESPACE, SECRET_VALUE, World};

/// Appends its arguments, then the two files' contents, to `record`.
fn fake_viewer(home: &Home) -> (std::path::PathBuf, std::path::PathBuf) {
    let script = home.path("viewer.sh");
    let record = home.path("viewer.record");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ echo \"args: $*\"; cat \"$1\"; echo ---; cat \"$2\"; echo ===; }} >> {}\n",
            record.display()
        ),
    )
    .unwrap();
    let chmod = std::process::Command::new("chmod")
        .args(["+x", script.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chmod.success());
    (script, record)
}

fn wait_for_file(path: &std::path::Path, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + super::terminal::PATIENCE;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if ready(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited for {}: {text}",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_yaml_external_viewer_command_line_and_the_kept_sort() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "red"}});
        world.apply(&config_map, "intruder").await;
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": NAMESPACE},
            "stringData": {"password": "swordfish"}});
        world.apply(&secret, "intruder").await;
        let home = Home::new(&std::fs::read_to_string(world.path("config.toml")).unwrap());
        let (viewer, record) = fake_viewer(&home);
        let Some(tmux) = Tmux::start(&home, 160, 48) else {
            return;
        };
        let kubeconfig = world.path("kubeconfig");
        tmux.start_driftdeck(
            &home,
            &format!("DRIFTDECK_EXTERNAL_DIFF={}", viewer.display()),
            &format!("--kubeconfig {}", kubeconfig.display()),
        );
        tmux.wait_for("the app OutOfSync", |s| {
            s.contains(&format!("{APP} · OutOfSync"))
        });
        tmux.press("Enter");

        // The filter narrows as it is typed; the title counts.
        tmux.press("/");
        for c in "kind:configmap".chars() {
            tmux.press(&c.to_string());
        }
        // Wait for the whole filter: "kind:config" already counts 1/5.
        tmux.wait_for("the whole filter and its count", |s| {
            s.contains("1/5") && s.contains("/kind:configmap")
        });
        tmux.press("Enter");
        tmux.wait_for("the ConfigMap's diff", |s| {
            s.contains("Diff · ConfigMap shop/settings")
        });

        // Its YAML, live then desired.
        tmux.press("y");
        tmux.wait_for("the live YAML", |s| {
            s.contains("YAML live") && s.contains("color: red")
        });
        tmux.press("y");
        tmux.wait_for("the desired YAML", |s| {
            s.contains("YAML desired") && s.contains("color: blue")
        });
        tmux.press("y");
        tmux.press("y");
        tmux.wait_for("the diff again", |s| s.contains("Changed fields"));

        // The external viewer gets the live file, then the desired one; the
        // screen comes back after it.
        tmux.press("e");
        let recorded = wait_for_file(&record, |t| t.contains("==="));
        assert!(
            recorded.contains("live/ConfigMap_shop_settings.yaml")
                && recorded.contains("desired/ConfigMap_shop_settings.yaml"),
            "{recorded}"
        );
        let live_at = recorded.find("color: red").unwrap();
        let desired_at = recorded.find("color: blue").unwrap();
        assert!(live_at < desired_at, "{recorded}");
        tmux.wait_for_flag("alternate_on", "1");
        tmux.wait_for("the panes again", |s| {
            s.contains("Diff · ConfigMap shop/settings") && s.contains("Commits")
        });

        // Esc clears the filter; the Secret is listed first: its sides are masked.
        tmux.press("Escape");
        tmux.wait_for("every resource", |s| !s.contains("1/5"));
        tmux.press("Home");
        tmux.wait_for("the Secret", |s| s.contains("Diff · Secret shop/creds"));
        tmux.press("e");
        let recorded = wait_for_file(&record, |t| t.matches("===").count() == 2);
        assert!(recorded.contains("Secret_shop_creds.yaml"), "{recorded}");
        for value in [SECRET_VALUE, "swordfish"] {
            assert!(!recorded.contains(value), "{value} given to the viewer");
        }

        // The command line completes, and the sort it sets is kept.
        tmux.press(":");
        tmux.press("s");
        tmux.press("o");
        tmux.press("Tab");
        tmux.wait_for("the completed command", |s| s.contains(":sort "));
        for c in "name".chars() {
            tmux.press(&c.to_string());
        }
        tmux.press("Enter");
        tmux.wait_for("the sort in the title", |s| s.contains("by name"));
        tmux.press("q");
        tmux.assert_shell_usable();
        let kept = std::fs::read_to_string(home.path("home/.local/share/driftdeck/tui-state.toml"))
            .unwrap();
        assert!(kept.contains("sort = \"name\""), "{kept}");
    })
    .await;
}
