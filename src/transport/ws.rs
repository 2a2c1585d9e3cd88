//! MQTT over WebSockets (MQTT 3.1.1 section 6): binary frames, subprotocol "mqtt",
//! over the TCP or the TLS transport. Frame boundaries mean nothing to MQTT: a packet
//! may span frames and a frame may carry several packets, so incoming frame payloads
//! are buffered and handed out as a byte stream.

use super::{wait_fd, Transport};
use crate::error::Error;
use std::io::{self, Read, Write};
use std::os::unix::io::RawFd;
use std::time::Instant;
use tungstenite::handshake::client::Request;
use tungstenite::http::header::{HeaderName, HeaderValue};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Bytes, Message, WebSocket};

/// Largest frame we send; a bigger write goes out in several frames.
const MAX_OUT_FRAME: usize = 64 * 1024;
/// Largest incoming frame or message: an MQTT packet of the maximum size plus its
/// fixed header (MQTT-2.2.3).
const MAX_IN_MESSAGE: usize = crate::proto::MAX_REMAINING_LENGTH + 5;

/// The inner transport as the blocking-style `Read + Write` tungstenite expects; every
/// call may fail with `WouldBlock`, which tungstenite passes through.
struct Inner(Box<dyn Transport>);

impl Read for Inner {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Inner {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()?;
        if self.0.wants_write() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(())
    }
}

/// A WebSocket connection carrying MQTT.
pub struct WsTransport {
    ws: WebSocket<Inner>,
    /// Payload of the last binary frame not yet handed out.
    pending: Bytes,
    /// tungstenite holds frames (ours, or its automatic pong/close replies) that have
    /// not reached the inner transport yet.
    unflushed: bool,
    /// The server closed the WebSocket: `read` reports end of stream.
    closed: bool,
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_IN_MESSAGE))
        .max_frame_size(Some(MAX_IN_MESSAGE))
        // Frames are flushed explicitly, so tungstenite never needs to hold more.
        .write_buffer_size(0)
}

/// tungstenite error → I/O error (`WouldBlock` and other I/O errors kept as they are).
fn io_err(e: tungstenite::Error) -> io::Error {
    match e {
        tungstenite::Error::Io(e) => e,
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            io::ErrorKind::NotConnected.into()
        }
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// The upgrade request: GET `path`, Host `host:port`, subprotocol "mqtt", plus the
/// caller's "Name: value" lines (a line naming a header we set replaces it).
pub fn build_request(
    host: &str,
    port: u16,
    path: &str,
    headers: &[String],
    secure: bool,
) -> Result<Request, Error> {
    use tungstenite::client::IntoClientRequest;
    let scheme = if secure { "wss" } else { "ws" };
    let host_part = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let url = format!("{scheme}://{host_part}:{port}{path}");
    let mut req = url.into_client_request().map_err(|_| Error::Inval)?;
    let h = req.headers_mut();
    h.insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    for line in headers {
        let (name, value) = line.split_once(':').ok_or(Error::Inval)?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| Error::Inval)?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| Error::Inval)?;
        if OWN_HEADERS
            .iter()
            .any(|o| name.as_str().eq_ignore_ascii_case(o))
        {
            h.insert(name, value);
        } else {
            h.append(name, value);
        }
    }
    Ok(req)
}

/// Headers of the upgrade request that must appear once: a caller's line naming one of
/// them replaces ours instead of adding a second.
const OWN_HEADERS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "sec-websocket-version",
    "sec-websocket-key",
    "sec-websocket-protocol",
];

/// Largest upgrade answer accepted (status line and headers).
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

impl WsTransport {
    /// Upgrade `inner` to a WebSocket, blocking until the server answers or
    /// `deadline` passes (then `Io(ETIMEDOUT)`). A refused upgrade gives
    /// `Error::WebSocket(reason)`.
    ///
    /// The answer is checked as paho 1.6 checks it, not more strictly: status 101 and
    /// the right Sec-WebSocket-Accept; a Sec-WebSocket-Protocol other than "mqtt" is
    /// refused, but a server that names none is accepted (RFC 6455 lets a server
    /// choose no subprotocol; some MQTT brokers answer so).
    pub fn connect(
        mut inner: Box<dyn Transport>,
        request: Request,
        deadline: Instant,
    ) -> Result<WsTransport, Error> {
        let (head, key) = tungstenite::handshake::client::generate_request(request)
            .map_err(|e| Error::WebSocket(format!("upgrade request: {e}")))?;
        send_all(&mut *inner, &head, deadline)?;
        let (head_len, mut buf) = read_response_head(&mut *inner, deadline)?;
        check_response(&buf[..head_len], &key)?;
        // Frames the server sent right behind its answer.
        let rest = buf.split_off(head_len);
        let ws = WebSocket::from_partially_read(
            Inner(inner),
            rest,
            tungstenite::protocol::Role::Client,
            Some(ws_config()),
        );
        Ok(WsTransport::new(ws))
    }

    fn new(ws: WebSocket<Inner>) -> WsTransport {
        WsTransport {
            ws,
            pending: Bytes::new(),
            unflushed: false,
            closed: false,
        }
    }

    /// Push out what tungstenite holds; `WouldBlock` leaves `unflushed` set.
    fn flush_ws(&mut self) -> io::Result<()> {
        match self.ws.flush() {
            Ok(()) => {
                self.unflushed = false;
                Ok(())
            }
            Err(e) => Err(io_err(e)),
        }
    }
}

