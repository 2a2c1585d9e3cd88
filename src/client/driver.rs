//! The loop functions: `loop` (one iteration around a mio poll), `loop_forever`, the
//! `loop_start` thread, and the external-loop steps (`loop_read`, `loop_write`,
//! `loop_misc`). The poll and its waker are created on first use, so clients driven by
//! the caller's own event loop hold no extra file descriptors.

use super::notify::Notify;
use super::{lock, Shared};
use crate::error::{code, Error};
use mio::{Events, Interest, Poll, Token, Waker};
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);

/// A mio poll owned by whichever thread drives the client.
pub struct Driver {
    poll: Poll,
    events: Events,
}

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
        let (rc, wait) = self.with(|inner| {
            let Some(conn) = inner.conn.as_mut() else {
                return (code::NO_CONN, Duration::ZERO);
            };
            if !conn.registered {
                let r = driver.poll.registry().register(
                    conn.transport.source(),
                    SOCKET,
                    Interest::READABLE | Interest::WRITABLE,
                );
                match r {
                    Ok(()) => conn.registered = true,
                    Err(e) => return (inner.fail(Error::Io(e)), Duration::ZERO),
                }
                // Anything that arrived before registration is read below.
                conn.read_pending = true;
            }
            let rc = inner.misc();
            if rc != code::SUCCESS {
                return (rc, Duration::ZERO);
            }
            let rc = inner.flush();
            let Some(conn) = inner.conn.as_ref() else {
                return (rc, Duration::ZERO);
            };
            let mut wait = timeout;
            if conn.read_pending || conn.transport.has_buffered_read() {
                wait = Duration::ZERO;
            }
            if let Some(t) = inner.session.next_timeout() {
                wait = wait.min(t.saturating_duration_since(Instant::now()));
            }
            (rc, wait)
        });
        if rc != code::SUCCESS {
            return rc;
        }
        if let Err(e) = driver.poll.poll(&mut driver.events, Some(wait)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return set_errno(Error::Io(e));
            }
        }
        let rc = self.with(|inner| {
            if inner.conn.is_none() {
                return code::SUCCESS;
            }
            let rc = inner.read();
            if rc != code::SUCCESS {
                return rc;
            }
            let rc = inner.misc();
            if rc != code::SUCCESS {
                return rc;
            }
            inner.flush()
        });
        if rc != code::SUCCESS {
            return rc;
        }
        // Acknowledgements and publishes made by the callbacks just dispatched.
        self.with(|inner| {
            if inner.wants_write() {
                inner.flush()
            } else {
                code::SUCCESS
            }
        })
    }

    fn next_step(&self, first: bool, retry_first: bool, is_thread: bool) -> Next {
        if self.terminate.load(Ordering::Acquire) {
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

    /// paho `loop_forever` (also the body of the `loop_start` thread).
    pub fn loop_forever(&self, timeout: Duration, retry_first: bool, is_thread: bool) -> i32 {
        if !is_thread {
            self.terminate.store(false, Ordering::Release);
        }
        let mut connected_once = false;
        loop {
            match self.next_step(!connected_once, retry_first, is_thread) {
                Next::Stop(rc) => return rc,
                Next::Idle => self.wait(Duration::from_secs(1), |i| {
                    i.want_connect || i.user_disconnect || i.conn.is_some()
                }),
                Next::Connect => match self.reconnect() {
                    Ok(()) => connected_once = true,
                    Err(e) => {
                        let rc = set_errno(e);
                        self.with(|inner| inner.notes.push(Notify::ConnectFail));
                        let give_up = if connected_once {
                            !lock(&self.inner).opts.reconnect_on_failure
                        } else {
                            !retry_first
                        };
                        if give_up {
                            return rc;
                        }
                        self.reconnect_wait();
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
                    if !retry_now {
                        self.reconnect_wait();
                    }
                }
            }
        }
    }

    /// Sleep for the reconnect back-off (paho `_reconnect_wait`): min_delay first, then
    /// doubling up to max_delay; cut short by loop_stop, disconnect or a new connection.
    fn reconnect_wait(&self) {
        let delay = {
            let mut inner = lock(&self.inner);
            let d = match inner.reconnect_delay {
                None => inner.opts.reconnect_min,
                Some(d) => d.saturating_mul(2).min(inner.opts.reconnect_max),
            };
            inner.reconnect_delay = Some(d);
            d
        };
        self.with(|inner| {
            inner.log(0x10, || format!("Reconnecting in {delay} s"));
        });
        self.wait(Duration::from_secs(delay as u64), |inner| {
            inner.user_disconnect || inner.conn.is_some() || inner.retry_now
        });
    }

    /// Wait on the poll's waker up to `d`, returning early on terminate or `done`.
    fn wait(&self, d: Duration, done: impl Fn(&super::Inner) -> bool) {
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
            if self.terminate.load(Ordering::Acquire) || done(&lock(&self.inner)) {
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
        self.terminate.store(false, Ordering::Release);
        drop(self.driver()?);
        let shared = Arc::clone(self);
        let handle = std::thread::Builder::new()
            .name("mqttc-loop".to_string())
            .spawn(move || {
                shared.loop_forever(Duration::from_secs(1), true, true);
            })?;
        let id = handle.thread().id();
        *t = Some((handle, id));
        Ok(())
    }

    pub fn loop_stop(&self) -> Result<(), Error> {
        let Some((handle, id)) = lock(&self.thread).take() else {
            return Err(Error::Inval);
        };
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
        self.with(|inner| {
            if inner.conn.is_none() {
                return code::NO_CONN;
            }
            inner.read()
        })
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
        self.with(|inner| {
            let rc = inner.misc();
            inner.finish_disconnect_if_done();
            rc
        })
    }

    pub fn misc_timeout_ms(&self) -> i32 {
        let inner = lock(&self.inner);
        if inner.conn.is_none() {
            return -1;
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
        let errno = io.raw_os_error().unwrap_or(libc::EIO);
        // SAFETY: __errno_location returns this thread's errno slot.
        unsafe { *libc::__errno_location() = errno };
    }
    e.code()
}
