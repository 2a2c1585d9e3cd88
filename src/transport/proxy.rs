//! Tunnels through a proxy before MQTT (or TLS, or WebSockets) starts: HTTP CONNECT
//! with Basic credentials, SOCKS4 and 4a, SOCKS5 without authentication or with a user
//! name and password (RFC 1928, RFC 1929).
//!
//! [`Handshake`] is the exchange as a state machine over bytes (what to send, what the
//! proxy answered), with no socket; [`tunnel`] drives it on a connected socket until
//! the deadline.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Socks4,
    Socks5,
    Http,
}

/// `mqttc_proxy_set`'s settings.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    /// Let the proxy resolve the broker's name (else the client resolves it).
    pub rdns: bool,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Where the tunnel goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A name the proxy resolves.
    Name(String, u16),
    Addr(SocketAddr),
}

/// Why the proxy did not open the tunnel; the text is the proxy's answer, for the log.
#[derive(Debug, PartialEq, Eq)]
pub struct ProxyError(pub String);

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(why: impl Into<String>) -> Result<T, ProxyError> {
    Err(ProxyError(why.into()))
}

#[derive(Debug)]
enum State {
    /// SOCKS4: waiting for the 8-byte reply.
    Socks4Reply,
    /// SOCKS5: waiting for the method the proxy chose.
    Socks5Method,
    /// SOCKS5: waiting for the user name/password verdict.
    Socks5Auth,
    /// SOCKS5: waiting for the reply to CONNECT.
    Socks5Reply,
    /// HTTP: waiting for the response head.
    HttpReply,
    Done,
}

/// One proxy exchange.
#[derive(Debug)]
pub struct Handshake {
    state: State,
    target: Target,
    username: Option<String>,
    password: Option<String>,
    /// Bytes to send.
    out: Vec<u8>,
    /// The proxy's bytes not handled yet.
    input: Vec<u8>,
}

/// The longest HTTP response head taken from a proxy.
const MAX_HTTP_HEAD: usize = 16 * 1024;

impl Handshake {
    /// The exchange for `cfg` to `target`, its first message queued.
    pub fn new(cfg: &ProxyConfig, target: Target) -> Result<Handshake, ProxyError> {
        let mut h = Handshake {
            state: State::Done,
            target,
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            out: Vec::new(),
            input: Vec::new(),
        };
        match cfg.kind {
            ProxyKind::Socks4 => h.socks4_request()?,
            ProxyKind::Socks5 => h.socks5_greeting()?,
            ProxyKind::Http => h.http_request()?,
        }
        Ok(h)
    }

    /// What is to be sent now.
    pub fn pending(&self) -> &[u8] {
        &self.out
    }

    /// `n` bytes of [`pending`](Self::pending) were sent.
    pub fn sent(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// The tunnel is open.
    pub fn done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Bytes from the proxy. More output may be queued; an error ends the exchange.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), ProxyError> {
        if self.done() {
            return fail("the proxy sent data before the tunnel was used");
        }
        self.input.extend_from_slice(data);
        loop {
            let used = match self.state {
                State::Socks4Reply => self.socks4_reply()?,
                State::Socks5Method => self.socks5_method()?,
                State::Socks5Auth => self.socks5_auth()?,
                State::Socks5Reply => self.socks5_reply()?,
                State::HttpReply => self.http_reply()?,
                State::Done => return fail("the proxy sent data after its reply"),
            };
            let Some(used) = used else {
                return Ok(());
            };
            self.input.drain(..used);
            if self.done() {
                return if self.input.is_empty() {
                    Ok(())
                } else {
                    fail("the proxy sent data after its reply")
                };
            }
        }
    }

    // -- SOCKS4 / 4a ---------------------------------------------------------------

    fn socks4_request(&mut self) -> Result<(), ProxyError> {
        let user = self.username.clone().unwrap_or_default();
        if user.as_bytes().contains(&0) {
            return fail("a SOCKS4 user id cannot hold a NUL");
        }
        let (port, ip, name) = match &self.target {
            Target::Addr(SocketAddr::V4(a)) => (a.port(), a.ip().octets(), None),
            Target::Addr(SocketAddr::V6(_)) => {
                return fail("SOCKS4 cannot reach an IPv6 address (use SOCKS5)")
            }
            // SOCKS4a: the address 0.0.0.x (x not 0) says a name follows the user id.
            Target::Name(n, p) => (*p, [0, 0, 0, 1], Some(n.clone())),
        };
        self.out.extend_from_slice(&[4, 1]);
        self.out.extend_from_slice(&port.to_be_bytes());
        self.out.extend_from_slice(&ip);
        self.out.extend_from_slice(user.as_bytes());
        self.out.push(0);
        if let Some(n) = name {
            self.out.extend_from_slice(n.as_bytes());
            self.out.push(0);
        }
        self.state = State::Socks4Reply;
        Ok(())
    }

