//! The MQTT 5 calls (paho's `properties=` arguments): connect, will, publish,
//! subscribe, unsubscribe and disconnect with properties, enhanced authentication, and
//! automatic topic aliases.
//!
//! Every list is copied before the call returns; NULL means no properties. On an MQTT
//! 3.1/3.1.1 client a call given properties returns `MQTTC_ERR_NOT_SUPPORTED`. A
//! property the packet may not carry gives `MQTTC_ERR_PROPERTY`, with the reason in
//! `on_log`, and nothing is sent.

use super::client::{mqttc_client, port_arg, session_args};
use super::properties::{mqttc_properties, props_arg};
use super::pubsub::{filters, mid_rc, publish_rc};
use super::types::*;
use super::*;
use crate::client::CleanStart;
use crate::proto::{Disconnect, SubOptions};
use std::os::raw::{c_char, c_int, c_void};

fn clean_start_arg(clean_start: c_int) -> Result<CleanStart, c_int> {
    match clean_start {
        0 => Ok(CleanStart::No),
        1 => Ok(CleanStart::Yes),
        MQTTC_CLEAN_START_FIRST_ONLY => Ok(CleanStart::FirstOnly),
        _ => Err(MQTTC_ERR_INVAL),
    }
}

/// A subscription options argument: QoS 0..2 in bits 0-1 and the `MQTTC_SUB_OPT_*`
/// bits; reserved bits or Retain Handling 3 give INVAL.
fn options_arg(options: c_int) -> Result<SubOptions, c_int> {
    let o = u8::try_from(options).map_err(|_| MQTTC_ERR_INVAL)?;
    if o & 0xC0 != 0 || o & 0x03 == 3 || o & 0x30 == 0x30 {
        return Err(MQTTC_ERR_INVAL);
    }
    Ok(SubOptions(o))
}

/// Connect with MQTT 5 Clean Start and CONNECT properties (paho
/// `connect(..., clean_start, properties)`), blocking as `mqttc_connect` does; other
/// arguments and results as there. `clean_start` is 0, 1 or
/// `MQTTC_CLEAN_START_FIRST_ONLY` (Clean Start 1 on this call's first CONNECT, 0 on
/// its reconnects). `props` (copied; NULL for none) go in every CONNECT of this
/// connection and its reconnects exactly as given: SessionExpiryInterval (a session
/// outlives the connection only with one), ReceiveMaximum, MaximumPacketSize and
/// TopicAliasMaximum (our own limits: a server that exceeds them is disconnected with
/// reason 0x93, 0x95 or 0x94 and `on_disconnect` gets `MQTTC_ERR_PROTOCOL`),
/// RequestResponseInformation, RequestProblemInformation, UserProperty,
/// AuthenticationMethod and AuthenticationData (enhanced authentication: the server's
/// AUTH packets go to `on_auth`).
///
/// The CONNACK's limits then apply to this connection: Receive Maximum caps the
/// messages in flight, Maximum QoS, Retain Available and Maximum Packet Size are
/// checked by `mqttc_publish*`, Server Keep Alive replaces `keepalive`, and an
/// AssignedClientIdentifier becomes the client id for reconnects.
///
/// Returns as `mqttc_connect`; also `MQTTC_ERR_INVAL` for another `clean_start`,
/// `MQTTC_ERR_NOT_SUPPORTED` on an MQTT 3.1/3.1.1 client (clean start or properties),
/// `MQTTC_ERR_PROPERTY` for a property CONNECT may not carry.
#[no_mangle]
pub extern "C" fn mqttc_connect_v5(
    c: *mut mqttc_client,
    host: *const c_char,
    port: c_int,
    keepalive: c_int,
    bind_address: *const c_char,
    clean_start: c_int,
    props: *const mqttc_properties,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let host = try_str!(host);
        let (ka, bind) = try_rc!(session_args(keepalive, bind_address));
        let clean = try_rc!(clean_start_arg(clean_start));
        let props = props_arg(props);
        rc(client.connect_v5(host, port_arg(port), ka, bind, Some(clean), &props))
    })
}

