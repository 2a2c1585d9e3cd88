//! C types of the public header: constants, callback typedefs, message and helper structs.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

use super::client::mqttc_client;
use super::properties::mqttc_properties;

// Result codes (paho's numeric values; never renumbered).
pub const MQTTC_ERR_AGAIN: c_int = -1;
pub const MQTTC_ERR_SUCCESS: c_int = 0;
pub const MQTTC_ERR_NOMEM: c_int = 1;
pub const MQTTC_ERR_PROTOCOL: c_int = 2;
pub const MQTTC_ERR_INVAL: c_int = 3;
pub const MQTTC_ERR_NO_CONN: c_int = 4;
pub const MQTTC_ERR_CONN_REFUSED: c_int = 5;
pub const MQTTC_ERR_NOT_FOUND: c_int = 6;
pub const MQTTC_ERR_CONN_LOST: c_int = 7;
pub const MQTTC_ERR_TLS: c_int = 8;
pub const MQTTC_ERR_PAYLOAD_SIZE: c_int = 9;
pub const MQTTC_ERR_NOT_SUPPORTED: c_int = 10;
pub const MQTTC_ERR_AUTH: c_int = 11;
pub const MQTTC_ERR_ACL_DENIED: c_int = 12;
pub const MQTTC_ERR_UNKNOWN: c_int = 13;
/// The operating system's `errno` holds the cause.
pub const MQTTC_ERR_ERRNO: c_int = 14;
pub const MQTTC_ERR_QUEUE_SIZE: c_int = 15;
pub const MQTTC_ERR_KEEPALIVE: c_int = 16;
/// A property not allowed in that packet, repeated, or out of range (MQTT 5).
pub const MQTTC_ERR_PROPERTY: c_int = 17;
/// Above the server's Maximum QoS (MQTT 5).
pub const MQTTC_ERR_QOS_NOT_SUPPORTED: c_int = 18;
/// The packet exceeds the server's Maximum Packet Size (MQTT 5).
pub const MQTTC_ERR_OVERSIZE_PACKET: c_int = 19;
/// The proxy refused or broke the tunnel (reason in on_log).
pub const MQTTC_ERR_PROXY: c_int = 20;
/// The persistence store cannot be used (reason in on_log; errno when it is the OS's).
pub const MQTTC_ERR_PERSIST: c_int = 21;

// CONNACK return codes, as passed to on_connect's rc.
pub const MQTTC_CONNACK_ACCEPTED: c_int = 0;
pub const MQTTC_CONNACK_REFUSED_PROTOCOL_VERSION: c_int = 1;
pub const MQTTC_CONNACK_REFUSED_IDENTIFIER_REJECTED: c_int = 2;
pub const MQTTC_CONNACK_REFUSED_SERVER_UNAVAILABLE: c_int = 3;
pub const MQTTC_CONNACK_REFUSED_BAD_USERNAME_PASSWORD: c_int = 4;
pub const MQTTC_CONNACK_REFUSED_NOT_AUTHORIZED: c_int = 5;

// Protocol versions.
pub const MQTTC_PROTOCOL_V31: c_int = 3;
pub const MQTTC_PROTOCOL_V311: c_int = 4;
pub const MQTTC_PROTOCOL_V5: c_int = 5;

