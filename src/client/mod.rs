//! One client's life: options, connect, the loop functions, the loop thread, and the
//! notifications it reports.
//!
//! All state sits behind one mutex (`Shared::inner`). Work that produces notifications
//! queues `Notify` values in `Inner::notes`; every public method releases the lock and
//! then hands them to the client's [`Handler`], so callbacks never run under the lock
//! and may call back in.
//!
//! Files: `api` (the commands: connect, publish, subscribe, ...), `conn` (the live
//! connection and the byte pumps), `dispatch` (handing notifications over), `driver`
//! (the loop functions and the loop thread), `srv` (connect_srv).

mod api;
mod conn;
mod dispatch;
mod driver;
pub mod notify;
pub mod servers;
mod srv;

use crate::error::Error;
use crate::proto::ProtocolVersion;
use crate::session::{Session, SessionConfig};
use notify::{Handler, NoHandler, Notify};
use std::os::raw::c_int;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

pub use api::CleanStart;
pub use dispatch::Batch;

pub use conn::Conn;
pub use driver::set_errno;

/// Transport kind chosen at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    Tcp,
    WebSockets,
    /// A Unix domain socket: the host is its path, the port is ignored.
    Unix,
}

/// How long a blocking connect may take (paho 2's default connect timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection parameters and loop behaviour.
#[derive(Clone, Debug)]
pub struct Options {
    pub host: Option<String>,
    pub port: u16,
    pub bind_address: Option<String>,
    pub transport: TransportKind,
    pub reconnect_min: u32,
    pub reconnect_max: u32,
    /// Each reconnect delay moves within ±this many percent (0..=100).
    pub reconnect_jitter: u8,
    pub reconnect_on_failure: bool,
    pub connect_timeout: Duration,
    pub ws_path: String,
    pub ws_headers: Vec<String>,
    /// TLS (`tls_set`, `tls_set_context`); None: plain TCP.
    pub tls: Option<crate::transport::TlsConfig>,
    /// `proxy_set`: the TCP connection goes through this proxy.
    pub proxy: Option<crate::transport::proxy::ProxyConfig>,
    /// `clean_session` of `client_new`: the Clean Start of the 3.1.1 connect functions
    /// under MQTT 5.
    pub clean_session: bool,
}

impl Options {
    fn new(transport: TransportKind, clean_session: bool) -> Options {
        Options {
            clean_session,
            host: None,
            port: 1883,
            bind_address: None,
            transport,
            reconnect_min: 1,
            reconnect_max: 120,
            reconnect_jitter: 0,
            reconnect_on_failure: true,
            connect_timeout: CONNECT_TIMEOUT,
            ws_path: "/mqtt".to_string(),
            ws_headers: Vec::new(),
            tls: None,
            proxy: None,
        }
    }
}

/// Everything guarded by the client lock.
pub struct Inner {
    pub session: Session,
    pub conn: Option<Conn>,
    pub opts: Options,
    /// `connect_async` (or a lost connection) asks the loop to (re)connect.
    pub want_connect: bool,
    /// The user asked to disconnect; the loop stops reconnecting.
    pub user_disconnect: bool,
    /// Current reconnect back-off in seconds (None until the first retry).
    pub reconnect_delay: Option<u32>,
    /// Levels somebody listens to (cached from the callbacks).
    pub log_mask: c_int,
    /// Callbacks waiting for the lock to be released.
    pub notes: Vec<Notify>,
    /// Threads blocked in `wait_for_publish`.
    pub publish_waiters: usize,
    /// Completed messages whose `on_publish` has not run yet: as in paho, a message
    /// counts as published (`is_published`, `wait_for_publish`) once its callback ran.
    pub undelivered_published: Vec<u16>,
    /// The result code the last connection was closed with.
    pub close_rc: i32,
    /// The loop should reconnect at once, without the back-off delay.
    pub retry_now: bool,
    /// The loop thread is in (or about to enter) its poll: a thread that queues bytes
    /// must wake it. Cleared by the first such wake-up, so one is made per sleep, not
    /// one per publish.
    pub loop_parked: bool,
    /// Bytes at the front of the session's transmit buffer that the loop thread has
    /// copied out and is writing without the lock (see `driver::Writer`); nobody else
    /// may write them.
    pub tx_copied: usize,
    /// Counts connections, so that an unlocked write can tell that the connection it
    /// wrote to was replaced meanwhile.
    pub conn_epoch: u64,
    /// Transports being opened (`reconnect` without the lock) right now.
    pub connecting: usize,
    /// Counts `disconnect` calls: a connect that sees it change while its transport
    /// was being opened gives the new connection up (cancelled).
    pub disconnects: u64,
    /// A thread is in `Shared::read` (reading and dispatching chunk by chunk).
    pub reading: bool,
    /// The brokers to fail over between.
    pub servers: servers::Servers,
}

