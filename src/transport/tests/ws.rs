//! WebSockets: the upgrade request, MQTT bytes across frame boundaries, control frames,
//! against an in-process tungstenite server (plain and over TLS).

use super::pki::Ca;
use super::{read_n, read_to_end, tcp_to, write_all};
use crate::error::Error;
use crate::transport::ws::build_request;
use crate::transport::{TcpTransport, TlsSettings, TlsTransport, Transport, WsTransport};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use tungstenite::handshake::server::{Request, Response};
use tungstenite::{Bytes, Message, WebSocket};

/// The request line and headers the server received.
#[derive(Debug, Default, Clone)]
struct Upgrade {
    path: String,
    headers: Vec<(String, String)>,
}

impl Upgrade {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

type Script<S> = Box<dyn FnOnce(&mut WebSocket<S>) + Send>;

/// Accept one WebSocket (answering subprotocol "mqtt") and run `script` on it.
// tungstenite's header callback signature returns its large error type.
#[allow(clippy::result_large_err)]
fn serve_ws<S, F>(wrap: F, script: Script<S>) -> (SocketAddr, JoinHandle<Upgrade>)
where
    S: Read + Write + Send + 'static,
    F: FnOnce(TcpStream) -> S + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut seen = Upgrade::default();
        let stream = wrap(sock);
        let mut ws = tungstenite::accept_hdr(stream, |req: &Request, mut resp: Response| {
            seen.path = req.uri().to_string();
            seen.headers = req
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", "mqtt".parse().unwrap());
            Ok(resp)
        })
        .unwrap();
        script(&mut ws);
        seen
    });
    (addr, h)
}

fn ws_connect(addr: SocketAddr, path: &str, headers: &[String]) -> Result<WsTransport, Error> {
    let req = build_request("127.0.0.1", addr.port(), path, headers, false).unwrap();
    let inner: Box<dyn Transport> = Box::new(TcpTransport::new(tcp_to(addr)));
    WsTransport::connect(inner, req, Instant::now() + Duration::from_secs(5))
}

fn ws_client(addr: SocketAddr, path: &str, headers: &[String]) -> WsTransport {
    ws_connect(addr, path, headers).unwrap()
}

/// The upgrade failed with `Error::WebSocket` mentioning `needle`.
fn assert_refused(r: Result<WsTransport, Error>, needle: &str) {
    match r {
        Err(Error::WebSocket(why)) => assert!(why.contains(needle), "{why}"),
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("upgrade accepted"),
    }
}

