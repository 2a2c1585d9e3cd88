//! The proxy exchanges byte by byte.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn cfg(kind: ProxyKind, user: Option<&str>, pass: Option<&str>) -> ProxyConfig {
    ProxyConfig {
        kind,
        host: "proxy".into(),
        port: 1080,
        rdns: true,
        username: user.map(str::to_string),
        password: pass.map(str::to_string),
    }
}

fn v4(a: [u8; 4], port: u16) -> Target {
    Target::Addr(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), port))
}

fn name(n: &str, port: u16) -> Target {
    Target::Name(n.into(), port)
}

#[test]
fn socks4_address_and_socks4a_name() {
    let mut h = Handshake::new(
        &cfg(ProxyKind::Socks4, Some("bob"), None),
        v4([10, 0, 0, 7], 1883),
    )
    .unwrap();
    assert_eq!(
        h.pending(),
        [4, 1, 0x07, 0x5b, 10, 0, 0, 7, b'b', b'o', b'b', 0]
    );
    h.sent(12);
    h.feed(&[0, 90, 0, 0, 0, 0]).unwrap();
    assert!(!h.done());
    h.feed(&[0, 0]).unwrap();
    assert!(h.done());

    let h = Handshake::new(&cfg(ProxyKind::Socks4, None, None), name("broker", 8883)).unwrap();
    assert_eq!(
        h.pending(),
        [&[4u8, 1, 0x22, 0xb3, 0, 0, 0, 1, 0][..], b"broker\0"].concat()
    );
}

