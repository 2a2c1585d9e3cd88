//! TLS: `mqttc_tls_set`, `mqttc_tls_set_context`, `mqttc_tls_insecure_set`, and the
//! `mqttc_tls_context` builder (paho's `tls_set_context(ssl.SSLContext)`).
#![allow(non_camel_case_types)]
// C entry points take raw pointers by design; each is checked (NULL) or documented as
// the caller's promise at the dereference, inside `ffi_body!`.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use super::types::*;
use super::*;
use crate::transport::{TlsConfig, TlsSettings, TlsVersion, Verify};
use std::os::raw::{c_char, c_int};

/// TLS settings to share between clients (opaque; paho's `ssl.SSLContext`). Create with
/// `mqttc_tls_context_new`, fill with `mqttc_tls_context_load_ca_file`,
/// `mqttc_tls_context_load_ca_pem`, `mqttc_tls_context_use_system_roots`,
/// `mqttc_tls_context_load_cert_chain`, `mqttc_tls_context_set_verify`,
/// `mqttc_tls_context_set_version`, `mqttc_tls_context_set_ciphers` and
/// `mqttc_tls_context_set_alpn`, hand to any number of clients with
/// `mqttc_tls_set_context`, free with `mqttc_tls_context_free` (clients keep what they
/// need, so that may be right after). Files are read when a function names them.
///
/// A new context verifies the broker's certificate chain and host name, offers TLS 1.2
/// and 1.3 with rustls's default cipher suites and no ALPN, and presents no client
/// certificate. If no CA is loaded by the time it is used, the system's trust store is
/// used. One context may be used by several threads at once only for
/// `mqttc_tls_set_context`; changing it while another thread uses it is not allowed.
pub struct mqttc_tls_context {
    settings: TlsSettings,
}

/// The context behind a pointer, or None for NULL.
///
/// # Safety
/// `ctx` is NULL or a pointer from `mqttc_tls_context_new` not yet freed, not used by
/// another thread for the lifetime `'a`.
unsafe fn ctx_mut<'a>(ctx: *mut mqttc_tls_context) -> Option<&'a mut mqttc_tls_context> {
    // SAFETY: per the contract above.
    unsafe { ctx.as_mut() }
}

/// `cert_reqs`: NONE → accept any certificate; OPTIONAL and REQUIRED → verify.
fn verify_arg(cert_reqs: c_int) -> Result<Verify, c_int> {
    match cert_reqs {
        MQTTC_CERT_NONE => Ok(Verify::None),
        MQTTC_CERT_OPTIONAL | MQTTC_CERT_REQUIRED => Ok(Verify::Required),
        _ => Err(MQTTC_ERR_INVAL),
    }
}

fn version_arg(tls_version: c_int) -> Result<TlsVersion, c_int> {
    match tls_version {
        MQTTC_TLS_VERSION_DEFAULT => Ok(TlsVersion::Default),
        MQTTC_TLS_VERSION_1_2 => Ok(TlsVersion::Tls12),
        MQTTC_TLS_VERSION_1_3 => Ok(TlsVersion::Tls13),
        _ => Err(MQTTC_ERR_INVAL),
    }
}

/// `Result<(), Error>` → `Result<(), c_int>` (setting errno for `MQTTC_ERR_ERRNO`).
fn step(r: Result<(), crate::error::Error>) -> Result<(), c_int> {
    r.map_err(rc_of)
}

/// Store `settings` (built into a rustls config) as the client's TLS, unless TLS is
/// already configured (paho raises "SSL/TLS has already been configured").
fn install(client: &crate::client::Client, settings: TlsSettings) -> c_int {
    let config = match TlsConfig::new(settings) {
        Ok(c) => c,
        Err(e) => return rc_of(e),
    };
    client.with(|i| {
        if i.opts.tls.is_some() {
            return MQTTC_ERR_INVAL;
        }
        i.opts.tls = Some(config);
        MQTTC_ERR_SUCCESS
    })
}

