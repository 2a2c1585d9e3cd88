//! DNS SRV lookup for `connect_srv` (RFC 2782): one query over UDP (TCP when the
//! answer is truncated) to the resolver of /etc/resolv.conf, or to `MQTTC_DNS_SERVER`
//! (`ip:port`, for tests), then the targets in the order RFC 2782 asks for: lowest
//! priority first, weighted random order within a priority.
//!
//! Messages are built and parsed by the `domain` crate; no resolver runtime is used.

use crate::error::Error;
use domain::base::iana::{Rcode, Rtype};
use domain::base::name::ParsedName;
use domain::base::{Message, MessageBuilder, Name};
use domain::rdata::Srv;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// Environment variable naming the DNS server to ask instead of resolv.conf's.
pub const DNS_SERVER_ENV: &str = "MQTTC_DNS_SERVER";
const RESOLV_CONF: &str = "/etc/resolv.conf";
/// Longest wait for one server's answer before trying the next.
const PER_SERVER_TIMEOUT: Duration = Duration::from_secs(2);
/// Rounds over the servers that stay silent.
const ATTEMPTS: usize = 2;

/// One SRV record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Host name without the trailing dot.
    pub host: String,
}

/// Why a lookup gave nothing to connect to: the error code and a reason for on_log.
#[derive(Debug)]
pub struct LookupError {
    pub error: Error,
    pub reason: String,
}

impl LookupError {
    fn not_found(reason: String) -> LookupError {
        LookupError {
            error: Error::NotFound,
            reason,
        }
    }
}

/// The service name looked up for `domain`: `_secure-mqtt._tcp.` with TLS (IANA's name
/// for port 8883, as paho uses), else `_mqtt._tcp.`.
pub fn service_name(domain: &str, secure: bool) -> String {
    let service = if secure {
        "_secure-mqtt._tcp"
    } else {
        "_mqtt._tcp"
    };
    format!("{service}.{}", domain.trim_end_matches('.'))
}

/// Look up `name` and return its targets in connection order.
pub fn resolve(name: &str, deadline: Instant) -> Result<Vec<Target>, LookupError> {
    let records = lookup(name, &servers(), deadline)?;
    // RFC 2782: a single record with target "." means the service is not offered.
    if records.len() == 1 && records[0].host.is_empty() {
        return Err(LookupError::not_found(format!(
            "{name}: the service is decidedly not available (target \".\")"
        )));
    }
    let mut rng = Rng::from_os();
    let ordered = order(records, &mut |n| rng.below_or_equal(n));
    if ordered.is_empty() {
        return Err(LookupError::not_found(format!("{name}: no SRV records")));
    }
    Ok(ordered)
}

/// RFC 2782 order: ascending priority; within one priority, repeatedly pick a record
/// at random with probability proportional to its weight (weight 0 records have a
/// small chance, being placed first). `pick(n)` returns a number in `0..=n`.
pub fn order(mut records: Vec<Target>, pick: &mut dyn FnMut(u32) -> u32) -> Vec<Target> {
    records.retain(|r| !r.host.is_empty());
    records.sort_by_key(|r| r.priority);
    let mut out = Vec::with_capacity(records.len());
    let mut rest = records.as_slice();
    while let Some(first) = rest.first() {
        let len = rest
            .iter()
            .take_while(|r| r.priority == first.priority)
            .count();
        let (group, tail) = rest.split_at(len);
        // "all those with weight 0 are placed at the beginning of the list"
        let mut group: Vec<Target> = group.to_vec();
        group.sort_by_key(|r| r.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| r.weight as u32).sum();
            let r = pick(total).min(total);
            let mut running = 0u32;
            let idx = group
                .iter()
                .position(|t| {
                    running += t.weight as u32;
                    running >= r
                })
                .unwrap_or(group.len() - 1);
            out.push(group.remove(idx));
        }
        rest = tail;
    }
    out
}

/// The DNS servers to ask: `MQTTC_DNS_SERVER`, else resolv.conf's `nameserver`s, else
/// 127.0.0.1:53 (as the C library does without one).
pub fn servers() -> Vec<SocketAddr> {
    if let Ok(s) = std::env::var(DNS_SERVER_ENV) {
        if let Some(addr) = parse_server(&s) {
            return vec![addr];
        }
    }
    let conf = std::fs::read_to_string(RESOLV_CONF).unwrap_or_default();
    let mut list: Vec<SocketAddr> = conf
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            match words.next() {
                Some("nameserver") => words.next().and_then(parse_server),
                _ => None,
            }
        })
        .collect();
    if list.is_empty() {
        list.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
    }
    list
}

/// "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353".
fn parse_server(s: &str) -> Option<SocketAddr> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

/// This host's domain, as `hostname -d` finds it: what follows the first dot of the
/// host name, else resolv.conf's `domain` (or first `search`) entry.
pub fn own_domain() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its full length; gethostname NUL-terminates within it
    // (the last byte is kept 0 in case it truncates).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len() - 1) };
    if rc == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        let host = String::from_utf8_lossy(&buf[..end]).into_owned();
        if let Some((_, domain)) = host.split_once('.') {
            if !domain.is_empty() {
                return Some(domain.trim_end_matches('.').to_string());
            }
        }
    }
    let conf = std::fs::read_to_string(RESOLV_CONF).ok()?;
    domain_from_resolv_conf(&conf)
}

fn domain_from_resolv_conf(conf: &str) -> Option<String> {
    let mut search = None;
    for line in conf.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("domain"), Some(d)) => return Some(d.trim_end_matches('.').to_string()),
            (Some("search"), Some(d)) if search.is_none() && d != "." => {
                search = Some(d.trim_end_matches('.').to_string())
            }
            _ => {}
        }
    }
    search
}