/// `mqttc_connect_v5` without connecting, as `mqttc_connect_async` (the loop connects).
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_INVAL`, `MQTTC_ERR_NOT_SUPPORTED` or
/// `MQTTC_ERR_PROPERTY`.
#[no_mangle]
pub extern "C" fn mqttc_connect_async_v5(
    c: *mut mqttc_client,
    host: *const c_char,
    port: c_int,
    keepalive: c_int,
    bind_address: *const c_char,
    clean_start: c_int,
    props: *const mqttc_properties,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let host = try_str!(host);
        let (ka, bind) = try_rc!(session_args(keepalive, bind_address));
        let clean = try_rc!(clean_start_arg(clean_start));
        let props = props_arg(props);
        rc(client.connect_async_v5(host, port_arg(port), ka, bind, Some(clean), &props))
    })
}

/// `mqttc_will_set` with will properties (copied): WillDelayInterval,
/// PayloadFormatIndicator, MessageExpiryInterval, ContentType, ResponseTopic,
/// CorrelationData, UserProperty. Returns as `mqttc_will_set`, and
/// `MQTTC_ERR_NOT_SUPPORTED` / `MQTTC_ERR_PROPERTY`.
#[no_mangle]
pub extern "C" fn mqttc_will_set_v5(
    c: *mut mqttc_client,
    topic: *const c_char,
    payload: *const c_void,
    payloadlen: c_int,
    qos: c_int,
    retain: bool,
    props: *const mqttc_properties,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        let qos = try_rc!(qos_arg(qos));
        // SAFETY: payload is NULL or points to payloadlen bytes (API contract).
        let payload = try_rc!(unsafe { payload_slice(payload, payloadlen) });
        let props = props_arg(props);
        rc(client.set_will(topic, payload, qos, retain, &props))
    })
}

/// `mqttc_publish` with PUBLISH properties (copied): PayloadFormatIndicator,
/// MessageExpiryInterval, ContentType, ResponseTopic, CorrelationData, UserProperty and
/// TopicAlias (with `topic` "" once the alias is set on this connection; the message
/// keeps its full topic, so a resend after a reconnect carries it). Checked before a
/// message id is taken, and then nothing is sent: `MQTTC_ERR_PROPERTY` (a property a
/// client's PUBLISH may not carry, such as SubscriptionIdentifier, or a TopicAlias above
/// the server's Topic Alias Maximum), `MQTTC_ERR_QOS_NOT_SUPPORTED` (above the server's
/// Maximum QoS), `MQTTC_ERR_NOT_SUPPORTED` (retain where the server said Retain
/// Available 0, or properties on an MQTT 3.1/3.1.1 client), `MQTTC_ERR_OVERSIZE_PACKET`
/// (over the server's Maximum Packet Size, the fixed header included), `MQTTC_ERR_INVAL`
/// ("" without a known alias). Otherwise returns as `mqttc_publish`; `on_publish_v5`
/// reports the PUBACK/PUBREC/PUBCOMP reason code.
#[no_mangle]
pub extern "C" fn mqttc_publish_v5(
    c: *mut mqttc_client,
    topic: *const c_char,
    payload: *const c_void,
    payloadlen: c_int,
    qos: c_int,
    retain: bool,
    props: *const mqttc_properties,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        let qos = try_rc!(qos_arg(qos));
        // SAFETY: payload is NULL or points to payloadlen bytes (API contract).
        let payload = try_rc!(unsafe { payload_slice(payload, payloadlen) });
        let r = if props.is_null() {
            client.publish(topic, payload, qos, retain)
        } else {
            client.publish_v5(topic, payload, qos, retain, &props_arg(props))
        };
        publish_rc(r, mid)
    })
}

/// `mqttc_subscribe` with MQTT 5 subscription options and properties (copied:
/// SubscriptionIdentifier, once, and UserProperty). `options` is the QoS (0..2) ORed
/// with `MQTTC_SUB_OPT_NO_LOCAL`, `MQTTC_SUB_OPT_RETAIN_AS_PUBLISHED` and one of
/// `MQTTC_SUB_OPT_SEND_RETAIN_ALWAYS` / `_NEW` / `_NEVER`. `on_subscribe_v5` reports
/// the SUBACK reason codes.
///
/// Returns as `mqttc_subscribe`; also `MQTTC_ERR_INVAL` for reserved option bits, QoS
/// 3, Retain Handling 3 or No Local on a shared subscription;
/// `MQTTC_ERR_NOT_SUPPORTED` for properties or options beyond the QoS on an MQTT
/// 3.1/3.1.1 client; `MQTTC_ERR_PROPERTY`; `MQTTC_ERR_OVERSIZE_PACKET`.
#[no_mangle]
pub extern "C" fn mqttc_subscribe_v5(
    c: *mut mqttc_client,
    topic: *const c_char,
    options: c_int,
    props: *const mqttc_properties,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        let o = try_rc!(options_arg(options));
        mid_rc(client.subscribe_v5(&[(topic, o)], &props_arg(props)), mid)
    })
}

/// `mqttc_subscribe_v5` for `count` filters in one SUBSCRIBE; `options[i]` applies to
/// `topics[i]`, the properties to the packet. Returns as `mqttc_subscribe_v5`
/// (`MQTTC_ERR_INVAL` also for count ≤ 0 or NULL arrays).
#[no_mangle]
pub extern "C" fn mqttc_subscribe_multiple_v5(
    c: *mut mqttc_client,
    count: c_int,
    topics: *const *const c_char,
    options: *const c_int,
    props: *const mqttc_properties,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let names = try_rc!(filters(count, topics));
        if options.is_null() {
            return MQTTC_ERR_INVAL;
        }
        // SAFETY: the caller passes `count` ints.
        let opts = unsafe { std::slice::from_raw_parts(options, count as usize) };
        let mut list = Vec::with_capacity(names.len());
        for (name, o) in names.iter().zip(opts) {
            list.push((*name, try_rc!(options_arg(*o))));
        }
        mid_rc(client.subscribe_v5(&list, &props_arg(props)), mid)
    })
}

/// `mqttc_unsubscribe` with properties (copied: UserProperty). `on_unsubscribe_v5`
/// reports the UNSUBACK reason codes. Returns as `mqttc_unsubscribe`, and
/// `MQTTC_ERR_NOT_SUPPORTED` / `MQTTC_ERR_PROPERTY` / `MQTTC_ERR_OVERSIZE_PACKET`.
#[no_mangle]
pub extern "C" fn mqttc_unsubscribe_v5(
    c: *mut mqttc_client,
    topic: *const c_char,
    props: *const mqttc_properties,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let topic = try_str!(topic);
        mid_rc(client.unsubscribe_v5(&[topic], &props_arg(props)), mid)
    })
}

/// `mqttc_unsubscribe_v5` for `count` filters in one UNSUBSCRIBE. Returns as
/// `mqttc_unsubscribe_v5` (`MQTTC_ERR_INVAL` also for count ≤ 0 or NULL arrays).
#[no_mangle]
pub extern "C" fn mqttc_unsubscribe_multiple_v5(
    c: *mut mqttc_client,
    count: c_int,
    topics: *const *const c_char,
    props: *const mqttc_properties,
    mid: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        let names = try_rc!(filters(count, topics));
        mid_rc(client.unsubscribe_v5(&names, &props_arg(props)), mid)
    })
}

/// `mqttc_disconnect` with an MQTT 5 reason code and properties (paho
/// `disconnect(reasoncode, properties)`). On the wire: `reason_code` -1 with NULL
/// `props` sends `E0 00` (as `mqttc_disconnect`); a code 0..255 with NULL sends `E0 01
/// rc`; a list, even an empty one, sends the code (0 for -1) and the properties (an
/// empty list: `E0 02 00 00`, as paho). Reason 0x04 (`MQTTC_RC_DISCONNECT_WITH_WILL_MESSAGE`)
/// asks the server to publish the will. Properties: SessionExpiryInterval (not
/// non-zero when CONNECT had none, MQTT-3.14.2-2), ReasonString, UserProperty.
/// `on_disconnect_v5` then gets rc 0 and this reason code.
///
/// Returns as `mqttc_disconnect`; also `MQTTC_ERR_INVAL` for a code outside -1..255,
/// `MQTTC_ERR_NOT_SUPPORTED` on an MQTT 3.1/3.1.1 client for a code other than -1/0 or
/// any list, `MQTTC_ERR_PROPERTY`.
#[no_mangle]
pub extern "C" fn mqttc_disconnect_v5(
    c: *mut mqttc_client,
    reason_code: c_int,
    props: *const mqttc_properties,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        if !(-1..=255).contains(&reason_code) {
            return MQTTC_ERR_INVAL;
        }
        let reason = u8::try_from(reason_code).ok();
        let v5 = client.protocol().is_v5();
        let d = if !v5 && reason.unwrap_or(0) == 0 && props.is_null() {
            Disconnect::normal()
        } else {
            Disconnect {
                reason: if props.is_null() {
                    reason
                } else {
                    Some(reason.unwrap_or(0))
                },
                properties: (!props.is_null()).then(|| props_arg(props)),
            }
        };
        rc(client.disconnect_v5(d))
    })
}

