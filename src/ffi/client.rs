//! Client handle: lifecycle, connecting, the network loop, publish and subscribe.
#![allow(non_camel_case_types)]

use super::dispatch::{CallbackTable, Callbacks, Handle, UserData};
use super::types::*;
use super::*;
use crate::client::{Client, TransportKind};
use crate::proto::ProtocolVersion;
use std::os::raw::{c_char, c_int, c_void};

/// An MQTT client (opaque). Create with `mqttc_client_new`, free with
/// `mqttc_client_destroy`. Functions: lifecycle (`mqttc_client_new`,
/// `mqttc_client_destroy`, `mqttc_reinitialise`, `mqttc_user_data_set`), options
/// (`mqttc_*_set`), connecting (`mqttc_connect*`, `mqttc_reconnect`,
/// `mqttc_disconnect`), the network loop (`mqttc_loop*`, `mqttc_socket`,
/// `mqttc_want_write`, `mqttc_misc_timeout_ms`), messaging (`mqttc_publish`,
/// `mqttc_subscribe*`, `mqttc_unsubscribe*`) and the `mqttc_on_*_set` callbacks.
pub struct mqttc_client {
    pub(crate) client: Client,
    pub(crate) callbacks: std::sync::Arc<super::dispatch::CallbackTable>,
}

fn set_errno_raw(errno: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = errno };
}

pub(crate) fn port_arg(port: c_int) -> u16 {
    if port <= 0 {
        1883
    } else {
        u16::try_from(port).unwrap_or(1883)
    }
}

fn keepalive_arg(keepalive: c_int) -> Result<u16, c_int> {
    u16::try_from(keepalive).map_err(|_| MQTTC_ERR_INVAL)
}

/// The arguments every connect function shares: keepalive (0..65535 s) and the local
/// bind address (NULL or "" for any).
pub(crate) fn session_args<'a>(
    keepalive: c_int,
    bind_address: *const c_char,
) -> Result<(u16, Option<&'a str>), c_int> {
    // SAFETY: bind_address is NULL or a NUL-terminated string (API convention).
    let bind = unsafe { opt_str(bind_address) }.map_err(|_| MQTTC_ERR_INVAL)?;
    Ok((keepalive_arg(keepalive)?, bind.filter(|b| !b.is_empty())))
}

/// Create a client (paho `Client()`).
///
/// `client_id` NULL or "" means no id of our own: with `clean_session == false` that is
/// invalid; with MQTT 3.1.1 an empty id is sent and the broker assigns one; with MQTT
/// 3.1 a random 22-character id is generated; with MQTT 5 an empty id is sent and the
/// broker assigns one (its AssignedClientIdentifier is then used for reconnects).
/// `userdata` is passed to every callback. `protocol` is `MQTTC_PROTOCOL_V31`,
/// `MQTTC_PROTOCOL_V311` or `MQTTC_PROTOCOL_V5`; `transport` is `MQTTC_TRANSPORT_TCP`,
/// `MQTTC_TRANSPORT_WEBSOCKETS` or `MQTTC_TRANSPORT_UNIX` (the host given to connect is
/// then the path of the broker's Unix domain socket and the port is ignored; a missing
/// path or one nobody listens on gives `MQTTC_ERR_ERRNO` with ENOENT or ECONNREFUSED).
/// The id is copied. Under MQTT 5, `clean_session` is
/// the Clean Start flag the 3.1.1 connect functions send on every connection (a
/// session outlives a connection only with a SessionExpiryInterval, see
/// `mqttc_connect_v5`).
///
/// Returns NULL with errno EINVAL on invalid arguments, ENOMEM when out of memory.
#[no_mangle]
pub extern "C" fn mqttc_client_new(
    client_id: *const c_char,
    clean_session: bool,
    userdata: *mut c_void,
    protocol: c_int,
    transport: c_int,
) -> *mut mqttc_client {
    ffi_body!(std::ptr::null_mut(), {
        let fail = |errno| {
            set_errno_raw(errno);
            std::ptr::null_mut()
        };
        // SAFETY: client_id is NULL or a NUL-terminated string (API contract).
        let Ok(id) = (unsafe { opt_str(client_id) }) else {
            return fail(libc::EINVAL);
        };
        let protocol = match protocol {
            MQTTC_PROTOCOL_V31 => ProtocolVersion::V31,
            MQTTC_PROTOCOL_V311 => ProtocolVersion::V311,
            MQTTC_PROTOCOL_V5 => ProtocolVersion::V5,
            _ => return fail(libc::EINVAL),
        };
        let transport = match transport {
            MQTTC_TRANSPORT_TCP => TransportKind::Tcp,
            MQTTC_TRANSPORT_WEBSOCKETS => TransportKind::WebSockets,
            MQTTC_TRANSPORT_UNIX => TransportKind::Unix,
            _ => return fail(libc::EINVAL),
        };
        match Client::new(id.unwrap_or(""), clean_session, protocol, transport) {
            Ok(client) => {
                let callbacks =
                    CallbackTable::new(Callbacks::new(Handle(std::ptr::null_mut()), userdata));
                // Reference-counted, so that a call in progress keeps the handle alive
                // when a callback destroys it (see `client_ref`).
                let ptr = std::sync::Arc::into_raw(std::sync::Arc::new(mqttc_client {
                    client,
                    callbacks: callbacks.clone(),
                })) as *mut mqttc_client;
                callbacks.lock().handle = Handle(ptr);
                // SAFETY: ptr was just made from an Arc and is valid.
                let h = unsafe { &*ptr };
                h.client.set_handler(callbacks);
                ptr
            }
            Err(_) => fail(libc::EINVAL),
        }
    })
}

