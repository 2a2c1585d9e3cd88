//! Callback setters. Setting NULL removes a callback. Callbacks of one client never run
//! concurrently; they run on the thread that drives the loop, with no internal lock
//! held, so they may call any function of the client (except `mqttc_client_destroy`
//! from another thread). Pointers passed to a callback are valid until it returns.

use super::types::*;
use super::*;

/// Store one callback (cbindgen needs each setter written out, so they share this).
fn set(c: *mut mqttc_client, f: impl FnOnce(&mut super::dispatch::Callbacks)) {
    // SAFETY: c is NULL or a live handle from mqttc_client_new (API contract).
    if let Some(client) = unsafe { client_ref(c) } {
        client.update_callbacks(f);
    }
}

/// `on_connect(c, userdata, flags, rc)`: the broker answered CONNECT; `rc` is the
/// CONNACK code (0 accepted; on an MQTT 5 client the reason code, 0x80 and above a
/// refusal), `flags` has `MQTTC_CONNACK_FLAG_SESSION_PRESENT`. Not called when
/// `on_connect_v5` is set.
#[no_mangle]
pub extern "C" fn mqttc_on_connect_set(c: *mut mqttc_client, cb: mqttc_on_connect_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_connect = cb) })
}

/// `on_connect_fail(c, userdata)`: the loop could not open a connection.
#[no_mangle]
pub extern "C" fn mqttc_on_connect_fail_set(c: *mut mqttc_client, cb: mqttc_on_connect_fail_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_connect_fail = cb) })
}

/// `on_pre_connect(c, userdata)` (paho 2): runs before every connection attempt
/// (`mqttc_connect`, `connect_async`, `reconnect`, and each automatic reconnect), on
/// the thread making it, before the socket is opened. It may call any function of the
/// client: `mqttc_username_pw_set` there sets the credentials of this attempt's
/// CONNECT (a token refreshed before each reconnect). NULL removes it.
#[no_mangle]
pub extern "C" fn mqttc_on_pre_connect_set(c: *mut mqttc_client, cb: mqttc_on_pre_connect_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_pre_connect = cb) })
}

/// `on_disconnect(c, userdata, rc)`: rc 0 after `mqttc_disconnect`, otherwise the
/// error that ended the connection (`MQTTC_ERR_CONN_LOST`, also for an MQTT 5
/// DISCONNECT from the server; `MQTTC_ERR_KEEPALIVE`; `MQTTC_ERR_PROTOCOL`;
/// `MQTTC_ERR_CONN_REFUSED` after a refused CONNACK). Not called when
/// `on_disconnect_v5` is set.
#[no_mangle]
pub extern "C" fn mqttc_on_disconnect_set(c: *mut mqttc_client, cb: mqttc_on_disconnect_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_disconnect = cb) })
}

/// `on_message(c, userdata, msg)`: an incoming message not claimed by a
/// `mqttc_message_callback_add` filter. QoS 1 is acknowledged after it returns. On an
/// MQTT 5 client `msg->properties` holds the PUBLISH's properties and `msg->topic` is
/// the full topic also when the broker sent a Topic Alias.
#[no_mangle]
pub extern "C" fn mqttc_on_message_set(c: *mut mqttc_client, cb: mqttc_on_message_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_message = cb) })
}

/// `on_publish(c, userdata, mid)`: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP (MQTT 5:
/// also a PUBACK/PUBREC with a failure code, see `on_publish_v5`). Not called when
/// `on_publish_v5` is set.
#[no_mangle]
pub extern "C" fn mqttc_on_publish_set(c: *mut mqttc_client, cb: mqttc_on_publish_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_publish = cb) })
}

/// `on_subscribe(c, userdata, mid, qos_count, granted_qos)`: SUBACK; 128 = refused (on
/// an MQTT 5 client `granted_qos` are the SUBACK reason codes). Not called when
/// `on_subscribe_v5` is set.
#[no_mangle]
pub extern "C" fn mqttc_on_subscribe_set(c: *mut mqttc_client, cb: mqttc_on_subscribe_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_subscribe = cb) })
}