// MQTT 5 property identifiers (the specification's, MQTT-2.2.2.2).
pub const MQTTC_PROP_PAYLOAD_FORMAT_INDICATOR: c_int = 1;
pub const MQTTC_PROP_MESSAGE_EXPIRY_INTERVAL: c_int = 2;
pub const MQTTC_PROP_CONTENT_TYPE: c_int = 3;
pub const MQTTC_PROP_RESPONSE_TOPIC: c_int = 8;
pub const MQTTC_PROP_CORRELATION_DATA: c_int = 9;
pub const MQTTC_PROP_SUBSCRIPTION_IDENTIFIER: c_int = 11;
pub const MQTTC_PROP_SESSION_EXPIRY_INTERVAL: c_int = 17;
pub const MQTTC_PROP_ASSIGNED_CLIENT_IDENTIFIER: c_int = 18;
pub const MQTTC_PROP_SERVER_KEEP_ALIVE: c_int = 19;
pub const MQTTC_PROP_AUTHENTICATION_METHOD: c_int = 21;
pub const MQTTC_PROP_AUTHENTICATION_DATA: c_int = 22;
pub const MQTTC_PROP_REQUEST_PROBLEM_INFORMATION: c_int = 23;
pub const MQTTC_PROP_WILL_DELAY_INTERVAL: c_int = 24;
pub const MQTTC_PROP_REQUEST_RESPONSE_INFORMATION: c_int = 25;
pub const MQTTC_PROP_RESPONSE_INFORMATION: c_int = 26;
pub const MQTTC_PROP_SERVER_REFERENCE: c_int = 28;
pub const MQTTC_PROP_REASON_STRING: c_int = 31;
pub const MQTTC_PROP_RECEIVE_MAXIMUM: c_int = 33;
pub const MQTTC_PROP_TOPIC_ALIAS_MAXIMUM: c_int = 34;
pub const MQTTC_PROP_TOPIC_ALIAS: c_int = 35;
pub const MQTTC_PROP_MAXIMUM_QOS: c_int = 36;
pub const MQTTC_PROP_RETAIN_AVAILABLE: c_int = 37;
pub const MQTTC_PROP_USER_PROPERTY: c_int = 38;
pub const MQTTC_PROP_MAXIMUM_PACKET_SIZE: c_int = 39;
pub const MQTTC_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: c_int = 40;
pub const MQTTC_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: c_int = 41;
pub const MQTTC_PROP_SHARED_SUBSCRIPTION_AVAILABLE: c_int = 42;

// MQTT 5 reason codes (the specification's values, MQTT-2.4; where one value has
// several names, each is defined).
pub const MQTTC_RC_SUCCESS: c_int = 0;
pub const MQTTC_RC_NORMAL_DISCONNECTION: c_int = 0;
pub const MQTTC_RC_GRANTED_QOS_0: c_int = 0;
pub const MQTTC_RC_GRANTED_QOS_1: c_int = 1;
pub const MQTTC_RC_GRANTED_QOS_2: c_int = 2;
pub const MQTTC_RC_DISCONNECT_WITH_WILL_MESSAGE: c_int = 4;
pub const MQTTC_RC_NO_MATCHING_SUBSCRIBERS: c_int = 16;
pub const MQTTC_RC_NO_SUBSCRIPTION_EXISTED: c_int = 17;
pub const MQTTC_RC_CONTINUE_AUTHENTICATION: c_int = 24;
pub const MQTTC_RC_REAUTHENTICATE: c_int = 25;
pub const MQTTC_RC_UNSPECIFIED_ERROR: c_int = 128;
pub const MQTTC_RC_MALFORMED_PACKET: c_int = 129;
pub const MQTTC_RC_PROTOCOL_ERROR: c_int = 130;
pub const MQTTC_RC_IMPLEMENTATION_SPECIFIC_ERROR: c_int = 131;
pub const MQTTC_RC_UNSUPPORTED_PROTOCOL_VERSION: c_int = 132;
pub const MQTTC_RC_CLIENT_IDENTIFIER_NOT_VALID: c_int = 133;
pub const MQTTC_RC_BAD_USER_NAME_OR_PASSWORD: c_int = 134;
pub const MQTTC_RC_NOT_AUTHORIZED: c_int = 135;
pub const MQTTC_RC_SERVER_UNAVAILABLE: c_int = 136;
pub const MQTTC_RC_SERVER_BUSY: c_int = 137;
pub const MQTTC_RC_BANNED: c_int = 138;
pub const MQTTC_RC_SERVER_SHUTTING_DOWN: c_int = 139;
pub const MQTTC_RC_BAD_AUTHENTICATION_METHOD: c_int = 140;
pub const MQTTC_RC_KEEP_ALIVE_TIMEOUT: c_int = 141;
pub const MQTTC_RC_SESSION_TAKEN_OVER: c_int = 142;
pub const MQTTC_RC_TOPIC_FILTER_INVALID: c_int = 143;
pub const MQTTC_RC_TOPIC_NAME_INVALID: c_int = 144;
pub const MQTTC_RC_PACKET_IDENTIFIER_IN_USE: c_int = 145;
pub const MQTTC_RC_PACKET_IDENTIFIER_NOT_FOUND: c_int = 146;
pub const MQTTC_RC_RECEIVE_MAXIMUM_EXCEEDED: c_int = 147;
pub const MQTTC_RC_TOPIC_ALIAS_INVALID: c_int = 148;
pub const MQTTC_RC_PACKET_TOO_LARGE: c_int = 149;
pub const MQTTC_RC_MESSAGE_RATE_TOO_HIGH: c_int = 150;
pub const MQTTC_RC_QUOTA_EXCEEDED: c_int = 151;
pub const MQTTC_RC_ADMINISTRATIVE_ACTION: c_int = 152;
pub const MQTTC_RC_PAYLOAD_FORMAT_INVALID: c_int = 153;
pub const MQTTC_RC_RETAIN_NOT_SUPPORTED: c_int = 154;
pub const MQTTC_RC_QOS_NOT_SUPPORTED: c_int = 155;
pub const MQTTC_RC_USE_ANOTHER_SERVER: c_int = 156;
pub const MQTTC_RC_SERVER_MOVED: c_int = 157;
pub const MQTTC_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: c_int = 158;
pub const MQTTC_RC_CONNECTION_RATE_EXCEEDED: c_int = 159;
pub const MQTTC_RC_MAXIMUM_CONNECT_TIME: c_int = 160;
pub const MQTTC_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: c_int = 161;
pub const MQTTC_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: c_int = 162;

