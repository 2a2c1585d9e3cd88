//! Client handle: lifecycle, connecting, the network loop, publish and subscribe.
#![allow(non_camel_case_types)]

use super::types::*;
use super::*;
use crate::client::{Client, TransportKind};
use crate::proto::ProtocolVersion;
use std::os::raw::{c_char, c_int, c_void};
use std::time::Duration;

/// An MQTT client (opaque). Create with `mqttc_client_new`, free with
/// `mqttc_client_destroy`. Functions: lifecycle (`mqttc_client_new`,
/// `mqttc_client_destroy`, `mqttc_reinitialise`, `mqttc_user_data_set`), options
/// (`mqttc_*_set`), connecting (`mqttc_connect*`, `mqttc_reconnect`,
/// `mqttc_disconnect`), the network loop (`mqttc_loop*`, `mqttc_socket`,
/// `mqttc_want_write`, `mqttc_misc_timeout_ms`), messaging (`mqttc_publish`,
/// `mqttc_subscribe*`, `mqttc_unsubscribe*`) and the `mqttc_on_*_set` callbacks.
pub struct mqttc_client {
    pub(crate) client: Client,
}

fn set_errno_raw(errno: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = errno };
}

fn port_arg(port: c_int) -> u16 {
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
fn session_args<'a>(
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
/// 3.1 a random 22-character id is generated. `userdata` is passed to every callback.
/// `protocol` is `MQTTC_PROTOCOL_V31` or `MQTTC_PROTOCOL_V311` (`MQTTC_PROTOCOL_V5` is
/// not supported yet); `transport` is `MQTTC_TRANSPORT_TCP` or
/// `MQTTC_TRANSPORT_WEBSOCKETS`. The id is copied.
///
/// Returns NULL with errno EINVAL on invalid arguments, ENOTSUP for MQTT 5, ENOMEM when
/// out of memory.
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
            MQTTC_PROTOCOL_V5 => return fail(libc::ENOTSUP),
            _ => return fail(libc::EINVAL),
        };
        let transport = match transport {
            MQTTC_TRANSPORT_TCP => TransportKind::Tcp,
            MQTTC_TRANSPORT_WEBSOCKETS => TransportKind::WebSockets,
            _ => return fail(libc::EINVAL),
        };
        match Client::new(
            id.unwrap_or(""),
            clean_session,
            userdata,
            protocol,
            transport,
        ) {
            Ok(client) => {
                // Reference-counted, so that a call in progress keeps the handle alive
                // when a callback destroys it (see `client_ref`).
                let ptr = std::sync::Arc::into_raw(std::sync::Arc::new(mqttc_client { client }))
                    as *mut mqttc_client;
                // SAFETY: ptr was just made from an Arc and is valid.
                let h = unsafe { &*ptr };
                h.client.callbacks().handle = crate::client::notify::Handle(ptr);
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
        rc(client.reinitialise(id.unwrap_or(""), clean_session, userdata))
    })
}

/// Set the pointer passed to callbacks as `userdata`. Returns `MQTTC_ERR_SUCCESS` or
/// `MQTTC_ERR_INVAL` (NULL client).
#[no_mangle]
pub extern "C" fn mqttc_user_data_set(c: *mut mqttc_client, userdata: *mut c_void) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        client.callbacks().userdata = crate::client::notify::UserData(userdata);
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

/// One iteration of the network loop (paho `loop()`): wait up to `timeout_ms` (less
/// than 0: 1000) for the socket or a timer, then read, handle keepalive and write.
/// `max_packets` is ignored. Callbacks run on the calling thread.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NO_CONN` (not connected; nothing waits),
/// `MQTTC_ERR_CONN_LOST`, `MQTTC_ERR_KEEPALIVE`, `MQTTC_ERR_PROTOCOL` or
/// `MQTTC_ERR_CONN_REFUSED` when the connection ended (after `on_disconnect`), or
/// `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_loop(c: *mut mqttc_client, timeout_ms: c_int, max_packets: c_int) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let _ = max_packets;
        let client = try_client!(c);
        let ms = if timeout_ms < 0 {
            1000
        } else {
            timeout_ms as u64
        };
        client.shared.loop_once(Duration::from_millis(ms))
    })
}

