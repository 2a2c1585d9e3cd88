//! The live connection of a client and the byte pumps between it and the session.

use super::{Inner, Options, TransportKind};
use crate::error::{code, Error};
use crate::session::{Event, State};
use crate::transport::{
    connect_tcp, tls_failure, ws, TcpTransport, TlsTransport, Transport, WsTransport,
};
use std::cell::RefCell;
use std::io;
use std::os::raw::c_int;
use std::time::Instant;

use super::notify::Notify;
use crate::proto::Properties;

/// Bytes read per `read` call; one buffer per thread, so an idle client costs nothing.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes read per loop_read before returning, so writes and timers get their turn.
pub(super) const READ_BUDGET: usize = 4 * 1024 * 1024;

thread_local! {
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0u8; READ_CHUNK]);
}

/// What one [`Inner::read_some`] did.
pub enum ReadStep {
    /// This many bytes were read and handled; there may be more.
    Read(usize),
    /// The socket would block (`MQTTC_ERR_SUCCESS`), or the connection ended with
    /// this result code.
    Done(i32),
}

/// A connected transport and what the loop knows about it.
pub struct Conn {
    pub transport: Box<dyn Transport>,
    /// Registered with the client's mio poll.
    pub registered: bool,
    /// The external loop was told to watch for writability.
    pub write_watched: bool,
    /// The last read stopped at the budget, not at WouldBlock: more may be waiting.
    pub read_pending: bool,
    /// Plain TCP: the transport holds no bytes of its own in either direction, so the
    /// per-call checks (`loop_misc`, `want_write`) need not ask it.
    pub plain: bool,
}

impl Conn {
    pub fn fd(&self) -> c_int {
        self.transport.fd()
    }

    /// Bytes may wait to be read without the socket saying so: a read stopped at its
    /// budget, or TLS/WebSockets hold data already taken from the socket.
    pub fn unread(&self) -> bool {
        self.read_pending || (!self.plain && self.transport.has_buffered_read())
    }
}

/// Open the transport (blocking, bounded by `opts.connect_timeout` overall): TCP,
/// then the TLS handshake when TLS is set, then the WebSocket upgrade for the
/// WebSockets transport.
pub fn open(host: &str, opts: &Options) -> Result<Conn, Error> {
    let deadline = Instant::now() + opts.connect_timeout;
    let stream = if opts.transport == TransportKind::Unix {
        // The system error as it is (ENOENT, ECONNREFUSED): `MQTTC_ERR_ERRNO`.
        crate::transport::connect_unix(host, deadline).map_err(Error::Io)?
    } else if let Some(proxy) = &opts.proxy {
        through_proxy(proxy, host, opts, deadline)?
    } else {
        connect_tcp(
            host,
            opts.port,
            opts.bind_address.as_deref(),
            opts.connect_timeout,
        )
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ECONNREFUSED) => Error::Io(e),
            _ if e.kind() == io::ErrorKind::NotFound => Error::Io(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host}: cannot resolve"),
            )),
            _ => Error::Io(e),
        })?
    };
    let mut transport: Box<dyn Transport> = match &opts.tls {
        Some(tls) => Box::new(TlsTransport::connect(
            stream,
            host,
            tls.client.clone(),
            deadline,
        )?),
        None => Box::new(TcpTransport::new(stream)),
    };
    if opts.transport == TransportKind::WebSockets {
        let request = ws::build_request(
            host,
            opts.port,
            &opts.ws_path,
            &opts.ws_headers,
            opts.tls.is_some(),
        )?;
        transport = Box::new(WsTransport::connect(transport, request, deadline)?);
    }
    Ok(Conn {
        transport,
        registered: false,
        write_watched: false,
        read_pending: false,
        plain: opts.tls.is_none() && opts.transport != TransportKind::WebSockets,
    })
}

