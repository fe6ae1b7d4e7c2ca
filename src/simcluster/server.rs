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

use super::SimError;

/// How long shutdown waits for open connections to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to keep trying to listen again after being offline.
pub const REBIND_TIMEOUT: Duration = Duration::from_secs(10);
/// The first and the longest pause after `accept` fails: failures such as
/// running out of file descriptors repeat at once, and retrying them
/// without a pause would spin a core.
const ACCEPT_PAUSE_FIRST: Duration = Duration::from_millis(10);
const ACCEPT_PAUSE_LONGEST: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` turns true; an error when,
/// after being offline, it cannot listen on `address` again within
/// `rebind_timeout`.
pub async fn serve(
    listener: TcpListener,
    address: SocketAddr,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    mut offline: watch::Receiver<Option<Instant>>,
    rebind_timeout: Duration,
) -> Result<(), SimError> {
    let mut listener = Some(listener);
    let mut connections = JoinSet::new();
    let mut faults_open = true;
    let mut outcome = Ok(());
    let mut accept_pause: Option<Duration> = None;
    let mut accept_paused_until: Option<Instant> = None;
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
                    if !back_online(until, &mut shutdown, &mut offline, &mut faults_open).await {
                        break;
                    }
                    match rebind(address, rebind_timeout).await {
                        Ok(again) => listener = Some(again),
                        Err(error) => outcome = Err(error),
                    }
                    accept_pause = None;
                    accept_paused_until = None;
                }
            }
            accepted = active.accept(), if accept_paused_until.is_none() => match accepted {
                Ok((stream, _)) => {
                    accept_pause = None;
                    connections.spawn(connection(stream, router.clone(), shutdown.clone(), offline.clone()));
                }
                Err(error) => {
                    let pause = next_accept_pause(accept_pause);
                    tracing::warn!(
                        "simulated cluster: accepting a connection on {address} failed, trying again in {pause:?}: {error}"
                    );
                    accept_pause = Some(pause);
                    accept_paused_until = Some(Instant::now() + pause);
                }
            },
            _ = tokio::time::sleep_until(accept_paused_until.unwrap_or_else(Instant::now)),
                if accept_paused_until.is_some() => accept_paused_until = None,
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
    outcome
}

/// Waits out an offline period; going offline again meanwhile replaces the
/// time to come back (`Duration::ZERO` brings it back now). `false` when
/// shutdown was asked for instead.
async fn back_online(
    mut until: Instant,
    shutdown: &mut watch::Receiver<bool>,
    offline: &mut watch::Receiver<Option<Instant>>,
    faults_open: &mut bool,
) -> bool {
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return true,
            _ = shutdown.changed() => return false,
            changed = offline.changed(), if *faults_open => {
                if changed.is_err() {
                    *faults_open = false;
                    continue;
                }
                if let Some(again) = *offline.borrow_and_update() {
                    until = again;
                }
            }
        }
    }
}

/// The pause after one more failed `accept`: doubling from the first to
/// the longest.
fn next_accept_pause(previous: Option<Duration>) -> Duration {
    previous.map_or(ACCEPT_PAUSE_FIRST, |pause| {
        (pause * 2).min(ACCEPT_PAUSE_LONGEST)
    })
}

/// Listens on `address` again, retrying while the port is still held
/// (by connections closing, or by another program) up to `timeout`.
async fn rebind(address: SocketAddr, timeout: Duration) -> Result<TcpListener, SimError> {
    let deadline = Instant::now() + timeout;
    loop {
        match TcpListener::bind(address).await {
            Ok(listener) => return Ok(listener),
            Err(error) if Instant::now() < deadline => {
                tracing::debug!("simulated cluster: listening again on {address}: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(source) => {
                tracing::error!(
                    "simulated cluster: cannot listen on {address} again after being offline, so it stops serving: {source}"
                );
                return Err(SimError::Relisten {
                    port: address.port(),
                    source,
                });
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tokio::net::TcpSocket;

    use super::*;

    #[test]
    fn accept_pauses_double_up_to_a_second() {
        let mut pause = None;
        let mut pauses = Vec::new();
        for _ in 0..9 {
            let next = next_accept_pause(pause);
            pauses.push(next.as_millis());
            pause = Some(next);
        }
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_port_taken_while_offline_is_an_error_naming_it() {
        // Both sockets share the port through SO_REUSEPORT, so the second
        // still holds it when the server, offline, has let go of the first,
        // and listening again (without SO_REUSEPORT) fails.
        let shared = || {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseport(true).unwrap();
            socket
        };
        let first = shared();
        first.bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
        let address = first.local_addr().unwrap();
        let listener = first.listen(16).unwrap();
        let holder = shared();
        holder.bind(address).unwrap();
        let _held = holder.listen(16).unwrap();
        let (_shutdown, shutdown_receiver) = watch::channel(false);
        let (offline, offline_receiver) = watch::channel(None);
        let server = tokio::spawn(serve(
            listener,
            address,
            Router::new(),
            shutdown_receiver,
            offline_receiver,
            Duration::from_millis(100),
        ));
        offline.send_replace(Some(Instant::now() + Duration::from_millis(10)));
        let outcome = tokio::time::timeout(Duration::from_secs(30), server)
            .await
            .expect("the server stops when it cannot listen again")
            .unwrap();
        let error = outcome.unwrap_err();
        assert!(
            matches!(error, SimError::Relisten { port, .. } if port == address.port()),
            "{error}"
        );
        assert!(error.to_string().contains(&address.port().to_string()));
    }
}
