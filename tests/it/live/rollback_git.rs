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
    operator_gitconfig(&world.path("home"), extra);
}

/// `~/.gitconfig` in `home`: the operator's identity, then `extra`.
pub(crate) fn operator_gitconfig(home: &Path, extra: &str) {
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        format!("[user]\n\tname = Olga Operator\n\temail = olga@example.com\n{extra}"),
    )
    .unwrap();
}

/// Points the app at `repo` (a URL or a path), with `extra` config lines.
pub(crate) fn configure(world: &World, repo: &str, extra: &str) {
    std::fs::write(
        world.path("config.toml"),
        format!(
            "[[app]]\nname = \"{APP}\"\nrepo = \"{repo}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"{NAMESPACE}\"\n{extra}"
        ),
    )
    .unwrap();
}

/// A bare copy of the world's repository in `served/deploy.git`.
pub(crate) fn bare_copy(world: &World) -> PathBuf {
    world.bare_copy("deploy.git")
}

/// Each object's revision annotation.
pub(crate) async fn revisions(world: &World) -> Vec<String> {
    stamps(world)
        .await
        .into_iter()
        .map(|(_, revision, _)| revision.as_str().unwrap_or_default().to_string())
        .collect()
}

/// The tree of `rev:path` in `repo`, to compare folders between commits.
pub(crate) fn tree(repo: &Path, rev: &str, path: &str) -> String {
    git(repo, &["rev-parse", &format!("{rev}:{path}")])
}

/// The operator signs commits with an SSH key made here, which git trusts
/// with `trusted` (to check signatures, as a `require_signed` app's sync
/// does); gives the allowed-signers file naming the key.
fn operator_signs_with_ssh(world: &World, trusted: bool) -> PathBuf {
    let (key, allowed) = crate::source::signatures::ssh_key(world.dir.path(), "olga");
    let signers = world.path("allowed_signers");
    std::fs::write(&signers, allowed).unwrap();
    let trust = match trusted {
        true => format!(
            "[gpg \"ssh\"]\n\tallowedSignersFile = {}\n",
            signers.display()
        ),
        false => String::new(),
    };
    operator_config(
        world,
        &format!(
            "\tsigningKey = {}\n[commit]\n\tgpgSign = true\n[gpg]\n\tformat = ssh\n{trust}",
            key.display()
        ),
    );
    signers
}

/// `main` in `bare` is `head`, signed by a key `signers` allows, and the
/// cluster is synced at it (the first commit's content: blue).
async fn assert_signed_and_synced(world: &World, bare: &Path, signers: &Path, head: &str) {
    assert_eq!(git(bare, &["rev-parse", "main"]), head);
    let verified = git(
        bare,
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
    assert_eq!(color(world).await, "blue", "synced");
    let stamped = revisions(world).await;
    assert!(stamped.iter().all(|r| r == head), "{stamped:?}");
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
        let signers = operator_signs_with_ssh(&world, false);

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
        assert_signed_and_synced(&world, &bare, &signers, &head).await;
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

/// The pins file's text (empty when there is none).
fn pins(world: &World) -> String {
    std::fs::read_to_string(world.path("home/data/driftdeck/pins.json")).unwrap_or_default()
}

#[tokio::test]
async fn a_git_rollback_replaces_the_pin_and_a_review_branch_keeps_it() {
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;
        let bare = bare_copy(&world);
        configure(&world, &format!("file://{}", bare.display()), "");
        operator_config(&world, "");
        assert_ran(
            &world
                .driftdeck(&["rollback", APP, "--to", &first, "--yes"])
                .await,
        );
        assert!(pins(&world).contains(&first), "pinned: {}", pins(&world));

        // Pushed to the branch: the commit replaces the pin, and the new
        // head is synced (not refused as a sync of a pinned app).
        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--yes"])
            .await;
        assert_ran(&run);
        assert!(
            run.stderr.contains(&format!(
                "unpinned: the Git rollback replaces the pin at {}",
                &first[..7]
            )),
            "{}",
            run.stderr
        );
        let head = git(&bare, &["rev-parse", "main"]);
        assert_eq!(git(&bare, &["rev-parse", "main^"]), second, "one commit");
        assert!(!pins(&world).contains(APP), "{}", pins(&world));
        for (name, revision, pinned) in stamps(&world).await {
            assert_eq!(revision, head.as_str(), "{name}'s revision");
            assert_eq!(pinned, serde_json::Value::Null, "{name} keeps no pin");
        }
        let report = world.status().await;
        assert_eq!(report["status"], "Synced", "{report:#}");
        assert_eq!(report["desired_revision"], head.as_str());
        assert_eq!(report["pinned"], serde_json::Value::Null);

        // Pinned again (green); a review branch deploys nothing, so the pin
        // stays and the cluster is not written to.
        assert_ran(
            &world
                .driftdeck(&["rollback", APP, "--to", &second, "--yes"])
                .await,
        );
        assert_eq!(color(&world).await, "green");
        let writes = world.writes();
        let run = world
            .driftdeck(&[
                "rollback", APP, "--to", &second, "--git", "--branch", "--yes",
            ])
            .await;
        assert_ran(&run);
        assert!(
            run.stderr
                .contains(&format!("still pinned to {}", &second[..7])),
            "{}",
            run.stderr
        );
        let review = format!("driftdeck/rollback-{APP}-{}", &second[..7]);
        assert_eq!(
            tree(&bare, &review, "apps/shop"),
            tree(&bare, &second, "apps/shop")
        );
        assert_eq!(git(&bare, &["rev-parse", "main"]), head, "main untouched");
        assert!(pins(&world).contains(&second), "{}", pins(&world));
        assert_eq!(world.writes(), writes, "the cluster is not touched");
        assert_eq!(color(&world).await, "green");
    })
    .await;
}

