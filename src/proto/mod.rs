//! Sans-I/O MQTT 3.1 / 3.1.1 / 5 wire format.
//!
//! `decode` parses one packet from the front of a byte buffer (incrementally: a partial
//! packet yields `Ok(None)`), `encode` appends one packet to an output buffer. Nothing
//! here touches a socket, a thread or a clock. Each packet kind lives in its own file,
//! one type per kind for every protocol level: MQTT 5 fields (properties, reason codes)
//! are simply empty under 3.1/3.1.1, and the encoder takes the level.

mod ack;
mod auth;
mod codec;
mod connack;
mod connect;
mod disconnect;
mod error;
pub mod properties;
mod property_spec;
mod publish;
pub mod reason;
mod suback;
mod subscribe;
pub mod topic;
mod unsubscribe;

#[cfg(test)]
mod tests;

pub use codec::{
    decode, decode_ref, encode, peek_fixed_header, remaining_length_len, FixedHeader, PacketRef,
};
pub use error::ProtoError;
pub use properties::{Properties, PropsRef, Value, ValueRef};
pub use publish::{encode_publish, publish_len, PublishV5};

/// Maximum value the MQTT remaining-length field can carry (MQTT-2.2.3).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// MQTT packet identifier. 0 is never valid on the wire (MQTT-2.3.1-1).
pub type PacketId = u16;

/// Quality of service level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum QoS {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    /// `None` for 3 and above (a malformed QoS, MQTT-3.3.1-4).
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// Protocol level carried in CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ProtocolVersion {
    /// MQTT 3.1, protocol name "MQIsdp", level 3.
    V31 = 3,
    /// MQTT 3.1.1, protocol name "MQTT", level 4.
    V311 = 4,
    /// MQTT 5.0, protocol name "MQTT", level 5.
    V5 = 5,
}

impl ProtocolVersion {
    pub fn is_v5(self) -> bool {
        self == ProtocolVersion::V5
    }
}

/// Options that shape decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Largest whole packet (fixed header included) accepted; checked from the fixed
    /// header before the body is buffered.
    pub max_packet_size: usize,
    /// Protocol in use on this connection: it decides the layout of every packet (and
    /// in 3.1 the CONNACK flags byte is reserved, so `session_present` is always false).
    pub protocol: ProtocolVersion,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_packet_size: MAX_REMAINING_LENGTH + 5,
            protocol: ProtocolVersion::V311,
        }
    }
}

/// Will message carried in CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastWill {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
    /// Will properties (MQTT 5, MQTT-3.1.3.2).
    pub properties: Properties,
}

/// CONNECT (MQTT-3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    pub protocol: ProtocolVersion,
    pub client_id: String,
    /// Clean Session (3.1/3.1.1) or Clean Start (5).
    pub clean_session: bool,
    pub keep_alive: u16,
    pub will: Option<LastWill>,
    pub username: Option<String>,
    /// Binary data in 3.1.1 (MQTT-3.1.3.5); sent as a zero-length field when `Some(empty)`.
    pub password: Option<Vec<u8>>,
    /// MQTT 5 CONNECT properties.
    pub properties: Properties,
}

/// CONNACK (MQTT-3.2). `code` is the connect return code (3.1.1: 0 accepted, 1..=5
/// refused) or the reason code (5: below 0x80 success).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub code: u8,
    pub properties: Properties,
}

impl ConnAck {
    pub fn new(session_present: bool, code: u8) -> ConnAck {
        ConnAck {
            session_present,
            code,
            properties: Properties::new(),
        }
    }
}

/// PUBLISH (MQTT-3.3). `pkid` is 0 for QoS 0 and non-zero otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    /// May be empty under MQTT 5 when a Topic Alias stands for it.
    pub topic: String,
    pub pkid: PacketId,
    pub payload: Vec<u8>,
    pub properties: Properties,
}

/// A decoded PUBLISH whose topic, properties and payload still lie in the input buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishRef<'a> {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    pub topic: &'a str,
    pub pkid: PacketId,
    pub payload: &'a [u8],
    /// Empty under 3.1/3.1.1.
    pub properties: PropsRef<'a>,
}

impl PublishRef<'_> {
    pub fn to_owned(&self) -> Publish {
        Publish {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.topic.to_owned(),
            pkid: self.pkid,
            payload: self.payload.to_vec(),
            properties: self.properties.into(),
        }
    }
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP: a packet identifier, and under MQTT 5 a reason
/// code and properties (reason 0 without properties is the 2-byte short form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    pub pkid: PacketId,
    pub reason: u8,
    pub properties: Properties,
}

