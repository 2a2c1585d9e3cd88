//! The loop functions: `loop` (one iteration around a mio poll), `loop_forever`, the
//! `loop_start` thread, and the external-loop steps (`loop_read`, `loop_write`,
//! `loop_misc`). The poll and its waker are created on first use, so clients driven by
//! the caller's own event loop hold no extra file descriptors.

use super::conn::{ReadStep, READ_BUDGET};
use super::notify::Notify;
use super::{lock, Shared};
use crate::error::{code, Error};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);

/// A mio poll owned by whichever thread drives the client.
pub struct Driver {
    poll: Poll,
    events: Events,
    writer: Writer,
}

/// Bytes the loop thread writes to a plain TCP socket without holding the client lock,
/// so that threads publishing meanwhile are not blocked for the length of a `write`
/// system call (and the loop is not slowed by them): under the lock, the bytes queued
/// since the last round are copied here (`Inner::tx_copied` marks them as taken); the
/// write runs unlocked; under the lock again, what was written is consumed from the
/// session, which publishes QoS 0 messages and so on, as a locked write would.
#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    pos: usize,
    /// `Inner::conn_epoch` of the connection the copy belongs to.
    epoch: u64,
    /// The last write stopped at the byte budget with bytes still waiting: the socket
    /// may still be writable, so the loop must not sleep on an edge that will not come.
    more: bool,
}

impl Writer {
    fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.more = false;
    }
}

/// Bytes written per `flush_unlocked` before the loop reads and runs timers again.
const WRITE_BUDGET: usize = 4 * 1024 * 1024;
/// Most bytes copied out and written at once (the writer's buffer holds no more): a
/// 64 KiB `write` already carries hundreds of small messages.
const WRITE_CHUNK: usize = 64 * 1024;

/// What the loop should do next.
enum Next {
    Run,
    Connect,
    Idle,
    Stop(i32),
}

