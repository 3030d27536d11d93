//! Accepting and closing connections, so that clients that hold connections cannot take the
//! service from everyone else:
//! - at most `SAMVERKAN_MAX_CONNECTIONS` connections at once, and at most
//!   `SAMVERKAN_MAX_CONNECTIONS_PER_ADDRESS` from one client address, so that a few
//!   addresses holding slow requests cannot take every place. A new connection past a cap
//!   closes the oldest one (of its address, past that cap) that has no request in progress
//!   or whose request still waits for its body, preferring one that has never completed a
//!   request (a client still sending its first header) over a kept-alive one that idles
//!   between requests; when there is none, the new one is closed at once;
//! - `SAMVERKAN_READ_TIMEOUT_SECS` bounds the time to send a complete request header, and
//!   the wait for the next request on a kept-alive connection (hyper's header timeout
//!   covers both). The body is read under the same limit by the GraphQL endpoint;
//! - at shutdown, once the grace period is over, the server stops accepting, lets each
//!   connection finish the request it is on for at most [`DRAIN`], and closes the rest.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
    /// The most connections one client address (IPv6: one /64 network) may hold open at once.
    pub max_per_address: usize,
    /// The time to send a request header, and to start the next request on an idle connection.
    pub read_timeout: Duration,
}

/// One open connection, as the accept loop sees it.
struct Connection {
    /// The client's address.
    address: IpAddr,
    /// Requests being answered on it (0 while it reads a header or idles).
    requests: AtomicUsize,
    /// Requests answered on it.
    answered: AtomicUsize,
    /// Whether the request in progress still waits for its body: until it has arrived,
    /// nothing has run, and the connection may be closed like an idle one.
    body_pending: Arc<AtomicBool>,
    /// Woken to close it.
    close: Notify,
}

impl Connection {
    fn new(address: IpAddr) -> Self {
        Self {
            address,
            requests: AtomicUsize::new(0),
            answered: AtomicUsize::new(0),
            body_pending: Arc::default(),
            close: Notify::new(),
        }
    }

    fn idle(&self) -> bool {
        self.requests.load(Ordering::SeqCst) == 0
    }

    /// Idle, or its request has not sent its body yet: closing it loses no work.
    fn closable(&self) -> bool {
        self.idle() || self.body_pending.load(Ordering::SeqCst)
    }

    fn never_answered(&self) -> bool {
        self.answered.load(Ordering::SeqCst) == 0
    }
}

/// The open connections, oldest first, and how many each client address holds.
#[derive(Default)]
struct Open {
    connections: BTreeMap<u64, Arc<Connection>>,
    per_address: HashMap<IpAddr, usize>,
}

impl Open {
    fn insert(&mut self, id: u64, connection: Arc<Connection>) {
        *self.per_address.entry(connection.address).or_default() += 1;
        self.connections.insert(id, connection);
    }

    fn remove(&mut self, id: u64) -> Option<Arc<Connection>> {
        let connection = self.connections.remove(&id)?;
        if let Some(held) = self.per_address.get_mut(&connection.address) {
            *held -= 1;
            if *held == 0 {
                self.per_address.remove(&connection.address);
            }
        }
        Some(connection)
    }