/// MQTT 5 enhanced authentication (paho 2 has none; paho.mqtt.c `MQTTAsync` AUTH):
/// send AUTH with `reason_code` `MQTTC_RC_CONTINUE_AUTHENTICATION` (answering an
/// `on_auth` during the connect exchange or a re-authentication) or
/// `MQTTC_RC_REAUTHENTICATE` (starting a re-authentication while connected), and
/// `props` (copied): AuthenticationMethod (the one of CONNECT), AuthenticationData,
/// ReasonString, UserProperty. The server answers with AUTH (`on_auth`), CONNACK
/// (`on_connect`) or, refusing, DISCONNECT.
///
/// Returns `MQTTC_ERR_SUCCESS`; `MQTTC_ERR_NOT_SUPPORTED` on an MQTT 3.1/3.1.1 client;
/// `MQTTC_ERR_INVAL` (NULL client, another reason code); `MQTTC_ERR_NO_CONN`;
/// `MQTTC_ERR_PROPERTY`; `MQTTC_ERR_OVERSIZE_PACKET`.
#[no_mangle]
pub extern "C" fn mqttc_authenticate(
    c: *mut mqttc_client,
    reason_code: c_int,
    props: *const mqttc_properties,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        if !client.protocol().is_v5() {
            return MQTTC_ERR_NOT_SUPPORTED;
        }
        let Ok(reason) = u8::try_from(reason_code) else {
            return MQTTC_ERR_INVAL;
        };
        rc(client.authenticate(reason, &props_arg(props)))
    })
}

/// Let the client assign outgoing topic aliases itself (default off), MQTT 5: the
/// first PUBLISH to a topic carries it with a new alias, later ones an empty topic and
/// the alias, up to the server's Topic Alias Maximum (when all are taken, the least
/// recently used alias is reassigned). Aliases start anew on every connection; a
/// message resent after a reconnect carries its full topic. A TopicAlias the
/// application sets in `mqttc_publish_v5` takes precedence.
///
/// Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_INVAL` (NULL client),
/// `MQTTC_ERR_NOT_SUPPORTED` (turning it on for an MQTT 3.1/3.1.1 client).
#[no_mangle]
pub extern "C" fn mqttc_topic_alias_auto_set(c: *mut mqttc_client, on: bool) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let client = try_client!(c);
        if on && !client.protocol().is_v5() {
            return MQTTC_ERR_NOT_SUPPORTED;
        }
        rc(client.set_topic_alias_auto(on))
    })
}