/// Ask each server in turn until one answers; servers that stay silent are asked once
/// more (as the C library's resolver does), all within `deadline`.
fn lookup(
    name: &str,
    servers: &[SocketAddr],
    deadline: Instant,
) -> Result<Vec<Target>, LookupError> {
    let qname: Name<Vec<u8>> = Name::vec_from_str(name).map_err(|e| LookupError {
        error: Error::Inval,
        reason: format!("{name}: not a domain name ({e})"),
    })?;
    let mut last = LookupError {
        error: Error::Io(io::Error::from_raw_os_error(libc::ETIMEDOUT)),
        reason: format!("{name}: no DNS server answered"),
    };
    let mut silent: Vec<SocketAddr> = servers.to_vec();
    for _round in 0..ATTEMPTS {
        let mut still_silent = Vec::new();
        for server in &silent {
            let now = Instant::now();
            if now >= deadline {
                return Err(last);
            }
            let until = deadline.min(now + PER_SERVER_TIMEOUT);
            let id = Rng::from_os().below_or_equal(u16::MAX as u32) as u16;
            let query = build_query(&qname, id);
            let answer = match ask(*server, &query, id, until) {
                Ok(a) => a,
                Err(e) => {
                    if e.raw_os_error() == Some(libc::ETIMEDOUT) {
                        still_silent.push(*server);
                    }
                    last = LookupError {
                        reason: format!("{name}: DNS server {server}: {e}"),
                        error: Error::Io(e),
                    };
                    continue;
                }
            };
            match parse_answer(&answer) {
                Ok(records) => return Ok(records),
                Err(Answer::NoSuchName) => {
                    return Err(LookupError::not_found(format!("{name}: no such name")))
                }
                Err(Answer::Failed(why)) => {
                    last = LookupError::not_found(format!("{name}: DNS server {server}: {why}"))
                }
            }
        }
        silent = still_silent;
    }
    Err(last)
}

fn build_query(qname: &Name<Vec<u8>>, id: u16) -> Vec<u8> {
    let mut msg = MessageBuilder::new_vec();
    msg.header_mut().set_id(id);
    msg.header_mut().set_rd(true);
    let mut msg = msg.question();
    // A single question always fits a fresh vector.
    let _ = msg.push((qname, Rtype::SRV));
    msg.finish()
}

/// One query/answer exchange: UDP, then TCP when the answer comes back truncated.
fn ask(server: SocketAddr, query: &[u8], id: u16, until: Instant) -> io::Result<Vec<u8>> {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(server)?;
    sock.send(query)?;
    let mut buf = vec![0u8; 4096];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
        }
        sock.set_read_timeout(Some(left))?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let Ok(msg) = Message::from_octets(&buf[..n]) else {
            continue;
        };
        let h = msg.header();
        if h.id() != id || !h.qr() {
            // A late answer to an earlier query, or noise: keep waiting.
            continue;
        }
        if h.tc() {
            return ask_tcp(server, query, until);
        }
        buf.truncate(n);
        return Ok(buf);
    }
}

/// RFC 1035 4.2.2: over TCP each message is preceded by its 16-bit length.
fn ask_tcp(server: SocketAddr, query: &[u8], until: Instant) -> io::Result<Vec<u8>> {
    let left = until.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
    }
    let mut s = TcpStream::connect_timeout(&server, left)?;
    let mut out = Vec::with_capacity(query.len() + 2);
    out.extend_from_slice(&(query.len() as u16).to_be_bytes());
    out.extend_from_slice(query);
    let left = until
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    s.set_write_timeout(Some(left))?;
    s.set_read_timeout(Some(left))?;
    s.write_all(&out)?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut answer = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut answer)?;
    Ok(answer)
}

enum Answer {
    NoSuchName,
    Failed(String),
}

/// The SRV records of an answer. An empty list is a valid answer (NOERROR, no data).
fn parse_answer(bytes: &[u8]) -> Result<Vec<Target>, Answer> {
    let msg = Message::from_octets(bytes).map_err(|_| Answer::Failed("short answer".into()))?;
    match msg.header().rcode() {
        Rcode::NOERROR => {}
        Rcode::NXDOMAIN => return Err(Answer::NoSuchName),
        other => return Err(Answer::Failed(format!("answered {other}"))),
    }
    let answers = msg
        .answer()
        .map_err(|e| Answer::Failed(format!("malformed answer: {e}")))?;
    let mut out = Vec::new();
    for record in answers.limit_to::<Srv<ParsedName<&[u8]>>>() {
        let record = record.map_err(|e| Answer::Failed(format!("malformed SRV record: {e}")))?;
        let srv = record.data();
        let host = srv.target().to_string();
        let host = host.trim_end_matches('.').to_string();
        out.push(Target {
            priority: srv.priority(),
            weight: srv.weight(),
            port: srv.port(),
            host,
        });
    }
    Ok(out)
}

/// xorshift64*, seeded from the OS: enough for spreading load over SRV targets.
struct Rng(u64);

impl Rng {
    fn from_os() -> Rng {
        let mut seed = [0u8; 8];
        let ok = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut seed))
            .is_ok();
        let mut s = u64::from_ne_bytes(seed);
        if !ok || s == 0 {
            s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9e37_79b9_7f4a_7c15)
                | 1;
        }
        Rng(s)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..=n`.
    fn below_or_equal(&mut self, n: u32) -> u32 {
        (self.next() % (n as u64 + 1)) as u32
    }
}

#[cfg(test)]
mod tests;