/// Turn on TLS for this client's connections (paho `tls_set`); call before connecting,
/// once (a second `mqttc_tls_set` or `mqttc_tls_set_context` gives `MQTTC_ERR_INVAL`,
/// as paho refuses it; `mqttc_reinitialise` clears TLS).
///
/// - `ca_certs`: PEM file of the CAs to trust (every certificate in it); NULL uses the
///   system's trust store (`SSL_CERT_FILE`, else the distribution's bundle, e.g.
///   /etc/ssl/certs/ca-certificates.crt, plus the certificate files of the
///   directories in `SSL_CERT_DIR`, as OpenSSL reads them).
/// - `certfile`, `keyfile`: PEM client certificate chain and its private key (PKCS#8,
///   PKCS#1 or SEC1; encrypted keys are not supported) for brokers that ask for one;
///   `keyfile` NULL means the key is in `certfile`; both NULL: no client certificate.
/// - `cert_reqs`: `MQTTC_CERT_REQUIRED` (or `MQTTC_CERT_OPTIONAL`, the same for a
///   client) verifies the broker's chain; `MQTTC_CERT_NONE` accepts any certificate.
///   Note 0 is `MQTTC_CERT_NONE`: pass `MQTTC_CERT_REQUIRED` for paho's default.
/// - `tls_version`: `MQTTC_TLS_VERSION_DEFAULT` (TLS 1.2 and 1.3), `_1_2` or `_1_3`.
/// - `ciphers`: NULL (the defaults) or colon-separated IANA suite names, in order of
///   preference, e.g. "TLS_AES_128_GCM_SHA256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".
///
/// The host name given to `mqttc_connect` is checked against the certificate's
/// subjectAltName (DNS name or IP address) unless `mqttc_tls_insecure_set(c, true)`.
/// Files are read now; the strings are not kept.
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL client, bad `cert_reqs` or
/// `tls_version`, `keyfile` without `certfile`, a cipher name the library cannot offer,
/// ciphers that leave nothing for the chosen version, TLS already set);
/// `MQTTC_ERR_ERRNO` with errno set when a file cannot be read; `MQTTC_ERR_TLS` when a
/// file holds no usable certificate or key, the key does not match the certificate, or
/// (with `ca_certs` NULL) no system trust store is found.
#[no_mangle]
pub extern "C" fn mqttc_tls_set(
    c: *mut mqttc_client,
    ca_certs: *const c_char,
    certfile: *const c_char,
    keyfile: *const c_char,
    cert_reqs: c_int,
    tls_version: c_int,
    ciphers: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let ca_certs = try_opt_str!(ca_certs);
        let certfile = try_opt_str!(certfile);
        let keyfile = try_opt_str!(keyfile);
        let ciphers = try_opt_str!(ciphers);
        let verify = try_rc!(verify_arg(cert_reqs));
        let version = try_rc!(version_arg(tls_version));
        if keyfile.is_some() && certfile.is_none() {
            return MQTTC_ERR_INVAL;
        }
        if client.with(|i| i.opts.tls.is_some()) {
            return MQTTC_ERR_INVAL;
        }
        let mut s = TlsSettings::new();
        s.set_verify(verify);
        s.set_version(version);
        try_rc!(step(s.set_ciphers(ciphers)));
        match ca_certs {
            Some(path) => try_rc!(step(s.load_ca_file(path))),
            // Without verification the system store is not needed (nor required).
            None if verify == Verify::Required => try_rc!(step(s.use_system_roots())),
            None => {}
        }
        if let Some(cert) = certfile {
            try_rc!(step(s.load_cert_chain(cert, keyfile)));
        }
        install(&client, s)
    })
}

/// Turn on TLS with the settings of `ctx` (paho `tls_set_context`); call before
/// connecting, once (as for `mqttc_tls_set`). The client copies what it needs: `ctx`
/// may be freed or changed right after, and one context may serve many clients. `ctx`
/// NULL means a new context's defaults (system trust store, full verification).
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL client, TLS already set, cipher
/// suites that leave nothing for the chosen version); `MQTTC_ERR_TLS` when the context
/// has no CA and no system trust store is found.
#[no_mangle]
pub extern "C" fn mqttc_tls_set_context(
    c: *mut mqttc_client,
    ctx: *const mqttc_tls_context,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        // SAFETY: ctx is NULL or a live context (API contract); only read here.
        let settings = match unsafe { ctx.as_ref() } {
            Some(ctx) => ctx.settings.clone(),
            None => TlsSettings::new(),
        };
        if client.with(|i| i.opts.tls.is_some()) {
            return MQTTC_ERR_INVAL;
        }
        install(&client, settings)
    })
}

