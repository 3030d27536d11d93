//! Accepting and closing connections, so that clients that hold connections cannot take the
//! service from everyone else:
//! - at most `SAMVERKAN_MAX_CONNECTIONS` connections at once. A new connection past the cap
//!   closes the oldest one that has no request in progress, preferring one that has never
//!   completed a request (a client still sending its first header) over a kept-alive one
//!   that idles between requests; when every connection is working on a request, the new
//!   one is closed at once;
//! - `SAMVERKAN_READ_TIMEOUT_SECS` bounds the time to send a complete request header, and
//!   the wait for the next request on a kept-alive connection (hyper's header timeout
//!   covers both). The body is read under the same limit by the GraphQL endpoint;
//! - at shutdown, once the grace period is over, the server stops accepting, lets each
//!   connection finish the request it is on for at most [`DRAIN`], and closes the rest.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// How long connections may finish the request they are on once the grace period is over.
pub const DRAIN: Duration = Duration::from_millis(500);

/// How the server treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The most connections open at once.
    pub max_connections: usize,
    /// The time to send a request header, and to start the next request on an idle connection.
    pub read_timeout: Duration,
}

/// One open connection, as the accept loop sees it.
#[derive(Default)]
struct Connection {
    /// Requests being answered on it (0 while it reads a header or idles).
    requests: AtomicUsize,
    /// Requests answered on it.
    answered: AtomicUsize,
    /// Woken to close it.
    close: Notify,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections(Mutex<BTreeMap<u64, Arc<Connection>>>);

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Connection>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for one more connection under `max`: closes the oldest connection without
    /// a request in progress (one that never completed a request first) if the cap is
    /// reached. `false` when there is no such connection.
    fn make_room(&self, max: usize) -> bool {
        let mut open = self.lock();
        if open.len() < max {
            return true;
        }
        let idle = |c: &Connection| c.requests.load(Ordering::SeqCst) == 0;
        let idle = open
            .iter()
            .find(|(_, c)| idle(c) && c.answered.load(Ordering::SeqCst) == 0)
            .or_else(|| open.iter().find(|(_, c)| idle(c)))
            .map(|(id, _)| *id);
        match idle.and_then(|id| open.remove(&id)) {
            Some(connection) => {
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Counts a request in progress on its connection while it lives.
struct InProgress(Arc<Connection>);

impl InProgress {
    fn new(connection: &Arc<Connection>) -> Self {
        connection.requests.fetch_add(1, Ordering::SeqCst);
        Self(connection.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.answered.fetch_add(1, Ordering::SeqCst);
        self.0.requests.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `router` on `listener` until `stop` resolves, then drains and closes every
/// connection as the module says. Each request carries its peer's address as
/// [`ConnectInfo`].
///
/// # Errors
/// None today: errors accepting a connection (such as running out of file descriptors) are
/// logged and the loop goes on after a short pause.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let open = Arc::new(Connections::default());
    let (closing, closing_seen) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id = 0_u64;
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, mostly: wait for some to come back.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while tasks.try_join_next().is_some() {}
        if !open.make_room(limits.max_connections) {
            tracing::debug!(%peer, "refused a connection: every connection is busy");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let id = next_id;
        let connection = Arc::new(Connection::default());
        open.lock().insert(id, connection.clone());
        let (router, open, mut closing) = (router.clone(), open.clone(), closing_seen.clone());
        tasks.spawn(async move {
            let in_progress = connection.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let counted = InProgress::new(&in_progress);
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await;
                    drop(counted);
                    response
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.read_timeout);
            let serving = builder.serve_connection(TokioIo::new(stream), service);
            let mut serving = std::pin::pin!(serving);
            let mut draining = false;
            loop {
                tokio::select! {
                    _ = serving.as_mut() => break,
                    () = connection.close.notified() => break,
                    changed = closing.changed(), if !draining => {
                        draining = true;
                        if changed.is_ok() {
                            serving.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            open.lock().remove(&id);
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let drained =
        tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::info!(
            connections = tasks.len(),
            "closing connections still busy at the end of the grace period"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_house_closes_a_half_open_connection_first_then_the_oldest_idle_one() {
        let open = Connections::default();
        for id in 1..=4 {
            open.lock().insert(id, Arc::new(Connection::default()));
        }
        let busy = open.lock()[&1].clone();
        let served = open.lock()[&2].clone();
        let _request = InProgress::new(&busy);
        drop(InProgress::new(&served));
        assert!(open.make_room(5), "below the cap nothing closes");
        assert_eq!(open.lock().len(), 4);
        assert!(open.make_room(4));
        assert_eq!(
            open.lock().keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 4],
            "the oldest that never answered a request (3) closes, not the busy one (1) nor the kept-alive one (2)"
        );
        assert!(open.make_room(3));
        assert!(open.make_room(2));
        assert_eq!(
            open.lock().keys().copied().collect::<Vec<_>>(),
            vec![1],
            "then the rest that idle"
        );
        assert!(!open.make_room(1), "all busy: no room");
    }
}
