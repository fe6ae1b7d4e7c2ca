//! Git rollback through the library: the commit, the push, a rejected push
//! rebuilt, a failed push kept on a local branch, a protected branch that
//! falls back to a merge-request branch, and local repositories.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use driftdeck::source::{
    NetworkLimits, RollbackMode, RollbackRequest, SourceError, SourceLocation, git_rollback,
    update_source,
};

use super::support::{GitDaemon, Upstream, git, have};

fn request(source: &SourceLocation, cache: &Path, to: &str) -> RollbackRequest {
    RollbackRequest {
        source: source.clone(),
        cache_dir: cache.to_path_buf(),
        app: "web".to_string(),
        branch: "main".to_string(),
        paths: vec!["apps/web".to_string()],
        to: to.to_string(),
        message: "Roll back web to v1".to_string(),
        mode: RollbackMode::OnBranch,
        limits: NetworkLimits::default(),
        push_timeout: Duration::from_secs(30),
    }
}

/// The identity a revert is made with, in the repository's own config.
fn set_identity(repo: &Path) {
    git(repo, &["config", "user.name", "Rollback Bot"]);
    git(repo, &["config", "user.email", "bot@example.com"]);
    git(repo, &["config", "commit.gpgSign", "false"]);
}

/// A remote served by `git daemon`, cloned into the cache as a poll does.
async fn cloned(dir: &Path) -> (Upstream, GitDaemon, SourceLocation, PathBuf, String, String) {
    let (upstream, first, second) = Upstream::new(dir);
    let daemon = GitDaemon::start(&upstream.served_dir(), &dir.join("trace"));
    let source = SourceLocation::parse(&daemon.url("deploy.git")).unwrap();
    let cache = dir.join("cache");
    update_source(
        &source,
        &cache,
        &[Some("main".into())],
        &Arc::default(),
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    set_identity(&source.git_dir(&cache));
    (upstream, daemon, source, cache, first, second)
}

fn show(repo: &Path, rev_path: &str) -> String {
    git(repo, &["show", rev_path])
}

#[tokio::test]
async fn the_revert_is_committed_and_pushed() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _daemon, source, cache, first, second) = cloned(dir.path()).await;
    let outcome = git_rollback(&request(&source, &cache, &first))
        .await
        .unwrap();
    assert!(!outcome.rebuilt);
    assert_eq!(upstream.head(), outcome.commit.to_string());
    assert_eq!(
        show(&upstream.bare, "main:apps/web/deploy.yaml"),
        "image: web:1"
    );
    assert_eq!(
        show(&upstream.bare, "main:apps/db/db.yaml"),
        "image: db:2",
        "only the app's path changes"
    );
    assert_eq!(git(&upstream.bare, &["rev-parse", "main^"]), second);
    assert_eq!(
        git(
            &upstream.bare,
            &["log", "-1", "--format=%an <%ae>|%cn|%s", "main"]
        ),
        "Rollback Bot <bot@example.com>|Rollback Bot|Roll back web to v1"
    );
    let clone = source.git_dir(&cache);
    assert_eq!(
        git(&clone, &["rev-parse", "main"]),
        outcome.commit.to_string(),
        "the clone follows"
    );
}

#[tokio::test]
async fn a_rejected_push_is_rebuilt_on_the_new_head_and_pushed() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _daemon, source, cache, first, _) = cloned(dir.path()).await;
    let theirs = upstream.push_commit(&[("apps/db/db.yaml", "image: db:3\n")], "db v3");
    let outcome = git_rollback(&request(&source, &cache, &first))
        .await
        .unwrap();
    assert!(outcome.rebuilt);
    assert_eq!(upstream.head(), outcome.commit.to_string());
    assert_eq!(
        git(&upstream.bare, &["rev-parse", "main^"]),
        theirs,
        "built on their commit"
    );
    assert_eq!(
        show(&upstream.bare, "main:apps/db/db.yaml"),
        "image: db:3",
        "their change is kept"
    );
    assert_eq!(
        show(&upstream.bare, "main:apps/web/deploy.yaml"),
        "image: web:1"
    );
}