/// With `insecure` true, do not check that the broker's certificate names the host
/// connected to (paho `tls_insecure_set`); the chain is still verified (unless
/// `MQTTC_CERT_NONE`). Only for testing: it allows a man-in-the-middle holding any
/// certificate of a trusted CA. Call after `mqttc_tls_set`/`mqttc_tls_set_context` and
/// before connecting (it applies from the next connection).
///
/// Returns `MQTTC_ERR_SUCCESS`, or `MQTTC_ERR_INVAL` (NULL client, TLS not set).
#[no_mangle]
pub extern "C" fn mqttc_tls_insecure_set(c: *mut mqttc_client, insecure: bool) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let Some(current) = client.with(|i| i.opts.tls.clone()) else {
            return MQTTC_ERR_INVAL;
        };
        let mut settings = (*current.settings).clone();
        settings.set_insecure(insecure);
        let config = match TlsConfig::new(settings) {
            Ok(c) => c,
            Err(e) => return rc_of(e),
        };
        client.with(|i| i.opts.tls = Some(config));
        MQTTC_ERR_SUCCESS
    })
}

/// A new TLS context with the defaults described at `mqttc_tls_context`; free it with
/// `mqttc_tls_context_free`. Returns NULL only when out of memory.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_new() -> *mut mqttc_tls_context {
    ffi_body!(std::ptr::null_mut(), {
        Box::into_raw(Box::new(mqttc_tls_context {
            settings: TlsSettings::new(),
        }))
    })
}

/// Free a context (NULL is ignored). Clients given it keep working.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_free(ctx: *mut mqttc_tls_context) {
    ffi_body!((), {
        if !ctx.is_null() {
            // SAFETY: ctx came from mqttc_tls_context_new and is freed once.
            drop(unsafe { Box::from_raw(ctx) });
        }
    })
}

/// Trust every CA certificate in the PEM file `pem_path` (read now; may be called
/// several times to add more).
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL argument); `MQTTC_ERR_ERRNO`
/// with errno set when the file cannot be read; `MQTTC_ERR_TLS` when it holds no usable
/// certificate.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_load_ca_file(
    ctx: *mut mqttc_tls_context,
    pem_path: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        let path = try_str!(pem_path);
        rc(ctx.settings.load_ca_file(path))
    })
}

/// Trust every CA certificate in the `len` bytes of PEM text at `pem` (copied; need not
/// be NUL-terminated).
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL `ctx` or `pem`);
/// `MQTTC_ERR_TLS` when the text holds no usable certificate.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_load_ca_pem(
    ctx: *mut mqttc_tls_context,
    pem: *const c_char,
    len: usize,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        if pem.is_null() {
            return MQTTC_ERR_INVAL;
        }
        // SAFETY: pem points to len readable bytes (API contract).
        let bytes = unsafe { std::slice::from_raw_parts(pem as *const u8, len) };
        rc(ctx.settings.load_ca_pem(bytes))
    })
}

/// Trust the system's CA store (`SSL_CERT_FILE`, else the distribution's bundle, e.g.
/// /etc/ssl/certs/ca-certificates.crt, plus every certificate file in the
/// colon-separated directories of `SSL_CERT_DIR`), read now, besides any CA already
/// loaded.
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL `ctx`); `MQTTC_ERR_ERRNO` when
/// `SSL_CERT_FILE` names a file that cannot be read (and `SSL_CERT_DIR` gives no
/// certificate); `MQTTC_ERR_TLS` when no store is found or it holds no usable
/// certificate.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_use_system_roots(ctx: *mut mqttc_tls_context) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        rc(ctx.settings.use_system_roots())
    })
}

