//! Messaging: publish and its completion, subscribe and unsubscribe.

use super::client::mqttc_client;
use super::types::*;
use super::*;
use std::os::raw::{c_char, c_int, c_void};
use std::time::Duration;

/// Publish a message (paho `publish`). `topic` and `payload` are copied before the call
/// returns; `payload` may be NULL when `payloadlen` is 0. `*mid` (if `mid` is not NULL)
/// receives the message id, also for QoS 0 and when the result is `NO_CONN`.
///
/// "Published" means: QoS 0 written to the socket, QoS 1 PUBACK received, QoS 2 PUBCOMP
/// received (or a PUBACK instead of PUBREC, from a broker that grants at most QoS 1,
/// such as RabbitMQ's: the message completes as in paho, and `on_log` reports the
/// downgrade at `MQTTC_LOG_WARNING`); `on_publish` fires then. Messages beyond `max_inflight` wait in order, as
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
        publish_rc(client.publish(topic, payload, qos, retain), mid)
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

/// Collect `count` topic filters as Rust strings.
pub(crate) fn filters<'a>(
    count: c_int,
    topics: *const *const c_char,
) -> Result<Vec<&'a str>, c_int> {
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
        mid_rc(client.subscribe(&[(topic, qos)]), mid)
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
        mid_rc(client.subscribe(&list), mid)
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
        mid_rc(client.unsubscribe(&[topic]), mid)
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
        mid_rc(client.unsubscribe(&names), mid)
    })
}

/// A publish result as a result code, `*mid` set when an id was taken (also for
/// `MQTTC_ERR_NO_CONN` and `MQTTC_ERR_QUEUE_SIZE`).
pub(crate) fn publish_rc(r: Result<u16, (u16, crate::error::Error)>, mid: *mut c_int) -> c_int {
    match r {
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
}

/// A subscribe/unsubscribe result as a result code, `*mid` set on success.
pub(crate) fn mid_rc(r: Result<u16, crate::error::Error>, mid: *mut c_int) -> c_int {
    match r {
        Ok(m) => {
            set_out(mid, m as c_int);
            MQTTC_ERR_SUCCESS
        }
        Err(e) => rc_of(e),
    }
}