#[tokio::test]
async fn a_second_failure_keeps_the_commit_on_a_named_local_branch() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _daemon, source, cache, first, _) = cloned(dir.path()).await;
    let theirs = upstream.push_commit(&[("apps/db/db.yaml", "image: db:3\n")], "db v3");
    // The branch moved (first push rejected), and the server refuses the rebuilt one.
    let hook = upstream.bare.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'policy says no' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let err = git_rollback(&request(&source, &cache, &first))
        .await
        .unwrap_err();
    let SourceError::PushFailed {
        kept: Some(kept), ..
    } = &err
    else {
        panic!("expected a kept commit: {err:?}");
    };
    let message = err.to_string();
    assert!(message.contains(kept.as_str()), "{message}");
    assert!(kept.starts_with("driftdeck/revert-web-"), "{kept}");
    assert_eq!(upstream.head(), theirs, "nothing reached the remote");
    let clone = source.git_dir(&cache);
    assert_eq!(
        show(&clone, &format!("{kept}:apps/web/deploy.yaml")),
        "image: web:1"
    );
    assert_eq!(
        git(&clone, &["rev-parse", &format!("{kept}^")]),
        theirs,
        "it was rebuilt once"
    );
}

#[tokio::test]
async fn nothing_to_revert_is_an_error_naming_the_app() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _daemon, source, cache, _, second) = cloned(dir.path()).await;
    let err = git_rollback(&request(&source, &cache, &second))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::NothingToRevert { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("app \"web\": \"apps/web\" is already as it was"),
        "{err}"
    );
    assert_eq!(upstream.head(), second);
}

#[tokio::test]
async fn a_local_bare_repository_moves_its_branch() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, first, second) = Upstream::new(dir.path());
    set_identity(&upstream.bare);
    let source = SourceLocation::Local(upstream.bare.clone());
    let outcome = git_rollback(&request(&source, &dir.path().join("cache"), &first))
        .await
        .unwrap();
    assert_eq!(upstream.head(), outcome.commit.to_string());
    assert_eq!(git(&upstream.bare, &["rev-parse", "main^"]), second);
    assert_eq!(
        show(&upstream.bare, "main:apps/web/deploy.yaml"),
        "image: web:1"
    );
}

/// A pre-receive hook that refuses every update of `main`, as a protected
/// branch does.
fn protect_main(bare: &Path) {
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = refs/heads/main ]; then echo 'main is protected' >&2; exit 1; fi\ndone\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn a_protected_branch_falls_back_to_a_review_branch() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _daemon, source, cache, first, second) = cloned(dir.path()).await;
    protect_main(&upstream.bare);
    let outcome = git_rollback(&request(&source, &cache, &first))
        .await
        .unwrap();
    let review = format!("driftdeck/rollback-web-{}", &first[..7]);
    assert_eq!(outcome.branch, review);
    let merge_request = outcome.merge_request.expect("went to a review branch");
    let why = merge_request.fell_back.expect("says why it fell back");
    assert!(why.contains("main is protected"), "{why}");
    assert_eq!(merge_request.target, "main");
    assert_eq!(merge_request.url, None, "127.0.0.1 is no known forge");
    assert!(
        merge_request.no_url.unwrap().contains("not a known forge"),
        "says why there is no URL"
    );
    assert_eq!(upstream.head(), second, "main did not move");
    assert_eq!(
        git(&upstream.bare, &["rev-parse", &review]),
        outcome.commit.to_string()
    );
    assert_eq!(
        show(&upstream.bare, &format!("{review}:apps/web/deploy.yaml")),
        "image: web:1"
    );
}

