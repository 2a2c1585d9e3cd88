//! C types of the public header: constants, callback typedefs, message and helper structs.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

use super::client::mqttc_client;

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
/// Not supported yet: `mqttc_client_new` returns NULL with errno ENOTSUP.
pub const MQTTC_PROTOCOL_V5: c_int = 5;

// Transports.
pub const MQTTC_TRANSPORT_TCP: c_int = 0;
pub const MQTTC_TRANSPORT_WEBSOCKETS: c_int = 1;

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
}

/// Called when the broker answers CONNECT: `flags` holds
/// `MQTTC_CONNACK_FLAG_SESSION_PRESENT`, `rc` the CONNACK return code.
pub type mqttc_on_connect_cb =
    Option<extern "C" fn(c: *mut mqttc_client, userdata: *mut c_void, flags: c_int, rc: c_int)>;
/// Called when the loop could not open a connection (TCP, TLS or WebSocket failed).
pub type mqttc_on_connect_fail_cb =
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
