//! Unix domain sockets (paho 2's `transport="unix"`): the broker's socket path in place
//! of a host name. The connected socket is a stream socket like TCP's, so the plain TCP
//! transport carries it unchanged (reads and writes are recv/send on the descriptor).

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::FromRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// Connect to the stream socket at `path` by `deadline`. The result is non-blocking.
/// A missing socket is `ENOENT`, one nobody listens on `ECONNREFUSED`, a path longer
/// than `sun_path` holds `ENAMETOOLONG`; a listener whose backlog stays full until the
/// deadline gives `ETIMEDOUT`.
pub fn connect_unix(path: &str, deadline: Instant) -> io::Result<mio::net::TcpStream> {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = Path::new(path).as_os_str().as_bytes();
    // One byte stays for the NUL terminator.
    if bytes.is_empty() || bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(if bytes.is_empty() {
            libc::ENOENT
        } else {
            libc::ENAMETOOLONG
        }));
    }
    for (dst, &src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
    // SAFETY: plain socket(2) call; the fd is owned by the stream below.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket we own; the stream closes it on every path.
    let stream = unsafe { std::net::TcpStream::from_raw_fd(fd) };
    loop {
        // SAFETY: addr/len describe a valid sockaddr_un.
        let rc = unsafe { libc::connect(fd, &addr as *const _ as *const libc::sockaddr, len) };
        if rc == 0 {
            return Ok(mio::net::TcpStream::from_std(stream));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            // The listener's backlog is full (a non-blocking Unix connect does not
            // wait): try again until the deadline.
            Some(libc::EAGAIN) => {
                if super::cancelled() {
                    return Err(io::Error::from_raw_os_error(libc::ECANCELED));
                }
                if Instant::now() >= deadline {
                    return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => return Err(err),
        }
    }
}
