//! The one internal error type, mapped to paho's result codes in one place (`code`).

use crate::proto::ProtoError;
use std::fmt;
use std::io;

/// paho result codes (API.md "Constants"); the numeric values are fixed.
pub mod code {
    pub(crate) const AGAIN: i32 = -1;
    pub(crate) const SUCCESS: i32 = 0;
    pub(crate) const NOMEM: i32 = 1;
    pub(crate) const PROTOCOL: i32 = 2;
    pub(crate) const INVAL: i32 = 3;
    pub(crate) const NO_CONN: i32 = 4;
    pub(crate) const CONN_REFUSED: i32 = 5;
    pub(crate) const NOT_FOUND: i32 = 6;
    pub(crate) const CONN_LOST: i32 = 7;
    pub(crate) const TLS: i32 = 8;
    pub(crate) const PAYLOAD_SIZE: i32 = 9;
    pub(crate) const NOT_SUPPORTED: i32 = 10;
    pub(crate) const AUTH: i32 = 11;
    pub(crate) const ACL_DENIED: i32 = 12;
    pub(crate) const UNKNOWN: i32 = 13;
    pub(crate) const ERRNO: i32 = 14;
    pub(crate) const QUEUE_SIZE: i32 = 15;
    pub(crate) const KEEPALIVE: i32 = 16;
    pub(crate) const PROPERTY: i32 = 17;
    pub(crate) const QOS_NOT_SUPPORTED: i32 = 18;
    pub(crate) const OVERSIZE_PACKET: i32 = 19;
    pub(crate) const PROXY: i32 = 20;
    pub(crate) const PERSIST: i32 = 21;
}

#[derive(Debug)]
pub enum Error {
    /// Would block / timed out waiting (MQTTC_ERR_AGAIN).
    Again,
    NoMem,
    /// The peer broke the protocol (malformed or unexpected packet).
    Protocol(ProtoError),
    /// An unexpected packet that is well-formed but not allowed here.
    UnexpectedPacket(&'static str),
    Inval,
    NoConn,
    ConnRefused,
    NotFound,
    ConnLost,
    Tls(String),
    /// The WebSocket upgrade failed (HTTP refusal, bad handshake): MQTTC_ERR_PROTOCOL.
    WebSocket(String),
    PayloadSize,
    NotSupported,
    Auth,
    AclDenied,
    Unknown,
    /// An operating-system error; `errno` is set from it at the C boundary.
    Io(io::Error),
    QueueSize,
    /// No PINGRESP (or CONNACK) within the keepalive period.
    Keepalive,
    /// MQTT 5: a property not allowed in that packet, repeated, or out of range.
    Property(String),
    /// MQTT 5: above the server's Maximum QoS.
    QosNotSupported,
    /// MQTT 5: the packet exceeds the server's Maximum Packet Size.
    OversizePacket,
    /// MQTT 5: the server sent DISCONNECT with this reason code (MQTTC_ERR_CONN_LOST).
    ServerDisconnect(u8),
    /// MQTT 5: the server broke a rule that ends the connection with a DISCONNECT of
    /// this reason code (a limit of ours exceeded, an unknown topic alias, an AUTH
    /// nobody handles): MQTTC_ERR_PROTOCOL.
    Violation {
        reason: u8,
        why: String,
    },
    /// The proxy refused the tunnel or broke the exchange (its answer).
    Proxy(String),
}

impl Error {
    /// The paho result code for this error.
    pub fn code(&self) -> i32 {
        match self {
            Error::Again => code::AGAIN,
            Error::NoMem => code::NOMEM,
            Error::Protocol(_) | Error::UnexpectedPacket(_) => code::PROTOCOL,
            Error::Inval => code::INVAL,
            Error::NoConn => code::NO_CONN,
            Error::ConnRefused => code::CONN_REFUSED,
            Error::NotFound => code::NOT_FOUND,
            Error::ConnLost => code::CONN_LOST,
            Error::Tls(_) => code::TLS,
            Error::WebSocket(_) => code::PROTOCOL,
            Error::PayloadSize => code::PAYLOAD_SIZE,
            Error::NotSupported => code::NOT_SUPPORTED,
            Error::Auth => code::AUTH,
            Error::AclDenied => code::ACL_DENIED,
            Error::Unknown => code::UNKNOWN,
            Error::Io(_) => code::ERRNO,
            Error::QueueSize => code::QUEUE_SIZE,
            Error::Keepalive => code::KEEPALIVE,
            Error::Property(_) => code::PROPERTY,
            Error::QosNotSupported => code::QOS_NOT_SUPPORTED,
            Error::OversizePacket => code::OVERSIZE_PACKET,
            Error::ServerDisconnect(_) => code::CONN_LOST,
            Error::Violation { .. } => code::PROTOCOL,
            Error::Proxy(_) => code::PROXY,
        }
    }

