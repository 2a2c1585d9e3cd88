use super::Transport;
use std::io::{self, Read, Write};
use std::mem;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::unix::io::{AsRawFd, FromRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Plain TCP.
///
/// The stream is shared so that the loop thread can write a batch without holding the
/// client lock (see [`Transport::shared_stream`]): the socket is closed when the last
/// holder lets go, never under a write in progress.
pub struct TcpTransport {
    stream: Arc<mio::net::TcpStream>,
}

impl TcpTransport {
    pub fn new(stream: mio::net::TcpStream) -> Self {
        TcpTransport {
            stream: Arc::new(stream),
        }
    }
}

impl Transport for TcpTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.stream).read(buf)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.stream).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn wants_write(&self) -> bool {
        false
    }
    fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }
    fn source(&mut self) -> &mut mio::net::TcpStream {
        // Shared only for the duration of an unlocked write by the loop thread, which
        // never registers the socket at the same time.
        Arc::get_mut(&mut self.stream).expect("TCP stream registered while shared")
    }
    fn shared_stream(&self) -> Option<Arc<mio::net::TcpStream>> {
        Some(Arc::clone(&self.stream))
    }
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Start a non-blocking connect to `addr`, optionally bound to `bind` first.
/// Returns the socket with the connect in progress (or done).
pub fn start_connect(addr: &SocketAddr, bind: Option<IpAddr>) -> io::Result<std::net::TcpStream> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2) call; the fd is owned by the TcpStream below.
    let fd = cvt(unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    // SAFETY: fd is a fresh socket we own; the TcpStream closes it on every path.
    let stream = unsafe { std::net::TcpStream::from_raw_fd(fd) };
    if let Some(ip) = bind {
        let (sa, len) = sockaddr(&SocketAddr::new(ip, 0));
        // SAFETY: sa/len describe a valid sockaddr of the socket's family.
        cvt(unsafe { libc::bind(fd, &sa as *const _ as *const libc::sockaddr, len) })?;
    }
    let (sa, len) = sockaddr(addr);
    // SAFETY: sa/len describe a valid sockaddr for this socket.
    let rc = unsafe { libc::connect(fd, &sa as *const _ as *const libc::sockaddr, len) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(err);
        }
    }
    Ok(stream)
}

/// Wait until `deadline` for a connect in progress on `stream` to finish.
pub fn finish_connect(stream: &std::net::TcpStream, deadline: Instant) -> io::Result<()> {
    super::wait_fd(stream.as_raw_fd(), libc::POLLOUT, deadline)?;
    connect_result(stream)
}

/// The outcome of a finished non-blocking connect (SO_ERROR).
pub fn connect_result(stream: &std::net::TcpStream) -> io::Result<()> {
    if let Some(err) = stream.take_error()? {
        return Err(err);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
            Err(io::Error::from_raw_os_error(libc::ECONNREFUSED))
        }
        Err(e) => Err(e),
    }
}

/// The addresses of `host` (an IP literal, or a name for the system resolver) by
/// `deadline`. getaddrinfo cannot be interrupted, so it runs on a helper thread and the
/// wait for its answer ends at `deadline` (`ETIMEDOUT`) or when this thread's cancel
/// check says so (`ECANCELED`); a lookup given up on finishes on its own and its answer
/// is dropped.
pub fn resolve(host: &str, port: u16, deadline: Instant) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let name = host.to_owned();
    let helper = std::thread::Builder::new()
        .name("mqttc-resolve".into())
        .spawn(move || {
            // The receiver may be gone (given up on): nobody wants the answer then.
            let _ = tx.send(lookup(&name, port));
        });
    if helper.is_err() {
        // No thread to be had: look it up here, without a bound.
        return lookup(host, port);
    }
    loop {
        if super::cancelled() {
            return Err(io::Error::from_raw_os_error(libc::ECANCELED));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{host}: the name lookup did not finish in time"),
            ));
        }
        let slice = (deadline - now).min(Duration::from_millis(super::WAIT_SLICE_MS as u64));
        match rx.recv_timeout(slice) {
            Ok(answer) => return answer,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(io::Error::other(format!("{host}: the name lookup failed")))
            }
        }
    }
}

/// getaddrinfo, blocking. A name it cannot resolve (an EAI_* answer rather than a
/// system error) is `NotFound` (errno ENOENT for the C caller).
fn lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| match e.raw_os_error() {
            Some(_) => e,
            None => io::Error::new(io::ErrorKind::NotFound, format!("{host}: {e}")),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host}: no address"),
        ));
    }
    Ok(addrs)
}

/// Blocking TCP connect to the first address of `host` that answers, giving up at
/// `timeout` overall. The returned stream is non-blocking with TCP_NODELAY set.
pub fn connect_tcp(
    host: &str,
    port: u16,
    bind: Option<&str>,
    timeout: Duration,
) -> io::Result<mio::net::TcpStream> {
    let deadline = Instant::now() + timeout;
    let bind_ip = match bind {
        Some(b) => Some(resolve(b, 0, deadline)?[0].ip()),
        None => None,
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in resolve(host, port, deadline)? {
        if bind_ip.is_some_and(|b| b.is_ipv4() != addr.is_ipv4()) {
            continue;
        }
        match start_connect(&addr, bind_ip).and_then(|s| finish_connect(&s, deadline).map(|_| s)) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(mio::net::TcpStream::from_std(s));
            }
            Err(e) => {
                let timed_out = e.raw_os_error() == Some(libc::ETIMEDOUT);
                last = e;
                if timed_out {
                    break;
                }
            }
        }
    }
    Err(last)
}