// MQTT 5 subscription options: OR them into `qos` for `mqttc_subscribe_v5` (the wire
// byte, as paho's SubscribeOptions.pack()).
/// Do not receive this client's own publications (not on shared subscriptions).
pub const MQTTC_SUB_OPT_NO_LOCAL: c_int = 0x04;
/// Keep the RETAIN flag as published instead of clearing it on forwarded messages.
pub const MQTTC_SUB_OPT_RETAIN_AS_PUBLISHED: c_int = 0x08;
/// Retained messages are sent on every subscribe (the default).
pub const MQTTC_SUB_OPT_SEND_RETAIN_ALWAYS: c_int = 0x00;
/// Retained messages are sent only when the subscription did not exist.
pub const MQTTC_SUB_OPT_SEND_RETAIN_NEW: c_int = 0x10;
/// Retained messages are never sent on subscribe.
pub const MQTTC_SUB_OPT_SEND_RETAIN_NEVER: c_int = 0x20;

/// `clean_start` of `mqttc_connect_v5`: Clean Start 1 on the first CONNECT after the
/// call, 0 on its reconnects (paho's default).
pub const MQTTC_CLEAN_START_FIRST_ONLY: c_int = 3;

// Transports.
pub const MQTTC_TRANSPORT_TCP: c_int = 0;
pub const MQTTC_TRANSPORT_WEBSOCKETS: c_int = 1;
/// paho 2's `transport="unix"`: the host given to connect is the socket's path.
pub const MQTTC_TRANSPORT_UNIX: c_int = 2;

/// `mqttc_proxy_set` types (PySocks' numbers, as paho's `proxy_set`).
pub const MQTTC_PROXY_NONE: c_int = 0;
pub const MQTTC_PROXY_SOCKS4: c_int = 1;
pub const MQTTC_PROXY_SOCKS5: c_int = 2;
pub const MQTTC_PROXY_HTTP: c_int = 3;

// Log levels (bit values, combine them for `mqttc_enable_logger`).
pub const MQTTC_LOG_INFO: c_int = 0x01;
pub const MQTTC_LOG_NOTICE: c_int = 0x02;
pub const MQTTC_LOG_WARNING: c_int = 0x04;
pub const MQTTC_LOG_ERR: c_int = 0x08;
pub const MQTTC_LOG_DEBUG: c_int = 0x10;

