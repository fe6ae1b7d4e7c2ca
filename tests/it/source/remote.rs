//! Cloning and the cheap remote check, over `git://` and smart HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use driftdeck::source::{
    NetworkLimits, SourceError, SourceLocation, SourceUpdate, Traffic, files_at, update_source,
};
use tempfile::TempDir;

use super::support::{GitDaemon, HttpMode, HttpServer, Upstream, have, object_count, pack_count};

fn remote(url: &str) -> SourceLocation {
    SourceLocation::parse(url).unwrap()
}

/// A fresh temp dir with the cache a poll clones into and the traffic it counts.
struct Cache {
    dir: TempDir,
    path: PathBuf,
    traffic: Arc<Traffic>,
}

impl Cache {
    fn new() -> Cache {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        Cache {
            dir,
            path,
            traffic: Arc::default(),
        }
    }

    /// One update of `source` as a poll runs it: this cache and counter, default limits.
    async fn update(
        &self,
        source: &SourceLocation,
        tracked: &[Option<String>],
    ) -> Result<SourceUpdate, SourceError> {
        update_source(
            source,
            &self.path,
            tracked,
            &self.traffic,
            NetworkLimits::default(),
        )
        .await
    }

    /// An HTTP server in the temp dir that answers every request with `status`.
    fn throttled(&self, status: u16, retry_after: u64) -> HttpServer {
        HttpServer::start(
            self.dir.path(),
            HttpMode::Throttle {
                status,
                retry_after,
            },
        )
    }

    /// The error of one update against a server answering every request with `status`.
    async fn throttled_error(&self, status: u16, retry_after: u64) -> SourceError {
        let server = self.throttled(status, retry_after);
        let source = remote(&server.url("deploy.git"));
        self.update(&source, &[None]).await.unwrap_err()
    }
}

/// The two-commit upstream of `Upstream::new`, served by `S`, and a cache to
/// poll it into. The server comes first so it stops before the dir goes.
struct Served<S> {
    server: S,
    source: SourceLocation,
    upstream: Upstream,
    /// The upstream's head when served.
    second: String,
    cache: Cache,
}

impl<S> Served<S> {
    /// `None` when git is missing (`have` says the test is skipped).
    fn new(serve: impl FnOnce(&Path, &Upstream) -> (S, SourceLocation)) -> Option<Served<S>> {
        if !have("git", "--version") {
            return None;
        }
        let cache = Cache::new();
        let (upstream, _, second) = Upstream::new(cache.dir.path());
        let (server, source) = serve(cache.dir.path(), &upstream);
        Some(Served {
            server,
            source,
            upstream,
            second,
            cache,
        })
    }

    async fn update(&self, tracked: &[Option<String>]) -> Result<SourceUpdate, SourceError> {
        self.cache.update(&self.source, tracked).await
    }

    /// The bare clone in the cache.
    fn clone_dir(&self) -> PathBuf {
        self.source.git_dir(&self.cache.path)
    }
}

fn by_git_daemon() -> Option<Served<GitDaemon>> {
    Served::new(|dir, upstream| {
        let daemon = GitDaemon::start(&upstream.served_dir(), &dir.join("trace"));
        let source = remote(&daemon.url("deploy.git"));
        (daemon, source)
    })
}

fn by_smart_http() -> Option<Served<HttpServer>> {
    Served::new(|_, upstream| {
        let server = HttpServer::start(&upstream.served_dir(), HttpMode::Git);
        let source = remote(&server.url("deploy.git"));
        (server, source)
    })
}

#[tokio::test]
async fn a_poll_with_no_change_fetches_no_pack() {
    let Some(served) = by_git_daemon() else {
        return;
    };
    let tracked = [Some("main".to_string())];

    let first = served.update(&tracked).await.unwrap();
    assert_eq!(first.heads[0].commit.to_string(), served.second);
    assert_eq!(first.fetched, vec!["main"]);
    let clone = served.clone_dir();
    let files = files_at(&clone, &served.second, "apps/web").unwrap();
    assert_eq!(files[0].bytes, b"image: web:2\n");
    let daemon = &served.server;
    // The fetch lists the moved branch again on its own connection.
    assert_eq!(
        (daemon.commands("ls-refs"), daemon.commands("fetch")),
        (2, 1)
    );
    let (packs, objects) = (pack_count(&clone), object_count(&clone));

    for _ in 0..3 {
        let again = served.update(&tracked).await.unwrap();
        assert!(again.fetched.is_empty(), "{again:?}");
        assert_eq!(again.heads, first.heads);
    }
    // Three more ref listings, not one more fetch, not one more object.
    assert_eq!(
        (daemon.commands("ls-refs"), daemon.commands("fetch")),
        (5, 1)
    );
    assert_eq!((pack_count(&clone), object_count(&clone)), (packs, objects));
    assert_eq!(served.cache.traffic.requests(), 5, "4 listings and 1 fetch");
}