#[tokio::test]
async fn the_merge_request_mode_pushes_only_the_new_branch() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _daemon, source, cache, first, second) = cloned(dir.path()).await;
    let mut asked = request(&source, &cache, &first);
    asked.mode = RollbackMode::MergeRequest;
    let outcome = git_rollback(&asked).await.unwrap();
    let merge_request = outcome.merge_request.unwrap();
    assert_eq!(merge_request.fell_back, None);
    assert_eq!(upstream.head(), second, "main did not move");
    let branches = git(&upstream.bare, &["branch", "--format=%(refname:short)"]);
    assert_eq!(
        branches,
        format!("driftdeck/rollback-web-{}\nmain", &first[..7])
    );
    assert_eq!(
        git(
            &upstream.bare,
            &["rev-parse", &format!("{}^", outcome.branch)]
        ),
        second,
        "built on main's head"
    );
}

#[tokio::test]
async fn the_commit_is_signed_with_an_ssh_key_when_git_says_so() {
    if !have("git", "--version") || !have("ssh-keygen", "-?") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _daemon, source, cache, first, _) = cloned(dir.path()).await;
    let (key, allowed) = super::signatures::ssh_key(dir.path(), "bot");
    let clone = source.git_dir(&cache);
    git(&clone, &["config", "commit.gpgSign", "true"]);
    git(&clone, &["config", "gpg.format", "ssh"]);
    git(
        &clone,
        &["config", "user.signingKey", key.to_str().unwrap()],
    );
    let outcome = git_rollback(&request(&source, &cache, &first))
        .await
        .unwrap();
    let signers = dir.path().join("allowed_signers");
    std::fs::write(&signers, allowed).unwrap();
    git(
        &upstream.bare,
        &[
            "config",
            "gpg.ssh.allowedSignersFile",
            signers.to_str().unwrap(),
        ],
    );
    let verified = git(
        &upstream.bare,
        &["log", "-1", "--format=%G?", &outcome.commit.to_string()],
    );
    assert_eq!(verified, "G", "a good ssh signature");
}

#[tokio::test]
async fn a_work_tree_commits_on_its_branch_and_keeps_other_changes() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, first, second) = Upstream::new(dir.path());
    set_identity(&upstream.work);
    let work = &upstream.work;
    // The operator's work in progress, outside the app's path.
    std::fs::write(work.join("apps/db/db.yaml"), "image: db:wip\n").unwrap();
    std::fs::write(work.join("notes.txt"), "todo\n").unwrap();
    git(work, &["add", "notes.txt"]);
    let source = SourceLocation::Local(work.clone());
    let outcome = git_rollback(&request(&source, &dir.path().join("cache"), &first))
        .await
        .unwrap();
    assert_eq!(
        git(work, &["rev-parse", "main"]),
        outcome.commit.to_string()
    );
    assert_eq!(git(work, &["rev-parse", "main^"]), second);
    assert_eq!(show(work, "main:apps/web/deploy.yaml"), "image: web:1");
    assert_eq!(show(work, "main:apps/db/db.yaml"), "image: db:2");
    assert_eq!(
        std::fs::read_to_string(work.join("apps/web/deploy.yaml")).unwrap(),
        "image: web:1\n",
        "the app's files follow the commit"
    );
    assert_eq!(
        git(work, &["status", "--porcelain"]),
        // Trimmed: the first line's leading space (unstaged) is gone.
        "M apps/db/db.yaml\nA  notes.txt",
        "only the operator's own changes are left"
    );
}

#[tokio::test]
async fn uncommitted_changes_in_the_app_path_are_refused() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, first, second) = Upstream::new(dir.path());
    set_identity(&upstream.work);
    let work = &upstream.work;
    std::fs::write(work.join("apps/web/deploy.yaml"), "image: web:wip\n").unwrap();
    std::fs::write(work.join("apps/web/new.yaml"), "kind: ConfigMap\n").unwrap();
    let source = SourceLocation::Local(work.clone());
    let err = git_rollback(&request(&source, &dir.path().join("cache"), &first))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::UncommittedChanges { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(
            "app \"web\" has uncommitted changes in \"apps/web/deploy.yaml\", \"apps/web/new.yaml\""
        ),
        "{message}"
    );
    assert_eq!(git(work, &["rev-parse", "main"]), second, "nothing moved");
    assert_eq!(
        std::fs::read_to_string(work.join("apps/web/deploy.yaml")).unwrap(),
        "image: web:wip\n",
        "nothing touched"
    );
}