/// State shared between the handle, the loop thread and waiters.
pub struct Shared {
    pub inner: Mutex<Inner>,
    /// Signalled when messages complete (wait_for_publish).
    pub published: Condvar,
    /// Where notifications go (the C callbacks, set by `ffi/`).
    pub handler: Mutex<Arc<dyn Handler>>,
    pub driver: Mutex<Option<driver::Driver>>,
    pub waker: Mutex<Option<Arc<mio::Waker>>>,
    /// Set by loop_stop / destroy: the loop thread leaves as soon as it can.
    pub terminate: AtomicBool,
    /// Bumped by every loop_start and loop_stop: a loop thread whose generation is
    /// no longer current leaves, even if a later loop_start cleared `terminate` (a
    /// callback that stops and restarts the loop must not leave two threads).
    pub loop_gen: std::sync::atomic::AtomicU64,
    /// The handle was destroyed (possibly from inside a callback): no more callbacks.
    pub destroyed: AtomicBool,
    pub thread: Mutex<Option<(JoinHandle<()>, ThreadId)>>,
}

/// A client (the Rust side of `mqttc_client`).
pub struct Client {
    pub shared: Arc<Shared>,
}

pub fn random_client_id() -> String {
    // 22 characters from [0-9A-Za-z], as paho's base62 of a uuid4.
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 22];
    random_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Fills `bytes` from /dev/urandom, or, without it, from a generator seeded with the
/// time and the process id (identifiers and jitter, nothing secret).
pub fn random_bytes(bytes: &mut [u8]) {
    let mut filled = false;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        filled = f.read_exact(bytes).is_ok();
    }
    if !filled {
        let seed = Instant::now().elapsed().as_nanos() as u64
            ^ std::process::id() as u64
            ^ (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0));
        let mut x = seed | 1;
        for b in bytes.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
}

