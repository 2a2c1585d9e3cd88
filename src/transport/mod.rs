//! Byte transports under the MQTT session: plain TCP (or a Unix domain socket), TLS
//! (rustls) over it, and WebSockets (tungstenite) over either. Every transport is non-blocking and exposes
//! the socket it runs on, so it can be driven by mio or by the caller's own
//! select/epoll loop. `srv` looks up the brokers of a domain (DNS SRV).

pub mod proxy;
pub mod srv;
mod tcp;
mod tls;
mod tls_config;
mod unix;
pub mod ws;

pub use tcp::{connect_tcp, TcpTransport};
pub use tls::{tls_failure, TlsTransport};
pub use tls_config::{parse_cipher_list, TlsConfig, TlsSettings, TlsVersion, Verify};
pub use unix::connect_unix;
pub use ws::WsTransport;

#[cfg(test)]
mod tests;

use std::io;
use std::os::unix::io::RawFd;
use std::time::Instant;

thread_local! {
    /// Set on a loop thread to its stop flag, so that a blocking connect or handshake
    /// running there gives up promptly when `loop_stop` or `client_destroy` asks.
    static CANCEL: std::cell::RefCell<Option<CancelCheck>> = const { std::cell::RefCell::new(None) };
}

/// Tells whether the thread's blocking waits should give up.
pub type CancelCheck = Box<dyn Fn() -> bool>;

/// Make blocking waits on this thread give up (ECANCELED) once `check` says so.
pub fn set_cancel_check(check: Option<CancelCheck>) {
    CANCEL.with(|c| *c.borrow_mut() = check);
}

fn cancelled() -> bool {
    CANCEL.with(|c| c.borrow().as_ref().is_some_and(|f| f()))
}

/// Longest single poll while waiting, so a cancel request is seen promptly.
const WAIT_SLICE_MS: u128 = 100;

/// Block until `fd` is ready for `events` (`libc::POLLIN`/`POLLOUT`) or `deadline`
/// passes (then `ETIMEDOUT`). For the blocking handshakes inside `connect`.
pub fn wait_fd(fd: RawFd, events: libc::c_short, deadline: Instant) -> io::Result<()> {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
        }
        if cancelled() {
            return Err(io::Error::from_raw_os_error(libc::ECANCELED));
        }
        let ms = (deadline - now).as_millis().clamp(1, WAIT_SLICE_MS) as libc::c_int;
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if rc > 0 {
            // Readable, writable, or an error/hang-up the next read or write reports.
            return Ok(());
        }
    }
}

/// A connected, non-blocking byte stream.
pub trait Transport: Send {
    /// Read decrypted/unframed application bytes. `Ok(0)` is end of stream;
    /// `WouldBlock` when nothing is available.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Accept application bytes; may buffer them (then `wants_write` stays true).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// Push out bytes the transport itself buffered (TLS records, frame headers).
    fn flush(&mut self) -> io::Result<()>;
    /// True while the transport holds bytes of its own waiting for the socket.
    fn wants_write(&self) -> bool;
    /// True when `read` can return data without the socket becoming readable again
    /// (already decrypted or buffered bytes), so edge-triggered loops must keep reading.
    fn has_buffered_read(&self) -> bool {
        false
    }
    /// The socket to watch.
    fn fd(&self) -> RawFd;
    /// Close the sending direction (TCP FIN after the bytes written so far), before a
    /// close that follows a farewell packet.
    fn shutdown_write(&mut self) {
        // SAFETY: shutdown on the transport's own open socket; errors (already closed,
        // not connected) leave nothing to do.
        unsafe { libc::shutdown(self.fd(), libc::SHUT_WR) };
    }
    /// The mio source for registration.
    fn source(&mut self) -> &mut mio::net::TcpStream;
    /// For plain TCP, the socket itself, which the caller may write to directly (bytes
    /// this transport has not seen: it keeps no state about them). The socket stays
    /// open while the returned handle lives. `None` for transports with state of their
    /// own in the byte stream (TLS, WebSockets).
    fn shared_stream(&self) -> Option<std::sync::Arc<mio::net::TcpStream>> {
        None
    }
}