/// Stop the loop thread (if any), close the connection without sending DISCONNECT
/// (so the broker publishes the will, if one is set) and free the client. NULL is
/// ignored. The handle is invalid afterwards.
///
/// Called from another thread while the `mqttc_loop_start` thread is inside a
/// callback, it waits for that callback to return (so the callback must not wait for
/// the destroying thread). Called from inside a callback of the client itself (on the
/// loop thread, or within `mqttc_loop`/`mqttc_loop_forever`/`mqttc_loop_read`/... on
/// the caller's thread), it stops everything at once: no further callback runs (the
/// rest of that batch included), the loop thread leaves when the callback returns, and
/// the call that ran the callback returns (`MQTTC_ERR_SUCCESS` or `MQTTC_ERR_NO_CONN`);
/// the memory is freed then. Calling it while another thread is inside any other
/// function of the same client (other than from that function's callbacks) is a bug
/// of the caller.
#[no_mangle]
pub extern "C" fn mqttc_client_destroy(c: *mut mqttc_client) {
    ffi_body!((), {
        if !c.is_null() {
            // SAFETY: c came from mqttc_client_new (Arc::into_raw) and is destroyed once,
            // so this takes back the handle's own count. A call still running on the
            // client (the one whose callback is destroying it) holds another count, and
            // the memory goes when that call returns.
            let handle = unsafe { std::sync::Arc::from_raw(c as *const mqttc_client) };
            handle.client.shutdown();
        }
    })
}

/// Reset the client to the state of a new one (paho `reinitialise`): the connection is
/// closed without DISCONNECT, queued messages, options and callbacks are dropped. The
/// protocol and transport given to `mqttc_client_new` are kept.
///
/// Returns `MQTTC_ERR_SUCCESS`, or `MQTTC_ERR_INVAL` for a NULL client, an empty id with
/// `clean_session == false`, or while the `mqttc_loop_start` thread runs.
#[no_mangle]
pub extern "C" fn mqttc_reinitialise(
    c: *mut mqttc_client,
    client_id: *const c_char,
    clean_session: bool,
    userdata: *mut c_void,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let id = try_opt_str!(client_id);
        try_rc!(rc_result(
            client.reinitialise(id.unwrap_or(""), clean_session)
        ));
        client.update_callbacks(|cbs| *cbs = Callbacks::new(cbs.handle, userdata));
        MQTTC_ERR_SUCCESS
    })
}

/// Set the pointer passed to callbacks as `userdata`. Returns `MQTTC_ERR_SUCCESS` or
/// `MQTTC_ERR_INVAL` (NULL client).
#[no_mangle]
pub extern "C" fn mqttc_user_data_set(c: *mut mqttc_client, userdata: *mut c_void) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        client.callbacks().lock().userdata = UserData(userdata);
        MQTTC_ERR_SUCCESS
    })
}

/// Connect to a broker (paho `connect`), blocking until the transport is up (TCP, then
/// the TLS handshake when TLS is set, then the WebSocket upgrade for
/// `MQTTC_TRANSPORT_WEBSOCKETS`) and CONNECT is queued; the CONNACK is handled by the
/// loop and reported by `on_connect`. `host` is copied and is also the name checked
/// against the broker's certificate; `port` 0 or less means 1883; `keepalive` is in
/// seconds (0..65535, 0 disables it); `bind_address` NULL or "" means any local
/// address. Gives up after 5 seconds in all, the host-name lookup included (it runs
/// on a short-lived helper thread, since getaddrinfo cannot be interrupted; a lookup
/// given up on finishes there and is dropped).
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL client or host, bad
/// keepalive, a WebSocket header line that is not a valid HTTP header);
/// `MQTTC_ERR_ERRNO` with errno set (ECONNREFUSED, ETIMEDOUT, ...; a name that cannot
/// be resolved gives errno ENOENT, a name server that does not answer ETIMEDOUT;
/// ECANCELED when `mqttc_disconnect` was called from another thread meanwhile, see
/// there); `MQTTC_ERR_TLS` when the TLS handshake fails or the certificate is not
/// trusted (nothing is sent then; the reason goes to `on_log`); `MQTTC_ERR_PROTOCOL`
/// when the server refuses the WebSocket upgrade (e.g. HTTP 404, a wrong
/// Sec-WebSocket-Accept, or a subprotocol other than "mqtt" in its answer; an answer
/// naming no subprotocol is accepted, as paho does). With TLS 1.3 a broker that
/// rejects the client certificate does so after the handshake: `mqttc_connect`
/// succeeds and the loop then ends the connection with `MQTTC_ERR_TLS`. Triggers
/// `on_socket_open` (and `on_log`).
///
/// A broker that accepts the connection but sends no CONNACK within `keepalive`
/// seconds (at most 30 s, also with keepalive 0) is given up on by the loop, as paho
/// does: the connection is closed, `on_disconnect` gets `MQTTC_ERR_KEEPALIVE`
/// (`on_connect` never ran), and the loop's usual reconnect rules apply.
#[no_mangle]
pub extern "C" fn mqttc_connect(
    c: *mut mqttc_client,
    host: *const c_char,
    port: c_int,
    keepalive: c_int,
    bind_address: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let host = try_str!(host);
        let (ka, bind) = try_rc!(session_args(keepalive, bind_address));
        rc(client.connect(host, port_arg(port), ka, bind))
    })
}

