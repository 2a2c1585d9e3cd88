//! The network loop: `mqttc_loop`, the loop thread, `mqttc_loop_forever`, and the
//! steps an external event loop calls.

use super::client::mqttc_client;
use super::types::*;
use super::*;
use std::os::raw::c_int;
use std::time::Duration;

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