impl Ack {
    /// The plain acknowledgement of `pkid` (reason 0, no properties).
    pub fn new(pkid: PacketId) -> Ack {
        Ack {
            pkid,
            reason: 0,
            properties: Properties::new(),
        }
    }
}

/// The options byte of one SUBSCRIBE filter (MQTT-3.8.3.1): QoS in bits 0-1, and under
/// MQTT 5 No Local (bit 2), Retain As Published (bit 3) and Retain Handling (bits 4-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubOptions(pub u8);

impl SubOptions {
    pub const NO_LOCAL: u8 = 0x04;
    pub const RETAIN_AS_PUBLISHED: u8 = 0x08;
    pub const RETAIN_HANDLING_MASK: u8 = 0x30;

    pub fn qos(self) -> QoS {
        QoS::from_u8(self.0 & 0b11).unwrap_or(QoS::ExactlyOnce)
    }
}

impl From<QoS> for SubOptions {
    fn from(q: QoS) -> SubOptions {
        SubOptions(q as u8)
    }
}

/// SUBSCRIBE (MQTT-3.8): at least one (filter, options) pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    pub pkid: PacketId,
    pub filters: Vec<(String, SubOptions)>,
    pub properties: Properties,
}

/// SUBACK (MQTT-3.9): one code per filter: 0, 1, 2 granted; 0x80 and above failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubAck {
    pub pkid: PacketId,
    pub return_codes: Vec<u8>,
    pub properties: Properties,
}

/// UNSUBSCRIBE (MQTT-3.10): at least one filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    pub pkid: PacketId,
    pub filters: Vec<String>,
    pub properties: Properties,
}

/// UNSUBACK (MQTT-3.11): a packet identifier; under MQTT 5 also properties and one
/// reason code per filter (empty under 3.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubAck {
    pub pkid: PacketId,
    pub reason_codes: Vec<u8>,
    pub properties: Properties,
}

impl UnsubAck {
    pub fn new(pkid: PacketId) -> UnsubAck {
        UnsubAck {
            pkid,
            reason_codes: Vec::new(),
            properties: Properties::new(),
        }
    }
}

/// DISCONNECT (MQTT-3.14). Under MQTT 5 each form the spec allows is kept as it came
/// or is to be sent: no reason (remaining length 0), a reason alone (length 1), or a
/// reason with properties. Under 3.1/3.1.1 both are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Disconnect {
    pub reason: Option<u8>,
    pub properties: Option<Properties>,
}

impl Disconnect {
    /// Normal disconnection, `E0 00`.
    pub fn normal() -> Disconnect {
        Disconnect::default()
    }

    /// A reason code without properties, `E0 01 rc`.
    pub fn reason(rc: u8) -> Disconnect {
        Disconnect {
            reason: Some(rc),
            properties: None,
        }
    }

    /// The reason code (0 when absent, MQTT-3.14.2.1).
    pub fn code(&self) -> u8 {
        self.reason.unwrap_or(0)
    }
}

/// AUTH (MQTT-3.15, MQTT 5 only). Reason 0 without properties is the empty short form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Auth {
    pub reason: u8,
    pub properties: Properties,
}

/// Every control packet. CONNECT is boxed: it is by far the largest and the rarest, and
/// the receive path moves packets by value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    Connect(Box<Connect>),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(Ack),
    PubRec(Ack),
    PubRel(Ack),
    PubComp(Ack),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    Auth(Auth),
}

impl Packet {
    /// The control packet's name as the specification writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Packet::Connect(_) => "CONNECT",
            Packet::ConnAck(_) => "CONNACK",
            Packet::Publish(_) => "PUBLISH",
            Packet::PubAck(_) => "PUBACK",
            Packet::PubRec(_) => "PUBREC",
            Packet::PubRel(_) => "PUBREL",
            Packet::PubComp(_) => "PUBCOMP",
            Packet::Subscribe(_) => "SUBSCRIBE",
            Packet::SubAck(_) => "SUBACK",
            Packet::Unsubscribe(_) => "UNSUBSCRIBE",
            Packet::UnsubAck(_) => "UNSUBACK",
            Packet::PingReq => "PINGREQ",
            Packet::PingResp => "PINGRESP",
            Packet::Disconnect(_) => "DISCONNECT",
            Packet::Auth(_) => "AUTH",
        }
    }
}