/// Start a thread that runs the network loop (as `mqttc_loop_forever` with
/// `retry_first_connection` true), connecting as soon as `mqttc_connect_async` (before
/// or after this call) asks for it and reconnecting after a lost connection. All
/// callbacks then run on that thread. The thread ends after `mqttc_disconnect`.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_INVAL` (NULL client, or the thread already
/// started and not yet stopped with `mqttc_loop_stop`), `MQTTC_ERR_ERRNO`.
#[no_mangle]
pub extern "C" fn mqttc_loop_start(c: *mut mqttc_client) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        rc(client.loop_start())
    })
}

/// Stop the `mqttc_loop_start` thread and wait for it to end: promptly (within about
/// 100 ms) even during a reconnect delay or a host-name lookup, TCP connect, TLS
/// handshake or WebSocket upgrade in progress. The
/// connection stays open. `force` is accepted for paho compatibility and ignored. From
/// inside a callback on the loop thread, the thread is told to stop and this returns
/// at once: the thread delivers the rest of the callbacks already due, then leaves
/// without another loop iteration. `mqttc_loop_start` may be called again right away,
/// even from that same callback: there is never more than one loop thread, and
/// callbacks still never run concurrently.
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL client or no thread).
#[no_mangle]
pub extern "C" fn mqttc_loop_stop(c: *mut mqttc_client, force: bool) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let _ = force;
        let client = try_client!(c);
        rc(client.loop_stop())
    })
}

/// Run the network loop on the calling thread until `mqttc_disconnect` (paho
/// `loop_forever`). Connects first if `mqttc_connect_async` asked for it; after a lost
/// connection it reconnects, waiting the reconnect delay (see
/// `mqttc_reconnect_delay_set`). `timeout_ms` bounds each wait (less than 0: 1000);
/// `max_packets` is ignored. With `retry_first_connection` false, a failure of the
/// first connection attempt returns at once.
///
/// Returns `MQTTC_ERR_SUCCESS` after `mqttc_disconnect`; otherwise the error that
/// stopped it (`MQTTC_ERR_NO_CONN` when nothing was ever connected, the connection
/// error when `retry_first_connection` is false or reconnecting on failure is off).
#[no_mangle]
pub extern "C" fn mqttc_loop_forever(
    c: *mut mqttc_client,
    timeout_ms: c_int,
    max_packets: c_int,
    retry_first_connection: bool,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let _ = max_packets;
        let client = try_client!(c);
        let ms = if timeout_ms < 0 {
            1000
        } else {
            timeout_ms as u64
        };
        client
            .shared
            .loop_forever(Duration::from_millis(ms), retry_first_connection, None)
    })
}

/// The connected socket, for an external event loop; -1 when not connected (or NULL).
#[no_mangle]
pub extern "C" fn mqttc_socket(c: *mut mqttc_client) -> c_int {
    ffi_body!(-1, {
        // SAFETY: c is NULL or a live handle from mqttc_client_new (API contract).
        match unsafe { client_ref(c) } {
            Some(client) => client.socket(),
            None => -1,
        }
    })
}

/// True while outgoing data waits to be written: watch the socket for writability and
/// call `mqttc_loop_write`. False for NULL.
#[no_mangle]
pub extern "C" fn mqttc_want_write(c: *mut mqttc_client) -> bool {
    ffi_body!(false, {
        // SAFETY: c is NULL or a live handle from mqttc_client_new (API contract).
        match unsafe { client_ref(c) } {
            Some(client) => client.want_write(),
            None => false,
        }
    })
}

/// Read and handle what the socket has, until it would block, for an external loop.
/// Callbacks (`on_message`, `on_connect`, ...) run on the calling thread, after each
/// read. `max_packets` is ignored.
///
/// One call reads at most 4 MiB, so that a flood cannot hold the caller; what is left
/// is due at once: `mqttc_misc_timeout_ms` returns 0 and `mqttc_loop_misc` reads it. A
/// loop that calls `mqttc_loop_misc` when `mqttc_misc_timeout_ms` says misses nothing,
/// edge-triggered (EPOLLET) or not. While another thread (or an outer call on this one)
/// is reading this client, it returns `MQTTC_ERR_SUCCESS` at once: that read takes what
/// the socket has.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NO_CONN`, or the error that ended the
/// connection (after `on_disconnect`).
#[no_mangle]
pub extern "C" fn mqttc_loop_read(c: *mut mqttc_client, max_packets: c_int) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let _ = max_packets;
        try_client!(c).shared.loop_read()
    })
}

