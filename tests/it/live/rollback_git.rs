//! `driftdeck rollback APP --to REV --git` through the built binary: one
//! commit restoring the app's files, authored (and signed) as the operator's
//! git config says, published in a local work tree, over `git daemon` and
//! over `file://`, then synced against the simulated cluster; `--branch`,
//! `rollback = "merge-request"` and a protected branch push a review branch
//! instead and leave the cluster alone.

use std::path::{Path, PathBuf};

use super::rollback::{assert_ran, color, stamps, two_commits};
use super::sim::within_timeout;
use super::support::{APP, NAMESPACE, World};
use crate::common_git::git;
use crate::source::support::{GitDaemon, have};

/// The operator's git identity (and signing, if given) in the HOME the
/// binary runs with.
fn operator_config(world: &World, extra: &str) {
    let home = world.path("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        format!("[user]\n\tname = Olga Operator\n\temail = olga@example.com\n{extra}"),
    )
    .unwrap();
}

/// Points the app at `repo` (a URL or a path), with `extra` config lines.
fn configure(world: &World, repo: &str, extra: &str) {
    std::fs::write(
        world.path("config.toml"),
        format!(
            "[[app]]\nname = \"{APP}\"\nrepo = \"{repo}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"{NAMESPACE}\"\n{extra}"
        ),
    )
    .unwrap();
}

/// A bare copy of the world's repository in `served/deploy.git`.
fn bare_copy(world: &World) -> PathBuf {
    world.bare_copy("deploy.git")
}

/// Each object's revision annotation.
async fn revisions(world: &World) -> Vec<String> {
    stamps(world)
        .await
        .into_iter()
        .map(|(_, revision, _)| revision.as_str().unwrap_or_default().to_string())
        .collect()
}

/// The tree of `rev:path` in `repo`, to compare folders between commits.
fn tree(repo: &Path, rev: &str, path: &str) -> String {
    git(repo, &["rev-parse", &format!("{rev}:{path}")])
}

#[tokio::test]
async fn a_work_tree_gets_one_commit_keeps_other_changes_and_is_synced() {
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;
        operator_config(&world, "");
        std::fs::write(world.repo().join("NOTES.md"), "work in progress\n").unwrap();

        let run = world
            .driftdeck(&[
                "rollback",
                APP,
                "--to",
                &first[..7],
                "--git",
                "--yes",
                "-m",
                "Roll back shop: green broke checkout",
            ])
            .await;
        assert_ran(&run);
        let head = world.git(&["rev-parse", "main"]);
        assert_eq!(world.git(&["rev-parse", "main^"]), second, "one commit");
        assert_eq!(
            tree(&world.repo(), "main", "apps/shop"),
            tree(&world.repo(), &first, "apps/shop"),
            "the app's folder is as it was at the revision"
        );
        assert_eq!(
            world.git(&["log", "-1", "--format=%an <%ae>|%B", "main"]),
            "Olga Operator <olga@example.com>|Roll back shop: green broke checkout"
        );
        assert_eq!(
            world.git(&["status", "--porcelain"]),
            "?? NOTES.md",
            "the operator's change is left, the app's files follow the commit"
        );
        assert_eq!(color(&world).await, "blue", "synced");
        assert!(
            revisions(&world).await.iter().all(|r| *r == head),
            "every object is at the new commit: {:?}",
            revisions(&world).await
        );

        // Uncommitted changes in the app's folder: refused, nothing moves.
        std::fs::write(world.app_dir().join("configmap.json"), "{}\n").unwrap();
        let refused = world
            .driftdeck(&["rollback", APP, "--to", &second, "--git", "--yes"])
            .await;
        assert_eq!(refused.code, 2, "{}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("uncommitted changes in \"apps/shop/configmap.json\""),
            "{}",
            refused.stderr
        );
        assert_eq!(world.git(&["rev-parse", "main"]), head);
        assert_eq!(
            std::fs::read_to_string(world.app_dir().join("configmap.json")).unwrap(),
            "{}\n"
        );
    })
    .await;
}

