//! TLS settings (paho's `tls_set` / `SSLContext`) and the rustls `ClientConfig` built
//! from them once, then shared by every connection of a client (and by every client
//! given the same `mqttc_tls_context`).
//!
//! Files are read when a setting is made, as paho does, so a bad path fails at
//! `tls_set` time with the OS error and not at connect time.

use crate::error::Error;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    SupportedCipherSuite, SupportedProtocolVersion,
};
use std::fmt;
use std::sync::Arc;

/// Trust-store bundles of the common Linux distributions, in the order Go's
/// crypto/x509 tries them. `SSL_CERT_FILE`, when set, comes first.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Which server certificates are accepted (paho's `cert_reqs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verify {
    /// The chain must lead to a trusted root (`CERT_REQUIRED`; `CERT_OPTIONAL` too, as
    /// a client has no use for an optional server certificate).
    #[default]
    Required,
    /// Any certificate (`CERT_NONE`); the handshake signatures are still checked.
    None,
}

/// TLS protocol versions offered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3.
    #[default]
    Default,
    Tls12,
    Tls13,
}

/// What a client needs to open TLS connections: collected by `tls_set` or a
/// `mqttc_tls_context`, turned into a rustls config by `build`.
pub struct TlsSettings {
    roots: RootCertStore,
    /// Some trust anchors were asked for (a CA file, PEM, or the system store).
    roots_set: bool,
    client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    verify: Verify,
    version: TlsVersion,
    ciphers: Option<Vec<SupportedCipherSuite>>,
    alpn: Vec<Vec<u8>>,
    insecure: bool,
}

impl Clone for TlsSettings {
    fn clone(&self) -> Self {
        TlsSettings {
            roots: self.roots.clone(),
            roots_set: self.roots_set,
            client_auth: self
                .client_auth
                .as_ref()
                .map(|(chain, key)| (chain.clone(), key.clone_key())),
            verify: self.verify,
            version: self.version,
            ciphers: self.ciphers.clone(),
            alpn: self.alpn.clone(),
            insecure: self.insecure,
        }
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never prints key material.
        f.debug_struct("TlsSettings")
            .field("roots", &self.roots.len())
            .field("client_cert", &self.client_auth.is_some())
            .field("verify", &self.verify)
            .field("version", &self.version)
            .field("ciphers", &self.ciphers.as_ref().map(|c| c.len()))
            .field("alpn", &self.alpn.len())
            .field("insecure", &self.insecure)
            .finish()
    }
}

fn provider() -> CryptoProvider {
    ring::default_provider()
}

fn read_file(path: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(Error::Io)
}

/// Every certificate in a PEM buffer (other sections are skipped).
fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        match item {
            Ok(c) => certs.push(c),
            Err(e) => return Err(Error::Tls(format!("{what}: bad PEM: {e}"))),
        }
    }
    if certs.is_empty() {
        return Err(Error::Tls(format!("{what}: no certificate found")));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM buffer.
fn parse_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, Error> {
    let has = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    if has(b"ENCRYPTED PRIVATE KEY") || has(b"Proc-Type: 4,ENCRYPTED") {
        return Err(Error::Tls(format!(
            "{what}: encrypted private keys are not supported"
        )));
    }
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| Error::Tls(format!("{what}: no usable private key ({e})")))
}

/// A system trust-store bundle: `SSL_CERT_FILE`, else the first bundle found.
fn system_bundle() -> Result<(String, Vec<u8>), Error> {
    let env = std::env::var("SSL_CERT_FILE")
        .ok()
        .filter(|p| !p.is_empty());
    if let Some(path) = env {
        return read_file(&path).map(|b| (path, b));
    }
    for path in SYSTEM_BUNDLES {
        if let Ok(bytes) = std::fs::read(path) {
            return Ok((path.to_string(), bytes));
        }
    }
    Err(Error::Tls(
        "no system trust store found (set SSL_CERT_FILE or give a CA file)".to_string(),
    ))
}

/// The certificates of every readable file in the `SSL_CERT_DIR` directories.
fn cert_dir_certs() -> Vec<CertificateDer<'static>> {
    let mut certs = Vec::new();
    let Ok(dirs) = std::env::var("SSL_CERT_DIR") else {
        return certs;
    };
    for dir in dirs.split(':').filter(|d| !d.is_empty()) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            // c_rehash's hash-named links point at files of the same directory: such
            // a certificate is read twice, which costs memory only.
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            if let Ok(found) = parse_certs(&bytes, "") {
                certs.extend(found);
            }
        }
    }
    certs
}