    fn socks4_reply(&mut self) -> Result<Option<usize>, ProxyError> {
        let Some(r) = self.input.get(..8) else {
            return Ok(None);
        };
        if r[0] != 0 {
            return fail(format!("not a SOCKS4 reply (version byte {})", r[0]));
        }
        match r[1] {
            90 => {
                self.state = State::Done;
                Ok(Some(8))
            }
            91 => fail("SOCKS4 request rejected or failed (91)"),
            92 => fail("SOCKS4 request rejected: the proxy cannot reach the client's identd (92)"),
            93 => fail("SOCKS4 request rejected: identd and user id differ (93)"),
            c => fail(format!("SOCKS4 request refused with code {c}")),
        }
    }

    // -- SOCKS5 ------------------------------------------------------------------------

    /// RFC 1929 wants a user name and a password of 1..255 bytes each; as PySocks,
    /// the method is offered only when both are set.
    fn has_credentials(&self) -> bool {
        self.username.as_deref().is_some_and(|u| !u.is_empty())
            && self.password.as_deref().is_some_and(|p| !p.is_empty())
    }

    fn socks5_greeting(&mut self) -> Result<(), ProxyError> {
        if self.has_credentials() {
            let (u, p) = (self.username_bytes(), self.password_bytes());
            if u.len() > 255 || p.len() > 255 {
                return fail("a SOCKS5 user name or password is longer than 255 bytes");
            }
            // No authentication, or user name/password (RFC 1929).
            self.out.extend_from_slice(&[5, 2, 0, 2]);
        } else {
            self.out.extend_from_slice(&[5, 1, 0]);
        }
        self.state = State::Socks5Method;
        Ok(())
    }

    fn username_bytes(&self) -> Vec<u8> {
        self.username.clone().unwrap_or_default().into_bytes()
    }

    fn password_bytes(&self) -> Vec<u8> {
        self.password.clone().unwrap_or_default().into_bytes()
    }

    fn socks5_method(&mut self) -> Result<Option<usize>, ProxyError> {
        let Some(r) = self.input.get(..2) else {
            return Ok(None);
        };
        if r[0] != 5 {
            return fail(format!("not a SOCKS5 reply (version byte {})", r[0]));
        }
        match r[1] {
            0 => self.socks5_connect()?,
            2 if self.has_credentials() => {
                let (u, p) = (self.username_bytes(), self.password_bytes());
                self.out.push(1);
                self.out.push(u.len() as u8);
                self.out.extend_from_slice(&u);
                self.out.push(p.len() as u8);
                self.out.extend_from_slice(&p);
                self.state = State::Socks5Auth;
            }
            0xff => {
                return fail(if self.has_credentials() {
                    "the SOCKS5 proxy accepts neither no authentication nor user name/password"
                } else {
                    "the SOCKS5 proxy requires authentication (set a user name and password)"
                })
            }
            m => {
                return fail(format!(
                    "the SOCKS5 proxy chose method {m}, which was not offered"
                ))
            }
        }
        Ok(Some(2))
    }

    fn socks5_auth(&mut self) -> Result<Option<usize>, ProxyError> {
        let Some(r) = self.input.get(..2) else {
            return Ok(None);
        };
        if r[1] != 0 {
            return fail(format!(
                "the SOCKS5 proxy refused the user name and password (status {})",
                r[1]
            ));
        }
        self.socks5_connect()?;
        Ok(Some(2))
    }

    fn socks5_connect(&mut self) -> Result<(), ProxyError> {
        self.out.extend_from_slice(&[5, 1, 0]);
        let port = match &self.target {
            Target::Addr(SocketAddr::V4(a)) => {
                self.out.push(1);
                self.out.extend_from_slice(&a.ip().octets());
                a.port()
            }
            Target::Addr(SocketAddr::V6(a)) => {
                self.out.push(4);
                self.out.extend_from_slice(&a.ip().octets());
                a.port()
            }
            Target::Name(n, p) => {
                if n.is_empty() || n.len() > 255 {
                    return fail("a SOCKS5 host name must be 1..255 bytes");
                }
                self.out.push(3);
                self.out.push(n.len() as u8);
                self.out.extend_from_slice(n.as_bytes());
                *p
            }
        };
        self.out.extend_from_slice(&port.to_be_bytes());
        self.state = State::Socks5Reply;
        Ok(())
    }

