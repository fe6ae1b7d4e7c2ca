//! Git revert: the commit, the push, a rejected push rebuilt, a failed push
//! kept on a local branch, and local repositories.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use driftdeck::source::{
    NetworkLimits, RevertRequest, SourceError, SourceLocation, git_revert, update_source,
};

use super::support::{GitDaemon, Upstream, git, have};

fn request(source: &SourceLocation, cache: &Path, to: &str) -> RevertRequest {
    RevertRequest {
        source: source.clone(),
        cache_dir: cache.to_path_buf(),
        app: "web".to_string(),
        branch: "main".to_string(),
        app_path: "apps/web".to_string(),
        to: to.to_string(),
        message: "Roll back web to v1".to_string(),
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
    let outcome = git_revert(&request(&source, &cache, &first)).await.unwrap();
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
    let outcome = git_revert(&request(&source, &cache, &first)).await.unwrap();
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

    let err = git_revert(&request(&source, &cache, &first))
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
    let err = git_revert(&request(&source, &cache, &second))
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
    let outcome = git_revert(&request(&source, &dir.path().join("cache"), &first))
        .await
        .unwrap();
    assert_eq!(upstream.head(), outcome.commit.to_string());
    assert_eq!(git(&upstream.bare, &["rev-parse", "main^"]), second);
    assert_eq!(
        show(&upstream.bare, "main:apps/web/deploy.yaml"),
        "image: web:1"
    );
}

#[tokio::test]
async fn a_checked_out_branch_is_left_to_its_work_tree() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, first, second) = Upstream::new(dir.path());
    set_identity(&upstream.work);
    let source = SourceLocation::Local(upstream.work.clone());
    let err = git_revert(&request(&source, &dir.path().join("cache"), &first))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::BranchCheckedOut { .. }),
        "{err:?}"
    );
    assert_eq!(
        git(&upstream.work, &["rev-parse", "main"]),
        second,
        "the branch did not move"
    );
}