/// How many commit objects `repo` holds, reachable or not.
fn commit_objects(repo: &Path) -> usize {
    git(
        repo,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype)",
        ],
    )
    .lines()
    .filter(|kind| *kind == "commit")
    .count()
}

/// The bare clones driftdeck keeps in its cache folder.
fn cached_clones(world: &World) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![world.path("home/cache")];
    while let Some(folder) = folders.pop() {
        if folder.join("objects").is_dir() && folder.join("HEAD").is_file() {
            found.push(folder);
            continue;
        }
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                folders.push(entry.path());
            }
        }
    }
    found
}

#[tokio::test]
async fn require_signed_refuses_a_git_rollback_git_would_not_sign_before_committing() {
    within_timeout(async {
        let world = World::new().await;
        let (first, second) = two_commits(&world).await;
        let bare = bare_copy(&world);
        let url = format!("file://{}", bare.display());
        let refs = || git(&bare, &["for-each-ref", "--format=%(refname) %(objectname)"]);
        let (refs_before, writes) = (refs(), world.writes());
        let refused = |run: &super::support::Run, why: &str| {
            assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
            assert!(run.stderr.contains(why), "{}", run.stderr);
            assert!(
                run.stderr.contains("nothing was committed"),
                "{}",
                run.stderr
            );
            assert_eq!(refs(), refs_before, "nothing pushed");
            assert_eq!(world.writes(), writes, "nothing synced");
            for clone in cached_clones(&world) {
                assert_eq!(commit_objects(&clone), 2, "no commit made in {clone:?}");
            }
        };

        // No signing set up.
        configure(&world, &url, "require_signed = true\n");
        operator_config(&world, "");
        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--yes"])
            .await;
        refused(
            &run,
            &format!(
                "{APP} requires signed commits (require_signed = true) and git is not configured to sign: set user.signingkey and commit.gpgsign = true"
            ),
        );
        assert!(!cached_clones(&world).is_empty(), "the branch was fetched");

        // Signing with gpg where ssh is required: refused before gpg runs.
        configure(&world, &url, "require_signed = \"ssh\"\n");
        operator_config(
            &world,
            "\tsigningKey = 0x0123456789ABCDEF\n[commit]\n\tgpgSign = true\n",
        );
        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--yes"])
            .await;
        refused(
            &run,
            &format!(
                "{APP} requires ssh-signed commits (require_signed = \"ssh\") and git signs with gpg (gpg.format = openpgp): set user.signingkey (an SSH key), gpg.format = ssh"
            ),
        );

        // Signing with an SSH key git trusts: committed, signed, pushed and
        // synced, the sync accepting the new head's signature.
        if !have("ssh-keygen", "-?") {
            return;
        }
        let signers = operator_signs_with_ssh(&world, true);
        let run = world
            .driftdeck(&["rollback", APP, "--to", &first, "--git", "--yes"])
            .await;
        assert_ran(&run);
        let head = git(&bare, &["rev-parse", "main"]);
        assert_eq!(git(&bare, &["rev-parse", "main^"]), second);
        assert_signed_and_synced(&world, &bare, &signers, &head).await;
    })
    .await;
}