/// on_connect flags: the broker resumed a stored session.
pub const MQTTC_CONNACK_FLAG_SESSION_PRESENT: c_int = 0x01;

// TLS verification modes and versions.
pub const MQTTC_CERT_NONE: c_int = 0;
pub const MQTTC_CERT_OPTIONAL: c_int = 1;
pub const MQTTC_CERT_REQUIRED: c_int = 2;
pub const MQTTC_TLS_VERSION_DEFAULT: c_int = 0;
pub const MQTTC_TLS_VERSION_1_2: c_int = 12;
pub const MQTTC_TLS_VERSION_1_3: c_int = 13;

/// A message, as seen in `on_message` (valid only until the callback returns; keep a
/// copy with `mqttc_message_copy`).
#[repr(C)]
pub struct mqttc_message {
    /// Packet identifier (0 for QoS 0).
    pub mid: c_int,
    /// NUL-terminated topic.
    pub topic: *const c_char,
    pub payload: *const c_void,
    pub payloadlen: c_int,
    pub qos: c_int,
    pub retain: bool,
    pub dup: bool,
    /// The PUBLISH's MQTT 5 properties (an empty list when it had none, its Topic
    /// Alias included when it had one); NULL on an MQTT 3.1/3.1.1 client.
    pub properties: *const mqttc_properties,
}

/// Called when the broker answers CONNECT: `flags` holds
/// `MQTTC_CONNACK_FLAG_SESSION_PRESENT`, `rc` the CONNACK return code.
pub type mqttc_on_connect_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, flags: c_int, rc: c_int)>;
/// Called when the loop could not open a connection (TCP, TLS or WebSocket failed).
pub type mqttc_on_connect_fail_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void)>;
/// Called before every connection attempt (paho 2 `on_pre_connect`).
pub type mqttc_on_pre_connect_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void)>;
/// Called when the connection ends: rc 0 after `mqttc_disconnect`, else the cause.
pub type mqttc_on_disconnect_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, rc: c_int)>;
/// Called for each incoming message.
pub type mqttc_on_message_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, msg: *const mqttc_message)>;
/// Called when a message is published (QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP).
pub type mqttc_on_publish_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, mid: c_int)>;
/// Called on SUBACK with one granted QoS per filter (128 = refused).
pub type mqttc_on_subscribe_cb = Option<
    extern "C" fn(
        c: *mut mqttc_client,
        userdata: *mut c_void,
        mid: c_int,
        qos_count: c_int,
        granted_qos: *const c_int,
    ),
>;
/// Called on UNSUBACK.
pub type mqttc_on_unsubscribe_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, mid: c_int)>;
/// Called with each log line (`level` is one `MQTTC_LOG_*` bit).
pub type mqttc_on_log_cb = Option<
    extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, level: c_int, buf: *const c_char),
>;
/// Socket notifications for external event loops.
pub type mqttc_on_socket_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, sock: c_int)>;

/// MQTT 5 `on_connect`: `reason_code` the CONNACK reason code, `props` its properties
/// (an empty list when none; NULL on an MQTT 3.1/3.1.1 client).
pub type mqttc_on_connect_v5_cb = Option<
    extern "C" fn(
        c: *mut mqttc_client,
        userdata: *mut c_void,
        flags: c_int,
        reason_code: c_int,
        props: *const mqttc_properties,
    ),
>;
/// MQTT 5 `on_disconnect`: `rc` as for `on_disconnect`; `reason_code` the DISCONNECT's
/// (the server's, or the one this client sent; -1 when none was involved); `props` the
/// server DISCONNECT's properties, else NULL.
pub type mqttc_on_disconnect_v5_cb = Option<
    extern "C" fn(
        c: *mut mqttc_client,
        userdata: *mut c_void,
        rc: c_int,
        reason_code: c_int,
        props: *const mqttc_properties,
    ),