#[test]
fn socks4_refusals_and_limits() {
    for (code, text) in [(91, "(91)"), (92, "identd"), (93, "differ")] {
        let mut h =
            Handshake::new(&cfg(ProxyKind::Socks4, None, None), v4([1, 2, 3, 4], 1)).unwrap();
        let e = h.feed(&[0, code, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert!(e.0.contains(text), "{e}");
    }
    let mut h = Handshake::new(&cfg(ProxyKind::Socks4, None, None), v4([1, 2, 3, 4], 1)).unwrap();
    assert!(h.feed(&[5, 90, 0, 0, 0, 0, 0, 0]).is_err());
    let v6 = Target::Addr(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 1883));
    assert!(Handshake::new(&cfg(ProxyKind::Socks4, None, None), v6).is_err());
    // More than the reply: data nobody asked for.
    let mut h = Handshake::new(&cfg(ProxyKind::Socks4, None, None), v4([1, 2, 3, 4], 1)).unwrap();
    assert!(h.feed(&[0, 90, 0, 0, 0, 0, 0, 0, 0x20]).is_err());
}

#[test]
fn socks5_without_authentication() {
    let mut h = Handshake::new(&cfg(ProxyKind::Socks5, None, None), name("broker", 1883)).unwrap();
    assert_eq!(h.pending(), [5, 1, 0]);
    h.sent(3);
    h.feed(&[5, 0]).unwrap();
    assert_eq!(
        h.pending(),
        [&[5u8, 1, 0, 3, 6][..], b"broker", &[0x07, 0x5b]].concat()
    );
    h.sent(h.pending().len());
    // The reply comes in pieces; its bound address is a domain of 3 bytes.
    h.feed(&[5, 0, 0, 3]).unwrap();
    h.feed(&[3, b'a', b'b']).unwrap();
    assert!(!h.done());
    h.feed(&[b'c', 0, 1]).unwrap();
    assert!(h.done());
}

#[test]
fn socks5_with_user_name_and_password() {
    let mut h = Handshake::new(
        &cfg(ProxyKind::Socks5, Some("u1"), Some("secret")),
        v4([127, 0, 0, 1], 1883),
    )
    .unwrap();
    assert_eq!(h.pending(), [5, 2, 0, 2]);
    h.sent(4);
    h.feed(&[5, 2]).unwrap();
    assert_eq!(
        h.pending(),
        [&[1u8, 2][..], b"u1", &[6], b"secret"].concat()
    );
    h.sent(h.pending().len());
    h.feed(&[1, 0]).unwrap();
    assert_eq!(h.pending(), [5, 1, 0, 1, 127, 0, 0, 1, 0x07, 0x5b]);
    h.sent(10);
    h.feed(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
    assert!(h.done());
    // IPv6 target: address type 4.
    let v6 = Target::Addr(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 80));
    let mut h = Handshake::new(&cfg(ProxyKind::Socks5, None, None), v6).unwrap();
    h.sent(3);
    h.feed(&[5, 0]).unwrap();
    let mut want = vec![5, 1, 0, 4];
    want.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    want.extend_from_slice(&[0, 80]);
    assert_eq!(h.pending(), want);
}

#[test]
fn socks5_user_without_password_offers_no_authentication() {
    let h = Handshake::new(&cfg(ProxyKind::Socks5, Some("u"), None), name("b", 1)).unwrap();
    assert_eq!(h.pending(), [5, 1, 0]);
    let h = Handshake::new(&cfg(ProxyKind::Socks5, Some("u"), Some("")), name("b", 1)).unwrap();
    assert_eq!(h.pending(), [5, 1, 0]);
}

#[test]
fn http_host_names_cannot_inject_headers() {
    for bad in ["b\r\nX-Evil: 1", "b c", "b\t"] {
        assert!(Handshake::new(&cfg(ProxyKind::Http, None, None), name(bad, 1)).is_err());
    }
}

#[test]
fn socks5_refusals() {
    let mut h = Handshake::new(&cfg(ProxyKind::Socks5, None, None), name("b", 1)).unwrap();
    assert!(h
        .feed(&[5, 0xff])
        .unwrap_err()
        .0
        .contains("requires authentication"));
    let mut h =
        Handshake::new(&cfg(ProxyKind::Socks5, Some("u"), Some("p")), name("b", 1)).unwrap();
    h.feed(&[5, 2]).unwrap();
    assert!(h
        .feed(&[1, 1])
        .unwrap_err()
        .0
        .contains("refused the user name"));
    let mut h = Handshake::new(&cfg(ProxyKind::Socks5, None, None), name("b", 1)).unwrap();
    h.feed(&[5, 0]).unwrap();
    let e = h.feed(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap_err();
    assert!(e.0.contains("connection refused (5)"), "{e}");
    // A method that was not offered.
    let mut h = Handshake::new(&cfg(ProxyKind::Socks5, None, None), name("b", 1)).unwrap();
    assert!(h.feed(&[5, 2]).is_err());
    assert!(Handshake::new(
        &cfg(ProxyKind::Socks5, None, None),
        name(&"x".repeat(256), 1)
    )
    .and_then(|mut h| h.feed(&[5, 0]))
    .is_err());
}

#[test]
fn http_connect_with_and_without_credentials() {
    let mut h = Handshake::new(&cfg(ProxyKind::Http, None, None), name("broker", 1883)).unwrap();
    assert_eq!(
        std::str::from_utf8(h.pending()).unwrap(),
        "CONNECT broker:1883 HTTP/1.1\r\nHost: broker:1883\r\n\r\n"
    );
    h.sent(h.pending().len());
    h.feed(b"HTTP/1.1 200 Connection established\r\n").unwrap();
    assert!(!h.done());
    h.feed(b"Proxy-agent: x\r\n\r\n").unwrap();
    assert!(h.done());

    // RFC 7617's example credentials.
    let h = Handshake::new(
        &cfg(ProxyKind::Http, Some("Aladdin"), Some("open sesame")),
        Target::Addr(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 8883)),
    )
    .unwrap();
    assert_eq!(
        std::str::from_utf8(h.pending()).unwrap(),
        "CONNECT [::1]:8883 HTTP/1.1\r\nHost: [::1]:8883\r\n\
         Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
    );
}

#[test]
fn http_refusals() {
    let mut h = Handshake::new(&cfg(ProxyKind::Http, None, None), name("b", 1)).unwrap();
    let e = h
        .feed(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
        .unwrap_err();
    assert_eq!(
        e.0,
        "the HTTP proxy answered 407 Proxy Authentication Required"
    );
    let mut h = Handshake::new(&cfg(ProxyKind::Http, None, None), name("b", 1)).unwrap();
    assert!(h.feed(b"SSH-2.0-OpenSSH\r\n").is_err());
    let mut h = Handshake::new(&cfg(ProxyKind::Http, None, None), name("b", 1)).unwrap();
    assert!(h.feed(&vec![b'a'; MAX_HTTP_HEAD + 1]).is_err());
}

#[test]
fn base64_of_every_tail_length() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}
