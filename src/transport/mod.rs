//! Byte transports under the MQTT session: plain TCP now; TLS and WebSockets wrap the
//! same stream. Every transport is non-blocking and exposes the socket it runs on, so
//! it can be driven by mio or by the caller's own select/epoll loop.

mod tcp;

pub use tcp::{connect_tcp, TcpTransport};

use std::io;
use std::os::unix::io::RawFd;

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
    /// The mio source for registration.
    fn source(&mut self) -> &mut mio::net::TcpStream;
}
