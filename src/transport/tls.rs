//! TLS over a non-blocking TCP socket, in rustls's own pattern: `read_tls` moves
//! ciphertext in, `process_new_packets` decrypts, `write_tls` moves records out. The
//! MQTT layer sees plaintext only.

use super::tls_config::server_name;
use super::{wait_fd, Transport};
use crate::error::Error;
use rustls::{ClientConfig, ClientConnection};
use std::io::{self, Read, Write};
use std::os::unix::io::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

/// Plaintext rustls may hold before `write` pushes back with `WouldBlock`.
const SEND_BUFFER_LIMIT: usize = 256 * 1024;

/// A TLS-protected connection.
pub struct TlsTransport {
    stream: mio::net::TcpStream,
    conn: ClientConnection,
    /// Decrypted bytes rustls holds that `read` has not handed out yet.
    plaintext: usize,
}

/// The socket as rustls's `write_tls` sink. rustls writes with `write_vectored`,
/// which std implements with writev(2): to a peer that already closed the connection
/// that raises SIGPIPE, whose default action ends a C program. Only `write` is
/// implemented here, so the default `write_vectored` sends one record buffer per
/// call through std's `write`, which uses send(2) with MSG_NOSIGNAL and reports
/// EPIPE instead. (A record is up to 16 KiB, so the extra system calls cost little.)
struct NoSigPipe<'a>(&'a mut mio::net::TcpStream);

impl Write for NoSigPipe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An `io::Error` carrying a TLS failure, so the caller can report `MQTTC_ERR_TLS`.
fn tls_io_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// The TLS reason inside an error made by this transport, if it is one.
pub fn tls_failure(e: &io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(|t| t.to_string())
}

impl TlsTransport {
    /// Wrap a connected socket and run the handshake, blocking until it completes or
    /// `deadline` passes (then `Io(ETIMEDOUT)`). A refused certificate or any other
    /// handshake failure gives `Error::Tls(reason)`.
    pub fn connect(
        stream: mio::net::TcpStream,
        host: &str,
        config: Arc<ClientConfig>,
        deadline: Instant,
    ) -> Result<TlsTransport, Error> {
        let name = server_name(host)?;
        let mut conn =
            ClientConnection::new(config, name).map_err(|e| Error::Tls(e.to_string()))?;
        conn.set_buffer_limit(Some(SEND_BUFFER_LIMIT));
        let mut t = TlsTransport {
            stream,
            conn,
            plaintext: 0,
        };
        t.handshake(deadline)?;
        Ok(t)
    }

    fn handshake(&mut self, deadline: Instant) -> Result<(), Error> {
        let fd = self.stream.as_raw_fd();
        let closed =
            |e: io::Error| Error::Tls(format!("connection failed during the handshake: {e}"));
        loop {
            // Everything queued goes out first: ClientHello, then the client's flight.
            while self.conn.wants_write() {
                match self.conn.write_tls(&mut NoSigPipe(&mut self.stream)) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        wait_fd(fd, libc::POLLOUT, deadline)?
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(closed(e)),
                }
            }
            if !self.conn.is_handshaking() {
                return Ok(());
            }
            match self.conn.read_tls(&mut self.stream) {
                Ok(0) => {
                    return Err(Error::Tls(
                        "the server closed the connection during the handshake".to_string(),
                    ))
                }
                Ok(_) => {
                    if let Err(e) = self.process() {
                        // rustls queued an alert telling the server why; send it.
                        let _ = self.conn.write_tls(&mut NoSigPipe(&mut self.stream));
                        return Err(Error::Tls(tls_failure(&e).unwrap_or_else(|| e.to_string())));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait_fd(fd, libc::POLLIN, deadline)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(closed(e)),
            }
        }
    }

    /// Decrypt what `read_tls` brought in.
    fn process(&mut self) -> io::Result<()> {
        match self.conn.process_new_packets() {
            Ok(state) => {
                self.plaintext = state.plaintext_bytes_to_read();
                Ok(())
            }
            Err(e) => Err(tls_io_error(e)),
        }
    }

    /// Write queued TLS records until the socket would block.
    fn push_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut NoSigPipe(&mut self.stream)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn push_records_nonblocking(&mut self) -> io::Result<()> {
        match self.push_records() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            r => r,
        }
    }
}

impl Transport for TlsTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.conn.reader().read(buf) {
                // Ok(0): the server sent close_notify.
                Ok(n) => {
                    self.plaintext = self.plaintext.saturating_sub(n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.plaintext = 0,
                // TCP closed without close_notify: end of stream all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            // Nothing decrypted is left: bring in more records. Records rustls wants to
            // send (alerts, key updates) go out on the way.
            self.push_records_nonblocking()?;
            match self.conn.read_tls(&mut self.stream) {
                Ok(0) => {
                    // TCP end of stream; the reader now reports close_notify or EOF.
                    self.process()?;
                    return match self.conn.reader().read(buf) {
                        Ok(n) => Ok(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                        Err(e) => Err(e),
                    };
                }
                Ok(_) => {
                    if let Err(e) = self.process() {
                        let _ = self.push_records_nonblocking();
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Make room first: the records of earlier writes.
        self.push_records_nonblocking()?;
        let n = self.conn.writer().write(buf)?;
        if n == 0 {
            // rustls's buffer is full and the socket takes nothing: come back when it
            // is writable.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.push_records_nonblocking()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.push_records_nonblocking()
    }

    fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    fn has_buffered_read(&self) -> bool {
        self.plaintext > 0
    }

    fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    fn source(&mut self) -> &mut mio::net::TcpStream {
        &mut self.stream
    }
}

impl Drop for TlsTransport {
    fn drop(&mut self) {
        // Best effort: tell the server the session ends on purpose.
        self.conn.send_close_notify();
        let _ = self.conn.write_tls(&mut NoSigPipe(&mut self.stream));
    }
}