    /// The MQTT 5 reason code of the DISCONNECT this client sends before closing
    /// because of this error, if it sends one (MQTT-4.13.2).
    pub fn disconnect_reason(&self) -> Option<u8> {
        use crate::proto::reason;
        match self {
            Error::Protocol(e) => Some(e.disconnect_reason()),
            Error::UnexpectedPacket(_) => Some(reason::PROTOCOL_ERROR),
            Error::Violation { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::UnexpectedPacket(what) => write!(f, "protocol error: unexpected {what}"),
            Error::Tls(why) => write!(f, "TLS error: {why}"),
            Error::WebSocket(why) => write!(f, "WebSocket error: {why}"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Property(why) => write!(f, "property error: {why}"),
            Error::Proxy(why) => write!(f, "proxy: {why}"),
            Error::ServerDisconnect(rc) => write!(
                f,
                "the server sent DISCONNECT: {} (0x{rc:02x})",
                crate::proto::reason::name(*rc).unwrap_or("unknown reason code")
            ),
            Error::Violation { reason, why } => {
                write!(f, "protocol error: {why} (DISCONNECT 0x{reason:02x})")
            }
            other => f.write_str(error_string(other.code())),
        }
    }
}

impl std::error::Error for Error {}

impl From<ProtoError> for Error {
    fn from(e: ProtoError) -> Self {
        Error::Protocol(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// Static description of a result code (`mqttc_error_string`).
pub fn error_string(rc: i32) -> &'static str {
    match rc {
        code::AGAIN => "Operation would block or timed out.",
        code::SUCCESS => "No error.",
        code::NOMEM => "Out of memory.",
        code::PROTOCOL => "A network protocol error occurred when communicating with the broker.",
        code::INVAL => "Invalid function arguments provided.",
        code::NO_CONN => "The client is not currently connected.",
        code::CONN_REFUSED => "The connection was refused.",
        code::NOT_FOUND => "Message not found (internal error).",
        code::CONN_LOST => "The connection was lost.",
        code::TLS => "A TLS error occurred.",
        code::PAYLOAD_SIZE => "Payload too large.",
        code::NOT_SUPPORTED => "This feature is not supported.",
        code::AUTH => "Authorisation failed.",
        code::ACL_DENIED => "Access denied by ACL.",
        code::UNKNOWN => "Unknown error.",
        code::ERRNO => "Error defined by errno.",
        code::QUEUE_SIZE => "Message queue full.",
        code::KEEPALIVE => "Keepalive timeout: no response from the broker.",
        code::PROPERTY => "A property is not allowed in that packet, repeated, or out of range.",
        code::QOS_NOT_SUPPORTED => "The QoS is above the broker's Maximum QoS.",
        code::OVERSIZE_PACKET => "The packet is larger than the broker's Maximum Packet Size.",
        code::PROXY => "The proxy refused or broke the connection.",
        code::PERSIST => "The persistence store cannot be used.",
        _ => "Unknown error.",
    }
}

/// Static description of a CONNACK return code (`mqttc_connack_string`), paho's wording.
pub fn connack_string(rc: i32) -> &'static str {
    match rc {
        0 => "Connection Accepted.",
        1 => "Connection Refused: unacceptable protocol version.",
        2 => "Connection Refused: identifier rejected.",
        3 => "Connection Refused: broker unavailable.",
        4 => "Connection Refused: bad user name or password.",
        5 => "Connection Refused: not authorised.",
        _ => "Connection Refused: unknown reason.",
    }
}
