use std::fmt;

/// Why bytes could not be decoded, or a packet could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoError {
    /// Remaining length longer than 4 bytes or otherwise malformed (MQTT-2.2.3).
    MalformedRemainingLength,
    /// The packet (fixed header included) is larger than the configured maximum.
    PacketTooLarge { size: usize, max: usize },
    /// Packet type 0 or 15.
    InvalidPacketType(u8),
    /// Fixed-header flag bits that the specification reserves are wrong.
    ReservedFlags(u8),
    /// A string is not valid UTF-8 (MQTT-1.5.3-1).
    InvalidUtf8,
    /// A string contains U+0000 (MQTT-1.5.3-2).
    NulInString,
    /// QoS 3 (MQTT-3.3.1-4).
    InvalidQoS,
    /// A packet identifier of 0 where one is required (MQTT-2.3.1-1).
    ZeroPacketId,
    /// The body ends before a field it announces.
    Truncated,
    /// The body has bytes past its last field.
    TrailingBytes,
    /// CONNECT protocol name/level pair not "MQTT"/4 or "MQIsdp"/3.
    InvalidProtocol,
    /// Flags with reserved bits set or contradicting each other: CONNECT flags, CONNACK
    /// acknowledge flags, SUBSCRIBE options, or DUP on a QoS 0 PUBLISH (MQTT-3.3.1-2).
    InvalidFlags,
    /// A topic name or filter that is not valid where it appears.
    InvalidTopic,
    /// SUBSCRIBE or UNSUBSCRIBE without any filter (MQTT-3.8.3-3, MQTT-3.10.3-2).
    EmptyPayload,
    /// SUBACK return code other than 0, 1, 2 or 0x80.
    InvalidReturnCode(u8),
    /// A string or binary field longer than 65535 bytes on encode.
    StringTooLong,
    /// A packet whose remaining length would exceed 268435455 bytes on encode.
    PayloadTooLarge,
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::MalformedRemainingLength => write!(f, "malformed remaining length"),
            ProtoError::PacketTooLarge { size, max } => {
                write!(f, "packet of {size} bytes exceeds the maximum of {max}")
            }
            ProtoError::InvalidPacketType(t) => write!(f, "invalid packet type {t}"),
            ProtoError::ReservedFlags(b) => write!(f, "reserved flag bits set in 0x{b:02x}"),
            ProtoError::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            ProtoError::NulInString => write!(f, "string contains U+0000"),
            ProtoError::InvalidQoS => write!(f, "invalid QoS 3"),
            ProtoError::ZeroPacketId => write!(f, "packet identifier 0"),
            ProtoError::Truncated => write!(f, "packet body truncated"),
            ProtoError::TrailingBytes => write!(f, "trailing bytes after packet body"),
            ProtoError::InvalidProtocol => write!(f, "invalid protocol name or level"),
            ProtoError::InvalidFlags => write!(f, "invalid flags"),
            ProtoError::InvalidTopic => write!(f, "invalid topic"),
            ProtoError::EmptyPayload => write!(f, "no topic filters"),
            ProtoError::InvalidReturnCode(c) => write!(f, "invalid return code {c}"),
            ProtoError::StringTooLong => write!(f, "string longer than 65535 bytes"),
            ProtoError::PayloadTooLarge => write!(f, "packet larger than 268435455 bytes"),
        }
    }
}

impl std::error::Error for ProtoError {}
