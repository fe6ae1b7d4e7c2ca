//! The poller task: events for new heads, errors with backoff, recovery,
//! refresh, local work trees, stop.

use std::time::{Duration, SystemTime};

use driftdeck::source::{
    NetworkLimits, PollPacing, PollerConfig, SourceEvent, SourceLocation, spawn_poller,
};
use tokio::sync::mpsc;

use super::support::{GitDaemon, HttpMode, HttpServer, Upstream, commit_files, have};

fn config(cache: &std::path::Path, interval: Duration, max_backoff: Duration) -> PollerConfig {
    PollerConfig {
        pacing: PollPacing {
            interval,
            jitter: 0.1,
            max_backoff,
            max_retry_after: Duration::from_secs(3600),
        },
        limits: NetworkLimits {
            list_timeout: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(30),
        },
        cache_dir: cache.to_path_buf(),
    }
}

/// The next event that `matches`, skipping others; fails after 20 s.
async fn next_matching(
    events: &mut mpsc::Receiver<SourceEvent>,
    what: &str,
    matches: impl Fn(&SourceEvent) -> bool,
) -> SourceEvent {
    let wait = async {
        loop {
            match events.recv().await {
                Some(event) if matches(&event) => return event,
                Some(_) => continue,
                None => panic!("the poller stopped while waiting for {what}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("no {what} within 20s"))
}

fn is_head(event: &SourceEvent) -> bool {
    matches!(event, SourceEvent::Head { .. })
}

fn is_next_poll(event: &SourceEvent) -> bool {
    matches!(event, SourceEvent::NextPoll { .. })
}

#[tokio::test]
async fn reports_the_head_then_each_move_after_a_refresh() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, second) = Upstream::new(dir.path());
    let daemon = GitDaemon::start(&upstream.served_dir(), &dir.path().join("trace"));
    let source = SourceLocation::parse(&daemon.url("deploy.git")).unwrap();
    let (sender, mut events) = mpsc::channel(64);
    // A long interval: only the first poll and the refresh happen.
    let poller = spawn_poller(
        source.clone(),
        vec![Some("main".to_string())],
        config(
            &dir.path().join("cache"),
            Duration::from_secs(3600),
            Duration::from_secs(600),
        ),
        sender,
    );
    let SourceEvent::Head {
        source: from,
        tracked,
        branch,
        commit,
    } = next_matching(&mut events, "the first head", is_head).await
    else {
        unreachable!()
    };
    assert_eq!(
        (from, tracked, branch),
        (source.clone(), Some("main".into()), "main".into())
    );
    assert_eq!(commit.to_string(), second);
    let SourceEvent::NextPoll {
        at,
        in_backoff,
        requests,
        ..
    } = next_matching(&mut events, "the next poll", is_next_poll).await
    else {
        unreachable!()
    };
    assert!(!in_backoff);
    assert_eq!(requests, 2, "one listing and one fetch");
    let wait = at.duration_since(SystemTime::now()).unwrap();
    assert!(wait > Duration::from_secs(3000), "next poll in {wait:?}");

    let third = upstream.push_commit(&[("apps/web/deploy.yaml", "image: web:3\n")], "web v3");
    poller.refresh();
    let SourceEvent::Head { commit, .. } =
        next_matching(&mut events, "the moved head", is_head).await
    else {
        unreachable!()
    };
    assert_eq!(commit.to_string(), third);
    assert_eq!(poller.requests(), 4);
    poller.stop().await;
    // What was sent before the stop drains, then the channel closes.
    tokio::time::timeout(Duration::from_secs(5), async {
        while events.recv().await.is_some() {}
    })
    .await
    .expect("a stopped poller closes its channel");
}

#[tokio::test]
async fn a_remote_that_goes_down_gets_backoff_then_recovers() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, _) = Upstream::new(dir.path());
    let mut daemon = GitDaemon::start(&upstream.served_dir(), &dir.path().join("trace"));
    let source = SourceLocation::parse(&daemon.url("deploy.git")).unwrap();
    let (sender, mut events) = mpsc::channel(256);
    let poller = spawn_poller(
        source,
        vec![None],
        config(
            &dir.path().join("cache"),
            Duration::from_millis(100),
            Duration::from_millis(800),
        ),
        sender,
    );
    next_matching(&mut events, "the first head", is_head).await;

    daemon.stop();
    let mut retry_waits = Vec::new();
    for _ in 0..3 {
        let SourceEvent::Error {
            cause, retry_at, ..
        } = next_matching(&mut events, "an error", |e| {
            matches!(e, SourceEvent::Error { .. })
        })
        .await
        else {
            unreachable!()
        };
        assert!(cause.contains("deploy.git"), "{cause}");
        retry_waits.push(
            retry_at
                .duration_since(SystemTime::now())
                .unwrap_or_default(),
        );
        let SourceEvent::NextPoll { in_backoff, .. } =
            next_matching(&mut events, "the next poll", is_next_poll).await
        else {
            unreachable!()
        };
        assert!(in_backoff);
    }
    // 200 ms, 400 ms, then the 800 ms cap (±10%, minus the time to get here).
    assert!(retry_waits[2] > retry_waits[0], "{retry_waits:?}");
    assert!(
        retry_waits[2] <= Duration::from_millis(800),
        "{retry_waits:?}"
    );

    // A refresh in backoff does not poll: the same next try is announced.
    poller.refresh();
    let SourceEvent::NextPoll { in_backoff, .. } =
        next_matching(&mut events, "a deferred refresh", is_next_poll).await
    else {
        unreachable!()
    };
    assert!(in_backoff);

    daemon.restart();
    let third = upstream.push_commit(&[("apps/web/deploy.yaml", "image: web:3\n")], "web v3");
    let SourceEvent::Head { commit, .. } =
        next_matching(&mut events, "the head after recovery", is_head).await
    else {
        unreachable!()
    };
    assert_eq!(commit.to_string(), third);
    let SourceEvent::NextPoll { in_backoff, .. } =
        next_matching(&mut events, "the next poll", is_next_poll).await
    else {
        unreachable!()
    };
    assert!(!in_backoff, "recovered");
    poller.stop().await;
}