>;
/// MQTT 5 `on_publish`: the PUBACK/PUBREC/PUBCOMP reason code and properties (QoS 0:
/// `MQTTC_RC_SUCCESS` and NULL).
pub type mqttc_on_publish_v5_cb = Option<
    extern "C" fn(
        c: *mut mqttc_client,
        userdata: *mut c_void,
        mid: c_int,
        reason_code: c_int,
        props: *const mqttc_properties,
    ),
>;
/// MQTT 5 `on_subscribe`: one reason code per filter (the granted QoS, or 0x80 and
/// above for a refusal) and the SUBACK's properties.
pub type mqttc_on_subscribe_v5_cb = Option<
    extern "C" fn(
        c: *mut mqttc_client,
        userdata: *mut c_void,
        mid: c_int,
        count: c_int,
        reason_codes: *const c_int,
        props: *const mqttc_properties,
    ),
>;
/// MQTT 5 `on_unsubscribe`: one reason code per filter and the UNSUBACK's properties
/// (an MQTT 3.1.1 UNSUBACK has no codes: count 0, NULL codes and properties).
pub type mqttc_on_unsubscribe_v5_cb = Option<
    extern "C" fn(
        c: *mut mqttc_client,
        userdata: *mut c_void,
        mid: c_int,
        count: c_int,
        reason_codes: *const c_int,
        props: *const mqttc_properties,
    ),
>;
/// An AUTH packet from the server (MQTT 5 enhanced authentication): `reason_code`
/// `MQTTC_RC_CONTINUE_AUTHENTICATION` or `MQTTC_RC_SUCCESS`, `props` its properties
/// (AuthenticationMethod, AuthenticationData ...). Answer with `mqttc_authenticate`.
pub type mqttc_on_auth_cb = Option<
    extern "C" fn(
        c: *mut mqttc_client,
        userdata: *mut c_void,
        reason_code: c_int,
        props: *const mqttc_properties,
    ),
>;

/// Will message for the one-shot helpers.
#[repr(C)]
pub struct mqttc_will {
    pub topic: *const c_char,
    pub payload: *const c_void,
    pub payloadlen: c_int,
    pub qos: c_int,
    pub retain: bool,
}

/// Credentials for the one-shot helpers (`password` may be NULL).
#[repr(C)]
pub struct mqttc_auth {
    pub username: *const c_char,
    pub password: *const c_char,
}

/// TLS settings for the one-shot helpers: applied with `mqttc_tls_set(c, ca_certs,
/// certfile, keyfile, MQTTC_CERT_REQUIRED, tls_version, ciphers)` (the broker's
/// certificate is always verified, as in paho's helpers) and, when `insecure` is true,
/// `mqttc_tls_insecure_set`. The helpers return those functions' errors.
#[repr(C)]
pub struct mqttc_tls_opts {
    pub ca_certs: *const c_char,
    pub certfile: *const c_char,
    pub keyfile: *const c_char,
    pub tls_version: c_int,
    pub ciphers: *const c_char,
    pub insecure: bool,
}

/// Connection options for the one-shot helpers; fill with `mqttc_conn_opts_init`.
#[repr(C)]
pub struct mqttc_conn_opts {
    pub hostname: *const c_char,
    pub port: c_int,
    /// NULL or "": a random id.
    pub client_id: *const c_char,
    pub keepalive: c_int,
    pub will: *const mqttc_will,
    pub auth: *const mqttc_auth,
    pub tls: *const mqttc_tls_opts,
    /// `MQTTC_PROTOCOL_V31`, `_V311` or `_V5` (the helpers then connect with
    /// `mqttc_connect_v5(..., MQTTC_CLEAN_START_FIRST_ONLY, NULL)`, and received
    /// messages carry their properties).
    pub protocol: c_int,
    pub transport: c_int,
}

/// One message for `mqttc_publish_multiple`.
#[repr(C)]
pub struct mqttc_publish_msg {
    pub topic: *const c_char,
    pub payload: *const c_void,
    pub payloadlen: c_int,
    pub qos: c_int,
    pub retain: bool,
}
