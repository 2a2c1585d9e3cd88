//! MQTT 5 limits of a connection: the server's, from CONNACK (MQTT-3.2.2.3), and our
//! own, from the CONNECT properties the application chose (MQTT-3.1.2.11).

use crate::proto::properties::id;
use crate::proto::{Properties, QoS};

/// What the server's CONNACK allows; the specification's defaults until one arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Outgoing QoS>0 flows in flight at once (Receive Maximum, MQTT-3.2.2.3.3).
    pub receive_maximum: u16,
    /// Highest QoS the server accepts (MQTT-3.2.2.3.4).
    pub maximum_qos: QoS,
    /// Retained messages accepted (MQTT-3.2.2.3.5).
    pub retain_available: bool,
    /// Largest packet the server accepts, fixed header included (MQTT-3.2.2.3.6).
    pub maximum_packet_size: Option<u32>,
    /// Highest outgoing Topic Alias (MQTT-3.2.2.3.8); 0: none.
    pub topic_alias_maximum: u16,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            receive_maximum: u16::MAX,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
        }
    }
}

impl ServerLimits {
    pub fn from_connack(p: &Properties) -> ServerLimits {
        let d = ServerLimits::default();
        ServerLimits {
            // The decoder has already refused 0 (a protocol error, MQTT-3.2.2.3.3).
            receive_maximum: p
                .int(id::RECEIVE_MAXIMUM)
                .map_or(d.receive_maximum, |v| v as u16),
            maximum_qos: match p.int(id::MAXIMUM_QOS) {
                Some(0) => QoS::AtMostOnce,
                Some(_) => QoS::AtLeastOnce,
                None => d.maximum_qos,
            },
            retain_available: p.int(id::RETAIN_AVAILABLE) != Some(0),
            maximum_packet_size: p.int(id::MAXIMUM_PACKET_SIZE),
            topic_alias_maximum: p.int(id::TOPIC_ALIAS_MAXIMUM).unwrap_or(0) as u16,
        }
    }

    /// Whether a packet of `size` bytes may be sent.
    pub fn fits(&self, size: usize) -> bool {
        match self.maximum_packet_size {
            Some(max) => size <= max as usize,
            None => true,
        }
    }
}

/// Our own limits, as the CONNECT properties announce them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnLimits {
    /// Incoming QoS>0 flows unacknowledged at once (MQTT-3.1.2.11.3).
    pub receive_maximum: u16,
    /// Largest incoming packet (MQTT-3.1.2.11.4).
    pub maximum_packet_size: Option<u32>,
    /// Highest incoming Topic Alias; 0: the server may not use aliases (MQTT-3.1.2.11.5).
    pub topic_alias_maximum: u16,
}

impl OwnLimits {
    pub fn from_connect(p: &Properties) -> OwnLimits {
        OwnLimits {
            receive_maximum: p.int(id::RECEIVE_MAXIMUM).map_or(u16::MAX, |v| v as u16),
            maximum_packet_size: p.int(id::MAXIMUM_PACKET_SIZE),
            topic_alias_maximum: p.int(id::TOPIC_ALIAS_MAXIMUM).unwrap_or(0) as u16,
        }
    }
}
