//! Callback setters. Setting NULL removes a callback. Callbacks of one client never run
//! concurrently; they run on the thread that drives the loop, with no internal lock
//! held, so they may call any function of the client (except `mqttc_client_destroy`
//! from another thread). Pointers passed to a callback are valid until it returns.

use super::types::*;
use super::*;

/// Store one callback (cbindgen needs each setter written out, so they share this).
fn set(c: *mut mqttc_client, f: impl FnOnce(&mut crate::client::notify::Callbacks)) {
    // SAFETY: c is NULL or a live handle from mqttc_client_new (API contract).
    if let Some(client) = unsafe { client_ref(c) } {
        f(&mut client.callbacks());
        client.refresh_log_mask();
    }
}

/// `on_connect(c, userdata, flags, rc)`: the broker answered CONNECT; `rc` is the
/// CONNACK code (0 accepted), `flags` has `MQTTC_CONNACK_FLAG_SESSION_PRESENT`.
#[no_mangle]
pub extern "C" fn mqttc_on_connect_set(c: *mut mqttc_client, cb: mqttc_on_connect_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_connect = cb) })
}

/// `on_connect_fail(c, userdata)`: the loop could not open a connection.
#[no_mangle]
pub extern "C" fn mqttc_on_connect_fail_set(c: *mut mqttc_client, cb: mqttc_on_connect_fail_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_connect_fail = cb) })
}

/// `on_disconnect(c, userdata, rc)`: rc 0 after `mqttc_disconnect`, otherwise the
/// error that ended the connection (`MQTTC_ERR_CONN_LOST`, `MQTTC_ERR_KEEPALIVE`,
/// `MQTTC_ERR_PROTOCOL`, `MQTTC_ERR_CONN_REFUSED` after a refused CONNACK).
#[no_mangle]
pub extern "C" fn mqttc_on_disconnect_set(c: *mut mqttc_client, cb: mqttc_on_disconnect_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_disconnect = cb) })
}

/// `on_message(c, userdata, msg)`: an incoming message not claimed by a
/// `mqttc_message_callback_add` filter. QoS 1 is acknowledged after it returns.
#[no_mangle]
pub extern "C" fn mqttc_on_message_set(c: *mut mqttc_client, cb: mqttc_on_message_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_message = cb) })
}

/// `on_publish(c, userdata, mid)`: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP.
#[no_mangle]
pub extern "C" fn mqttc_on_publish_set(c: *mut mqttc_client, cb: mqttc_on_publish_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_publish = cb) })
}

/// `on_subscribe(c, userdata, mid, qos_count, granted_qos)`: SUBACK; 128 = refused.
#[no_mangle]
pub extern "C" fn mqttc_on_subscribe_set(c: *mut mqttc_client, cb: mqttc_on_subscribe_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_subscribe = cb) })
}

/// `on_unsubscribe(c, userdata, mid)`: UNSUBACK.
#[no_mangle]
pub extern "C" fn mqttc_on_unsubscribe_set(c: *mut mqttc_client, cb: mqttc_on_unsubscribe_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_unsubscribe = cb) })
}

/// `on_log(c, userdata, level, line)`: log lines of every level. May also run on a
/// thread calling `mqttc_publish`, `mqttc_subscribe` or `mqttc_connect`.
#[no_mangle]
pub extern "C" fn mqttc_on_log_set(c: *mut mqttc_client, cb: mqttc_on_log_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_log = cb) })
}

/// `on_socket_open(c, userdata, sock)`: a socket was connected; add it to your
/// event loop for reading. Runs on the thread that connected.
#[no_mangle]
pub extern "C" fn mqttc_on_socket_open_set(c: *mut mqttc_client, cb: mqttc_on_socket_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_socket_open = cb) })
}

/// `on_socket_close(c, userdata, sock)`: the socket is about to be closed; remove
/// it from your event loop.
#[no_mangle]
pub extern "C" fn mqttc_on_socket_close_set(c: *mut mqttc_client, cb: mqttc_on_socket_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_socket_close = cb) })
}

/// `on_socket_register_write(c, userdata, sock)`: data waits to be written; watch
/// the socket for writability. Runs on the thread that queued the data (e.g. the
/// caller of `mqttc_publish`).
#[no_mangle]
pub extern "C" fn mqttc_on_socket_register_write_set(c: *mut mqttc_client, cb: mqttc_on_socket_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_socket_register_write = cb) })
}

/// `on_socket_unregister_write(c, userdata, sock)`: everything is written; stop
/// watching for writability.
#[no_mangle]
pub extern "C" fn mqttc_on_socket_unregister_write_set(
    c: *mut mqttc_client,
    cb: mqttc_on_socket_cb,
) {
    ffi_body!((), { set(c, |cbs| cbs.on_socket_unregister_write = cb) })
}

/// Route messages whose topic matches filter `sub` to `cb` instead of `on_message`
/// (every matching filter's callback is called). Replaces the callback of an equal
/// filter. `sub` is copied.
///
/// Returns `MQTTC_ERR_SUCCESS` or `MQTTC_ERR_INVAL` (NULL client/sub/cb, invalid filter).
#[no_mangle]
pub extern "C" fn mqttc_message_callback_add(
    c: *mut mqttc_client,
    sub: *const c_char,
    cb: mqttc_on_message_cb,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let sub = try_str!(sub);
        if cb.is_none() || !crate::proto::topic::valid_topic_filter(sub) {
            return MQTTC_ERR_INVAL;
        }
        let mut cbs = client.callbacks();
        let mut list: Vec<_> = cbs.filters.as_ref().clone();
        match list.iter_mut().find(|(f, _)| f == sub) {
            Some(entry) => entry.1 = cb,
            None => list.push((sub.to_string(), cb)),
        }
        cbs.filters = std::sync::Arc::new(list);
        MQTTC_ERR_SUCCESS
    })
}

/// Remove the callback of filter `sub`. Returns `MQTTC_ERR_SUCCESS`,
/// `MQTTC_ERR_NOT_FOUND` (no such filter) or `MQTTC_ERR_INVAL`.
#[no_mangle]
pub extern "C" fn mqttc_message_callback_remove(c: *mut mqttc_client, sub: *const c_char) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let sub = try_str!(sub);
        let mut cbs = client.callbacks();
        let mut list: Vec<_> = cbs.filters.as_ref().clone();
        let before = list.len();
        list.retain(|(f, _)| f != sub);
        if list.len() == before {
            return MQTTC_ERR_NOT_FOUND;
        }
        cbs.filters = std::sync::Arc::new(list);
        MQTTC_ERR_SUCCESS
    })
}