/// Receive binary messages until `n` bytes arrived; returns them and the frame count.
fn recv_binary<S: Read + Write>(ws: &mut WebSocket<S>, n: usize) -> (Vec<u8>, usize) {
    let mut got = Vec::new();
    let mut frames = 0;
    while got.len() < n {
        match ws.read().unwrap() {
            Message::Binary(b) => {
                frames += 1;
                got.extend_from_slice(&b);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    (got, frames)
}

#[test]
fn upgrade_request_carries_path_subprotocol_host_and_headers() {
    let (addr, h) = serve_ws(|s| s, Box::new(|_| {}));
    let headers = vec![
        "Authorization: Bearer abc".to_string(),
        "X-Extra:  two words ".to_string(),
        "x-extra: again".to_string(),
    ];
    let _t = ws_client(addr, "custom/path?x=1", &headers);
    let up = h.join().unwrap();
    assert_eq!(up.path, "/custom/path?x=1");
    assert_eq!(up.header("sec-websocket-protocol"), ["mqtt"]);
    assert_eq!(up.header("host"), [format!("127.0.0.1:{}", addr.port())]);
    assert_eq!(up.header("authorization"), ["Bearer abc"]);
    assert_eq!(up.header("x-extra"), ["two words", "again"]);
}

#[test]
fn a_caller_header_replaces_ours() {
    let req = build_request("h", 1, "/mqtt", &["Host: example.test".into()], false).unwrap();
    let hosts: Vec<_> = req.headers().get_all("host").iter().collect();
    assert_eq!(hosts, ["example.test"]);
    assert!(matches!(
        build_request("h", 1, "/mqtt", &["Bad Name: x".into()], false),
        Err(Error::Inval)
    ));
    let req = build_request("::1", 8080, "/mqtt", &[], true).unwrap();
    assert_eq!(req.headers()["host"], "[::1]:8080");
}

#[test]
fn packets_split_across_frames_and_frames_holding_several_packets() {
    // Three PINGRESP-sized packets and one PUBLISH, framed badly on purpose.
    let stream: Vec<u8> = [
        &[0xd0, 0x00][..],
        &[0xd0, 0x00],
        &[0x30, 0x07, 0x00, 0x01, b't', b'a', b'b', b'c', b'd'],
        &[0xd0, 0x00],
    ]
    .concat();
    let frames: Vec<Vec<u8>> = vec![
        stream[..1].to_vec(),  // half a packet
        stream[1..7].to_vec(), // the rest, a whole one, and a piece of the next
        stream[7..].to_vec(),  // the rest of it and one more
    ];
    let expected = stream.clone();
    let (addr, h) = serve_ws(
        |s| s,
        Box::new(move |ws| {
            for f in frames {
                ws.send(Message::Binary(Bytes::from(f))).unwrap();
            }
            // Wait for the client to finish before closing.
            let _ = ws.read();
        }),
    );
    let mut t = ws_client(addr, "/mqtt", &[]);
    // Small reads: a frame's payload is handed out over several calls.
    assert_eq!(read_n(&mut t, expected.len(), 3), expected);
    write_all(&mut t, b"done");
    h.join().unwrap();
}

#[test]
fn client_frames_are_masked_binary_and_bounded() {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let expected = data.clone();
    let (tx, rx) = mpsc::channel();
    let (addr, h) = serve_ws(
        |s| s,
        Box::new(move |ws| {
            // tungstenite's server refuses unmasked client frames (RFC 6455 5.1),
            // so receiving them proves they were masked.
            tx.send(recv_binary(ws, expected.len())).unwrap();
        }),
    );
    let mut t = ws_client(addr, "/mqtt", &[]);
    write_all(&mut t, &data);
    let (got, frames) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got, data);
    assert!(frames >= 4, "{frames} frames for 200000 bytes");
    h.join().unwrap();
}

#[test]
fn pings_are_answered_and_close_is_end_of_stream() {
    let (tx, rx) = mpsc::channel();
    let (addr, h) = serve_ws(
        |s| s,
        Box::new(move |ws| {
            ws.send(Message::Ping(Bytes::from_static(b"p1"))).unwrap();
            let pong = ws.read().unwrap();
            tx.send(pong).unwrap();
            ws.send(Message::Binary(Bytes::from_static(b"\xd0\x00")))
                .unwrap();
            ws.close(None).unwrap();
            // Drive the close handshake to its end.
            while ws.read().is_ok() {}
        }),
    );
    let mut t = ws_client(addr, "/mqtt", &[]);
    // The ping is consumed by read (nothing for MQTT) and answered by flush.
    assert_eq!(read_n(&mut t, 2, 16), b"\xd0\x00");
    match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
        Message::Pong(p) => assert_eq!(&p[..], b"p1"),
        other => panic!("expected a pong, got {other:?}"),
    }
    assert_eq!(read_to_end(&mut t).unwrap(), 0);
    h.join().unwrap();
}

#[test]
fn text_frames_end_the_connection() {
    let (addr, h) = serve_ws(
        |s| s,
        Box::new(|ws| {
            ws.send(Message::text("hello")).unwrap();
            let _ = ws.read();
        }),
    );
    let mut t = ws_client(addr, "/mqtt", &[]);
    let e = read_to_end(&mut t).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    drop(t);
    h.join().unwrap();
}

#[test]
fn refused_upgrade_is_a_websocket_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 2048];
        let _ = s.read(&mut buf);
        s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    assert_refused(ws_connect(addr, "/nope", &[]), "404");
    h.join().unwrap();
}

#[test]
fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_millis(600));
        drop(s);
    });
    let req = build_request("127.0.0.1", addr.port(), "/mqtt", &[], false).unwrap();
    let inner: Box<dyn Transport> = Box::new(TcpTransport::new(tcp_to(addr)));
    let r = WsTransport::connect(inner, req, Instant::now() + Duration::from_millis(200));
    assert!(matches!(r, Err(Error::Io(ref e)) if e.raw_os_error() == Some(libc::ETIMEDOUT)));
    h.join().unwrap();
}

