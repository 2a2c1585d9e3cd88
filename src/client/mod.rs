//! One client's life: options, connect, the loop functions, the loop thread, callbacks.
//!
//! All state sits behind one mutex (`Shared::inner`). Work that produces callbacks
//! queues `Notify` values in `Inner::notes`; every public method releases the lock and
//! then dispatches them, so callbacks never run under the lock and may call back in.

mod conn;
mod driver;
pub mod notify;
mod srv;

use crate::error::Error;
use crate::proto::{topic, LastWill, ProtocolVersion, QoS};
use crate::session::{Inbox, Session, SessionConfig, State};
use notify::{Callbacks, Notify};
use std::os::raw::c_int;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

pub use conn::Conn;
pub use driver::set_errno;

/// Transport kind chosen at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    Tcp,
    WebSockets,
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
    pub reconnect_on_failure: bool,
    pub connect_timeout: Duration,
    pub ws_path: String,
    pub ws_headers: Vec<String>,
    /// TLS (`tls_set`, `tls_set_context`); None: plain TCP.
    pub tls: Option<crate::transport::TlsConfig>,
}

impl Options {
    fn new(transport: TransportKind) -> Options {
        Options {
            host: None,
            port: 1883,
            bind_address: None,
            transport,
            reconnect_min: 1,
            reconnect_max: 120,
            reconnect_on_failure: true,
            connect_timeout: CONNECT_TIMEOUT,
            ws_path: "/mqtt".to_string(),
            ws_headers: Vec::new(),
            tls: None,
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
}

/// State shared between the handle, the loop thread and waiters.
pub struct Shared {
    pub inner: Mutex<Inner>,
    /// Signalled when messages complete (wait_for_publish).
    pub published: Condvar,
    pub callbacks: Mutex<Callbacks>,
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
    let mut filled = false;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        filled = f.read_exact(&mut bytes).is_ok();
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
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
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
        userdata: *mut std::os::raw::c_void,
        protocol: ProtocolVersion,
        transport: TransportKind,
    ) -> Result<Client, Error> {
        let config = session_config(client_id, clean_session, protocol)?;
        let inner = Inner {
            session: Session::new(config),
            conn: None,
            opts: Options::new(transport),
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
        };
        Ok(Client {
            shared: Arc::new(Shared {
                inner: Mutex::new(inner),
                published: Condvar::new(),
                callbacks: Mutex::new(Callbacks::new(userdata)),
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

    pub fn callbacks(&self) -> MutexGuard<'_, Callbacks> {
        lock(&self.shared.callbacks)
    }

    /// Recompute the cached log mask after a callback or logger change.
    pub fn refresh_log_mask(&self) {
        let mask = self.callbacks().log_mask();
        lock(&self.shared.inner).log_mask = mask;
    }

    /// paho `reinitialise`: back to a new client's state (callbacks and options reset;
    /// protocol and transport kept). `Inval` while the loop thread runs.
    pub fn reinitialise(
        &self,
        client_id: &str,
        clean_session: bool,
        userdata: *mut std::os::raw::c_void,
    ) -> Result<(), Error> {
        if lock(&self.shared.thread).is_some() {
            return Err(Error::Inval);
        }
        let protocol = lock(&self.shared.inner).session.config().protocol;
        let config = session_config(client_id, clean_session, protocol)?;
        self.with(|inner| {
            inner.close(0, false);
            inner.notes.clear();
            let transport = inner.opts.transport;
            inner.session = Session::new(config);
            inner.opts = Options::new(transport);
            inner.want_connect = false;
            inner.user_disconnect = false;
            inner.reconnect_delay = None;
            inner.log_mask = 0;
            inner.undelivered_published.clear();
        });
        let mut cb = self.callbacks();
        let handle = cb.handle;
        *cb = Callbacks::new(userdata);
        cb.handle = handle;
        Ok(())
    }

    pub fn set_will(
        &self,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<(), Error> {
        if !topic::valid_topic_name(topic_name) {
            return Err(Error::Inval);
        }
        if payload.len() > crate::proto::MAX_REMAINING_LENGTH {
            return Err(Error::PayloadSize);
        }
        self.with(|inner| {
            inner.session.config_mut().will = Some(LastWill {
                topic: topic_name.to_string(),
                payload: payload.to_vec(),
                qos,
                retain,
            })
        });
        Ok(())
    }

    /// Record the connection parameters (paho `connect_async`); the loop connects.
    pub fn connect_async(
        &self,
        host: &str,
        port: u16,
        keepalive: u16,
        bind: Option<&str>,
    ) -> Result<(), Error> {
        if host.is_empty() {
            return Err(Error::Inval);
        }
        self.with(|inner| {
            inner.opts.host = Some(host.to_string());
            inner.opts.port = port;
            inner.opts.bind_address = bind.map(str::to_string);
            inner.session.config_mut().keep_alive = keepalive;
            inner.want_connect = true;
            inner.user_disconnect = false;
        });
        self.shared.wake();
        Ok(())
    }

    /// Blocking connect (paho `connect`): the transport is up and CONNECT queued on
    /// return.
    pub fn connect(
        &self,
        host: &str,
        port: u16,
        keepalive: u16,
        bind: Option<&str>,
    ) -> Result<(), Error> {
        self.connect_async(host, port, keepalive, bind)?;
        self.reconnect()
    }

    /// paho `reconnect`: drop the current connection (no on_disconnect) and open a
    /// new one with the recorded parameters.
    pub fn reconnect(&self) -> Result<(), Error> {
        self.shared.reconnect()
    }

    pub fn disconnect(&self) -> Result<(), Error> {
        let in_loop_thread = self.shared.is_loop_thread();
        let thread_running = lock(&self.shared.thread).is_some();
        let r = self.with(|inner| {
            inner.user_disconnect = true;
            inner.want_connect = false;
            inner.disconnects += 1;
            match inner.session.disconnect(Instant::now()) {
                Ok(()) => {
                    inner.log(0x10, || "Sending DISCONNECT".to_string());
                    // Without a loop thread nobody else will write it: send it now,
                    // so a program that disconnects and exits does not leave the
                    // broker to publish the will.
                    if !thread_running && !in_loop_thread {
                        inner.flush();
                        inner.finish_disconnect_if_done();
                    } else {
                        inner.sync_write_watch();
                    }
                    Ok(())
                }
                // A connect in progress on another thread: it is cancelled.
                Err(Error::NoConn) if inner.connecting > 0 => {
                    inner.log(0x10, || "Cancelling the connect in progress".to_string());
                    Ok(())
                }
                Err(e) => Err(e),
            }
        });
        self.shared.wake();
        r
    }

    pub fn publish(
        &self,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<u16, (u16, Error)> {
        let r = self.with(|inner| {
            let r = inner
                .session
                .publish(Instant::now(), topic_name, payload, qos, retain);
            if let Ok(mid) = r {
                inner.log(0x10, || {
                    format!(
                        "Sending PUBLISH (d0, q{}, r{}, m{}), '{}', ... ({} bytes)",
                        qos as u8,
                        retain as u8,
                        mid,
                        topic_name,
                        payload.len()
                    )
                });
            }
            // Wake the loop only if it sleeps and now has something to write: not
            // once per message while it is busy writing earlier ones.
            let wake = inner.loop_parked && inner.wants_write();
            if wake {
                inner.loop_parked = false;
            }
            inner.sync_write_watch();
            (r, wake)
        });
        if r.1 {
            self.shared.wake();
        }
        r.0
    }

    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> Result<u16, Error> {
        self.request("SUBSCRIBE", &filters, |s, now| s.subscribe(now, filters))
    }

    pub fn unsubscribe(&self, filters: &[&str]) -> Result<u16, Error> {
        self.request("UNSUBSCRIBE", &filters, |s, now| {
            s.unsubscribe(now, filters)
        })
    }

    /// Queue a SUBSCRIBE or UNSUBSCRIBE, log it and wake the loop to send it.
    fn request(
        &self,
        name: &str,
        filters: &dyn std::fmt::Debug,
        queue: impl FnOnce(&mut Session, Instant) -> Result<u16, Error>,
    ) -> Result<u16, Error> {
        let r = self.with(|inner| {
            let r = queue(&mut inner.session, Instant::now());
            if let Ok(mid) = r {
                inner.log(0x10, || format!("Sending {name} (d0, m{mid}) {filters:?}"));
            }
            inner.sync_write_watch();
            r
        });
        self.shared.wake();
        r
    }

    pub fn is_published(&self, mid: u16) -> bool {
        lock(&self.shared.inner).is_published(mid)
    }

    /// Block until `mid` is published or the timeout passes (`None`: no limit).
    pub fn wait_for_publish(&self, mid: u16, timeout: Option<Duration>) -> Result<(), Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let in_loop = self.shared.is_loop_thread();
        let mut inner = lock(&self.shared.inner);
        loop {
            if inner.is_published(mid) {
                return Ok(());
            }
            // Inside a loop callback nothing can progress while we wait.
            if in_loop {
                return Err(Error::Again);
            }
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Error::Again);
                    }
                    (d - now).min(Duration::from_millis(500))
                }
                None => Duration::from_millis(500),
            };
            inner.publish_waiters += 1;
            let (g, _) = self
                .shared
                .published
                .wait_timeout(inner, wait)
                .unwrap_or_else(|e| e.into_inner());
            inner = g;
            inner.publish_waiters -= 1;
        }
    }

    pub fn socket(&self) -> c_int {
        lock(&self.shared.inner)
            .conn
            .as_ref()
            .map(|c| c.fd())
            .unwrap_or(-1)
    }

    pub fn want_write(&self) -> bool {
        lock(&self.shared.inner).wants_write()
    }

    pub fn state(&self) -> State {
        lock(&self.shared.inner).session.state()
    }

    pub fn loop_start(&self) -> Result<(), Error> {
        self.shared.loop_start()
    }

    pub fn loop_stop(&self) -> Result<(), Error> {
        self.shared.loop_stop()
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
        let mut cb = self.callbacks();
        *cb = Callbacks::new(std::ptr::null_mut());
        drop(cb);
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

/// Largest notification list kept for reuse by a thread (entries).
const SPARE_NOTES_MAX: usize = 4096;
/// Largest inbox capacity kept for reuse by a thread (bytes).
const SPARE_INBOX_MAX: usize = 256 * 1024;

thread_local! {
    /// An emptied notification list, so that a busy loop does not allocate (and, for
    /// big batches, free back to the system) one list per batch.
    static SPARE_NOTES: std::cell::Cell<Vec<Notify>> = const { std::cell::Cell::new(Vec::new()) };
    /// An emptied inbox, for the same reason.
    static SPARE_INBOX: std::cell::Cell<Inbox> = const { std::cell::Cell::new(Inbox::new()) };
}

type Spare<T> = std::thread::LocalKey<std::cell::Cell<T>>;

/// This thread's spare, or an empty one. Never panics, also not while the thread's
/// locals are being destroyed (a call from a C++ static destructor, say).
fn take_spare<T: Default>(key: &'static Spare<T>) -> T {
    key.try_with(|c| c.take()).unwrap_or_default()
}

/// Keep `value` as this thread's spare (dropped when the thread's locals are gone).
fn set_spare<T>(key: &'static Spare<T>, value: T) {
    let _ = key.try_with(|c| c.set(value));
}

/// Notifications taken out from under the lock to be dispatched, and the inbox their
/// messages' topics and payloads lie in. Once dispatched, both become the thread's
/// spares.
pub struct Batch {
    notes: Vec<Notify>,
    inbox: Inbox,
}

impl Inner {
    /// Lend this thread's spare notification list and inbox to the client before work
    /// that may produce many notifications (a read, a completed write), so that a busy
    /// client allocates neither per batch while an idle one holds no capacity of its
    /// own: the spares go back to the thread in `take_batch` or after dispatch.
    pub fn lend_spares(&mut self) {
        if self.notes.capacity() == 0 {
            self.notes = take_spare(&SPARE_NOTES);
        }
        if self.session.inbox().capacity() == 0 {
            let spare = take_spare(&SPARE_INBOX);
            if spare.capacity() > 0 {
                drop(self.session.take_inbox(spare));
            }
        }
    }

    /// What is waiting to be dispatched, if anything. When nothing is, the spares lent
    /// by `lend_spares` go back to the thread.
    pub fn take_batch(&mut self) -> Option<Batch> {
        // An inbox without notes held messages whose events were discarded (a
        // reconnect): taking it empties it all the same.
        if self.notes.is_empty() && self.session.inbox().is_empty() {
            if self.notes.capacity() > 0 {
                set_spare(&SPARE_NOTES, std::mem::take(&mut self.notes));
            }
            if self.session.inbox().capacity() > 0 {
                set_spare(&SPARE_INBOX, self.session.take_inbox(Inbox::new()));
            }
            return None;
        }
        Some(Batch {
            notes: std::mem::take(&mut self.notes),
            inbox: self.session.take_inbox(Inbox::new()),
        })
    }
}

impl Shared {
    pub fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let (r, batch) = {
            let mut inner = lock(&self.inner);
            let r = f(&mut inner);
            (r, inner.take_batch())
        };
        if let Some(batch) = batch {
            self.deliver(batch);
        }
        r
    }

    /// Dispatch notifications (no lock held), then acknowledge delivered messages.
    /// The acknowledgements are queued here and written by the loop (`loop_once`
    /// flushes after dispatching; an external loop hears `on_socket_register_write`).
    pub fn deliver(&self, mut batch: Batch) {
        self.dispatch_batch(&mut batch);
        // The larger lists are kept: a small batch (say, one on_socket_register_write)
        // must not replace a spare that a busy loop grew.
        let Batch { notes, mut inbox } = batch;
        let spare = take_spare(&SPARE_NOTES);
        if notes.capacity() > spare.capacity() && notes.capacity() <= SPARE_NOTES_MAX {
            set_spare(&SPARE_NOTES, notes);
        } else {
            set_spare(&SPARE_NOTES, spare);
        }
        let spare = take_spare(&SPARE_INBOX);
        if inbox.capacity() > spare.capacity() {
            inbox.clear(SPARE_INBOX_MAX);
            set_spare(&SPARE_INBOX, inbox);
        } else {
            set_spare(&SPARE_INBOX, spare);
        }
    }

    fn dispatch_batch(&self, batch: &mut Batch) {
        let Batch { notes, inbox } = batch;
        let cb = lock(&self.callbacks).clone();
        let published: Vec<u16> = notes
            .iter()
            .filter_map(|n| match n {
                Notify::Publish { mid } => Some(*mid as u16),
                _ => None,
            })
            .collect();
        let mut delivered = Vec::new();
        notify::dispatch(&cb, notes.drain(..), inbox, &mut delivered, &self.destroyed);
        if !published.is_empty() {
            let mut inner = lock(&self.inner);
            let pending = &mut inner.undelivered_published;
            if pending.starts_with(&published) {
                pending.drain(..published.len());
            } else {
                pending.retain(|m| !published.contains(m));
            }
            if inner.publish_waiters > 0 {
                self.published.notify_all();
            }
        }
        if delivered.is_empty() {
            return;
        }
        let more = {
            let mut inner = lock(&self.inner);
            for (qos, pkid) in delivered {
                inner.session.message_delivered(qos, pkid);
            }
            inner.sync_write_watch();
            inner.take_batch()
        };
        // on_socket_register_write for the acknowledgements (acknowledging delivers no
        // message, so nothing more is acknowledged here).
        if let Some(Batch { notes, inbox }) = more {
            let cb = lock(&self.callbacks).clone();
            notify::dispatch(&cb, notes, &inbox, &mut Vec::new(), &self.destroyed);
        }
    }

    pub fn wake(&self) {
        if let Some(w) = lock(&self.waker).as_ref() {
            let _ = w.wake();
        }
    }

    pub fn is_loop_thread(&self) -> bool {
        lock(&self.thread)
            .as_ref()
            .is_some_and(|(_, id)| *id == std::thread::current().id())
    }

    pub fn reconnect(&self) -> Result<(), Error> {
        let params = {
            let mut inner = lock(&self.inner);
            let Some(host) = inner.opts.host.clone() else {
                return Err(Error::Inval);
            };
            inner.close(0, false);
            inner.want_connect = true;
            inner.user_disconnect = false;
            inner.connecting += 1;
            (host, inner.opts.clone(), inner.disconnects)
        };
        let batch = lock(&self.inner).take_batch();
        if let Some(batch) = batch {
            self.deliver(batch);
        }
        // DNS and TCP connect run without the lock, so other threads are not blocked.
        let result = conn::open(&params.0, &params.1);
        let r = self.with(|inner| {
            inner.connecting -= 1;
            if inner.disconnects != params.2 {
                // `disconnect` ran meanwhile: give the new connection up unused.
                inner.log(0x10, || "Connect cancelled by disconnect".to_string());
                return Err(Error::Io(std::io::Error::from_raw_os_error(
                    libc::ECANCELED,
                )));
            }
            match result {
                Ok(conn) => {
                    inner.install(conn);
                    Ok(())
                }
                Err(e) => {
                    inner.log(0x08, || format!("Connection to {} failed: {}", params.0, e));
                    Err(e)
                }
            }
        });
        self.wake();
        r
    }
}
