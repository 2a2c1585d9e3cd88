//! Sans-I/O MQTT 3.1 / 3.1.1 wire format.
//!
//! `decode` parses one packet from the front of a byte buffer (incrementally: a partial
//! packet yields `Ok(None)`), `encode` appends one packet to an output buffer. Nothing
//! here touches a socket, a thread or a clock. Each packet kind lives in its own file;
//! MQTT 5 properties and reason codes can later be added as fields of the same types.

mod ack;
mod codec;
mod connack;
mod connect;
mod error;
mod publish;
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
pub use publish::{encode_publish, publish_len};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ProtocolVersion {
    /// MQTT 3.1, protocol name "MQIsdp", level 3.
    V31 = 3,
    /// MQTT 3.1.1, protocol name "MQTT", level 4.
    V311 = 4,
}

/// Options that shape decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Largest whole packet (fixed header included) accepted; checked from the fixed
    /// header before the body is buffered.
    pub max_packet_size: usize,
    /// Protocol in use on this connection: in 3.1 the CONNACK flags byte is reserved, so
    /// it is ignored and `session_present` is always false.
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
}

/// CONNECT (MQTT-3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    pub protocol: ProtocolVersion,
    pub client_id: String,
    pub clean_session: bool,
    pub keep_alive: u16,
    pub will: Option<LastWill>,
    pub username: Option<String>,
    /// Binary data in 3.1.1 (MQTT-3.1.3.5); sent as a zero-length field when `Some(empty)`.
    pub password: Option<Vec<u8>>,
}

/// CONNACK (MQTT-3.2). `code` is the connect return code (0 accepted, 1..=5 refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub code: u8,
}

/// PUBLISH (MQTT-3.3). `pkid` is 0 for QoS 0 and non-zero otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    pub topic: String,
    pub pkid: PacketId,
    pub payload: Vec<u8>,
}

/// A decoded PUBLISH whose topic and payload still lie in the input buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishRef<'a> {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    pub topic: &'a str,
    pub pkid: PacketId,
    pub payload: &'a [u8],
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
        }
    }
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK bodies: a packet identifier (MQTT 5
/// adds a reason code and properties here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    pub pkid: PacketId,
}

/// SUBSCRIBE (MQTT-3.8): at least one (filter, requested QoS) pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    pub pkid: PacketId,
    pub filters: Vec<(String, QoS)>,
}

/// SUBACK (MQTT-3.9): one return code per filter: 0, 1, 2 granted, 0x80 failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubAck {
    pub pkid: PacketId,
    pub return_codes: Vec<u8>,
}

/// UNSUBSCRIBE (MQTT-3.10): at least one filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    pub pkid: PacketId,
    pub filters: Vec<String>,
}

/// Every MQTT 3.1.1 control packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    Connect(Connect),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(Ack),
    PubRec(Ack),
    PubRel(Ack),
    PubComp(Ack),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(Ack),
    PingReq,
    PingResp,
    Disconnect,
}
