//! The specification's table of MQTT 5 properties (MQTT-2.2.2.2): identifiers, value
//! types, where each may appear, which may repeat, and value ranges; and the values.

use super::codec::MAX_FIELD_LEN;

/// Property identifiers, as the specification names them (MQTT-2.2.2.2).
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 1;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 2;
    pub const CONTENT_TYPE: u8 = 3;
    pub const RESPONSE_TOPIC: u8 = 8;
    pub const CORRELATION_DATA: u8 = 9;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 11;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 17;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 18;
    pub const SERVER_KEEP_ALIVE: u8 = 19;
    pub const AUTHENTICATION_METHOD: u8 = 21;
    pub const AUTHENTICATION_DATA: u8 = 22;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 23;
    pub const WILL_DELAY_INTERVAL: u8 = 24;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 25;
    pub const RESPONSE_INFORMATION: u8 = 26;
    pub const SERVER_REFERENCE: u8 = 28;
    pub const REASON_STRING: u8 = 31;
    pub const RECEIVE_MAXIMUM: u8 = 33;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 34;
    pub const TOPIC_ALIAS: u8 = 35;
    pub const MAXIMUM_QOS: u8 = 36;
    pub const RETAIN_AVAILABLE: u8 = 37;
    pub const USER_PROPERTY: u8 = 38;
    pub const MAXIMUM_PACKET_SIZE: u8 = 39;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 40;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 41;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 42;
}

/// The wire type of a property's value (MQTT-1.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropType {
    Byte,
    TwoByte,
    FourByte,
    VarInt,
    Utf8,
    Binary,
    Pair,
}

impl PropType {
    /// Integer kinds (one C setter, `add_int`, takes them all).
    pub fn is_int(self) -> bool {
        matches!(
            self,
            PropType::Byte | PropType::TwoByte | PropType::FourByte | PropType::VarInt
        )
    }
}

/// Where a property may appear: one bit per control packet type (1 << type), and bit 0
/// for the will properties of CONNECT.
pub type Where = u16;
pub const IN_WILL: Where = 1 << 0;
pub const IN_CONNECT: Where = 1 << 1;
pub const IN_CONNACK: Where = 1 << 2;
pub const IN_PUBLISH: Where = 1 << 3;
pub const IN_PUBACK: Where = 1 << 4;
pub const IN_PUBREC: Where = 1 << 5;
pub const IN_PUBREL: Where = 1 << 6;
pub const IN_PUBCOMP: Where = 1 << 7;
pub const IN_SUBSCRIBE: Where = 1 << 8;
pub const IN_SUBACK: Where = 1 << 9;
pub const IN_UNSUBSCRIBE: Where = 1 << 10;
pub const IN_UNSUBACK: Where = 1 << 11;
pub const IN_DISCONNECT: Where = 1 << 14;
pub const IN_AUTH: Where = 1 << 15;

const ACKS: Where = IN_PUBACK | IN_PUBREC | IN_PUBREL | IN_PUBCOMP;
const MESSAGE: Where = IN_PUBLISH | IN_WILL;

/// What the specification says of one identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropSpec {
    pub id: u8,
    pub name: &'static str,
    pub ty: PropType,
    /// Packets (and the will) that may carry it.
    pub allowed: Where,
    /// May appear more than once (User Property; Subscription Identifier in PUBLISH).
    pub multi: bool,
    /// Smallest and largest value of an integer property.
    pub min: u32,
    pub max: u32,
}

const fn spec(
    id: u8,
    name: &'static str,
    ty: PropType,
    allowed: Where,
    min: u32,
    max: u32,
) -> PropSpec {
    PropSpec {
        id,
        name,
        ty,
        allowed,
        multi: false,
        min,
        max,
    }
}

const BOOL: (u32, u32) = (0, 1);
const U16: u32 = u16::MAX as u32;
pub(super) const VBI_MAX: u32 = 268_435_455;