    fn socks5_reply(&mut self) -> Result<Option<usize>, ProxyError> {
        let Some(head) = self.input.get(..5) else {
            return Ok(None);
        };
        if head[0] != 5 {
            return fail(format!("not a SOCKS5 reply (version byte {})", head[0]));
        }
        if head[1] != 0 {
            let why = match head[1] {
                1 => "general SOCKS server failure",
                2 => "connection not allowed by ruleset",
                3 => "network unreachable",
                4 => "host unreachable",
                5 => "connection refused",
                6 => "TTL expired",
                7 => "command not supported",
                8 => "address type not supported",
                _ => "unknown reply code",
            };
            return fail(format!("SOCKS5 proxy: {why} ({})", head[1]));
        }
        let len = match head[3] {
            1 => 4 + 4 + 2,
            4 => 4 + 16 + 2,
            3 => 4 + 1 + usize::from(head[4]) + 2,
            t => return fail(format!("SOCKS5 reply with address type {t}")),
        };
        if self.input.len() < len {
            return Ok(None);
        }
        self.state = State::Done;
        Ok(Some(len))
    }

    // -- HTTP CONNECT --------------------------------------------------------------

    fn http_request(&mut self) -> Result<(), ProxyError> {
        let authority = match &self.target {
            // Nothing that could end the request line or a header.
            Target::Name(n, _) if n.bytes().any(|b| b <= b' ' || b == 0x7f) => {
                return fail("a host name with spaces or control characters")
            }
            Target::Name(n, p) => format!("{n}:{p}"),
            Target::Addr(a) => a.to_string(),
        };
        let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(user) = &self.username {
            let creds = format!("{user}:{}", self.password.as_deref().unwrap_or(""));
            req.push_str("Proxy-Authorization: Basic ");
            req.push_str(&base64(creds.as_bytes()));
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        self.out = req.into_bytes();
        self.state = State::HttpReply;
        Ok(())
    }

    fn http_reply(&mut self) -> Result<Option<usize>, ProxyError> {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        let used = match resp.parse(&self.input) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if self.input.len() > MAX_HTTP_HEAD => {
                return fail("the HTTP proxy's answer is too long")
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return fail(format!("not an HTTP answer from the proxy ({e})")),
        };
        let code = resp.code.unwrap_or(0);
        if !(200..300).contains(&code) {
            return fail(format!(
                "the HTTP proxy answered {code} {}",
                resp.reason.unwrap_or("")
            ));
        }
        self.state = State::Done;
        Ok(Some(used))
    }
}

/// Standard base64 with padding (RFC 4648), for Basic credentials.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Where a tunnel to `host`:`port` goes: an address as given, a name as it is when
/// the proxy resolves it (`rdns`), else the first address the client resolves (an
/// IPv4 one for SOCKS4, which has no other).
pub fn target(
    kind: ProxyKind,
    host: &str,
    port: u16,
    rdns: bool,
    deadline: Instant,
) -> io::Result<Target> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Target::Addr(SocketAddr::new(ip, port)));
    }
    if rdns {
        return Ok(Target::Name(host.to_string(), port));
    }
    let addrs = super::tcp::resolve(host, port, deadline)?;
    let pick = match kind {
        ProxyKind::Socks4 => addrs.iter().find(|a| a.is_ipv4()).unwrap_or(&addrs[0]),
        _ => &addrs[0],
    };
    Ok(Target::Addr(*pick))
}

/// Run `hs` on `stream` (connected to the proxy, non-blocking) until the tunnel is
/// open, the proxy refuses, or `deadline`.
pub fn tunnel(
    stream: &mio::net::TcpStream,
    mut hs: Handshake,
    deadline: Instant,
) -> Result<(), TunnelError> {
    use std::os::unix::io::AsRawFd;
    let fd = stream.as_raw_fd();
    let mut buf = [0u8; 1024];
    loop {
        while !hs.pending().is_empty() {
            match (&*stream).write(hs.pending()) {
                Ok(n) => hs.sent(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    super::wait_fd(fd, libc::POLLOUT, deadline)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(closed_or(e)),
            }
        }
        if hs.done() {
            return Ok(());
        }
        match (&*stream).read(&mut buf) {
            Ok(0) => {
                return Err(TunnelError::Proxy(ProxyError(
                    "the proxy closed the connection".into(),
                )))
            }
            Ok(n) => hs.feed(&buf[..n]).map_err(TunnelError::Proxy)?,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                super::wait_fd(fd, libc::POLLIN, deadline)?
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(closed_or(e)),
        }
    }
}

/// A proxy that hung up in the middle of the exchange is the proxy's failure; other
/// socket errors stay system errors.
fn closed_or(e: io::Error) -> TunnelError {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
            TunnelError::Proxy(ProxyError(format!("the proxy closed the connection ({e})")))
        }
        _ => TunnelError::Io(e),
    }
}

/// A tunnel that did not open: the proxy's doing, or the socket's.
#[derive(Debug)]
pub enum TunnelError {
    Proxy(ProxyError),
    Io(io::Error),
}

impl From<io::Error> for TunnelError {
    fn from(e: io::Error) -> Self {
        TunnelError::Io(e)
    }
}

#[cfg(test)]
mod tests;
