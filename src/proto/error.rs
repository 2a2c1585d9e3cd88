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
    /// A SUBACK, UNSUBACK or AUTH code that the protocol does not define.
    InvalidReturnCode(u8),
    /// A string or binary field longer than 65535 bytes on encode.
    StringTooLong,
    /// A packet whose remaining length would exceed 268435455 bytes on encode.
    PayloadTooLarge,
    /// A property identifier the specification does not define, or a property whose
    /// value is cut short (MQTT-2.2.2).
    InvalidProperty(u8),
    /// A property the packet may not carry (MQTT-2.2.2.2).
    PropertyNotAllowed(u8),
    /// A single-valued property given more than once.
    DuplicateProperty(u8),
    /// A property value outside its range (Receive Maximum 0, a flag other than 0/1 ...).
    PropertyValue(u8),
}

impl ProtoError {
    /// The MQTT 5 reason code of the DISCONNECT that answers this error in a packet
    /// received (MQTT-4.13): Malformed Packet for what cannot be parsed, Protocol Error
    /// for what parses but breaks a rule, Packet too large for the size limit.
    pub fn disconnect_reason(&self) -> u8 {
        use super::reason;
        match self {
            ProtoError::PacketTooLarge { .. } => reason::PACKET_TOO_LARGE,
            ProtoError::PropertyNotAllowed(_)
            | ProtoError::DuplicateProperty(_)
            | ProtoError::PropertyValue(_)
            | ProtoError::InvalidPacketType(_) => reason::PROTOCOL_ERROR,
            _ => reason::MALFORMED_PACKET,
        }
    }
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
            ProtoError::InvalidProperty(id) => write!(f, "invalid property {id}"),
            ProtoError::PropertyNotAllowed(id) => {
                write!(f, "property {} not allowed in this packet", prop_name(*id))
            }
            ProtoError::DuplicateProperty(id) => {
                write!(f, "property {} given more than once", prop_name(*id))
            }
            ProtoError::PropertyValue(id) => {
                write!(f, "property {} out of range", prop_name(*id))
            }
        }
    }
}

impl std::error::Error for ProtoError {}

fn prop_name(id: u8) -> String {
    match super::properties::spec_of(id) {
        Some(s) => s.name.to_string(),
        None => id.to_string(),
    }
}