/// `delay` moved uniformly within ±`percent` % of itself (reconnect jitter).
pub fn jittered(delay: Duration, percent: u8) -> Duration {
    if percent == 0 {
        return delay;
    }
    let mut r = [0u8; 8];
    random_bytes(&mut r);
    // u in [-1, 1]
    let u = (u64::from_ne_bytes(r) >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
    delay.mul_f64((1.0 + u * f64::from(percent.min(100)) / 100.0).max(0.0))
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock is caught at the C boundary; the state is still
    // usable, so poisoning is ignored rather than turned into a second panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    /// paho `Client(client_id, clean_session, userdata, protocol, transport)`.
    pub fn new(
        client_id: &str,
        clean_session: bool,
        protocol: ProtocolVersion,
        transport: TransportKind,
    ) -> Result<Client, Error> {
        let config = session_config(client_id, clean_session, protocol)?;
        let inner = Inner {
            session: Session::new(config),
            conn: None,
            opts: Options::new(transport, clean_session),
            want_connect: false,
            user_disconnect: false,
            reconnect_delay: None,
            log_mask: 0,
            notes: Vec::new(),
            publish_waiters: 0,
            undelivered_published: Vec::new(),
            close_rc: 0,
            retry_now: false,
            loop_parked: false,
            tx_copied: 0,
            conn_epoch: 0,
            connecting: 0,
            disconnects: 0,
            reading: false,
            servers: servers::Servers::default(),
        };
        Ok(Client {
            shared: Arc::new(Shared {
                inner: Mutex::new(inner),
                published: Condvar::new(),
                handler: Mutex::new(Arc::new(NoHandler)),
                driver: Mutex::new(None),
                waker: Mutex::new(None),
                terminate: AtomicBool::new(false),
                loop_gen: std::sync::atomic::AtomicU64::new(0),
                destroyed: AtomicBool::new(false),
                thread: Mutex::new(None),
            }),
        })
    }

    /// Run `f` under the lock, then deliver the callbacks it queued.
    pub fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        self.shared.with(f)
    }

    /// Where notifications go from now on.
    pub fn set_handler(&self, handler: Arc<dyn Handler>) {
        *lock(&self.shared.handler) = handler;
    }

    /// The log levels (`0x1f` mask) somebody listens to: lines of other levels are
    /// not even formatted.
    pub fn set_log_mask(&self, mask: c_int) {
        lock(&self.shared.inner).log_mask = mask;
    }

    /// Whether the application answers MQTT 5 AUTH packets (without it an AUTH from
    /// the server is a protocol error).
    pub fn set_auth_handler(&self, on: bool) {
        self.with(|inner| inner.session.config_mut().auth_handler = on);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Client {
    /// What `mqttc_client_destroy` does before the handle's memory goes (which may be
    /// later, when a call still running on this client returns): stop the loop thread
    /// (detached when destroy runs inside one of its callbacks), no more callbacks,
    /// then close the socket without DISCONNECT, as paho does. Idempotent.
    pub fn shutdown(&self) {
        self.shared
            .destroyed
            .store(true, std::sync::atomic::Ordering::Release);
        let _ = self.shared.loop_stop();
        // Also ends a loop_forever on the caller's thread (this may run inside one of
        // its callbacks): it must not reconnect a destroyed client.
        self.shared
            .loop_gen
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.shared
            .terminate
            .store(true, std::sync::atomic::Ordering::Release);
        self.set_handler(Arc::new(NoHandler));
        let mut inner = lock(&self.shared.inner);
        inner.close(crate::error::code::SUCCESS, false);
        inner.notes.clear();
    }
}

fn session_config(
    client_id: &str,
    clean_session: bool,
    protocol: ProtocolVersion,
) -> Result<SessionConfig, Error> {
    if client_id.is_empty() && !clean_session {
        return Err(Error::Inval);
    }
    let client_id = if client_id.is_empty() && protocol == ProtocolVersion::V31 {
        random_client_id()
    } else {
        client_id.to_string()
    };
    Ok(SessionConfig {
        protocol,
        client_id,
        clean_session,
        ..SessionConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::jittered;
    use std::time::Duration;

    #[test]
    fn jitter_stays_within_its_percentage_and_spreads() {
        let d = Duration::from_secs(10);
        assert_eq!(jittered(d, 0), d);
        let draws: Vec<Duration> = (0..400).map(|_| jittered(d, 20)).collect();
        assert!(draws
            .iter()
            .all(|&x| x >= Duration::from_secs(8) && x <= Duration::from_secs(12)));
        // Both sides of the delay, and not a handful of values.
        assert!(draws.iter().any(|&x| x < Duration::from_millis(9_000)));
        assert!(draws.iter().any(|&x| x > Duration::from_millis(11_000)));
        let mut ms: Vec<u128> = draws.iter().map(Duration::as_millis).collect();
        ms.sort_unstable();
        ms.dedup();
        assert!(ms.len() > 100, "{} distinct delays", ms.len());
        // 100 %: from nothing to twice the delay.
        assert!((0..100).all(|_| jittered(d, 100) <= Duration::from_secs(20)));
    }
}
