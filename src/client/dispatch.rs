//! Handing notifications over: each batch collected under the lock is given to the
//! client's handler once the lock is released, then the messages it delivered are
//! acknowledged. The lists and inboxes are reused per thread, so a busy client does
//! not allocate per batch and an idle one holds no capacity.

use super::notify::Notify;
use super::{conn, lock, Inner, Shared};
use crate::error::Error;
use crate::proto::QoS;
use crate::session::{Inbox, Incoming};

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
    v5: bool,
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
            v5: self.session.protocol().is_v5(),
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
        let Batch {
            notes, mut inbox, ..
        } = batch;
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
        let Batch { notes, inbox, v5 } = batch;
        let handler = lock(&self.handler).clone();
        let mut published: Vec<u16> = Vec::new();
        // Incoming QoS>0 messages are acknowledged once their callback has returned.
        let mut delivered: Vec<Incoming> = Vec::new();
        for n in notes.iter() {
            match n {
                Notify::Publish { mid, .. } => published.push(*mid),
                Notify::Message(m) if m.qos != QoS::AtMostOnce => delivered.push(*m),
                _ => {}
            }
        }
        handler.dispatch(&mut notes.drain(..), inbox, *v5, &self.destroyed);
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
        if self.destroyed.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let more = {
            let mut inner = lock(&self.inner);
            for m in &delivered {
                inner.session.message_delivered(m);
            }
            inner.sync_write_watch();
            inner.take_batch()
        };
        // on_socket_register_write for the acknowledgements (acknowledging delivers no
        // message, so nothing more is acknowledged here).
        if let Some(Batch { notes, inbox, v5 }) = more {
            let handler = lock(&self.handler).clone();
            handler.dispatch(&mut notes.into_iter(), &inbox, v5, &self.destroyed);
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
        self.with(|inner| {
            if inner.opts.host.is_none() {
                return Err(Error::Inval);
            }
            inner.close(0, false);
            inner.want_connect = true;
            inner.user_disconnect = false;
            Ok(())
        })?;
        // paho 2's on_pre_connect, after what the old connection reported: on the
        // connecting thread and with no lock held, before anything of the attempt is
        // read, so what it sets (credentials, proxy, servers) is this attempt's. A
        // connection it opens itself gives way to this attempt's in `install`.
        self.with(|inner| inner.notes.push(Notify::PreConnect));
        let params = self.with(|inner| {
            let Some(host) = inner.opts.host.clone() else {
                return Err(Error::Inval);
            };
            if inner.user_disconnect {
                // The callback disconnected: no attempt.
                return Err(Error::Io(std::io::Error::from_raw_os_error(
                    libc::ECANCELED,
                )));
            }
            inner.connecting += 1;
            // The failover entry this attempt goes to (entry 0: connect's own).
            let (_, host, port) = inner.servers.next(&host, inner.opts.port);
            let (host, mut opts) = (host.to_string(), inner.opts.clone());
            opts.port = port;
            Ok((host, opts, inner.disconnects))
        })?;
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
                    inner.servers.opened(&params.0, params.1.port);
                    Ok(())
                }
                Err(e) => {
                    inner.log(0x08, || {
                        format!("Connection to {}:{} failed: {}", params.0, params.1.port, e)
                    });
                    inner.servers.failed();
                    Err(e)
                }
            }
        });
        self.wake();
        r
    }
}