/// Look up a cipher suite by IANA name ("TLS_AES_128_GCM_SHA256",
/// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"); rustls's own "TLS13_" spelling is
/// accepted too. Case-insensitive.
pub fn cipher_suite_by_name(name: &str) -> Option<SupportedCipherSuite> {
    let wanted = name.trim();
    provider().cipher_suites.into_iter().find(|s| {
        let Some(rustls_name) = s.suite().as_str() else {
            return false;
        };
        let iana = match rustls_name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => rustls_name.to_string(),
        };
        wanted.eq_ignore_ascii_case(&iana) || wanted.eq_ignore_ascii_case(rustls_name)
    })
}

/// Parse a colon-separated list of IANA suite names. Unknown names and empty lists
/// give `Inval`; duplicates are dropped, order is kept (it is the preference order).
pub fn parse_cipher_list(list: &str) -> Result<Vec<SupportedCipherSuite>, Error> {
    let mut suites: Vec<SupportedCipherSuite> = Vec::new();
    for name in list.split(':').map(str::trim).filter(|n| !n.is_empty()) {
        let suite = cipher_suite_by_name(name).ok_or(Error::Inval)?;
        if !suites.iter().any(|s| s.suite() == suite.suite()) {
            suites.push(suite);
        }
    }
    if suites.is_empty() {
        return Err(Error::Inval);
    }
    Ok(suites)
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            roots: RootCertStore::empty(),
            roots_set: false,
            client_auth: None,
            verify: Verify::default(),
            version: TlsVersion::default(),
            ciphers: None,
            alpn: Vec::new(),
            insecure: false,
        }
    }
}

impl TlsSettings {
    pub fn new() -> TlsSettings {
        TlsSettings::default()
    }

    fn add_roots(&mut self, certs: Vec<CertificateDer<'static>>, what: &str) -> Result<(), Error> {
        let mut store = self.roots.clone();
        let (added, _ignored) = store.add_parsable_certificates(certs);
        if added == 0 {
            return Err(Error::Tls(format!("{what}: no usable CA certificate")));
        }
        self.roots = store;
        self.roots_set = true;
        Ok(())
    }

    /// Trust every certificate in the PEM file `path` (read now).
    pub fn load_ca_file(&mut self, path: &str) -> Result<(), Error> {
        let pem = read_file(path)?;
        let certs = parse_certs(&pem, path)?;
        self.add_roots(certs, path)
    }

    /// Trust every certificate in a PEM buffer.
    pub fn load_ca_pem(&mut self, pem: &[u8]) -> Result<(), Error> {
        let certs = parse_certs(pem, "CA PEM")?;
        self.add_roots(certs, "CA PEM")
    }

    /// Trust the system's store (read now): the bundle (`SSL_CERT_FILE`, else the
    /// distribution's), plus every certificate file in the directories named by
    /// `SSL_CERT_DIR` (colon-separated, as OpenSSL reads it; files holding no
    /// certificate are skipped). Fails only when neither gives a certificate.
    pub fn use_system_roots(&mut self) -> Result<(), Error> {
        let bundle = system_bundle();
        let from_dirs = cert_dir_certs();
        let bundle_err = match bundle {
            Ok((path, pem)) => {
                let certs = parse_certs(&pem, &path)?;
                self.add_roots(certs, &path)?;
                None
            }
            Err(e) => Some(e),
        };
        if !from_dirs.is_empty() {
            // Each file was parsed on its own; unusable certificates are skipped.
            self.add_roots(from_dirs, "SSL_CERT_DIR")?;
            return Ok(());
        }
        match bundle_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Present this certificate chain and key (read now). `keyfile` None: the key is
    /// in `certfile`. Fails when the key does not belong to the first certificate.
    pub fn load_cert_chain(&mut self, certfile: &str, keyfile: Option<&str>) -> Result<(), Error> {
        let cert_pem = read_file(certfile)?;
        let (key_pem, key_name) = match keyfile {
            Some(k) => (read_file(k)?, k),
            None => (cert_pem.clone(), certfile),
        };
        let chain = parse_certs(&cert_pem, certfile)?;
        let key = parse_key(&key_pem, key_name)?;
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider())
            .map_err(|e| Error::Tls(format!("{certfile} / {key_name}: {e}")))?;
        self.client_auth = Some((chain, key));
        Ok(())
    }