    /// Closes the oldest closable connection among those `which` picks (idle, or waiting
    /// for a request's body), one that never answered a request first. `false` when there
    /// is none.
    fn close_one(&mut self, which: impl Fn(&Connection) -> bool) -> bool {
        let oldest = |never: bool| {
            self.connections
                .iter()
                .find(|(_, c)| which(c) && c.closable() && (!never || c.never_answered()))
                .map(|(id, _)| *id)
        };
        match oldest(true)
            .or_else(|| oldest(false))
            .and_then(|id| self.remove(id))
        {
            Some(connection) => {
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// The open connections, shared by the accept loop and the connections' tasks.
#[derive(Default)]
struct Connections(Mutex<Open>);

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for one more connection from `address`: past the cap of its address,
    /// closes that address's oldest idle connection; past the cap of all, the oldest idle
    /// connection of any address (one that never answered a request first, in both cases).
    /// `false` when there is no such connection to close.
    fn make_room(&self, address: IpAddr, limits: &ConnectionLimits) -> bool {
        let mut open = self.lock();
        let held = open.per_address.get(&address).copied().unwrap_or(0);
        if held >= limits.max_per_address && !open.close_one(|c| c.address == address) {
            return false;
        }
        open.connections.len() < limits.max_connections || open.close_one(|_| true)
    }
}

/// Put in a request that has a body: the GraphQL endpoint calls [`BodyPending::arrived`]
/// once it has read it, from when the request can no longer be closed like an idle one.
#[derive(Clone)]
pub struct BodyPending(Arc<AtomicBool>);

impl BodyPending {
    /// The body has arrived: the request now runs.
    pub fn arrived(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Whether a request announces a body.
fn has_body<B>(request: &hyper::Request<B>) -> bool {
    let headers = request.headers();
    headers.contains_key(hyper::header::TRANSFER_ENCODING)
        || headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|n| n.trim() != "0")
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
        self.0.body_pending.store(false, Ordering::SeqCst);
        self.0.answered.fetch_add(1, Ordering::SeqCst);
        self.0.requests.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whose connection it is, for the per-address cap: an IPv4 address, or an IPv6 address's
/// /64 network, which one host can usually draw addresses from at will.
pub fn holder(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let network = u128::from(v6) & !((1_u128 << 64) - 1);
            IpAddr::V6(network.into())
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// Warns when the process may not open as many files as `max_connections` needs (with
/// some to spare for the database and the listener): past the limit, new connections fail
/// to be accepted before the cap closes idle ones.
pub fn warn_if_over_file_limit(max_connections: usize) {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3)?.parse::<usize>().ok())
        });
    if let Some(limit) = limit
        && max_connections + 64 > limit
    {
        tracing::warn!(
            max_connections,
            open_files_limit = limit,
            "SAMVERKAN_MAX_CONNECTIONS is close to the limit of open files (ulimit -n): raise the limit or lower the cap"
        );
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
                    // Out of file descriptors, mostly: close an idle connection, or wait for
                    // one to end.
                    tracing::warn!(%error, "cannot accept a connection");
                    if !open.lock().close_one(|_| true) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
        };
        while tasks.try_join_next().is_some() {}
        if !open.make_room(holder(peer.ip()), &limits) {
            tracing::debug!(%peer, "refused a connection: every connection is busy");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let id = next_id;
        let connection = Arc::new(Connection::new(holder(peer.ip())));
        open.lock().insert(id, connection.clone());
        let (router, open, mut closing) = (router.clone(), open.clone(), closing_seen.clone());
        tasks.spawn(async move {
            let in_progress = connection.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let counted = InProgress::new(&in_progress);
                let pending = has_body(&request);
                in_progress.body_pending.store(pending, Ordering::SeqCst);
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                if pending {
                    let flag = BodyPending(in_progress.body_pending.clone());
                    request.extensions_mut().insert(flag);
                }
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
            // With upgrades: a subscription's WebSocket leaves this loop once upgraded and
            // is bounded by its own limits (`graphql::websocket`).
            let serving = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut serving = std::pin::pin!(serving);
            let mut draining = false;
            loop {
                tokio::select! {
                    _ = serving.as_mut() => break,
                    // A request may have begun since the connection was chosen as idle:
                    // then it finishes, and the connection closes after it.
                    () = connection.close.notified(), if !draining => {
                        if connection.closable() {
                            break;
                        }
                        draining = true;
                        serving.as_mut().graceful_shutdown();
                    }
                    changed = closing.changed(), if !draining => {
                        draining = true;
                        if changed.is_ok() {
                            serving.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            open.lock().remove(id);
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

    fn limits(max_connections: usize, max_per_address: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections,
            max_per_address,
            read_timeout: Duration::from_secs(1),
        }
    }

    fn ids(open: &Connections) -> Vec<u64> {
        open.lock().connections.keys().copied().collect()
    }

    #[test]
    fn a_full_house_closes_a_half_open_connection_first_then_the_oldest_idle_one() {
        let open = Connections::default();
        let here = IpAddr::from([127, 0, 0, 1]);
        for id in 1..=4 {
            open.lock().insert(id, Arc::new(Connection::new(here)));
        }
        let busy = open.lock().connections[&1].clone();
        let served = open.lock().connections[&2].clone();
        let _request = InProgress::new(&busy);
        drop(InProgress::new(&served));
        assert!(
            open.make_room(here, &limits(5, 10)),
            "below the cap nothing closes"
        );
        assert_eq!(ids(&open), vec![1, 2, 3, 4]);
        assert!(open.make_room(here, &limits(4, 10)));
        assert_eq!(
            ids(&open),
            vec![1, 2, 4],
            "the oldest that never answered a request (3) closes, not the busy one (1) nor the kept-alive one (2)"
        );
        assert!(open.make_room(here, &limits(3, 10)));
        assert!(open.make_room(here, &limits(2, 10)));
        assert_eq!(ids(&open), vec![1], "then the rest that idle");
        assert!(!open.make_room(here, &limits(1, 10)), "all busy: no room");
    }

    #[test]
    fn a_request_still_waiting_for_its_body_can_be_closed() {
        let open = Connections::default();
        let here = IpAddr::from([127, 0, 0, 1]);
        open.lock().insert(1, Arc::new(Connection::new(here)));
        let slow = open.lock().connections[&1].clone();
        let _request = InProgress::new(&slow);
        slow.body_pending.store(true, Ordering::SeqCst);
        assert!(open.make_room(here, &limits(1, 10)), "the slow body closes");
        assert!(ids(&open).is_empty());
        open.lock().insert(2, Arc::new(Connection::new(here)));
        let working = open.lock().connections[&2].clone();
        let _running = InProgress::new(&working);
        BodyPending(working.body_pending.clone()).arrived();
        assert!(
            !open.make_room(here, &limits(1, 10)),
            "a request whose body arrived runs on"
        );
    }

    #[test]
    fn an_ipv6_host_is_counted_by_its_network() {
        let one: IpAddr = "2001:db8:1:2::5".parse().expect("address");
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("address");
        let elsewhere: IpAddr = "2001:db8:1:3::5".parse().expect("address");
        assert_eq!(holder(one), holder(other));
        assert_ne!(holder(one), holder(elsewhere));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("address");
        assert_eq!(holder(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn an_address_at_its_cap_gives_up_its_own_connections_not_others() {
        let open = Connections::default();
        let (attacker, visitor) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        open.lock().insert(1, Arc::new(Connection::new(visitor)));
        for id in 2..=4 {
            open.lock().insert(id, Arc::new(Connection::new(attacker)));
        }
        assert!(open.make_room(attacker, &limits(100, 3)));
        assert_eq!(ids(&open), vec![1, 3, 4], "its own oldest idle one closes");
        let busy: Vec<InProgress> = [3, 4]
            .iter()
            .map(|id| InProgress::new(&open.lock().connections[id].clone()))
            .collect();
        assert!(
            !open.make_room(attacker, &limits(100, 2)),
            "all of its own are busy: refused"
        );
        assert!(
            open.make_room(visitor, &limits(100, 2)),
            "others still come in"
        );
        drop(busy);
    }
}