/// Write queued data until done or the socket would block, for an external loop.
/// QoS 0 `on_publish` fires here; `on_socket_unregister_write` when all is written.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NO_CONN`, or `MQTTC_ERR_CONN_LOST`.
#[no_mangle]
pub extern "C" fn mqttc_loop_write(c: *mut mqttc_client, max_packets: c_int) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let _ = max_packets;
        try_client!(c).shared.loop_write()
    })
}

/// Run due timers (keepalive PINGREQ, keepalive timeout, message retry, CONNACK
/// timeout), for an external loop; call it when `mqttc_misc_timeout_ms` says. It
/// first reads what `mqttc_loop_read` left unread at its 4 MiB limit, if anything.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NO_CONN`, `MQTTC_ERR_KEEPALIVE` when the
/// broker stopped answering, or the error that ended the connection while reading
/// (after `on_disconnect`).
#[no_mangle]
pub extern "C" fn mqttc_loop_misc(c: *mut mqttc_client) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, { try_client!(c).shared.loop_misc() })
}

/// Milliseconds until `mqttc_loop_misc` is next due (0: now, also when
/// `mqttc_loop_read` left data unread); -1 when nothing is pending (not connected, or
/// no keepalive and no retry) or for NULL.
#[no_mangle]
pub extern "C" fn mqttc_misc_timeout_ms(c: *mut mqttc_client) -> c_int {
    ffi_body!(-1, {
        // SAFETY: c is NULL or a live handle from mqttc_client_new (API contract).
        match unsafe { client_ref(c) } {
            Some(client) => client.shared.misc_timeout_ms(),
            None => -1,
        }
    })
}

/// Publish a message (paho `publish`). `topic` and `payload` are copied before the call
/// returns; `payload` may be NULL when `payloadlen` is 0. `*mid` (if `mid` is not NULL)
/// receives the message id, also for QoS 0 and when the result is `NO_CONN`.
///
/// "Published" means: QoS 0 written to the socket, QoS 1 PUBACK received, QoS 2 PUBCOMP
/// received; `on_publish` fires then. Messages beyond `max_inflight` wait in order, as
/// do QoS 1/2 messages while 4 MiB of output wait to be written (the output buffer is
/// bounded: a broker that stops reading cannot make the client grow without limit;
/// only `max_queued`, default unlimited, bounds the messages kept for later).
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_NO_CONN` when not connected (QoS>0 messages
/// stay queued and are sent once connected, QoS 0 is dropped); `MQTTC_ERR_QUEUE_SIZE`
/// (the `max_queued` limit is reached, or, for QoS 0 only, 4 MiB of earlier packets
/// still wait to be written because the broker or the network does not keep up; the
/// message is dropped: retry once `on_publish` has reported earlier messages);
/// `MQTTC_ERR_INVAL` (NULL client or
/// topic, a topic with wildcards or invalid UTF-8, qos not 0..2);
/// `MQTTC_ERR_PAYLOAD_SIZE` (payloadlen < 0 or > 268435455).
#[no_mangle]
pub extern "C" fn mqttc_publish(
    c: *mut mqttc_client,
    topic: *const c_char,
    payload: *const c_void,
    payloadlen: c_int,
    qos: c_int,
    retain: bool,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        let qos = try_rc!(qos_arg(qos));
        // SAFETY: payload is NULL or points to payloadlen bytes (API contract).
        let payload = try_rc!(unsafe { payload_slice(payload, payloadlen) });
        match client.publish(topic, payload, qos, retain) {
            Ok(m) => {
                set_out(mid, m as c_int);
                MQTTC_ERR_SUCCESS
            }
            Err((m, e)) => {
                if m != 0 {
                    set_out(mid, m as c_int);
                }
                rc_of(e)
            }
        }
    })
}

/// Wait until message `mid` is published (see `mqttc_publish`), up to `timeout_ms`
/// (less than 0: no limit). Another thread must drive the loop (`mqttc_loop_start`);
/// called on the loop thread (inside a callback) it does not wait.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_AGAIN` on timeout, `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_wait_for_publish(
    c: *mut mqttc_client,
    mid: c_int,
    timeout_ms: c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let Ok(mid) = u16::try_from(mid) else {
            return MQTTC_ERR_INVAL;
        };
        if mid == 0 {
            return MQTTC_ERR_INVAL;
        }
        let timeout = (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64));
        rc(client.wait_for_publish(mid, timeout))
    })
}

/// True once message `mid` has been published (see `mqttc_publish`). False for NULL or
/// an id never issued.
#[no_mangle]
pub extern "C" fn mqttc_is_published(c: *mut mqttc_client, mid: c_int) -> bool {
    ffi_body!(false, {
        // SAFETY: c is NULL or a live handle from mqttc_client_new (API contract).
        match (unsafe { client_ref(c) }, u16::try_from(mid)) {
            (Some(client), Ok(mid)) if mid != 0 => client.is_published(mid),
            _ => false,
        }
    })
}

/// Collect `count` (topic, qos) pairs as Rust strings.
fn filters<'a>(count: c_int, topics: *const *const c_char) -> Result<Vec<&'a str>, c_int> {
    if count <= 0 || topics.is_null() {
        return Err(MQTTC_ERR_INVAL);
    }
    // SAFETY: the caller passes `count` valid string pointers.
    let ptrs = unsafe { std::slice::from_raw_parts(topics, count as usize) };
    ptrs.iter()
        // SAFETY: each element is NULL or a NUL-terminated string (API contract).
        .map(|p| match unsafe { opt_str(*p) } {
            Ok(Some(s)) => Ok(s),
            _ => Err(MQTTC_ERR_INVAL),
        })
        .collect()
}

/// Subscribe to one topic filter (paho `subscribe`). `topic` is copied; `*mid` receives
/// the message id; `on_subscribe` reports the granted QoS.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NO_CONN` (not connected; nothing is kept),
/// `MQTTC_ERR_INVAL` (NULL client/topic, invalid filter, qos not 0..2).
#[no_mangle]
pub extern "C" fn mqttc_subscribe(
    c: *mut mqttc_client,
    topic: *const c_char,
    qos: c_int,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        let qos = try_rc!(qos_arg(qos));
        match client.subscribe(&[(topic, qos)]) {
            Ok(m) => {
                set_out(mid, m as c_int);
                MQTTC_ERR_SUCCESS
            }
            Err(e) => rc_of(e),
        }
    })
}

