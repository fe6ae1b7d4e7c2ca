//! The listener: an accept loop and one task per connection (the shape of
//! mini-redis's server), so that it can do what `axum::serve` cannot: stop
//! listening and cut open connections while "offline", listen again on the
//! same port afterwards, and shut down gracefully on request.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How long shutdown waits for open connections to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to keep trying to listen again after being offline.
const REBIND_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    address: SocketAddr,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    mut offline: watch::Receiver<Option<Instant>>,
) {
    let mut listener = Some(listener);
    let mut connections = JoinSet::new();
    let mut faults_open = true;
    while let Some(active) = listener.as_ref() {
        tokio::select! {
            _ = shutdown.changed() => break,
            changed = offline.changed(), if faults_open => {
                if changed.is_err() {
                    faults_open = false;
                    continue;
                }
                let until = *offline.borrow_and_update();
                if let Some(until) = until.filter(|u| *u > Instant::now()) {
                    listener = None;
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        _ = shutdown.changed() => break,
                    }
                    listener = rebind(address).await;
                }
            }
            accepted = active.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(connection(stream, router.clone(), shutdown.clone(), offline.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}

async fn rebind(address: SocketAddr) -> Option<TcpListener> {
    let deadline = Instant::now() + REBIND_TIMEOUT;
    loop {
        match TcpListener::bind(address).await {
            Ok(listener) => return Some(listener),
            Err(error) if Instant::now() < deadline => {
                tracing::debug!("simulated cluster: listening again on {address}: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => {
                tracing::warn!("simulated cluster: cannot listen on {address} again: {error}");
                return None;
            }
        }
    }
}

async fn connection(
    stream: TcpStream,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    mut offline: watch::Receiver<Option<Instant>>,
) {
    let service = TowerToHyperService::new(router);
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut shutting_down = false;
    let mut faults_open = true;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            changed = shutdown.changed(), if !shutting_down => {
                shutting_down = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
            changed = offline.changed(), if faults_open => {
                if changed.is_err() {
                    faults_open = false;
                    continue;
                }
                if offline.borrow_and_update().is_some_and(|until| until > Instant::now()) {
                    return;
                }
            }
        }
    }
}
