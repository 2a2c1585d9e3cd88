//! TLS: settings (files, cipher names), the verifiers, and the non-blocking transport
//! against an in-process rustls server.

use super::pki::{Ca, Leaf, TempDir};
use super::{flush_all, read_n, read_to_end, tcp_to, write_all};
use crate::error::Error;
use crate::transport::{
    parse_cipher_list, tls_failure, TlsSettings, TlsTransport, TlsVersion, Transport, Verify,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, SupportedProtocolVersion};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What the server saw of one connection.
#[derive(Debug, Default)]
struct Seen {
    /// The server's handshake error, if any.
    failed: Option<String>,
    alpn: Option<Vec<u8>>,
    version: Option<rustls::ProtocolVersion>,
    suite: Option<rustls::CipherSuite>,
    client_cert: bool,
}

type Script = Box<dyn FnOnce(&mut rustls::StreamOwned<ServerConnection, TcpStream>) + Send>;

struct ServerOpts {
    leaf: Leaf,
    client_ca: Option<String>,
    alpn: Vec<Vec<u8>>,
    versions: Vec<&'static SupportedProtocolVersion>,
}

impl ServerOpts {
    fn new(leaf: Leaf) -> ServerOpts {
        ServerOpts {
            leaf,
            client_ca: None,
            alpn: Vec::new(),
            versions: vec![&rustls::version::TLS13, &rustls::version::TLS12],
        }
    }

    fn config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let b = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions)
            .unwrap();
        let b = match &self.client_ca {
            Some(pem) => {
                let mut roots = RootCertStore::empty();
                for c in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    roots.add(c.unwrap()).unwrap();
                }
                let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .unwrap();
                b.with_client_cert_verifier(v)
            }
            None => b.with_no_client_auth(),
        };
        let mut cfg = b
            .with_single_cert(self.leaf.chain(), self.leaf.key())
            .unwrap();
        cfg.alpn_protocols = self.alpn.clone();
        Arc::new(cfg)
    }
}

use rustls::pki_types::pem::PemObject;

/// Serve one TLS connection: handshake, record what was negotiated, run `script`.
fn serve(opts: ServerOpts, script: Script) -> (SocketAddr, JoinHandle<Seen>) {
    let config = opts.config();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let conn = ServerConnection::new(config).unwrap();
        let mut s = rustls::StreamOwned::new(conn, sock);
        let mut seen = Seen::default();
        while s.conn.is_handshaking() {
            if let Err(e) = s.conn.complete_io(&mut s.sock) {
                seen.failed = Some(e.to_string());
                return seen;
            }
        }
        seen.alpn = s.conn.alpn_protocol().map(|p| p.to_vec());
        seen.version = s.conn.protocol_version();
        seen.suite = s.conn.negotiated_cipher_suite().map(|c| c.suite());
        seen.client_cert = s.conn.peer_certificates().is_some_and(|c| !c.is_empty());
        script(&mut s);
        seen
    });
    (addr, h)
}

/// Echo `n` bytes back.
fn echo(n: usize) -> Script {
    Box::new(move |s| {
        let mut buf = vec![0u8; n];
        if s.read_exact(&mut buf).is_ok() {
            let _ = s.write_all(&buf);
            let _ = s.flush();
        }
    })
}

fn nothing() -> Script {
    Box::new(|_| {})
}

fn settings_for(ca: &Ca) -> TlsSettings {
    let mut s = TlsSettings::new();
    s.load_ca_pem(ca.pem().as_bytes()).unwrap();
    s
}

fn connect(s: &TlsSettings, addr: SocketAddr, host: &str) -> Result<TlsTransport, Error> {
    let cfg = s.build()?;
    TlsTransport::connect(
        tcp_to(addr),
        host,
        cfg,
        Instant::now() + Duration::from_secs(5),
    )
}

fn tls_reason(r: Result<TlsTransport, Error>) -> String {
    match r {
        Err(Error::Tls(why)) => why,
        Err(e) => panic!("expected a TLS error, got {e:?}"),
        Ok(_) => panic!("expected a TLS error, got a connection"),
    }
}

#[test]
fn trusted_ca_connects_and_round_trips() {
    let ca = Ca::new("test CA");
    let (addr, h) = serve(ServerOpts::new(ca.leaf(&["localhost"], false)), echo(5));
    let mut t = connect(&settings_for(&ca), addr, "localhost").unwrap();
    write_all(&mut t, b"hello");
    assert_eq!(read_n(&mut t, 5, 64), b"hello");
    let seen = h.join().unwrap();
    assert!(seen.failed.is_none());
    assert_eq!(seen.version, Some(rustls::ProtocolVersion::TLSv1_3));
}