#[tokio::test]
async fn a_poll_after_a_push_fetches_the_new_head() {
    let Some(served) = by_git_daemon() else {
        return;
    };
    served.update(&[None]).await.unwrap();

    let third = served
        .upstream
        .push_commit(&[("apps/web/deploy.yaml", "image: web:3\n")], "web v3");
    let update = served.update(&[None]).await.unwrap();
    assert_eq!(update.heads[0].commit.to_string(), third);
    assert_eq!(
        update.heads[0].branch, "main",
        "the default branch is resolved"
    );
    assert_eq!(update.fetched, vec!["main"]);
    assert_eq!(served.server.commands("fetch"), 2);
    let files = files_at(&served.clone_dir(), &third, "apps/web").unwrap();
    assert_eq!(files[0].bytes, b"image: web:3\n");
}

#[tokio::test]
async fn a_missing_branch_is_reported_not_fetched() {
    let Some(served) = by_git_daemon() else {
        return;
    };
    let update = served
        .update(&[Some("release".to_string()), Some("main".to_string())])
        .await
        .unwrap();
    assert_eq!(update.missing, vec![Some("release".to_string())]);
    assert_eq!(update.heads.len(), 1);
}

#[tokio::test]
async fn a_remote_that_is_down_is_an_error_naming_it() {
    let cache = Cache::new();
    let port = super::support::free_port();
    let source = remote(&format!("git://127.0.0.1:{port}/deploy.git"));
    let err = cache.update(&source, &[None]).await.unwrap_err();
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
    let Some(served) = by_smart_http() else {
        return;
    };
    let tracked = [Some("main".to_string())];
    let traffic = &served.cache.traffic;

    let first = served.update(&tracked).await.unwrap();
    assert_eq!(first.heads[0].commit.to_string(), served.second);
    let clone = served.clone_dir();
    assert_eq!(
        files_at(&clone, &served.second, "apps/db").unwrap()[0].bytes,
        b"image: db:2\n"
    );
    let requests_after_clone = traffic.requests();
    assert_eq!(
        requests_after_clone as usize,
        served.server.requests.load(Ordering::Relaxed),
        "every HTTP request is counted"
    );

    let objects = object_count(&clone);
    let again = served.update(&tracked).await.unwrap();
    assert!(again.fetched.is_empty());
    assert_eq!(object_count(&clone), objects);
    // Protocol v2 over HTTP: the capability advertisement and one ls-refs.
    assert_eq!(traffic.requests() - requests_after_clone, 2);

    let third = served
        .upstream
        .push_commit(&[("apps/db/db.yaml", "image: db:3\n")], "db v3");
    let moved = served.update(&tracked).await.unwrap();
    assert_eq!(moved.heads[0].commit.to_string(), third);
    assert_eq!(
        files_at(&clone, &third, "apps/db").unwrap()[0].bytes,
        b"image: db:3\n"
    );
}

#[tokio::test]
async fn http_429_reports_the_retry_after_it_was_given() {
    let cache = Cache::new();
    let err = cache.throttled_error(429, 120).await;
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)), "{err}");
    assert!(err.to_string().contains("HTTP 429"), "{err}");
    assert_eq!(cache.traffic.requests(), 1);
}

#[tokio::test]
async fn http_503_reports_the_retry_after_too() {
    let cache = Cache::new();
    let err = cache.throttled_error(503, 30).await;
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)), "{err}");
}

#[tokio::test]
async fn credentials_in_the_url_stay_out_of_errors() {
    let cache = Cache::new();
    let server = cache.throttled(403, 0);
    let url = format!(
        "http://deployer:s3cret-token@127.0.0.1:{}/deploy.git",
        server.port
    );
    let source = remote(&url);
    let err = cache.update(&source, &[None]).await.unwrap_err();
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
    let Some(served) =
        Served::new(|_, upstream| ((), SourceLocation::Local(upstream.work.clone())))
    else {
        return;
    };
    let update = served.update(&[None]).await.unwrap();
    assert_eq!(update.heads[0].commit.to_string(), served.second);
    assert!(!served.cache.path.exists(), "nothing is cloned");
}

#[tokio::test]
async fn a_file_url_is_cloned_like_any_remote() {
    let Some(served) =
        Served::new(|_, upstream| ((), remote(&format!("file://{}", upstream.bare.display()))))
    else {
        return;
    };
    let update = served.update(&[None]).await.unwrap();
    assert_eq!(update.heads[0].commit.to_string(), served.second);
    let clone = served.clone_dir();
    assert!(clone.starts_with(&served.cache.path), "{}", clone.display());
    assert_eq!(
        files_at(&clone, "main", "apps/web").unwrap()[0].bytes,
        b"image: web:2\n"
    );
}