/// TCP to the proxy, then its tunnel to `host` (the broker), all by `deadline`.
fn through_proxy(
    proxy: &crate::transport::proxy::ProxyConfig,
    host: &str,
    opts: &Options,
    deadline: Instant,
) -> Result<mio::net::TcpStream, Error> {
    use crate::transport::proxy::{self, Handshake, TunnelError};
    let left = deadline.saturating_duration_since(Instant::now());
    // The system error as it is (a proxy that is down: ECONNREFUSED).
    let stream = connect_tcp(&proxy.host, proxy.port, opts.bind_address.as_deref(), left)
        .map_err(Error::Io)?;
    let target =
        proxy::target(proxy.kind, host, opts.port, proxy.rdns, deadline).map_err(Error::Io)?;
    let hs = Handshake::new(proxy, target).map_err(|e| Error::Proxy(e.0))?;
    proxy::tunnel(&stream, hs, deadline).map_err(|e| match e {
        TunnelError::Proxy(e) => Error::Proxy(e.0),
        TunnelError::Io(e) => Error::Io(e),
    })?;
    Ok(stream)
}

impl Inner {
    pub fn log(&mut self, level: c_int, line: impl FnOnce() -> String) {
        if self.log_mask & level != 0 {
            self.notes.push(Notify::Log {
                level,
                line: line(),
            });
        }
    }

    /// Complete and reported through `on_publish`.
    pub fn is_published(&self, mid: u16) -> bool {
        self.session.is_published(mid) && !self.undelivered_published.contains(&mid)
    }

    pub fn wants_write(&self) -> bool {
        match &self.conn {
            Some(c) => self.session.wants_write() || (!c.plain && c.transport.wants_write()),
            None => false,
        }
    }

    /// Take a freshly opened transport into use and queue CONNECT.
    pub fn install(&mut self, conn: Conn) {
        // One connection at a time: one opened meanwhile (by a callback, or another
        // thread's connect) gives way, its socket reported closed.
        self.close(0, false);
        let fd = conn.fd();
        self.conn = Some(conn);
        self.conn_epoch += 1;
        self.tx_copied = 0;
        self.session.connect(Instant::now());
        let cfg = self.session.config();
        let (clean, ka, id) = (
            cfg.clean_session as u8,
            cfg.keep_alive,
            cfg.client_id.clone(),
        );
        self.notes.push(Notify::SocketOpen(fd));
        self.log(0x10, || {
            format!("Sending CONNECT (c{clean}, k{ka}) client_id={id}")
        });
        self.sync_write_watch();
    }