#[test]
fn ip_address_is_checked_against_ip_san() {
    let ca = Ca::new("test CA");
    let (addr, h) = serve(ServerOpts::new(ca.leaf(&["127.0.0.1"], false)), echo(1));
    let mut t = connect(&settings_for(&ca), addr, "127.0.0.1").unwrap();
    write_all(&mut t, b"x");
    assert_eq!(read_n(&mut t, 1, 8), b"x");
    h.join().unwrap();
}

#[test]
fn unrelated_ca_is_refused() {
    let ca = Ca::new("test CA");
    let other = Ca::new("other CA");
    let (addr, h) = serve(ServerOpts::new(ca.leaf(&["localhost"], false)), nothing());
    let why = tls_reason(connect(&settings_for(&other), addr, "localhost"));
    assert!(why.contains("UnknownIssuer"), "{why}");
    // The server learns why: rustls sent an alert before closing.
    assert!(h.join().unwrap().failed.is_some());
}

#[test]
fn wrong_host_name_is_refused_unless_insecure() {
    let ca = Ca::new("test CA");
    let (addr, _h) = serve(
        ServerOpts::new(ca.leaf(&["broker.example.test"], false)),
        nothing(),
    );
    let why = tls_reason(connect(&settings_for(&ca), addr, "localhost"));
    assert!(why.contains("not valid for name"), "{why}");

    let (addr, h) = serve(
        ServerOpts::new(ca.leaf(&["broker.example.test"], false)),
        echo(2),
    );
    let mut s = settings_for(&ca);
    s.set_insecure(true);
    let mut t = connect(&s, addr, "localhost").unwrap();
    write_all(&mut t, b"ok");
    assert_eq!(read_n(&mut t, 2, 8), b"ok");
    h.join().unwrap();
}

#[test]
fn insecure_still_verifies_the_chain() {
    let ca = Ca::new("test CA");
    let other = Ca::new("other CA");
    let (addr, _h) = serve(ServerOpts::new(ca.leaf(&["localhost"], false)), nothing());
    let mut s = settings_for(&other);
    s.set_insecure(true);
    let why = tls_reason(connect(&s, addr, "localhost"));
    assert!(why.contains("UnknownIssuer"), "{why}");
}

#[test]
fn cert_none_accepts_any_certificate() {
    let other = Ca::new("other CA");
    let (addr, h) = serve(
        ServerOpts::new(other.leaf(&["elsewhere.test"], false)),
        echo(3),
    );
    let mut s = TlsSettings::new();
    s.set_verify(Verify::None);
    let mut t = connect(&s, addr, "localhost").unwrap();
    write_all(&mut t, b"any");
    assert_eq!(read_n(&mut t, 3, 8), b"any");
    h.join().unwrap();
}

#[test]
fn client_certificate_is_presented() {
    let ca = Ca::new("test CA");
    let client = ca.leaf(&["client"], true);
    let dir = TempDir::new("tls");
    let cert = dir.file("client.crt", &client.cert_pem);
    let key = dir.file("client.key", &client.key_pem);
    let mut opts = ServerOpts::new(ca.leaf(&["localhost"], false));
    opts.client_ca = Some(ca.pem());
    let (addr, h) = serve(opts, echo(1));
    let mut s = settings_for(&ca);
    s.load_cert_chain(&cert, Some(&key)).unwrap();
    let mut t = connect(&s, addr, "localhost").unwrap();
    write_all(&mut t, b"c");
    assert_eq!(read_n(&mut t, 1, 8), b"c");
    assert!(h.join().unwrap().client_cert);
}

#[test]
fn missing_client_certificate_fails_in_the_handshake_with_tls12() {
    let ca = Ca::new("test CA");
    let mut opts = ServerOpts::new(ca.leaf(&["localhost"], false));
    opts.client_ca = Some(ca.pem());
    let (addr, _h) = serve(opts, nothing());
    let mut s = settings_for(&ca);
    s.set_version(TlsVersion::Tls12);
    tls_reason(connect(&s, addr, "localhost"));
}