/// `on_unsubscribe(c, userdata, mid)`: UNSUBACK. Not called when `on_unsubscribe_v5`
/// is set.
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

/// MQTT 5 `on_connect_v5(c, userdata, flags, reason_code, props)`: as `on_connect`,
/// with the CONNACK's properties (an empty list when none; NULL on an MQTT 3.1/3.1.1
/// client). When set, `on_connect` is not called.
#[no_mangle]
pub extern "C" fn mqttc_on_connect_v5_set(c: *mut mqttc_client, cb: mqttc_on_connect_v5_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_connect_v5 = cb) })
}

/// MQTT 5 `on_disconnect_v5(c, userdata, rc, reason_code, props)`: `rc` as for
/// `on_disconnect` (`MQTTC_ERR_CONN_LOST` when the server sent DISCONNECT,
/// `MQTTC_ERR_PROTOCOL` when this client sent one because the server broke the
/// protocol); `reason_code` the DISCONNECT's reason code (the server's, or the one this
/// client sent: 0 after `mqttc_disconnect`), -1 when the connection was lost without
/// one; `props` the server DISCONNECT's properties, NULL otherwise. When set,
/// `on_disconnect` is not called.
#[no_mangle]
pub extern "C" fn mqttc_on_disconnect_v5_set(c: *mut mqttc_client, cb: mqttc_on_disconnect_v5_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_disconnect_v5 = cb) })
}

/// MQTT 5 `on_publish_v5(c, userdata, mid, reason_code, props)`: the reason code and
/// properties of the PUBACK (QoS 1), of the PUBCOMP or of a PUBREC with a failure code
/// (QoS 2); QoS 0 gives `MQTTC_RC_SUCCESS` and NULL. A code of 0x80 or more means the
/// broker refused the message (the flow ends there; the message counts as published).
/// When set, `on_publish` is not called.
#[no_mangle]
pub extern "C" fn mqttc_on_publish_v5_set(c: *mut mqttc_client, cb: mqttc_on_publish_v5_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_publish_v5 = cb) })
}

/// MQTT 5 `on_subscribe_v5(c, userdata, mid, count, reason_codes, props)`: one SUBACK
/// reason code per filter and the SUBACK's properties. When set, `on_subscribe` is not
/// called.
#[no_mangle]
pub extern "C" fn mqttc_on_subscribe_v5_set(c: *mut mqttc_client, cb: mqttc_on_subscribe_v5_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_subscribe_v5 = cb) })
}

/// MQTT 5 `on_unsubscribe_v5(c, userdata, mid, count, reason_codes, props)`: one
/// UNSUBACK reason code per filter and the UNSUBACK's properties. When set,
/// `on_unsubscribe` is not called.
#[no_mangle]
pub extern "C" fn mqttc_on_unsubscribe_v5_set(
    c: *mut mqttc_client,
    cb: mqttc_on_unsubscribe_v5_cb,
) {
    ffi_body!((), { set(c, |cbs| cbs.on_unsubscribe_v5 = cb) })
}

/// MQTT 5 `on_auth(c, userdata, reason_code, props)`: an AUTH packet from the server,
/// during the connect exchange (after `mqttc_connect_v5` with an AuthenticationMethod)
/// or a re-authentication; answer with `mqttc_authenticate`. Without it, an AUTH from
/// the server ends the connection with DISCONNECT 0x82 (protocol error) and
/// `on_disconnect` gets `MQTTC_ERR_PROTOCOL`.
#[no_mangle]
pub extern "C" fn mqttc_on_auth_set(c: *mut mqttc_client, cb: mqttc_on_auth_cb) {
    ffi_body!((), { set(c, |cbs| cbs.on_auth = cb) })
}

/// Route messages whose topic matches filter `sub` to `cb` instead of `on_message`
/// (every matching filter's callback is called). Replaces the callback of an equal
/// filter. `sub` is copied. A shared subscription's filter, `$share/<group>/<filter>`,
/// gets the messages on topics `<filter>` matches, as the broker delivers them (so the
/// same string serves `mqttc_subscribe` and this call).
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
        let mut cbs = client.callbacks().lock();
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
        let mut cbs = client.callbacks().lock();
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