/// Write all of `bytes` to a non-blocking transport by `deadline`.
fn send_all(inner: &mut dyn Transport, mut bytes: &[u8], deadline: Instant) -> Result<(), Error> {
    loop {
        flush_some(inner)?;
        if bytes.is_empty() && !inner.wants_write() {
            return Ok(());
        }
        if !bytes.is_empty() {
            match inner.write(bytes) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    bytes = &bytes[n..];
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(handshake_io(e)),
            }
        }
        wait_fd(inner.fd(), libc::POLLOUT, deadline)?;
    }
}

/// Push out what the transport holds (TLS records) as far as the socket takes now.
fn flush_some(inner: &mut dyn Transport) -> Result<(), Error> {
    match inner.flush() {
        Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(handshake_io(e)),
        _ => Ok(()),
    }
}

/// Read until the end of the answer's headers (a blank line) by `deadline`. Returns
/// the length of the head and everything read (which may go on past it).
fn read_response_head(
    inner: &mut dyn Transport,
    deadline: Instant,
) -> Result<(usize, Vec<u8>), Error> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok((end + 4, buf));
        }
        if buf.len() > MAX_RESPONSE_HEAD {
            return Err(Error::WebSocket(
                "upgrade failed: answer headers too long".to_string(),
            ));
        }
        match inner.read(&mut chunk) {
            Ok(0) => {
                return Err(Error::WebSocket(
                    "upgrade failed: the server closed the connection".to_string(),
                ))
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if !inner.has_buffered_read() {
                    // TLS may need to write (a key update) while we wait to read.
                    flush_some(inner)?;
                    let events = if inner.wants_write() {
                        libc::POLLIN | libc::POLLOUT
                    } else {
                        libc::POLLIN
                    };
                    wait_fd(inner.fd(), events, deadline)?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(handshake_io(e)),
        }
    }
}

/// Judge the server's answer to the upgrade request sent with `key`.
fn check_response(head: &[u8], key: &str) -> Result<(), Error> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(Error::WebSocket(
                "upgrade failed: the answer is not HTTP".to_string(),
            ))
        }
    }
    let code = resp.code.unwrap_or(0);
    if code != 101 {
        return Err(Error::WebSocket(format!("upgrade refused: HTTP {code}")));
    }
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let expected = tungstenite::handshake::derive_accept_key(key.as_bytes());
    if header("Sec-WebSocket-Accept").as_deref() != Some(expected.as_str()) {
        return Err(Error::WebSocket(
            "upgrade failed: wrong or missing Sec-WebSocket-Accept".to_string(),
        ));
    }
    if let Some(protocol) = header("Sec-WebSocket-Protocol") {
        if !protocol.eq_ignore_ascii_case("mqtt") {
            return Err(Error::WebSocket(format!(
                "upgrade failed: the server chose subprotocol {protocol:?}, not \"mqtt\""
            )));
        }
    }
    Ok(())
}

/// An I/O error during the upgrade: TLS alerts as `Error::Tls`, OS errors as they are.
fn handshake_io(e: io::Error) -> Error {
    if e.raw_os_error().is_some() {
        return Error::Io(e);
    }
    match super::tls_failure(&e) {
        Some(why) => Error::Tls(why),
        None => Error::WebSocket(format!("upgrade failed: {e}")),
    }
}

impl Transport for WsTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.pending.is_empty() {
                let n = buf.len().min(self.pending.len());
                buf[..n].copy_from_slice(&self.pending[..n]);
                let _ = self.pending.split_to(n);
                return Ok(n);
            }
            if self.closed {
                return Ok(0);
            }
            match self.ws.read() {
                Ok(Message::Binary(data)) => self.pending = data,
                // tungstenite queued the pong; it goes out with the next flush.
                Ok(Message::Ping(_)) => self.unflushed = true,
                Ok(Message::Pong(_)) | Ok(Message::Frame(_)) => {}
                // MQTT-6.0.0-1: a text frame closes the connection.
                Ok(Message::Text(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "text frame on an MQTT WebSocket",
                    ))
                }
                Ok(Message::Close(_)) => {
                    // tungstenite queued the close reply; send it if the socket takes it.
                    self.closed = true;
                    let _ = self.ws.flush();
                }
                Err(tungstenite::Error::ConnectionClosed)
                | Err(tungstenite::Error::AlreadyClosed) => self.closed = true,
                Err(tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                )) => self.closed = true,
                Err(e) => return Err(io_err(e)),
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // One frame in tungstenite's hands at a time: the socket sets the pace.
        if self.unflushed {
            self.flush_ws()?;
        }
        let n = buf.len().min(MAX_OUT_FRAME);
        let frame = Message::Binary(Bytes::copy_from_slice(&buf[..n]));
        match self.ws.write(frame) {
            Ok(()) => {}
            // The frame is buffered; only writing it out blocked.
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(io_err(e)),
        }
        self.unflushed = true;
        match self.flush_ws() {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
            _ => Ok(n),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = if self.unflushed {
            self.flush_ws()
        } else {
            self.ws.get_mut().0.flush()
        };
        match r {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            r => r,
        }
    }

    fn wants_write(&self) -> bool {
        self.unflushed || self.ws.get_ref().0.wants_write()
    }

    fn has_buffered_read(&self) -> bool {
        !self.pending.is_empty() || self.ws.get_ref().0.has_buffered_read()
    }

    fn fd(&self) -> RawFd {
        self.ws.get_ref().0.fd()
    }

    fn source(&mut self) -> &mut mio::net::TcpStream {
        self.ws.get_mut().0.source()
    }
}
