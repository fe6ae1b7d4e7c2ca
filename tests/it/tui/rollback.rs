//! Rollback from the TUI at 80x24 against a simulated cluster: `R` on an
//! older commit shows the rollback's plan, `y` applies it and pins the app
//! (every object stamped with the pin), `p` then `y` unpins it; the dialog's
//! "revert in Git" with an edited message pushes one commit to a `git
//! daemon` and syncs it, its "merge-request branch" creates the branch and
//! shows the URL without writing to the cluster; and a pinned auto-sync app
//! leaves new commits alone until `p` unpins it.

use serde_json::Value;

use super::sim::within_timeout;
use super::terminal::{BINARY, Home, Tmux};
use super::world::{APP, World};
use crate::common_git::git;
use crate::live::rollback::{assert_ran, color, stamps, two_commits};
use crate::live::rollback_git::{bare_copy, configure, operator_gitconfig, tree};
use crate::source::support::GitDaemon;

/// A home for the TUI with the world's config and the operator's git
/// identity.
fn home_of(world: &World) -> Home {
    let home = Home::new(&std::fs::read_to_string(world.path("config.toml")).unwrap());
    operator_gitconfig(&home.path("home"), "");
    home
}

/// The TUI at 80x24 in `home`, once the app shows Synced and its first
/// commit is listed.
fn start_in(home: &Home, world: &World, first: &str) -> Option<Tmux> {
    let tmux = Tmux::start(home, 80, 24)?;
    let kubeconfig = world.path("kubeconfig");
    tmux.start_driftdeck(home, "", &format!("--kubeconfig {}", kubeconfig.display()));
    tmux.wait_for("the app Synced", |s| s.contains(&format!("{APP} · Synced")));
    tmux.wait_for("the first commit listed", |s| s.contains(&first[..7]));
    Some(tmux)
}

/// `start_in` a new home.
fn start(world: &World, first: &str) -> Option<(Home, Tmux)> {
    let home = home_of(world);
    let tmux = start_in(&home, world, first)?;
    Some((home, tmux))
}

/// `R` on the Commits pane's second commit (the first one made): the
/// rollback dialog with its plan.
fn roll_back_to_the_first_commit(tmux: &Tmux, first: &str) {
    for _ in 0..3 {
        tmux.press("Tab");
    }
    tmux.press("j");
    tmux.press("R");
    let screen = tmux.wait_for("the rollback's plan", |s| s.contains("y go"));
    assert!(
        screen.contains(&format!("Roll back {APP} to {}", &first[..7])),
        "{screen}"
    );
    assert!(
        screen.contains("update ConfigMap shop/settings"),
        "{screen}"
    );
}