    /// Close the connection. With `notify`, the session reports `Disconnected` (rc 0 if
    /// a disconnect was requested) and on_disconnect fires.
    pub fn close(&mut self, rc: i32, notify: bool) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let fd = conn.fd();
        self.close_rc = rc;
        self.conn_epoch += 1;
        self.tx_copied = 0;
        if conn.write_watched {
            self.notes.push(Notify::UnregisterWrite(fd));
        }
        self.notes.push(Notify::SocketClose(fd));
        drop(conn);
        // A connection that lasted at least the shortest reconnect delay ends the
        // failover round it was part of.
        let stable = std::time::Duration::from_secs(self.opts.reconnect_min.max(1).into());
        self.servers.closed(Instant::now(), stable);
        if notify && rc != 0 {
            // Lost, not asked for: the next attempt goes to the next broker.
            self.servers.failed();
        }
        self.session.connection_closed(Instant::now(), rc);
        if notify {
            self.drain_events();
        } else {
            // A reconnect or destroy: the application asked for it, no on_disconnect.
            while self.session.poll_event().is_some() {}
        }
    }

    /// Close because of an error and report it.
    pub fn fail(&mut self, err: Error) -> i32 {
        let rc = err.code();
        self.log(0x08, || format!("Connection lost: {err}"));
        self.farewell();
        self.close(rc, true);
        rc
    }

    /// Under MQTT 5 the session queues a DISCONNECT with a reason before a close it
    /// causes (MQTT-4.13.1-1): write what the socket takes at once, then close the
    /// sending side so the bytes go before the connection does. Skipped while the loop
    /// thread holds an unwritten copy of earlier bytes (it would come out of order).
    fn farewell(&mut self) {
        if !self.session.protocol().is_v5() || self.tx_copied > 0 {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let buf = self.session.transmit_buf();
        if buf.is_empty() {
            return;
        }
        if let Ok(n) = conn.transport.write(buf) {
            let _ = conn.transport.flush();
            self.session.consume_transmit(Instant::now(), n);
            conn.transport.shutdown_write();
        }
    }

    /// Tell an external loop whether to watch for writability.
    pub fn sync_write_watch(&mut self) {
        let want = self.wants_write();
        if let Some(conn) = self.conn.as_mut() {
            if want != conn.write_watched {
                conn.write_watched = want;
                let fd = conn.fd();
                self.notes.push(if want {
                    Notify::RegisterWrite(fd)
                } else {
                    Notify::UnregisterWrite(fd)
                });
            }
        }
    }

    /// Write as much as the socket takes. Errors close the connection.
    pub fn flush(&mut self) -> i32 {
        let now = Instant::now();
        let result = loop {
            let Some(conn) = self.conn.as_mut() else {
                break Ok(());
            };
            if let Err(e) = conn.transport.flush() {
                break Err(e);
            }
            // The loop thread is writing the front of the buffer without the lock.
            if self.tx_copied > 0 {
                break Ok(());
            }
            let buf = self.session.transmit_buf();
            if buf.is_empty() {
                break Ok(());
            }
            match conn.transport.write(buf) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => {
                    self.lend_spares();
                    self.session.consume_transmit(now, n)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        let rc = match result {
            Ok(()) => {
                self.drain_events();
                self.finish_disconnect_if_done();
                code::SUCCESS
            }
            Err(e) => {
                self.log(0x08, || format!("write failed: {e}"));
                self.fail(Error::ConnLost)
            }
        };
        self.sync_write_watch();
        rc
    }

    /// After DISCONNECT has been written, close the socket and report rc 0.
    pub fn finish_disconnect_if_done(&mut self) {
        if self.session.state() == State::Disconnecting && !self.wants_write() {
            self.close(code::SUCCESS, true);
        }
    }

    /// Read once from the transport and feed the session: [`ReadStep::Read`] when bytes
    /// came (the caller dispatches their callbacks, then reads again). Errors and end
    /// of stream close the connection.
    pub fn read_some(&mut self) -> ReadStep {
        let now = Instant::now();
        let result: Result<usize, Error> = READ_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            loop {
                let Some(conn) = self.conn.as_mut() else {
                    return Ok(0);
                };
                match conn.transport.read(&mut buf) {
                    Ok(0) => return Err(Error::ConnLost),
                    Ok(n) => {
                        self.lend_spares();
                        self.session.handle_bytes(now, &buf[..n])?;
                        self.drain_events();
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if conn.transport.has_buffered_read() {
                            continue;
                        }
                        return Ok(0);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                        return Err(Error::ConnLost)
                    }
                    // A TLS alert (e.g. the broker refusing our certificate after a
                    // TLS 1.3 handshake) is reported as MQTTC_ERR_TLS.
                    Err(e) => {
                        return Err(match tls_failure(&e) {
                            Some(why) => Error::Tls(why),
                            None => Error::Io(e),
                        })
                    }
                }
            }
        });
        match result {
            // The connection may have ended inside (a refused CONNACK): report why.
            Ok(_) if self.conn.is_none() => ReadStep::Done(self.close_rc),
            Ok(0) => ReadStep::Done(code::SUCCESS),
            Ok(n) => ReadStep::Read(n),
            Err(e) => {
                let e = match e {
                    Error::Io(_) => Error::ConnLost,
                    e => e,
                };
                ReadStep::Done(self.fail(e))
            }
        }
    }

    /// Timers: keepalive, retries, CONNACK timeout.
    pub fn misc(&mut self) -> i32 {
        if self.conn.is_none() {
            return code::NO_CONN;
        }
        let now = Instant::now();
        if let Some(t) = self.session.next_timeout() {
            if t <= now {
                if let Err(e) = self.session.handle_timeout(now) {
                    return self.fail(e);
                }
            }
        }
        self.drain_events();
        self.sync_write_watch();
        code::SUCCESS
    }

    /// Turn session events into notifications.
    pub fn drain_events(&mut self) {
        let v5 = self.session.protocol().is_v5();
        let props = |p: Properties| v5.then_some(p);
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Connected {
                    session_present,
                    code: rc,
                    properties,
                } => {
                    self.log(0x10, || {
                        format!("Received CONNACK ({}, {})", session_present as u8, rc)
                    });
                    if rc == 0 {
                        self.reconnect_delay = None;
                        self.servers.accepted(Instant::now());
                    } else if !v5 && self.retry_refusal(rc) {
                        continue;
                    }
                    self.notes.push(Notify::Connect {
                        flags: session_present as c_int,
                        rc: rc as c_int,
                        properties: props(properties),
                    });
                    if rc != 0 {
                        // MQTT 5 refusals are reason codes of 0x80 and above; a 3.1.1
                        // broker answers a level-5 CONNECT with return code 1.
                        let err = if rc <= 5 || (v5 && rc >= 0x80) {
                            Error::ConnRefused
                        } else {
                            Error::Protocol(crate::proto::ProtoError::InvalidReturnCode(rc))
                        };
                        self.close(err.code(), true);
                        return;
                    }
                }
                Event::Message(m) => {
                    if self.log_mask & 0x10 != 0 {
                        let inbox = self.session.inbox();
                        let line = format!(
                            "Received PUBLISH (d{}, q{}, r{}, m{}), '{}', ...  ({} bytes)",
                            m.dup as u8,
                            m.qos as u8,
                            m.retain as u8,
                            m.pkid,
                            inbox.topic(&m),
                            inbox.payload(&m).len()
                        );
                        self.log(0x10, || line);
                    }
                    self.notes.push(Notify::Message(m));
                }
                Event::Published {
                    mid,
                    reason,
                    properties,
                } => {
                    if reason >= 0x80 {
                        self.log(0x04, || {
                            format!(
                                "Message {mid} refused by the broker: {} (0x{reason:02x})",
                                crate::proto::reason::name(reason).unwrap_or("unknown reason")
                            )
                        });
                    }
                    self.undelivered_published.push(mid);
                    self.notes.push(Notify::Publish {
                        mid,
                        reason: reason.into(),
                        properties: properties.and_then(props),
                    });
                }
                Event::Downgraded { mid } => self.log(0x04, || {
                    format!("Message {mid} (QoS 2) answered with PUBACK: the broker downgraded it to QoS 1")
                }),
                Event::Subscribed {
                    mid,
                    granted,
                    properties,
                } => {
                    self.notes.push(Notify::Subscribe {
                        mid,
                        codes: granted.into_iter().map(c_int::from).collect(),
                        properties: props(properties),
                    });
                }
                Event::Unsubscribed {
                    mid,
                    reasons,
                    properties,
                } => self.notes.push(Notify::Unsubscribe {
                    mid,
                    codes: reasons.into_iter().map(c_int::from).collect(),
                    properties: props(properties),
                }),
                Event::Auth { reason, properties } => {
                    self.log(0x10, || format!("Received AUTH (reason 0x{reason:02x})"));
                    self.notes.push(Notify::Auth {
                        reason: reason.into(),
                        properties,
                    })
                }
                Event::Disconnected {
                    rc,
                    reason,
                    properties,
                } => self.notes.push(Notify::Disconnect {
                    rc,
                    reason: reason.map_or(-1, c_int::from),
                    properties,
                }),
            }
        }
    }

    /// paho 1.6 answers two refusals by retrying at once (when reconnecting on failure
    /// is on): protocol version refused under 3.1.1 → retry as 3.1; identifier
    /// rejected with an empty id → retry with a random id. Returns true when handled.
    fn retry_refusal(&mut self, rc: u8) -> bool {
        use crate::proto::ProtocolVersion;
        if !self.opts.reconnect_on_failure {
            return false;
        }
        let cfg = self.session.config_mut();
        if rc == 1 && cfg.protocol == ProtocolVersion::V311 {
            cfg.protocol = ProtocolVersion::V31;
            if cfg.client_id.is_empty() {
                cfg.client_id = super::random_client_id();
            }
            self.log(0x01, || {
                "CONNACK refused the protocol version: retrying with MQTT 3.1".to_string()
            });
        } else if rc == 2 && cfg.client_id.is_empty() {
            cfg.client_id = super::random_client_id();
            self.log(0x01, || {
                "CONNACK rejected the empty client id: retrying with a random one".to_string()
            });
        } else {
            return false;
        }
        self.close(code::CONN_REFUSED, false);
        self.retry_now = true;
        true
    }
}
