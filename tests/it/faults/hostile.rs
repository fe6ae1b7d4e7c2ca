//! Hostile repositories and configs: a chart that links out of its folder is
//! not rendered, and terminal escapes in commit subjects or config text are
//! printed escaped.

use std::path::Path;

use crate::manifests::support::{check, driftdeck, run, tool, write_files};

use super::sim::within_timeout;
use super::world::World;

const ESCAPES: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J";

fn assert_no_control_characters(what: &str, text: &str) {
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what} carries control characters: {text:?}"
    );
}

fn chart(dir: &Path) {
    write_files(
        dir,
        &[
            ("Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n"),
            (
                "templates/leak.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  env: {{ .Files.Get \"env.txt\" | quote }}\n{{ fail (.Files.Get \"env.txt\") }}\n",
            ),
        ],
    );
}

#[test]
fn check_refuses_a_chart_whose_link_leaves_the_folder_and_leaks_nothing() {
    if let Err(why) = tool("helm") {
        eprintln!("skipped: {why}");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path().join("apps/web");
    chart(&dir);
    let secret = "FAKE_CI_TOKEN_7d1e";
    std::os::unix::fs::symlink("/proc/self/environ", dir.join("env.txt")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut command = driftdeck(repo.path(), home.path());
    command
        .env("FAKE_CI_TOKEN", secret)
        .args(["check", "apps/web"]);
    let run = run(command);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the environment leaked: {}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains(
            "apps/web: error: apps/web/env.txt: symbolic link to \"/proc/self/environ\" leads out of the chart folder; helm is not run"
        ),
        "{}",
        run.stdout
    );

    // The same chart with the file inside it renders.
    std::fs::remove_file(dir.join("env.txt")).unwrap();
    write_files(&dir, &[("data/env.txt", "harmless")]);
    std::os::unix::fs::symlink("data/env.txt", dir.join("env.txt")).unwrap();
    let run = check(repo.path(), &["apps/web"]);
    assert!(
        run.stdout.contains("harmless"),
        "a link inside the chart is read: {}{}",
        run.stdout,
        run.stderr
    );
}

#[tokio::test]
async fn log_prints_terminal_escapes_of_a_commit_subject_escaped() {
    within_timeout(async {
        let world = World::new().await;
        world.write("extra.json", &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}));
        world.commit(&format!("innocent{ESCAPES}"));
        for format in ["table", "json"] {
            let run = world.driftdeck(&["log", "shop", "-o", format]).await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            assert_no_control_characters("log", &run.stdout);
            assert!(run.stdout.contains("innocent"), "{}", run.stdout);
        }
    })
    .await;
}

#[tokio::test]
async fn status_prints_terminal_escapes_from_the_config_escaped() {
    within_timeout(async {
        let world = World::new().await;
        let file = world.path("config.toml");
        let config = std::fs::read_to_string(&file).unwrap();
        let hostile = config.replace(
            "branch = \"main\"",
            "branch = \"main\\u001b]0;owned\\u0007\\u001b[2J\"",
        );
        assert_ne!(config, hostile);
        std::fs::write(&file, hostile).unwrap();
        let run = world.driftdeck(&["status"]).await;
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert_no_control_characters("status", &run.stdout);
        assert_no_control_characters("status's error", &run.stderr);
        assert!(run.stdout.contains("main\\u{1b}]0;owned"), "{}", run.stdout);
    })
    .await;
}
