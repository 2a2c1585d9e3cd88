//! Transport tests against in-process servers on loopback: rustls servers for TLS and
//! tungstenite servers for WebSockets, with certificates generated per test (rcgen).

mod pki;
mod tls;
mod ws;

use super::{wait_fd, Transport};
use std::io;
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

/// A connected non-blocking client socket to `addr`.
pub fn tcp_to(addr: std::net::SocketAddr) -> mio::net::TcpStream {
    super::connect_tcp(
        &addr.ip().to_string(),
        addr.port(),
        None,
        Duration::from_secs(5),
    )
    .expect("connect to the test server")
}

/// Read exactly `n` bytes from a non-blocking transport, waiting on its socket (fails
/// the test after 5 s or at end of stream).
pub fn read_n(t: &mut dyn Transport, n: usize, chunk: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    while out.len() < n {
        match t.read(&mut buf[..chunk.min(n - out.len())]) {
            Ok(0) => panic!("end of stream after {} of {n} bytes", out.len()),
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(!t.has_buffered_read(), "WouldBlock with buffered data");
                flush_all(t);
                wait_fd(t.fd(), libc::POLLIN, deadline).expect("data in time");
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }
    out
}

/// Read until the transport reports end of stream or an error; returns the result of
/// the last read (Ok(0) or the error).
pub fn read_to_end(t: &mut dyn Transport) -> io::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    loop {
        match t.read(&mut buf) {
            Ok(0) => return Ok(0),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                flush_all(t);
                wait_fd(t.fd(), libc::POLLIN, deadline)?
            }
            Err(e) => return Err(e),
        }
    }
}

/// Write all of `data`, waiting for the socket when it pushes back.
pub fn write_all(t: &mut dyn Transport, mut data: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !data.is_empty() {
        match t.write(data) {
            Ok(0) => panic!("write returned 0"),
            Ok(k) => data = &data[k..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_fd(t.fd(), libc::POLLOUT, deadline).expect("writable in time")
            }
            Err(e) => panic!("write failed: {e}"),
        }
    }
    flush_all(t);
}

/// Flush until the transport holds nothing more.
pub fn flush_all(t: &mut dyn Transport) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        t.flush().expect("flush");
        if !t.wants_write() {
            return;
        }
        wait_fd(t.fd(), libc::POLLOUT, deadline).expect("writable in time");
    }
}

#[test]
fn wait_fd_times_out() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let start = Instant::now();
    let e = wait_fd(
        s.as_raw_fd(),
        libc::POLLIN,
        Instant::now() + Duration::from_millis(100),
    )
    .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ETIMEDOUT));
    assert!(start.elapsed() >= Duration::from_millis(90));
}