/// The specification's table (MQTT-2.2.2.2), in identifier order.
pub const SPECS: [PropSpec; 27] = {
    use id::*;
    use PropType::*;
    [
        spec(
            PAYLOAD_FORMAT_INDICATOR,
            "PayloadFormatIndicator",
            Byte,
            MESSAGE,
            BOOL.0,
            BOOL.1,
        ),
        spec(
            MESSAGE_EXPIRY_INTERVAL,
            "MessageExpiryInterval",
            FourByte,
            MESSAGE,
            0,
            u32::MAX,
        ),
        spec(CONTENT_TYPE, "ContentType", Utf8, MESSAGE, 0, 0),
        spec(RESPONSE_TOPIC, "ResponseTopic", Utf8, MESSAGE, 0, 0),
        spec(CORRELATION_DATA, "CorrelationData", Binary, MESSAGE, 0, 0),
        PropSpec {
            multi: true,
            ..spec(
                SUBSCRIPTION_IDENTIFIER,
                "SubscriptionIdentifier",
                VarInt,
                IN_PUBLISH | IN_SUBSCRIBE,
                1,
                VBI_MAX,
            )
        },
        spec(
            SESSION_EXPIRY_INTERVAL,
            "SessionExpiryInterval",
            FourByte,
            IN_CONNECT | IN_CONNACK | IN_DISCONNECT,
            0,
            u32::MAX,
        ),
        spec(
            ASSIGNED_CLIENT_IDENTIFIER,
            "AssignedClientIdentifier",
            Utf8,
            IN_CONNACK,
            0,
            0,
        ),
        spec(
            SERVER_KEEP_ALIVE,
            "ServerKeepAlive",
            TwoByte,
            IN_CONNACK,
            0,
            U16,
        ),
        spec(
            AUTHENTICATION_METHOD,
            "AuthenticationMethod",
            Utf8,
            IN_CONNECT | IN_CONNACK | IN_AUTH,
            0,
            0,
        ),
        spec(
            AUTHENTICATION_DATA,
            "AuthenticationData",
            Binary,
            IN_CONNECT | IN_CONNACK | IN_AUTH,
            0,
            0,
        ),
        spec(
            REQUEST_PROBLEM_INFORMATION,
            "RequestProblemInformation",
            Byte,
            IN_CONNECT,
            BOOL.0,
            BOOL.1,
        ),
        spec(
            WILL_DELAY_INTERVAL,
            "WillDelayInterval",
            FourByte,
            IN_WILL,
            0,
            u32::MAX,
        ),
        spec(
            REQUEST_RESPONSE_INFORMATION,
            "RequestResponseInformation",
            Byte,
            IN_CONNECT,
            BOOL.0,
            BOOL.1,
        ),
        spec(
            RESPONSE_INFORMATION,
            "ResponseInformation",
            Utf8,
            IN_CONNACK,
            0,
            0,
        ),
        spec(
            SERVER_REFERENCE,
            "ServerReference",
            Utf8,
            IN_CONNACK | IN_DISCONNECT,
            0,
            0,
        ),
        spec(
            REASON_STRING,
            "ReasonString",
            Utf8,
            IN_CONNACK | ACKS | IN_SUBACK | IN_UNSUBACK | IN_DISCONNECT | IN_AUTH,
            0,
            0,
        ),
        spec(
            RECEIVE_MAXIMUM,
            "ReceiveMaximum",
            TwoByte,
            IN_CONNECT | IN_CONNACK,
            1,
            U16,
        ),
        spec(
            TOPIC_ALIAS_MAXIMUM,
            "TopicAliasMaximum",
            TwoByte,
            IN_CONNECT | IN_CONNACK,
            0,
            U16,
        ),
        spec(TOPIC_ALIAS, "TopicAlias", TwoByte, IN_PUBLISH, 1, U16),
        spec(MAXIMUM_QOS, "MaximumQoS", Byte, IN_CONNACK, BOOL.0, BOOL.1),
        spec(
            RETAIN_AVAILABLE,
            "RetainAvailable",
            Byte,
            IN_CONNACK,
            BOOL.0,
            BOOL.1,
        ),
        PropSpec {
            multi: true,
            ..spec(USER_PROPERTY, "UserProperty", Pair, !0, 0, 0)
        },
        spec(
            MAXIMUM_PACKET_SIZE,
            "MaximumPacketSize",
            FourByte,
            IN_CONNECT | IN_CONNACK,
            1,
            u32::MAX,
        ),
        spec(
            WILDCARD_SUBSCRIPTION_AVAILABLE,
            "WildcardSubscriptionAvailable",
            Byte,
            IN_CONNACK,
            BOOL.0,
            BOOL.1,
        ),
        spec(
            SUBSCRIPTION_IDENTIFIER_AVAILABLE,
            "SubscriptionIdentifierAvailable",
            Byte,
            IN_CONNACK,
            BOOL.0,
            BOOL.1,
        ),
        spec(
            SHARED_SUBSCRIPTION_AVAILABLE,
            "SharedSubscriptionAvailable",
            Byte,
            IN_CONNACK,
            BOOL.0,
            BOOL.1,
        ),
    ]
};