/// Record the connection parameters without connecting (paho `connect_async`); the
/// loop (`mqttc_loop_start`, `mqttc_loop_forever`) opens the connection at once, in
/// either order. Never blocks. Arguments as for `mqttc_connect`.
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_connect_async(
    c: *mut mqttc_client,
    host: *const c_char,
    port: c_int,
    keepalive: c_int,
    bind_address: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let host = try_str!(host);
        let (ka, bind) = try_rc!(session_args(keepalive, bind_address));
        rc(client.connect_async(host, port_arg(port), ka, bind))
    })
}

/// Connect to a broker found through DNS SRV records (paho `connect_srv`): looks up
/// `_secure-mqtt._tcp.<domain>` when TLS is set (`mqttc_tls_set*`), else
/// `_mqtt._tcp.<domain>`, and tries the targets as `mqttc_connect` would, lowest
/// priority first and by weight within a priority (RFC 2782), until one connects; its
/// host and port are then used by `mqttc_reconnect`. `domain` NULL or "" means this
/// host's domain (the host name after its first dot, else /etc/resolv.conf's `domain`
/// or first `search` entry). Other arguments as for `mqttc_connect`.
///
/// The query goes over UDP (TCP when the answer is truncated) to the name servers of
/// /etc/resolv.conf, or to the one named by the environment variable
/// `MQTTC_DNS_SERVER` ("ip:port", e.g. "127.0.0.1:5353"; "ip" means port 53); a
/// server silent for 2 s is asked once more, all within the 5-second connect timeout.
/// Each target then gets its own connect timeout.
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_INVAL` (NULL client, bad keepalive, `domain`
/// NULL and this host has no domain, not a valid domain name); `MQTTC_ERR_NOT_FOUND`
/// (no such name, no SRV record, the service marked unavailable with target ".", or
/// the server answered with an error); `MQTTC_ERR_ERRNO` with errno ETIMEDOUT when no
/// DNS server answers; otherwise the error of the last target tried, as
/// `mqttc_connect` returns it. Every failure is also reported to `on_log`.
#[no_mangle]
pub extern "C" fn mqttc_connect_srv(
    c: *mut mqttc_client,
    domain: *const c_char,
    keepalive: c_int,
    bind_address: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let domain = try_opt_str!(domain);
        let (ka, bind) = try_rc!(session_args(keepalive, bind_address));
        rc(client.connect_srv(domain, ka, bind))
    })
}

/// Close the current connection, if any (no `on_disconnect`), and connect again with
/// the parameters of the last `mqttc_connect`/`mqttc_connect_async` (blocking as
/// `mqttc_connect`). Unacknowledged messages are resent after the CONNACK.
///
/// Returns as `mqttc_connect`; `MQTTC_ERR_INVAL` when no connect was ever requested.
#[no_mangle]
pub extern "C" fn mqttc_reconnect(c: *mut mqttc_client) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        rc(client.reconnect())
    })
}

/// Send DISCONNECT and close the connection; the broker does not publish the will.
/// `on_disconnect` then gets rc 0 (from this call when no loop thread runs and the
/// packet could be written at once, otherwise from the loop). `mqttc_loop_forever`
/// and the `mqttc_loop_start` thread return/stop afterwards and do not reconnect.
///
/// Called while another thread is inside `mqttc_connect` or `mqttc_reconnect`, or while
/// the loop thread is opening a connection, it cancels that connect and returns
/// `MQTTC_ERR_SUCCESS` at once: when the transport attempt ends (at most its 5 s
/// timeout), the new connection is closed unused (nothing is sent), that
/// `mqttc_connect` returns `MQTTC_ERR_ERRNO` with errno `ECANCELED`, no callback runs
/// for it and the loop does not reconnect.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NO_CONN` (not connected, no connect in
/// progress) or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_disconnect(c: *mut mqttc_client) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        rc(client.disconnect())
    })
}