/// Whether `screen` holds `text`, whatever rows the notice wrapped it over
/// (a long URL is cut where a row ends): compared without white space.
fn holds(screen: &str, text: &str) -> bool {
    let squeezed = |text: &str| text.split_whitespace().collect::<String>();
    squeezed(screen).contains(&squeezed(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_on_a_commit_rolls_back_and_pins_then_p_unpins() {
    within_timeout(async {
        let world = World::new().await;
        let (first, _) = two_commits(&world).await;
        let short = &first[..7];
        let Some((_home, tmux)) = start(&world, &first) else {
            return;
        };
        roll_back_to_the_first_commit(&tmux, &first);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revert_in_git_with_an_edited_message_replaces_the_pin_and_syncs_the_commit() {
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;
        let short = &first[..7];
        let bare = bare_copy(&world);
        let daemon = GitDaemon::start(&world.path("served"), &world.path("trace"));
        configure(&world, &daemon.url("deploy.git"), "poll = \"1s\"\n");
        let Some((_home, tmux)) = start(&world, &first) else {
            return;
        };
        // Pinned there first; then the rollback made permanent in Git,
        // though the cluster's plan has nothing left to do.
        roll_back_to_the_first_commit(&tmux, &first);
        tmux.press("y");
        tmux.wait_for("Synced at the pin", |s| {
            s.contains(&format!("{APP} · Synced")) && s.contains(&format!("pin {short}"))
        });
        tmux.press("R");
        tmux.wait_for("the rollback's empty plan", |s| {
            s.contains(&format!("Roll back {APP} to {short}")) && s.contains("nothing to do")
        });
        tmux.press("Tab");
        tmux.wait_for("the Git choice", |s| {
            s.contains("(•) revert in Git") && s.contains("y go")
        });
        tmux.press("y");
        tmux.wait_for("the default message in the editor", |s| {
            s.contains("Commits undone:") && s.contains("ctrl-s commit")
        });

        // A reason after the subject, and a line under it.
        tmux.press("End");
        tmux.type_text(": green broke checkout");
        tmux.press("Enter");
        tmux.type_text("Reported by the night shift.");
        tmux.wait_for("the edit", |s| s.contains("the night shift."));
        tmux.press("C-s");
        tmux.wait_for("the push, replacing the pin", |s| {
            holds(
                s,
                &format!(
                    "pushed to \"main\"; unpinned: the Git rollback replaces the pin at {short}"
                ),
            )
        });

        assert_eq!(git(&bare, &["rev-parse", "main^"]), second, "one commit");
        let head = git(&bare, &["rev-parse", "main"]);
        assert_eq!(
            git(&bare, &["log", "-1", "--format=%B", "main"]),
            format!(
                "Roll back {APP} to {}: green broke checkout\nReported by the night shift.\n\nCommits undone:\n- {} green",
                &first[..7],
                &second[..7]
            )
        );
        assert_eq!(
            git(&bare, &["log", "-1", "--format=%an <%ae>", "main"]),
            "Olga Operator <olga@example.com>"
        );
        assert_eq!(
            tree(&bare, "main", "apps/shop"),
            tree(&bare, &first, "apps/shop"),
            "the app's folder as it was at the first commit"
        );

        // Synced at the pushed commit, which the Commits pane lists as the
        // head with nothing behind.
        tmux.wait_for("Synced at the new head, unpinned", |s| {
            s.contains(&format!("{APP} · Synced"))
                && s.contains(&head[..7])
                && !s.contains("behind")
                && !s.contains(&format!("pin {short}"))
        });
        assert_eq!(color(&world).await, "blue");
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, head.as_str(), "{name}'s revision");
            assert_eq!(pinned, Value::Null, "{name} keeps no pin");
        }

        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_merge_request_choice_pushes_a_branch_shows_its_url_and_writes_nothing() {
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;
        // A bare repository the app polls, cloned from a GitHub remote (never
        // reached): the merge request's URL is derived from its origin.
        let bare = bare_copy(&world);
        git(
            &bare,
            &[
                "remote",
                "set-url",
                "origin",
                "https://github.com/acme/deploy.git",
            ],
        );
        configure(&world, bare.to_str().unwrap(), "poll = \"1s\"\n");
        let Some((_home, tmux)) = start(&world, &first) else {
            return;
        };
        let writes = world.writes();
        roll_back_to_the_first_commit(&tmux, &first);
        tmux.press("Tab");
        tmux.press("Tab");
        tmux.wait_for("the review choice", |s| {
            s.contains("(•) merge-request branch")
        });
        tmux.press("y");
        tmux.wait_for("the default message in the editor", |s| {
            s.contains("Commits undone:") && s.contains("ctrl-s commit")
        });
        tmux.press("C-s");

        let review = format!("driftdeck/rollback-{APP}-{}", &first[..7]);
        let url = format!("https://github.com/acme/deploy/compare/main...{review}?expand=1");
        let screen = tmux.wait_for("the merge request's URL", |s| holds(s, &url));
        assert!(screen.contains("open the merge request:"), "{screen}");
        assert_eq!(
            tree(&bare, &review, "apps/shop"),
            tree(&bare, &first, "apps/shop")
        );
        assert_eq!(git(&bare, &["rev-parse", &format!("{review}^")]), second);
        assert_eq!(git(&bare, &["rev-parse", "main"]), second, "main untouched");
        assert_eq!(world.writes(), writes, "the cluster is not written to");
        assert_eq!(color(&world).await, "green");

        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_auto_sync_app_leaves_new_commits_alone_until_unpinned() {
    within_timeout(async {
        let world = World::new().await;
        let (first, _) = two_commits(&world).await;
        let short = &first[..7];
        // No settle delay: an automatic sync would start with the report
        // that sees a new commit.
        let repo = world.repo();
        configure(
            &world,
            repo.to_str().unwrap(),
            "poll = \"1s\"\nauto_sync = true\nsettle_delay = \"0s\"\n",
        );
        let home = home_of(&world);
        let kubeconfig = world.path("kubeconfig");
        let rollback = std::process::Command::new(BINARY)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(home.env())
            .arg("--config")
            .arg(home.config_file())
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["rollback", APP, "--to", &first, "--yes"])
            .output()
            .unwrap();
        assert_ran(&rollback.into());
        let Some(tmux) = start_in(&home, &world, &first) else {
            return;
        };
        tmux.wait_for("the pin", |s| s.contains(&format!("pin {short}")));
        let writes = world.writes();

        // Two new commits, the second pushed once the TUI has shown the
        // first: a poll period at least between them, and neither synced.
        world.write(
            "extra.json",
            &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "extra", "namespace": super::world::NAMESPACE},
                "data": {"n": "1"}}),
        );
        let third = world.commit("an extra ConfigMap");
        tmux.wait_for("the new commit pending", |s| {
            s.contains(&third[..7]) && s.contains("2 behind")
        });
        world.remove("extra.json");
        let fourth = world.commit("no extra ConfigMap after all");
        tmux.wait_for("the next commit pending", |s| {
            s.contains(&fourth[..7]) && s.contains("3 behind")
        });
        let screen = tmux.screen();
        assert!(
            screen.contains(&format!("{APP} · Synced")) && screen.contains(&format!("pin {short}")),
            "still Synced at its pin:\n{screen}"
        );
        assert_eq!(world.writes(), writes, "nothing synced while pinned");

        // Unpinned, the head is synced by itself.
        tmux.press("p");
        tmux.wait_for("the question", |s| {
            s.contains(&format!("unpin {APP} from {short}"))
        });
        tmux.press("y");
        tmux.wait_for("Synced at the head", |s| {
            s.contains(&format!("{APP} · Synced"))
                && s.contains(&fourth[..7])
                && !s.contains("behind")
                && !s.contains(&format!("pin {short}"))
        });
        assert!(world.writes() > writes, "synced after unpin");
        assert_eq!(color(&world).await, "green");
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, fourth.as_str(), "{name}'s revision");
            assert_eq!(pinned, Value::Null, "{name} keeps no pin");
        }

        tmux.press("q");
        tmux.assert_shell_usable();
    })
    .await;
}
