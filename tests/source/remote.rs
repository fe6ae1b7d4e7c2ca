//! Cloning and the cheap remote check, over `git://` and smart HTTP.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use driftdeck::source::{NetworkLimits, SourceError, SourceLocation, files_at, update_source};

use crate::support::{GitDaemon, HttpMode, HttpServer, Upstream, have, object_count, pack_count};

fn remote(url: &str) -> SourceLocation {
    SourceLocation::parse(url).unwrap()
}

#[tokio::test]
async fn a_poll_with_no_change_fetches_no_pack() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, second) = Upstream::new(dir.path());
    let daemon = GitDaemon::start(&upstream.served_dir(), &dir.path().join("trace"));
    let source = remote(&daemon.url("deploy.git"));
    let cache = dir.path().join("cache");
    let traffic = Arc::default();
    let tracked = [Some("main".to_string())];

    let first = update_source(
        &source,
        &cache,
        &tracked,
        &traffic,
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(first.heads[0].commit.to_string(), second);
    assert_eq!(first.fetched, vec!["main"]);
    let clone = source.git_dir(&cache);
    let files = files_at(&clone, &second, "apps/web").unwrap();
    assert_eq!(files[0].bytes, b"image: web:2\n");
    // The fetch lists the moved branch again on its own connection.
    assert_eq!(
        (daemon.commands("ls-refs"), daemon.commands("fetch")),
        (2, 1)
    );
    let (packs, objects) = (pack_count(&clone), object_count(&clone));

    for _ in 0..3 {
        let again = update_source(
            &source,
            &cache,
            &tracked,
            &traffic,
            NetworkLimits::default(),
        )
        .await
        .unwrap();
        assert!(again.fetched.is_empty(), "{again:?}");
        assert_eq!(again.heads, first.heads);
    }
    // Three more ref listings, not one more fetch, not one more object.
    assert_eq!(
        (daemon.commands("ls-refs"), daemon.commands("fetch")),
        (5, 1)
    );
    assert_eq!((pack_count(&clone), object_count(&clone)), (packs, objects));
    assert_eq!(traffic.requests(), 5, "4 listings and 1 fetch");
}

#[tokio::test]
async fn a_poll_after_a_push_fetches_the_new_head() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, _) = Upstream::new(dir.path());
    let daemon = GitDaemon::start(&upstream.served_dir(), &dir.path().join("trace"));
    let source = remote(&daemon.url("deploy.git"));
    let cache = dir.path().join("cache");
    let traffic = Arc::default();
    let tracked = [None];
    update_source(
        &source,
        &cache,
        &tracked,
        &traffic,
        NetworkLimits::default(),
    )
    .await
    .unwrap();

    let third = upstream.push_commit(&[("apps/web/deploy.yaml", "image: web:3\n")], "web v3");
    let update = update_source(
        &source,
        &cache,
        &tracked,
        &traffic,
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(update.heads[0].commit.to_string(), third);
    assert_eq!(
        update.heads[0].branch, "main",
        "the default branch is resolved"
    );
    assert_eq!(update.fetched, vec!["main"]);
    assert_eq!(daemon.commands("fetch"), 2);
    let files = files_at(&source.git_dir(&cache), &third, "apps/web").unwrap();
    assert_eq!(files[0].bytes, b"image: web:3\n");
}

#[tokio::test]
async fn a_missing_branch_is_reported_not_fetched() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, _) = Upstream::new(dir.path());
    let daemon = GitDaemon::start(&upstream.served_dir(), &dir.path().join("trace"));
    let source = remote(&daemon.url("deploy.git"));
    let update = update_source(
        &source,
        &dir.path().join("cache"),
        &[Some("release".to_string()), Some("main".to_string())],
        &Arc::default(),
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(update.missing, vec![Some("release".to_string())]);
    assert_eq!(update.heads.len(), 1);
}