impl Shared {
    fn driver(&self) -> Result<MutexGuard<'_, Option<Driver>>, Error> {
        let mut d = lock(&self.driver);
        if d.is_none() {
            let poll = Poll::new()?;
            let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
            *lock(&self.waker) = Some(waker);
            *d = Some(Driver {
                poll,
                events: Events::with_capacity(8),
                writer: Writer::default(),
            });
        }
        Ok(d)
    }

    /// paho `loop()`: wait up to `timeout` for the socket or a timer, then read, run
    /// timers and write.
    pub fn loop_once(&self, timeout: Duration) -> i32 {
        let mut guard = match self.driver() {
            Ok(g) => g,
            Err(e) => return set_errno(e),
        };
        let driver = guard.as_mut().expect("driver created above");
        let rc = self.with(|inner| {
            let Some(conn) = inner.conn.as_mut() else {
                return code::NO_CONN;
            };
            if !conn.registered {
                let fd = conn.fd();
                let r = driver.poll.registry().register(
                    &mut SourceFd(&fd),
                    SOCKET,
                    Interest::READABLE | Interest::WRITABLE,
                );
                match r {
                    Ok(()) => conn.registered = true,
                    Err(e) => return inner.fail(Error::Io(e)),
                }
                // Anything that arrived before registration is read below.
                conn.read_pending = true;
            }
            inner.misc()
        });
        if rc != code::SUCCESS {
            return rc;
        }
        let rc = self.flush_unlocked(&mut driver.writer);
        let more = driver.writer.more;
        let wait = self.with(|inner| {
            let conn = inner.conn.as_ref()?;
            let mut wait = timeout;
            if more || conn.unread() {
                wait = Duration::ZERO;
            }
            if let Some(t) = inner.session.next_timeout() {
                wait = wait.min(t.saturating_duration_since(Instant::now()));
            }
            // From here until the poll returns, whoever queues bytes wakes us.
            inner.loop_parked = true;
            Some(wait)
        });
        if rc != code::SUCCESS {
            return rc;
        }
        let wait = wait.unwrap_or(Duration::ZERO);
        if let Err(e) = driver.poll.poll(&mut driver.events, Some(wait)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return set_errno(Error::Io(e));
            }
        }
        // Edge-triggered: the socket is read only when it reported data (or an end),
        // or when the last read stopped before draining it.
        let readable = driver.events.iter().any(|e| {
            e.token() == SOCKET && (e.is_readable() || e.is_read_closed() || e.is_error())
        });
        let read = self.with(|inner| {
            inner.loop_parked = false;
            inner
                .conn
                .as_ref()
                .is_some_and(|conn| readable || conn.unread())
        });
        if read {
            let rc = self.read(READ_BUDGET);
            if rc != code::SUCCESS {
                return rc;
            }
        }
        let rc = self.with(|inner| match inner.conn {
            Some(_) => inner.misc(),
            None => code::SUCCESS,
        });
        if rc != code::SUCCESS {
            return rc;
        }
        // Including the acknowledgements and publishes of the callbacks just run.
        self.flush_unlocked(&mut driver.writer)
    }

    /// Write what the session has queued. For plain TCP the write system call runs
    /// without the client lock (see [`Writer`]); other transports write under it.
    fn flush_unlocked(&self, w: &mut Writer) -> i32 {
        enum Step {
            Done(i32),
            Write(Arc<mio::net::TcpStream>),
        }
        let mut written = 0usize;
        w.more = false;
        loop {
            let step = self.with(|inner| {
                let Some(conn) = inner.conn.as_ref() else {
                    w.clear();
                    return Step::Done(code::SUCCESS);
                };
                if w.epoch != inner.conn_epoch {
                    // A copy for a connection that is gone: its bytes went with it.
                    w.clear();
                    w.epoch = inner.conn_epoch;
                }
                let Some(stream) = conn.transport.shared_stream() else {
                    return Step::Done(inner.flush());
                };
                // Top the copy up to one chunk: a bounded copy under the lock, and a
                // buffer that never grows (nor page-faults) past its first use.
                let pending = inner.session.transmit_buf();
                let room = WRITE_CHUNK.saturating_sub(w.buf.len() - w.pos);
                let take = room.min(pending.len() - inner.tx_copied);
                if take > 0 {
                    if w.pos > 0 {
                        w.buf.drain(..w.pos);
                        w.pos = 0;
                    }
                    w.buf
                        .extend_from_slice(&pending[inner.tx_copied..inner.tx_copied + take]);
                    inner.tx_copied += take;
                }
                if w.pos == w.buf.len() {
                    inner.finish_disconnect_if_done();
                    inner.sync_write_watch();
                    return Step::Done(code::SUCCESS);
                }
                if written >= WRITE_BUDGET {
                    w.more = true;
                    return Step::Done(code::SUCCESS);
                }
                Step::Write(stream)
            });
            let stream = match step {
                Step::Done(rc) => return rc,
                Step::Write(stream) => stream,
            };
            let r = (&*stream).write(&w.buf[w.pos..]);
            // The socket closes here if the connection was dropped meanwhile.
            drop(stream);
            let done = self.with(|inner| {
                if w.epoch != inner.conn_epoch || inner.conn.is_none() {
                    w.clear();
                    return Some(code::SUCCESS);
                }
                match r {
                    Ok(0) => Some(inner.fail(Error::ConnLost)),
                    Ok(n) => {
                        written += n;
                        w.pos += n;
                        inner.tx_copied -= n;
                        inner.lend_spares();
                        inner.session.consume_transmit(Instant::now(), n);
                        if w.pos == w.buf.len() {
                            w.buf.clear();
                            w.pos = 0;
                        }
                        inner.drain_events();
                        None
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        inner.sync_write_watch();
                        Some(code::SUCCESS)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => None,
                    Err(e) => {
                        inner.log(0x08, || format!("write failed: {e}"));
                        Some(inner.fail(Error::ConnLost))
                    }
                }
            });
            if let Some(rc) = done {
                return rc;
            }
        }
    }

    /// loop_stop (or destroy) asked this loop to end: `terminate`, or, for a loop
    /// thread, a newer loop_start/loop_stop than the one that made it.
    fn stopping(&self, gen: u64) -> bool {
        self.terminate.load(Ordering::Acquire) || self.loop_gen.load(Ordering::Acquire) != gen
    }

    fn next_step(&self, gen: u64, first: bool, retry_first: bool, is_thread: bool) -> Next {
        if self.stopping(gen) {
            return Next::Stop(code::SUCCESS);
        }
        let inner = lock(&self.inner);
        if inner.conn.is_some() {
            Next::Run
        } else if inner.user_disconnect {
            // After a connection this call ran: a clean end. Without one, as paho:
            // nothing was connected.
            Next::Stop(if first && !is_thread {
                code::NO_CONN
            } else {
                code::SUCCESS
            })
        } else if inner.want_connect {
            Next::Connect
        } else if is_thread || (first && retry_first) {
            Next::Idle
        } else {
            Next::Stop(code::NO_CONN)
        }
    }

    /// paho `loop_forever` (also the body of the `loop_start` thread, which passes the
    /// generation loop_start gave it).
    pub fn loop_forever(
        &self,
        timeout: Duration,
        retry_first: bool,
        thread_gen: Option<u64>,
    ) -> i32 {
        let is_thread = thread_gen.is_some();
        let gen = match thread_gen {
            Some(gen) => gen,
            None => {
                self.terminate.store(false, Ordering::Release);
                self.loop_gen.load(Ordering::Acquire)
            }
        };
        let mut connected_once = false;
        loop {
            match self.next_step(gen, !connected_once, retry_first, is_thread) {
                Next::Stop(rc) => return rc,
                Next::Idle => self.wait(gen, Duration::from_secs(1), |i| {
                    i.want_connect || i.user_disconnect || i.conn.is_some()
                }),
                Next::Connect => match self.reconnect() {
                    Ok(()) => connected_once = true,
                    // Cancelled by disconnect: no failure to report; next_step stops.
                    Err(Error::Io(e)) if e.raw_os_error() == Some(libc::ECANCELED) => {}
                    Err(e) => {
                        let rc = set_errno(e);
                        self.with(|inner| inner.notes.push(Notify::ConnectFail));
                        let give_up = if connected_once {
                            !lock(&self.inner).opts.reconnect_on_failure
                        } else {
                            !retry_first
                        };
                        // With brokers to fail over to, the others are tried first.
                        let round = self.round_failed();
                        if give_up && round {
                            return rc;
                        }
                        if round {
                            self.reconnect_wait(gen);
                        }
                    }
                },
                Next::Run => {
                    connected_once = true;
                    let rc = self.loop_once(timeout);
                    if rc == code::SUCCESS {
                        continue;
                    }
                    let (stop, retry_now) = {
                        let mut inner = lock(&self.inner);
                        if inner.conn.is_some() {
                            // A transient error (e.g. poll interrupted): keep going.
                            continue;
                        }
                        let retry_now = std::mem::take(&mut inner.retry_now);
                        (
                            inner.user_disconnect
                                || (!inner.opts.reconnect_on_failure && !retry_now),
                            retry_now,
                        )
                    };
                    if stop {
                        let user = lock(&self.inner).user_disconnect;
                        return if user { code::SUCCESS } else { rc };
                    }
                    if !retry_now && self.round_failed() {
                        self.reconnect_wait(gen);
                    }
                }
            }
        }
    }

    /// Whether the reconnect delay is due before the next attempt: with more brokers to
    /// fail over to, only once a whole round of them has failed.
    fn round_failed(&self) -> bool {
        let mut inner = lock(&self.inner);
        inner.servers.take_round_failed() || inner.servers.count() == 1
    }

    /// Sleep for the reconnect back-off (paho `_reconnect_wait`): min_delay first, then
    /// doubling up to max_delay, each moved by the jitter; cut short by loop_stop,
    /// disconnect or a new connection.
    fn reconnect_wait(&self, gen: u64) {
        let delay = {
            let mut inner = lock(&self.inner);
            let d = match inner.reconnect_delay {
                None => inner.opts.reconnect_min,
                Some(d) => d.saturating_mul(2).min(inner.opts.reconnect_max),
            };
            inner.reconnect_delay = Some(d);
            super::jittered(Duration::from_secs(d.into()), inner.opts.reconnect_jitter)
        };
        self.with(|inner| {
            inner.log(0x10, || {
                format!("Reconnecting in {:.3} s", delay.as_secs_f64())
            });
        });
        self.wait(gen, delay, |inner| {
            inner.user_disconnect || inner.conn.is_some() || inner.retry_now
        });
    }

    /// Wait on the poll's waker up to `d`, returning early on terminate or `done`.
    fn wait(&self, gen: u64, d: Duration, done: impl Fn(&super::Inner) -> bool) {
        let deadline = Instant::now() + d;
        let mut guard = match self.driver() {
            Ok(g) => g,
            Err(_) => {
                std::thread::sleep(d.min(Duration::from_millis(100)));
                return;
            }
        };
        let driver = guard.as_mut().expect("driver created above");
        loop {
            if self.stopping(gen) || done(&lock(&self.inner)) {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let _ = driver.poll.poll(&mut driver.events, Some(deadline - now));
        }
    }

    pub fn loop_start(self: &Arc<Self>) -> Result<(), Error> {
        let mut t = lock(&self.thread);
        if t.is_some() {
            return Err(Error::Inval);
        }
        // The poll and its waker exist before the thread does, so that a wake() made
        // right after this returns reaches it. Once made they stay; and from inside a
        // callback of the loop, the current thread holds the driver: no lock then.
        if lock(&self.waker).is_none() {
            drop(self.driver()?);
        }
        let gen = self.loop_gen.fetch_add(1, Ordering::AcqRel) + 1;
        self.terminate.store(false, Ordering::Release);
        let shared = Arc::clone(self);
        let handle = std::thread::Builder::new()
            .name("mqttc-loop".to_string())
            .spawn(move || {
                // A connect or handshake running on this thread gives up when
                // loop_stop or destroy asks, instead of waiting out its timeout.
                let check = Arc::clone(&shared);
                crate::transport::set_cancel_check(Some(Box::new(move || check.stopping(gen))));
                shared.loop_forever(Duration::from_secs(1), true, Some(gen));
                crate::transport::set_cancel_check(None);
            })?;
        let id = handle.thread().id();
        *t = Some((handle, id));
        Ok(())
    }

    pub fn loop_stop(&self) -> Result<(), Error> {
        let Some((handle, id)) = lock(&self.thread).take() else {
            return Err(Error::Inval);
        };
        self.loop_gen.fetch_add(1, Ordering::AcqRel);
        self.terminate.store(true, Ordering::Release);
        self.wake();
        if id != std::thread::current().id() {
            let _ = handle.join();
        }
        // From inside a callback of the loop thread itself: it leaves once the callback
        // returns; the handle is detached.
        Ok(())
    }

    pub fn loop_read(&self) -> i32 {
        if self.with(|inner| inner.conn.is_none()) {
            return code::NO_CONN;
        }
        self.read(READ_BUDGET)
    }

    /// Read until the socket would block or `budget` bytes were read (then the loop
    /// comes back for the rest: `read_pending`). Callbacks run after each read, so
    /// `on_message` sees a message while its bytes are still in cache, and the inbox
    /// holds one read's messages at a time. Returns the result code of the read that
    /// ended the connection, if one did.
    fn read(&self, budget: usize) -> i32 {
        // One reader at a time: a loop_misc on a timer thread must not read (and run
        // on_message) while the I/O thread is in loop_read, nor a callback's nested
        // loop_read: the read in progress takes what the socket has.
        if self.with(|inner| std::mem::replace(&mut inner.reading, true)) {
            return code::SUCCESS;
        }
        struct Reading<'a>(&'a Shared);
        impl Drop for Reading<'_> {
            fn drop(&mut self) {
                lock(&self.0.inner).reading = false;
            }
        }
        let _reading = Reading(self);
        let mut total = 0usize;
        loop {
            let step = self.with(|inner| {
                let Some(conn) = inner.conn.as_mut() else {
                    return ReadStep::Done(code::SUCCESS);
                };
                conn.read_pending = total >= budget;
                if conn.read_pending {
                    return ReadStep::Done(code::SUCCESS);
                }
                inner.read_some()
            });
            match step {
                ReadStep::Read(n) => total += n,
                ReadStep::Done(rc) => return rc,
            }
        }
    }

    pub fn loop_write(&self) -> i32 {
        self.with(|inner| {
            if inner.conn.is_none() {
                return code::NO_CONN;
            }
            inner.flush()
        })
    }

    pub fn loop_misc(&self) -> i32 {
        let misc = |inner: &mut super::Inner| {
            let rc = inner.misc();
            inner.finish_disconnect_if_done();
            rc
        };
        // Bytes that a loop_read left unread at its budget are due now: an
        // edge-triggered loop hears no new readiness for them.
        let done = self.with(|inner| match &inner.conn {
            Some(conn) if conn.unread() => None,
            _ => Some(misc(inner)),
        });
        if let Some(rc) = done {
            return rc;
        }
        let rc = self.read(READ_BUDGET);
        if rc != code::SUCCESS {
            return rc;
        }
        self.with(misc)
    }

    pub fn misc_timeout_ms(&self) -> i32 {
        let inner = lock(&self.inner);
        let Some(conn) = &inner.conn else {
            return -1;
        };
        if conn.unread() {
            return 0;
        }
        match inner.session.next_timeout() {
            None => -1,
            Some(t) => {
                let d = t.saturating_duration_since(Instant::now());
                // Round up so that calling loop_misc after the wait finds the timer due.
                let ms = d.as_micros().div_ceil(1000);
                ms.min(i32::MAX as u128) as i32
            }
        }
    }
}

/// Map an error to its code, setting errno for `MQTTC_ERR_ERRNO`.
pub fn set_errno(e: Error) -> i32 {
    if let Error::Io(ref io) = e {
        let errno = io.raw_os_error().unwrap_or(match io.kind() {
            std::io::ErrorKind::NotFound => libc::ENOENT,
            std::io::ErrorKind::TimedOut => libc::ETIMEDOUT,
            std::io::ErrorKind::ConnectionRefused => libc::ECONNREFUSED,
            _ => libc::EIO,
        });
        // SAFETY: __errno_location returns this thread's errno slot.
        unsafe { *libc::__errno_location() = errno };
    }
    e.code()
}