#[test]
fn websockets_over_tls() {
    let ca = Ca::new("test CA");
    let leaf = ca.leaf(&["localhost"], false);
    let server_cfg = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain(), leaf.key())
        .unwrap(),
    );
    let (addr, h) = serve_ws(
        move |sock| {
            rustls::StreamOwned::new(rustls::ServerConnection::new(server_cfg).unwrap(), sock)
        },
        Box::new(|ws| {
            let (got, _) = recv_binary(ws, 6);
            ws.send(Message::Binary(Bytes::from(got))).unwrap();
            let _ = ws.read();
        }),
    );
    let mut s = TlsSettings::new();
    s.load_ca_pem(ca.pem().as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let tls =
        TlsTransport::connect(tcp_to(addr), "localhost", s.build().unwrap(), deadline).unwrap();
    let req = build_request("localhost", addr.port(), "/mqtt", &[], true).unwrap();
    let mut t = WsTransport::connect(Box::new(tls), req, deadline).unwrap();
    write_all(&mut t, b"secure");
    assert_eq!(read_n(&mut t, 6, 4), b"secure");
    drop(t);
    let up = h.join().unwrap();
    assert_eq!(up.header("host"), [format!("localhost:{}", addr.port())]);
}

/// A hand-written upgrade answer: reads the request, answers 101 with `accept` (None:
/// the right key) and `extra` header lines, then `after` in the same write, and hands
/// the socket to `script` as the server side of a WebSocket.
fn serve_raw(
    accept: Option<&'static str>,
    extra: &'static str,
    after: &'static [u8],
    script: Script<TcpStream>,
) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = Vec::new();
        let mut b = [0u8; 1];
        while !req.ends_with(b"\r\n\r\n") {
            if s.read(&mut b).unwrap() == 0 {
                return;
            }
            req.push(b[0]);
        }
        let req = String::from_utf8(req).unwrap();
        let key = req
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .trim()
            .to_string();
        let accept = match accept {
            Some(a) => a.to_string(),
            None => tungstenite::handshake::derive_accept_key(key.as_bytes()),
        };
        let mut answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
        )
        .into_bytes();
        answer.extend_from_slice(after);
        s.write_all(&answer).unwrap();
        let mut ws = WebSocket::from_raw_socket(s, tungstenite::protocol::Role::Server, None);
        script(&mut ws);
    });
    (addr, h)
}

#[test]
fn a_server_naming_no_subprotocol_is_accepted_and_frames_behind_its_answer_are_kept() {
    // A binary frame (PINGRESP) written together with the 101 answer.
    let (addr, h) = serve_raw(
        None,
        "",
        &[0x82, 2, 0xd0, 0x00],
        Box::new(|ws| {
            let (got, _) = recv_binary(ws, 2);
            assert_eq!(got, [0xc0, 0x00]);
        }),
    );
    let mut t =
        ws_connect(addr, "/mqtt", &[]).expect("upgrade without a subprotocol in the answer");
    assert_eq!(read_n(&mut t, 2, 16), [0xd0, 0x00]);
    write_all(&mut t, &[0xc0, 0x00]);
    h.join().unwrap();
}

#[test]
fn a_server_choosing_another_subprotocol_is_refused() {
    let (addr, h) = serve_raw(
        None,
        "Sec-WebSocket-Protocol: mqttv3.1\r\n",
        b"",
        Box::new(|_| {}),
    );
    assert_refused(ws_connect(addr, "/mqtt", &[]), "mqttv3.1");
    h.join().unwrap();
}

#[test]
fn a_wrong_accept_key_is_refused() {
    let (addr, h) = serve_raw(
        Some("dGhlIHNhbXBsZSBub25jZQ=="),
        "Sec-WebSocket-Protocol: mqtt\r\n",
        b"",
        Box::new(|_| {}),
    );
    assert_refused(ws_connect(addr, "/mqtt", &[]), "Sec-WebSocket-Accept");
    h.join().unwrap();
}
