//! Options, set before connecting unless noted.

use super::types::*;
use super::*;

/// Maximum QoS>0 messages in flight at once (default 20; 0 = no limit); more wait in
/// order. Takes effect at once. Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_max_inflight_messages_set(c: *mut mqttc_client, inflight: u32) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        try_client!(c).with(|i| i.session.config_mut().max_inflight = inflight);
        MQTTC_ERR_SUCCESS
    })
}

/// Maximum unacknowledged QoS>0 messages kept (in flight plus waiting; default 0 = no
/// limit); beyond it `mqttc_publish` returns `MQTTC_ERR_QUEUE_SIZE`. Returns
/// `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_max_queued_messages_set(c: *mut mqttc_client, queue_size: u32) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        try_client!(c).with(|i| i.session.config_mut().max_queued = queue_size);
        MQTTC_ERR_SUCCESS
    })
}

/// Resend (DUP set) a QoS>0 message unacknowledged for `retry_seconds` on a live
/// connection (MQTT 3.1/3.1.1). 0, the default, never resends within a connection
/// (TCP already retransmits); messages are always resent after a reconnect. Returns
/// `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_message_retry_set(c: *mut mqttc_client, retry_seconds: u32) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        try_client!(c).with(|i| i.session.config_mut().retry_interval = retry_seconds);
        MQTTC_ERR_SUCCESS
    })
}

/// Log lines of the levels in `level_mask` (`MQTTC_LOG_*` bits) to stderr, besides
/// `on_log`. Passwords are never logged. Returns `MQTTC_ERR_SUCCESS` or
/// `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_enable_logger(c: *mut mqttc_client, level_mask: c_int) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        client.update_callbacks(|cbs| cbs.logger_mask = level_mask & 0x1f);
        MQTTC_ERR_SUCCESS
    })
}

/// Stop logging to stderr. Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_disable_logger(c: *mut mqttc_client) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        client.update_callbacks(|cbs| cbs.logger_mask = 0);
        MQTTC_ERR_SUCCESS
    })
}

/// Credentials for the next CONNECT (copied). `username` NULL clears both; `password`
/// may be NULL (none) or "" (sent as a zero-length field). Returns
/// `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL client, invalid UTF-8).
#[no_mangle]
pub extern "C" fn mqttc_username_pw_set(
    c: *mut mqttc_client,
    username: *const c_char,
    password: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let user = try_opt_str!(username);
        let pass = if password.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated per the API convention. The password
            // is binary data in MQTT 3.1.1, so any bytes are accepted.
            Some(
                unsafe { std::ffi::CStr::from_ptr(password) }
                    .to_bytes()
                    .to_vec(),
            )
        };
        client.with(|i| {
            let cfg = i.session.config_mut();
            cfg.username = user.map(str::to_string);
            cfg.password = if user.is_some() { pass } else { None };
        });
        MQTTC_ERR_SUCCESS
    })
}

/// The will the broker publishes if the connection is lost without DISCONNECT (copied;
/// used from the next CONNECT). An empty payload is sent as a zero-length message.
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL client, NULL/empty topic or one
/// with wildcards, qos not 0..2); `MQTTC_ERR_PAYLOAD_SIZE`.
#[no_mangle]
pub extern "C" fn mqttc_will_set(
    c: *mut mqttc_client,
    topic: *const c_char,
    payload: *const c_void,
    payloadlen: c_int,
    qos: c_int,
    retain: bool,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        let qos = try_rc!(qos_arg(qos));
        // SAFETY: payload is NULL or points to payloadlen bytes (API contract).
        let payload = try_rc!(unsafe { payload_slice(payload, payloadlen) });
        rc(client.set_will(
            topic,
            payload,
            qos,
            retain,
            &crate::proto::Properties::new(),
        ))
    })
}

/// Remove the will. Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_will_clear(c: *mut mqttc_client) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        try_client!(c).with(|i| i.session.config_mut().will = None);
        MQTTC_ERR_SUCCESS
    })
}

/// Jitter of the reconnect back-off (reconnect storms of many clients spread out):
/// each delay of `mqttc_reconnect_delay_set`'s back-off is drawn uniformly within
/// ±`percent` % of its value. Default 0 (none). Returns `MQTTC_ERR_SUCCESS` or
/// `MQTTC_ERR_INVAL` (NULL client, `percent` below 0 or above 100).
#[no_mangle]
pub extern "C" fn mqttc_reconnect_jitter_set(c: *mut mqttc_client, percent: c_int) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let Ok(percent @ 0..=100) = u8::try_from(percent) else {
            return MQTTC_ERR_INVAL;
        };
        client.with(|i| i.opts.reconnect_jitter = percent);
        MQTTC_ERR_SUCCESS
    })
}