/// Present a client certificate: `certfile` is the PEM chain (own certificate first),
/// `keyfile` its private key (PKCS#8, PKCS#1 or SEC1 PEM, not encrypted); `keyfile`
/// NULL means the key is in `certfile`. Read now; replaces an earlier chain.
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL `ctx` or `certfile`);
/// `MQTTC_ERR_ERRNO` with errno set when a file cannot be read; `MQTTC_ERR_TLS` when
/// there is no usable certificate or key, or they do not match.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_load_cert_chain(
    ctx: *mut mqttc_tls_context,
    certfile: *const c_char,
    keyfile: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        let certfile = try_str!(certfile);
        let keyfile = try_opt_str!(keyfile);
        rc(ctx.settings.load_cert_chain(certfile, keyfile))
    })
}

/// How the broker's certificate is checked: `MQTTC_CERT_REQUIRED` (the default) or
/// `MQTTC_CERT_OPTIONAL` verify its chain; `MQTTC_CERT_NONE` accepts any certificate.
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL `ctx`, unknown value).
#[no_mangle]
pub extern "C" fn mqttc_tls_context_set_verify(
    ctx: *mut mqttc_tls_context,
    cert_reqs: c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        ctx.settings.set_verify(try_rc!(verify_arg(cert_reqs)));
        MQTTC_ERR_SUCCESS
    })
}

/// TLS versions offered: `MQTTC_TLS_VERSION_DEFAULT` (1.2 and 1.3), `_1_2` or `_1_3`.
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL `ctx`, unknown value).
#[no_mangle]
pub extern "C" fn mqttc_tls_context_set_version(
    ctx: *mut mqttc_tls_context,
    tls_version: c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        ctx.settings.set_version(try_rc!(version_arg(tls_version)));
        MQTTC_ERR_SUCCESS
    })
}

/// Cipher suites offered, as colon-separated IANA names in order of preference (e.g.
/// "TLS_AES_256_GCM_SHA384:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"); NULL restores the
/// defaults. Available: TLS_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256,
/// TLS_CHACHA20_POLY1305_SHA256 (TLS 1.3) and TLS_ECDHE_{ECDSA,RSA}_WITH_
/// {AES_256_GCM_SHA384, AES_128_GCM_SHA256, CHACHA20_POLY1305_SHA256} (TLS 1.2).
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL `ctx`, an unknown name, an
/// empty list); the context is unchanged on error.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_set_ciphers(
    ctx: *mut mqttc_tls_context,
    ciphers: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        let ciphers = try_opt_str!(ciphers);
        rc(ctx.settings.set_ciphers(ciphers))
    })
}

/// ALPN protocol names offered in the handshake, in order of preference (copied), e.g.
/// {"mqtt"} for brokers that share port 443; `count` 0 offers none (the default).
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL `ctx`, `count` < 0, NULL
/// `protocols` with a count, a NULL, empty or over 255-byte name); the context is
/// unchanged on error.
#[no_mangle]
pub extern "C" fn mqttc_tls_context_set_alpn(
    ctx: *mut mqttc_tls_context,
    protocols: *const *const c_char,
    count: c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        // SAFETY: ctx is NULL or a live context (API contract).
        let Some(ctx) = (unsafe { ctx_mut(ctx) }) else {
            return MQTTC_ERR_INVAL;
        };
        if count < 0 || (count > 0 && protocols.is_null()) {
            return MQTTC_ERR_INVAL;
        }
        let mut list = Vec::new();
        if count > 0 {
            // SAFETY: protocols holds count string pointers (API contract).
            let ptrs = unsafe { std::slice::from_raw_parts(protocols, count as usize) };
            for p in ptrs {
                if p.is_null() {
                    return MQTTC_ERR_INVAL;
                }
                // SAFETY: non-NULL and NUL-terminated (API contract). ALPN names are
                // bytes, so any are accepted.
                list.push(unsafe { std::ffi::CStr::from_ptr(*p) }.to_bytes().to_vec());
            }
        }
        rc(ctx.settings.set_alpn(list))
    })
}