#[test]
fn missing_client_certificate_fails_on_first_read_with_tls13() {
    let ca = Ca::new("test CA");
    let mut opts = ServerOpts::new(ca.leaf(&["localhost"], false));
    opts.client_ca = Some(ca.pem());
    opts.versions = vec![&rustls::version::TLS13];
    let (addr, _h) = serve(opts, nothing());
    // TLS 1.3: the client's handshake is over before the server judges its (missing)
    // certificate; the alert arrives as the first read.
    match connect(&settings_for(&ca), addr, "localhost") {
        Err(Error::Tls(_)) => {}
        Ok(mut t) => {
            let e = read_to_end(&mut t).unwrap_err();
            let why = tls_failure(&e).expect("a TLS error");
            assert!(why.to_lowercase().contains("certificate"), "{why}");
        }
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn alpn_protocols_are_offered() {
    let ca = Ca::new("test CA");
    let mut opts = ServerOpts::new(ca.leaf(&["localhost"], false));
    opts.alpn = vec![b"mqtt".to_vec()];
    let (addr, h) = serve(opts, echo(1));
    let mut s = settings_for(&ca);
    s.set_alpn(vec![b"x-other".to_vec(), b"mqtt".to_vec()])
        .unwrap();
    let mut t = connect(&s, addr, "localhost").unwrap();
    write_all(&mut t, b"a");
    read_n(&mut t, 1, 8);
    assert_eq!(h.join().unwrap().alpn.as_deref(), Some(&b"mqtt"[..]));
    assert!(s.set_alpn(vec![Vec::new()]).is_err());
}

#[test]
fn version_and_cipher_pinning() {
    let ca = Ca::new("test CA");
    let (addr, h) = serve(ServerOpts::new(ca.leaf(&["localhost"], false)), echo(1));
    let mut s = settings_for(&ca);
    s.set_version(TlsVersion::Tls12);
    let mut t = connect(&s, addr, "localhost").unwrap();
    write_all(&mut t, b"v");
    read_n(&mut t, 1, 8);
    assert_eq!(
        h.join().unwrap().version,
        Some(rustls::ProtocolVersion::TLSv1_2)
    );

    let (addr, h) = serve(ServerOpts::new(ca.leaf(&["localhost"], false)), echo(1));
    let mut s = settings_for(&ca);
    s.set_ciphers(Some("TLS_CHACHA20_POLY1305_SHA256")).unwrap();
    let mut t = connect(&s, addr, "localhost").unwrap();
    write_all(&mut t, b"c");
    read_n(&mut t, 1, 8);
    assert_eq!(
        h.join().unwrap().suite,
        Some(rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256)
    );

    // A 1.3-only client against a 1.2-only server.
    let mut opts = ServerOpts::new(ca.leaf(&["localhost"], false));
    opts.versions = vec![&rustls::version::TLS12];
    let (addr, _h) = serve(opts, nothing());
    let mut s = settings_for(&ca);
    s.set_version(TlsVersion::Tls13);
    tls_reason(connect(&s, addr, "localhost"));
}

#[test]
fn cipher_names() {
    let list =
        parse_cipher_list("TLS_AES_128_GCM_SHA256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").unwrap();
    let names: Vec<_> = list.iter().map(|s| s.suite()).collect();
    assert_eq!(
        names,
        [
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        ]
    );
    // rustls's spelling, any case, blanks and empty items, duplicates.
    let list = parse_cipher_list(" tls13_aes_256_gcm_sha384 ::TLS_AES_256_GCM_SHA384:").unwrap();
    assert_eq!(list.len(), 1);
    for bad in [
        "",
        ":",
        "NOPE",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
    ] {
        assert!(matches!(parse_cipher_list(bad), Err(Error::Inval)), "{bad}");
    }
    // TLS 1.2 only with TLS 1.3 suites only: nothing to offer.
    let mut s = TlsSettings::new();
    s.set_verify(Verify::None);
    s.set_version(TlsVersion::Tls12);
    s.set_ciphers(Some("TLS_AES_128_GCM_SHA256")).unwrap();
    assert!(matches!(s.build(), Err(Error::Inval)));
    s.set_ciphers(None).unwrap();
    assert!(s.build().is_ok());
}

#[test]
fn files_are_read_at_once_and_checked() {
    let ca = Ca::new("test CA");
    let ca2 = Ca::new("second CA");
    let dir = TempDir::new("tls-files");
    let leaf = ca.leaf(&["client"], true);
    let other = ca.leaf(&["client"], true);
    let both = dir.file("cas.pem", &format!("{}{}", ca.pem(), ca2.pem()));
    let cert = dir.file("c.crt", &leaf.cert_pem);
    let key = dir.file("c.key", &leaf.key_pem);
    let other_key = dir.file("o.key", &other.key_pem);
    let combined = dir.file("c.pem", &format!("{}{}", leaf.cert_pem, leaf.key_pem));
    let empty = dir.file("empty.pem", "no PEM here\n");
    let encrypted = dir.file(
        "enc.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let missing = dir.0.join("missing.pem").to_string_lossy().into_owned();

    let mut s = TlsSettings::new();
    s.load_ca_file(&both).unwrap();
    s.load_cert_chain(&cert, Some(&key)).unwrap();
    s.load_cert_chain(&combined, None).unwrap();
    assert!(s.build().is_ok());

    let errno = |r: Result<(), Error>| match r {
        Err(Error::Io(e)) => e.raw_os_error(),
        other => panic!("expected an OS error, got {other:?}"),
    };
    assert_eq!(errno(s.load_ca_file(&missing)), Some(libc::ENOENT));
    assert_eq!(
        errno(s.load_cert_chain(&missing, Some(&key))),
        Some(libc::ENOENT)
    );
    assert_eq!(
        errno(s.load_cert_chain(&cert, Some(&missing))),
        Some(libc::ENOENT)
    );
    assert!(matches!(s.load_ca_file(&empty), Err(Error::Tls(_))));
    assert!(matches!(s.load_ca_pem(b""), Err(Error::Tls(_))));
    assert!(matches!(
        s.load_cert_chain(&empty, Some(&key)),
        Err(Error::Tls(_))
    ));
    assert!(matches!(
        s.load_cert_chain(&cert, Some(&empty)),
        Err(Error::Tls(_))
    ));
    assert!(matches!(s.load_cert_chain(&cert, None), Err(Error::Tls(_))));
    match s.load_cert_chain(&cert, Some(&encrypted)) {
        Err(Error::Tls(why)) => assert!(why.contains("encrypted"), "{why}"),
        other => panic!("{other:?}"),
    }
    match s.load_cert_chain(&cert, Some(&other_key)) {
        Err(Error::Tls(why)) => assert!(why.to_lowercase().contains("key"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn handshake_gives_up_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and never answers.
    let h = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_millis(800));
        drop(s);
    });
    let ca = Ca::new("test CA");
    let cfg = settings_for(&ca).build().unwrap();
    let started = Instant::now();
    let r = TlsTransport::connect(
        tcp_to(addr),
        "localhost",
        cfg,
        Instant::now() + Duration::from_millis(300),
    );
    match r {
        Err(Error::Io(e)) => assert_eq!(e.raw_os_error(), Some(libc::ETIMEDOUT)),
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("connected to a silent server"),
    }
    assert!(started.elapsed() < Duration::from_millis(700));
    h.join().unwrap();
}

#[test]
fn decrypted_data_left_behind_is_reported() {
    let ca = Ca::new("test CA");
    let payload: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let expected = payload.clone();
    let (addr, h) = serve(
        ServerOpts::new(ca.leaf(&["localhost"], false)),
        Box::new(move |s| {
            s.write_all(&payload).unwrap();
            s.flush().unwrap();
            let mut b = [0u8; 1];
            let _ = s.read(&mut b);
        }),
    );
    let mut t = connect(&settings_for(&ca), addr, "localhost").unwrap();
    // Let every record arrive, then read a little: the rest of the decrypted record
    // stays in rustls and must be announced.
    thread::sleep(Duration::from_millis(200));
    let mut first = [0u8; 100];
    let n = loop {
        match t.read(&mut first) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(n, 100);
    assert!(t.has_buffered_read());
    let mut got = first.to_vec();
    got.extend(read_n(&mut t, expected.len() - 100, 1000));
    assert_eq!(got, expected);
    assert!(!t.has_buffered_read());
    write_all(&mut t, b"!");
    h.join().unwrap();
}

#[test]
fn writes_push_back_instead_of_buffering_without_bound() {
    let ca = Ca::new("test CA");
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let total = 32 * 1024 * 1024;
    let (addr, h) = serve(
        ServerOpts::new(ca.leaf(&["localhost"], false)),
        Box::new(move |s| {
            // Read nothing until the client saw WouldBlock.
            let _ = rx.recv();
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0;
            while got < total {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            assert_eq!(got, total);
        }),
    );
    let mut t = connect(&settings_for(&ca), addr, "localhost").unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut written = 0;
    loop {
        match t.write(&chunk) {
            Ok(0) => panic!("Ok(0) from write"),
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
        assert!(written < total, "never pushed back");
    }
    assert!(t.wants_write());
    tx.send(()).unwrap();
    let rest = vec![7u8; total - written];
    write_all(&mut t, &rest);
    flush_all(&mut t);
    h.join().unwrap();
}

#[test]
fn server_close_is_end_of_stream() {
    let ca = Ca::new("test CA");
    // close_notify
    let (addr, h) = serve(
        ServerOpts::new(ca.leaf(&["localhost"], false)),
        Box::new(|s| {
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
        }),
    );
    let mut t = connect(&settings_for(&ca), addr, "localhost").unwrap();
    assert_eq!(read_to_end(&mut t).unwrap(), 0);
    h.join().unwrap();
    // plain TCP close, no close_notify
    let (addr, h) = serve(
        ServerOpts::new(ca.leaf(&["localhost"], false)),
        Box::new(|s| {
            let _ = s.sock.shutdown(std::net::Shutdown::Both);
        }),
    );
    let mut t = connect(&settings_for(&ca), addr, "localhost").unwrap();
    assert_eq!(read_to_end(&mut t).unwrap(), 0);
    h.join().unwrap();
}