/// The table row of identifier `id`, `None` for an identifier the specification does
/// not define.
pub fn spec_of(id: u8) -> Option<&'static PropSpec> {
    SPECS.iter().find(|s| s.id == id)
}

/// The name of the packet (or "will") that `place` stands for, for messages.
pub fn place_name(place: Where) -> &'static str {
    match place {
        IN_WILL => "will",
        IN_CONNECT => "CONNECT",
        IN_CONNACK => "CONNACK",
        IN_PUBLISH => "PUBLISH",
        IN_PUBACK => "PUBACK",
        IN_PUBREC => "PUBREC",
        IN_PUBREL => "PUBREL",
        IN_PUBCOMP => "PUBCOMP",
        IN_SUBSCRIBE => "SUBSCRIBE",
        IN_SUBACK => "SUBACK",
        IN_UNSUBSCRIBE => "UNSUBSCRIBE",
        IN_UNSUBACK => "UNSUBACK",
        IN_DISCONNECT => "DISCONNECT",
        IN_AUTH => "AUTH",
        _ => "packet",
    }
}

/// A property value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Byte, Two Byte, Four Byte and Variable Byte Integer properties.
    Int(u32),
    Str(String),
    Bin(Vec<u8>),
    /// User Property: name and value.
    Pair(String, String),
}

/// One property of an owned list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub id: u8,
    pub value: Value,
}

/// A borrowed property value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueRef<'a> {
    Int(u32),
    Str(&'a str),
    Bin(&'a [u8]),
    Pair(&'a str, &'a str),
}

impl ValueRef<'_> {
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Int(v) => Value::Int(v),
            ValueRef::Str(s) => Value::Str(s.to_owned()),
            ValueRef::Bin(b) => Value::Bin(b.to_vec()),
            ValueRef::Pair(n, v) => Value::Pair(n.to_owned(), v.to_owned()),
        }
    }
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Int(v) => ValueRef::Int(*v),
            Value::Str(s) => ValueRef::Str(s),
            Value::Bin(b) => ValueRef::Bin(b),
            Value::Pair(n, v) => ValueRef::Pair(n, v),
        }
    }
}

/// Why a value cannot be a given property (for builders; decoding maps these onto
/// [`ProtoError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropError {
    /// Not an identifier of the specification.
    UnknownId,
    /// A value of another type than the identifier's.
    WrongType,
    /// An integer outside the identifier's range, or a string or binary value longer
    /// than 65535 bytes.
    OutOfRange,
}

/// Checks `value` against `id`'s row of the table.
pub fn check_value(id: u8, value: ValueRef<'_>) -> Result<&'static PropSpec, PropError> {
    let spec = spec_of(id).ok_or(PropError::UnknownId)?;
    match (spec.ty, value) {
        (ty, ValueRef::Int(v)) if ty.is_int() => {
            let type_max = match ty {
                PropType::Byte => 0xFF,
                PropType::TwoByte => 0xFFFF,
                PropType::VarInt => VBI_MAX,
                _ => u32::MAX,
            };
            if v < spec.min || v > spec.max.min(type_max) {
                return Err(PropError::OutOfRange);
            }
        }
        (PropType::Utf8, ValueRef::Str(s)) => {
            // MQTT-1.5.4-2: no U+0000 in a UTF-8 string.
            if s.len() > MAX_FIELD_LEN || s.as_bytes().contains(&0) {
                return Err(PropError::OutOfRange);
            }
        }
        (PropType::Binary, ValueRef::Bin(b)) if b.len() <= MAX_FIELD_LEN => {}
        (PropType::Pair, ValueRef::Pair(n, v)) => {
            if n.len() > MAX_FIELD_LEN
                || v.len() > MAX_FIELD_LEN
                || n.as_bytes().contains(&0)
                || v.as_bytes().contains(&0)
            {
                return Err(PropError::OutOfRange);
            }
        }
        (PropType::Binary, ValueRef::Bin(_)) => return Err(PropError::OutOfRange),
        _ => return Err(PropError::WrongType),
    }
    Ok(spec)
}