/// Subscribe to `count` filters in one SUBSCRIBE packet; `qos[i]` applies to
/// `topics[i]`. Arrays and strings are copied. Returns as `mqttc_subscribe`
/// (`MQTTC_ERR_INVAL` also for count ≤ 0 or NULL arrays).
#[no_mangle]
pub extern "C" fn mqttc_subscribe_multiple(
    c: *mut mqttc_client,
    count: c_int,
    topics: *const *const c_char,
    qos: *const c_int,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let names = try_rc!(filters(count, topics));
        if qos.is_null() {
            return MQTTC_ERR_INVAL;
        }
        // SAFETY: the caller passes `count` ints.
        let qs = unsafe { std::slice::from_raw_parts(qos, count as usize) };
        let mut list = Vec::with_capacity(names.len());
        for (name, q) in names.iter().zip(qs) {
            list.push((*name, try_rc!(qos_arg(*q))));
        }
        match client.subscribe(&list) {
            Ok(m) => {
                set_out(mid, m as c_int);
                MQTTC_ERR_SUCCESS
            }
            Err(e) => rc_of(e),
        }
    })
}

/// Unsubscribe from one filter (paho `unsubscribe`); `on_unsubscribe` confirms.
/// Returns as `mqttc_subscribe`.
#[no_mangle]
pub extern "C" fn mqttc_unsubscribe(
    c: *mut mqttc_client,
    topic: *const c_char,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        match client.unsubscribe(&[topic]) {
            Ok(m) => {
                set_out(mid, m as c_int);
                MQTTC_ERR_SUCCESS
            }
            Err(e) => rc_of(e),
        }
    })
}

/// Unsubscribe from `count` filters in one UNSUBSCRIBE packet. Returns as
/// `mqttc_subscribe_multiple`.
#[no_mangle]
pub extern "C" fn mqttc_unsubscribe_multiple(
    c: *mut mqttc_client,
    count: c_int,
    topics: *const *const c_char,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let names = try_rc!(filters(count, topics));
        match client.unsubscribe(&names) {
            Ok(m) => {
                set_out(mid, m as c_int);
                MQTTC_ERR_SUCCESS
            }
            Err(e) => rc_of(e),
        }
    })
}