#[tokio::test]
async fn a_throttled_remote_is_left_alone_for_its_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(
        dir.path(),
        HttpMode::Throttle {
            status: 429,
            retry_after: 900,
        },
    );
    let (sender, mut events) = mpsc::channel(16);
    let poller = spawn_poller(
        SourceLocation::parse(&server.url("deploy.git")).unwrap(),
        vec![None],
        config(
            &dir.path().join("cache"),
            Duration::from_secs(60),
            Duration::from_secs(600),
        ),
        sender,
    );
    let SourceEvent::Error { retry_at, .. } =
        next_matching(&mut events, "the throttling error", |e| {
            matches!(e, SourceEvent::Error { .. })
        })
        .await
    else {
        unreachable!()
    };
    let wait = retry_at.duration_since(SystemTime::now()).unwrap();
    assert!(
        wait > Duration::from_secs(890),
        "Retry-After 900s, next try in {wait:?}"
    );
    // A refresh does not get around it.
    poller.refresh();
    next_matching(&mut events, "the next poll", is_next_poll).await;
    poller.refresh();
    next_matching(&mut events, "the deferred refresh", |e| {
        matches!(
            e,
            SourceEvent::NextPoll {
                in_backoff: true,
                ..
            }
        )
    })
    .await;
    assert_eq!(poller.requests(), 1);
    poller.stop().await;
}

#[tokio::test]
async fn a_local_work_tree_sees_a_new_commit_at_the_next_poll() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, second) = Upstream::new(dir.path());
    let (sender, mut events) = mpsc::channel(64);
    let poller = spawn_poller(
        SourceLocation::Local(upstream.work.clone()),
        vec![None],
        config(
            &dir.path().join("cache"),
            Duration::from_millis(100),
            Duration::from_secs(1),
        ),
        sender,
    );
    let SourceEvent::Head { commit, branch, .. } =
        next_matching(&mut events, "the head", is_head).await
    else {
        unreachable!()
    };
    assert_eq!((commit.to_string(), branch.as_str()), (second, "main"));
    let third = commit_files(
        &upstream.work,
        &[("apps/web/deploy.yaml", "image: web:3\n")],
        "local",
    );
    let SourceEvent::Head { commit, .. } =
        next_matching(&mut events, "the new commit", is_head).await
    else {
        unreachable!()
    };
    assert_eq!(commit.to_string(), third);
    assert_eq!(poller.requests(), 0, "no network for a local repository");
    poller.stop().await;
}

#[tokio::test]
async fn a_poller_stops_when_nobody_listens() {
    let dir = tempfile::tempdir().unwrap();
    let (sender, events) = mpsc::channel(4);
    let poller = spawn_poller(
        SourceLocation::Local(dir.path().join("nothing-here")),
        vec![None],
        config(
            &dir.path().join("cache"),
            Duration::from_secs(3600),
            Duration::from_secs(600),
        ),
        sender,
    );
    drop(events);
    tokio::time::timeout(Duration::from_secs(10), poller.stop())
        .await
        .expect("the poller ends");
}

#[tokio::test]
async fn a_branch_tracked_later_is_polled_at_once_and_reported() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, first, _) = Upstream::new(dir.path());
    super::support::git(&upstream.bare, &["branch", "release", &first]);
    let daemon = GitDaemon::start(&upstream.served_dir(), &dir.path().join("trace"));
    let source = SourceLocation::parse(&daemon.url("deploy.git")).unwrap();
    let (sender, mut events) = mpsc::channel(64);
    // A long interval: the polls after the first are the ones `track` asks.
    let poller = spawn_poller(
        source,
        vec![Some("main".to_string())],
        config(
            &dir.path().join("cache"),
            Duration::from_secs(3600),
            Duration::from_secs(600),
        ),
        sender,
    );
    next_matching(&mut events, "main's head", is_head).await;
    next_matching(&mut events, "the next poll", is_next_poll).await;
    // An engine app reading the same repository on another branch.
    poller.track(vec![Some("main".to_string()), Some("release".to_string())]);
    let SourceEvent::Head {
        tracked, commit, ..
    } = next_matching(&mut events, "release's head", is_head).await
    else {
        unreachable!()
    };
    assert_eq!(tracked.as_deref(), Some("release"));
    assert_eq!(commit.to_string(), first);
    // main did not move: it is not reported again.
    let next = next_matching(&mut events, "the next poll", |e| {
        is_head(e) || is_next_poll(e)
    })
    .await;
    assert!(is_next_poll(&next), "{next:?}");
    poller.stop().await;
}