/// Reconnect back-off for `mqttc_loop_forever` and the `mqttc_loop_start` thread: the
/// first retry waits `min_delay` seconds (default 1), each later one doubles, capped at
/// `max_delay` (default 120); a CONNACK resets it. Returns `MQTTC_ERR_SUCCESS` or
/// `MQTTC_ERR_INVAL` (NULL client, `min_delay` 0 or greater than `max_delay`).
#[no_mangle]
pub extern "C" fn mqttc_reconnect_delay_set(
    c: *mut mqttc_client,
    min_delay: u32,
    max_delay: u32,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        if min_delay == 0 || min_delay > max_delay {
            return MQTTC_ERR_INVAL;
        }
        client.with(|i| {
            i.opts.reconnect_min = min_delay;
            i.opts.reconnect_max = max_delay;
        });
        MQTTC_ERR_SUCCESS
    })
}

/// Whether `mqttc_loop_forever` and the loop thread reconnect after a lost connection
/// (default true). When true, as in paho 1.6, a CONNACK refusing MQTT 3.1.1 (rc 1)
/// makes the client retry at once with MQTT 3.1, and one rejecting an empty client id
/// (rc 2) retry with a random id. When false, `mqttc_loop_forever` returns the error.
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_reconnect_on_failure_set(c: *mut mqttc_client, reconnect: bool) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        try_client!(c).with(|i| i.opts.reconnect_on_failure = reconnect);
        MQTTC_ERR_SUCCESS
    })
}

/// WebSocket options: the HTTP path of the upgrade request (NULL: "/mqtt") and extra
/// header lines ("Name: value"), all copied. Returns `MQTTC_ERR_SUCCESS` or
/// `MQTTC_ERR_INVAL` (NULL client, header_count < 0, NULL headers with a count, a line
/// without ':').
#[no_mangle]
pub extern "C" fn mqttc_ws_set_options(
    c: *mut mqttc_client,
    path: *const c_char,
    headers: *const *const c_char,
    header_count: c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let path = try_opt_str!(path).unwrap_or("/mqtt");
        if header_count < 0 || (header_count > 0 && headers.is_null()) {
            return MQTTC_ERR_INVAL;
        }
        let mut lines = Vec::new();
        if header_count > 0 {
            // SAFETY: the caller passes header_count string pointers.
            let ptrs = unsafe { std::slice::from_raw_parts(headers, header_count as usize) };
            for p in ptrs {
                let line = try_str!(*p);
                if !line.contains(':') || line.contains('\r') || line.contains('\n') {
                    return MQTTC_ERR_INVAL;
                }
                lines.push(line.to_string());
            }
        }
        client.with(|i| {
            i.opts.ws_path = path.to_string();
            i.opts.ws_headers = lines;
        });
        MQTTC_ERR_SUCCESS
    })
}

/// More brokers to fail over to (paho.mqtt.c's serverURIs): the host and port given to
/// connect stay entry 0, and `hosts[i]`/`ports[i]` become entries 1..`count` (`ports`
/// NULL, or an entry of 0 or less, means 1883). A failed connection attempt or a lost
/// connection moves on to the next entry at once; the reconnect delay (and its
/// jitter) applies only after a whole round has failed, and each round starts at the
/// broker of the last accepted CONNACK. Unacknowledged QoS>0 messages are resent to
/// the new broker as after any reconnect; transport, TLS and credentials are the same
/// for every entry (the TLS name checked is each entry's host). `count` 0 removes the
/// extra entries. The strings are copied; a new list takes effect from entry 0 on the
/// next attempt, as does each `mqttc_connect*` call.
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL client, `count` negative,
/// `hosts` NULL with `count` > 0, a NULL, empty or non-UTF-8 host, a port above 65535;
/// nothing changes).
#[no_mangle]
pub extern "C" fn mqttc_servers_set(
    c: *mut mqttc_client,
    hosts: *const *const c_char,
    ports: *const c_int,
    count: c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let hosts = match count {
            0 => Vec::new(),
            _ => try_rc!(super::pubsub::filters(count, hosts)),
        };
        let ports: &[c_int] = if ports.is_null() {
            &[]
        } else {
            // SAFETY: `ports`, when not NULL, holds `count` ints (API contract);
            // `filters` has checked that `count` is positive.
            unsafe { std::slice::from_raw_parts(ports, hosts.len()) }
        };
        let mut extra = Vec::with_capacity(hosts.len());
        for (i, host) in hosts.into_iter().enumerate() {
            let port = ports.get(i).copied().unwrap_or(0);
            if host.is_empty() || port > 65535 {
                return MQTTC_ERR_INVAL;
            }
            extra.push((host.to_string(), super::client::port_arg(port)));
        }
        client.with(|i| i.servers.set(extra));
        MQTTC_ERR_SUCCESS
    })
}