    pub fn set_verify(&mut self, verify: Verify) {
        self.verify = verify;
    }

    pub fn set_version(&mut self, version: TlsVersion) {
        self.version = version;
    }

    /// `None`: rustls's defaults. Unknown names give `Inval`.
    pub fn set_ciphers(&mut self, list: Option<&str>) -> Result<(), Error> {
        self.ciphers = match list {
            Some(l) => Some(parse_cipher_list(l)?),
            None => None,
        };
        Ok(())
    }

    /// ALPN protocols offered, in preference order (empty: none).
    pub fn set_alpn(&mut self, protocols: Vec<Vec<u8>>) -> Result<(), Error> {
        if protocols.iter().any(|p| p.is_empty() || p.len() > 255) {
            return Err(Error::Inval);
        }
        self.alpn = protocols;
        Ok(())
    }

    /// Do not check the host name against the certificate (the chain still is).
    pub fn set_insecure(&mut self, insecure: bool) {
        self.insecure = insecure;
    }

    pub fn verify(&self) -> Verify {
        self.verify
    }

    /// The rustls configuration. With verification on and no trust anchor given, the
    /// system's store is used (as paho's default context does). `Inval` when the
    /// cipher suites and the version leave nothing to offer.
    pub fn build(&self) -> Result<Arc<ClientConfig>, Error> {
        let mut provider = provider();
        if let Some(suites) = &self.ciphers {
            provider.cipher_suites = suites.clone();
        }
        let wanted: &[&'static SupportedProtocolVersion] = match self.version {
            TlsVersion::Default => &[&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersion::Tls12 => &[&rustls::version::TLS12],
            TlsVersion::Tls13 => &[&rustls::version::TLS13],
        };
        // Offer only versions that some chosen suite can serve.
        let versions: Vec<&'static SupportedProtocolVersion> = wanted
            .iter()
            .copied()
            .filter(|v| provider.cipher_suites.iter().any(|s| s.version() == *v))
            .collect();
        if versions.is_empty() {
            return Err(Error::Inval);
        }
        let provider = Arc::new(provider);
        let algs = provider.signature_verification_algorithms;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|_| Error::Inval)?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.verify {
            Verify::None => Arc::new(AcceptAnyCert(algs)),
            Verify::Required => {
                let roots = if self.roots_set {
                    self.roots.clone()
                } else {
                    let mut s = self.clone();
                    s.use_system_roots()?;
                    s.roots
                };
                let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| Error::Tls(e.to_string()))?;
                if self.insecure {
                    Arc::new(NoHostNameCheck(webpki))
                } else {
                    webpki
                }
            }
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match &self.client_auth {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| Error::Tls(e.to_string()))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn.clone();
        Ok(Arc::new(config))
    }
}

/// Settings plus the config built from them: what `Options` keeps (cheap to clone).
#[derive(Clone)]
pub struct TlsConfig {
    pub settings: Arc<TlsSettings>,
    pub client: Arc<ClientConfig>,
}

impl TlsConfig {
    pub fn new(settings: TlsSettings) -> Result<TlsConfig, Error> {
        let client = settings.build()?;
        Ok(TlsConfig {
            settings: Arc::new(settings),
            client,
        })
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.settings.fmt(f)
    }
}

/// The server name for `host`: an IP address or a DNS name.
pub fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string())
        .map_err(|_| Error::Tls(format!("{host}: not a valid TLS server name")))
}

/// `tls_insecure_set(true)`: the chain is verified as usual, only a certificate that
/// does not name the host is accepted.
#[derive(Debug)]
struct NoHostNameCheck(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for NoHostNameCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain first and the name last, so a name error means the
        // chain was good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `MQTTC_CERT_NONE`: any certificate is accepted. The handshake signatures are still
/// verified, so the peer does hold the key of the certificate it sent.
#[derive(Debug)]
struct AcceptAnyCert(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