#[tokio::test]
async fn over_git_daemon_the_commit_is_signed_pushed_and_synced() {
    if !have("ssh-keygen", "-?") {
        return;
    }
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;
        let bare = bare_copy(&world);
        let daemon = GitDaemon::start(&world.path("served"), &world.path("trace"));
        configure(&world, &daemon.url("deploy.git"), "");
        let (key, allowed) = crate::source::signatures::ssh_key(world.dir.path(), "olga");
        operator_config(
            &world,
            &format!(
                "\tsigningKey = {}\n[commit]\n\tgpgSign = true\n[gpg]\n\tformat = ssh\n",
                key.display()
            ),
        );

        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--yes"])
            .await;
        assert_ran(&run);
        let head = git(&bare, &["rev-parse", "main"]);
        assert_eq!(git(&bare, &["rev-parse", "main^"]), second, "pushed");
        assert_eq!(
            tree(&bare, "main", "apps/shop"),
            tree(&bare, &first, "apps/shop")
        );
        assert_eq!(
            git(&bare, &["log", "-1", "--format=%s", "main"]),
            format!("Roll back {APP} to {}", &first[..7]),
            "the default message"
        );
        assert!(
            git(&bare, &["log", "-1", "--format=%b", "main"]).contains(&second[..7]),
            "the commit undone is listed"
        );
        let signers = world.path("allowed_signers");
        std::fs::write(&signers, allowed).unwrap();
        let verified = git(
            &bare,
            &[
                "-c",
                &format!("gpg.ssh.allowedSignersFile={}", signers.display()),
                "log",
                "-1",
                "--format=%G?",
                "main",
            ],
        );
        assert_eq!(verified, "G", "signed with the operator's ssh key");
        assert_eq!(color(&world).await, "blue", "synced");
        assert!(revisions(&world).await.iter().all(|r| *r == head));
    })
    .await;
}

#[tokio::test]
async fn a_review_branch_is_pushed_when_asked_configured_or_protected() {
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;
        let bare = bare_copy(&world);
        let url = format!("file://{}", bare.display());
        operator_config(&world, "");
        let review = format!("driftdeck/rollback-{APP}-{}", &first[..7]);
        let branches = || git(&bare, &["branch", "--format=%(refname:short)"]);
        let before = revisions(&world).await;

        // --branch
        configure(&world, &url, "");
        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--branch", "--yes"])
            .await;
        assert_ran(&run);
        assert!(
            run.stdout.contains(&format!("pushed to branch \"{review}\"")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("no merge-request URL: a file:// remote is not on a forge"),
            "says why there is no URL: {}",
            run.stdout
        );
        assert_eq!(branches(), format!("{review}\nmain"), "only the new branch");
        assert_eq!(git(&bare, &["rev-parse", "main"]), second);
        assert_eq!(
            tree(&bare, &review, "apps/shop"),
            tree(&bare, &first, "apps/shop")
        );
        git(&bare, &["branch", "-D", &review]);

        // rollback = "merge-request" in the app's config
        configure(&world, &url, "rollback = \"merge-request\"\n");
        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--yes"])
            .await;
        assert_ran(&run);
        assert_eq!(branches(), format!("{review}\nmain"));
        git(&bare, &["branch", "-D", &review]);

        // A protected main: the push is refused, the review branch is pushed.
        configure(&world, &url, "");
        let hook = bare.join("hooks/pre-receive");
        std::fs::write(
            &hook,
            "#!/bin/sh\nwhile read old new ref; do\n  [ \"$ref\" = refs/heads/main ] && { echo 'GH006: main is protected' >&2; exit 1; }\ndone\nexit 0\n",
        )
        .unwrap();
        std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--yes"])
            .await;
        assert_ran(&run);
        assert!(
            run.stderr.contains("\"main\" refused the commit")
                && run.stderr.contains("main is protected")
                && run.stderr.contains(&format!("it went to branch \"{review}\" instead")),
            "{}",
            run.stderr
        );
        assert_eq!(branches(), format!("{review}\nmain"));
        assert_eq!(git(&bare, &["rev-parse", "main"]), second, "main is untouched");

        assert_eq!(color(&world).await, "green", "the cluster is untouched");
        assert_eq!(revisions(&world).await, before);
    })
    .await;
}