/// The broker the connection uses: its host copied NUL-terminated into `host` (of
/// `hostlen` bytes; `host` may be NULL) and its port into `*port` (may be NULL).
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_NO_CONN` when no connection is open;
/// `MQTTC_ERR_INVAL` (NULL client, or `host` too short for the name and its NUL;
/// nothing is written then).
#[no_mangle]
pub extern "C" fn mqttc_current_server(
    c: *mut mqttc_client,
    host: *mut c_char,
    hostlen: c_int,
    port: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let current = client.with(|i| {
            let (h, p) = i.servers.connected()?;
            Some((h.to_string(), p))
        });
        let Some((name, p)) = current else {
            return MQTTC_ERR_NO_CONN;
        };
        if !host.is_null() {
            let room = usize::try_from(hostlen).unwrap_or(0);
            if name.len() >= room {
                return MQTTC_ERR_INVAL;
            }
            // SAFETY: `host` has `hostlen` writable bytes (API contract); name.len() + 1
            // of them are written.
            unsafe {
                std::ptr::copy_nonoverlapping(name.as_ptr(), host.cast::<u8>(), name.len());
                *host.add(name.len()) = 0;
            }
        }
        if !port.is_null() {
            // SAFETY: `port` points to an int (API contract).
            unsafe { *port = c_int::from(p) };
        }
        MQTTC_ERR_SUCCESS
    })
}

/// Connect through a proxy (paho `proxy_set`): `MQTTC_PROXY_HTTP` (HTTP CONNECT, with
/// Basic credentials when `username` is set), `MQTTC_PROXY_SOCKS4` (SOCKS4, or SOCKS4a
/// for a name; `username` is the user id) or `MQTTC_PROXY_SOCKS5` (no authentication,
/// or user name and password, RFC 1928/1929); `MQTTC_PROXY_NONE` removes the proxy.
/// `port` 0 or less means 1080 for SOCKS and 8080 for HTTP. With `rdns` true the proxy
/// resolves the broker's name; false makes the client resolve it and hand the proxy an
/// address (an address given to connect is always sent as one). TLS and WebSockets run
/// inside the tunnel, the broker's host name checked against its certificate as
/// without a proxy; the connect timeout covers the whole exchange. A refusal or a
/// broken answer makes the connect fail with `MQTTC_ERR_PROXY` and the proxy's answer
/// in `on_log` (never the password); a proxy that cannot be reached, with
/// `MQTTC_ERR_ERRNO`. Strings are copied; the next connection attempt uses the setting.
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL client, unknown type, NULL or
/// empty host, non-UTF-8 strings, a password without a user name, a colon in an HTTP
/// user name, or a port above 65535). SOCKS5 offers user name/password authentication
/// only when both are set and not empty (as PySocks); otherwise none.
#[no_mangle]
pub extern "C" fn mqttc_proxy_set(
    c: *mut mqttc_client,
    proxy_type: c_int,
    host: *const c_char,
    port: c_int,
    rdns: bool,
    username: *const c_char,
    password: *const c_char,
) -> c_int {
    use crate::transport::proxy::{ProxyConfig, ProxyKind};
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let kind = match proxy_type {
            MQTTC_PROXY_NONE => {
                client.with(|i| i.opts.proxy = None);
                return MQTTC_ERR_SUCCESS;
            }
            MQTTC_PROXY_SOCKS4 => ProxyKind::Socks4,
            MQTTC_PROXY_SOCKS5 => ProxyKind::Socks5,
            MQTTC_PROXY_HTTP => ProxyKind::Http,
            _ => return MQTTC_ERR_INVAL,
        };
        let host = try_str!(host);
        // SAFETY: NULL or NUL-terminated strings (API contract).
        let (Ok(username), Ok(password)) =
            (unsafe { opt_str(username) }, unsafe { opt_str(password) })
        else {
            return MQTTC_ERR_INVAL;
        };
        if host.is_empty() || (username.is_none() && password.is_some()) {
            return MQTTC_ERR_INVAL;
        }
        // RFC 7617: a Basic user-id holds no colon.
        if kind == ProxyKind::Http && username.is_some_and(|u| u.contains(':')) {
            return MQTTC_ERR_INVAL;
        }
        let port = match port {
            p if p <= 0 && kind == ProxyKind::Http => 8080,
            p if p <= 0 => 1080,
            p => match u16::try_from(p) {
                Ok(p) => p,
                Err(_) => return MQTTC_ERR_INVAL,
            },
        };
        let cfg = ProxyConfig {
            kind,
            host: host.to_string(),
            port,
            rdns,
            username: username.map(str::to_string),
            password: password.map(str::to_string),
        };
        client.with(|i| i.opts.proxy = Some(cfg));
        MQTTC_ERR_SUCCESS
    })
}