#[tokio::test]
async fn a_remote_that_is_down_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::support::free_port();
    let source = remote(&format!("git://127.0.0.1:{port}/deploy.git"));
    let err = update_source(
        &source,
        &dir.path().join("cache"),
        &[None],
        &Arc::default(),
        NetworkLimits::default(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("git://127.0.0.1:{port}/deploy.git: ")),
        "{text}"
    );
    assert!(
        matches!(
            err,
            SourceError::Remote {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn smart_http_clones_and_polls_without_a_pack() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, second) = Upstream::new(dir.path());
    let server = HttpServer::start(&upstream.served_dir(), HttpMode::Git);
    let source = remote(&server.url("deploy.git"));
    let cache = dir.path().join("cache");
    let traffic = Arc::default();
    let tracked = [Some("main".to_string())];

    let first = update_source(
        &source,
        &cache,
        &tracked,
        &traffic,
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(first.heads[0].commit.to_string(), second);
    let clone = source.git_dir(&cache);
    assert_eq!(
        files_at(&clone, &second, "apps/db").unwrap()[0].bytes,
        b"image: db:2\n"
    );
    let requests_after_clone = traffic.requests();
    assert_eq!(
        requests_after_clone as usize,
        server.requests.load(Ordering::Relaxed),
        "every HTTP request is counted"
    );

    let objects = object_count(&clone);
    let again = update_source(
        &source,
        &cache,
        &tracked,
        &traffic,
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert!(again.fetched.is_empty());
    assert_eq!(object_count(&clone), objects);
    // Protocol v2 over HTTP: the capability advertisement and one ls-refs.
    assert_eq!(traffic.requests() - requests_after_clone, 2);

    let third = upstream.push_commit(&[("apps/db/db.yaml", "image: db:3\n")], "db v3");
    let moved = update_source(
        &source,
        &cache,
        &tracked,
        &traffic,
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(moved.heads[0].commit.to_string(), third);
    assert_eq!(
        files_at(&clone, &third, "apps/db").unwrap()[0].bytes,
        b"image: db:3\n"
    );
}

#[tokio::test]
async fn http_429_reports_the_retry_after_it_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(
        dir.path(),
        HttpMode::Throttle {
            status: 429,
            retry_after: 120,
        },
    );
    let traffic = Arc::default();
    let err = update_source(
        &remote(&server.url("deploy.git")),
        &dir.path().join("cache"),
        &[None],
        &traffic,
        NetworkLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)), "{err}");
    assert!(err.to_string().contains("HTTP 429"), "{err}");
    assert_eq!(traffic.requests(), 1);
}

#[tokio::test]
async fn http_503_reports_the_retry_after_too() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(
        dir.path(),
        HttpMode::Throttle {
            status: 503,
            retry_after: 30,
        },
    );
    let err = update_source(
        &remote(&server.url("deploy.git")),
        &dir.path().join("cache"),
        &[None],
        &Arc::default(),
        NetworkLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)), "{err}");
}

#[tokio::test]
async fn credentials_in_the_url_stay_out_of_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(
        dir.path(),
        HttpMode::Throttle {
            status: 403,
            retry_after: 0,
        },
    );
    let url = format!(
        "http://deployer:s3cret-token@127.0.0.1:{}/deploy.git",
        server.port
    );
    let source = remote(&url);
    let err = update_source(
        &source,
        &dir.path().join("cache"),
        &[None],
        &Arc::default(),
        NetworkLimits::default(),
    )
    .await
    .unwrap_err();
    let shown = format!("{err} {err:?} {source}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(!shown.contains("deployer"), "{shown}");
    assert!(
        err.to_string()
            .starts_with(&format!("http://127.0.0.1:{}/deploy.git: ", server.port)),
        "{err}"
    );
}

#[tokio::test]
async fn a_local_repository_is_read_without_network() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, second) = Upstream::new(dir.path());
    let source = SourceLocation::Local(upstream.work.clone());
    let update = update_source(
        &source,
        &dir.path().join("cache"),
        &[None],
        &Arc::default(),
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(update.heads[0].commit.to_string(), second);
    assert!(!dir.path().join("cache").exists(), "nothing is cloned");
}

#[tokio::test]
async fn a_file_url_is_cloned_like_any_remote() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, second) = Upstream::new(dir.path());
    let source = remote(&format!("file://{}", upstream.bare.display()));
    let cache = dir.path().join("cache");
    let update = update_source(
        &source,
        &cache,
        &[None],
        &Arc::default(),
        NetworkLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(update.heads[0].commit.to_string(), second);
    let clone = source.git_dir(&cache);
    assert!(clone.starts_with(&cache), "{}", clone.display());
    assert_eq!(
        files_at(&clone, "main", "apps/web").unwrap()[0].bytes,
        b"image: web:2\n"
    );
}
