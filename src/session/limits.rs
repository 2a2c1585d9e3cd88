//! Limits of a connection: the server's, from CONNACK (MQTT-3.2.2.3), and our own,
//! from the CONNECT properties the application chose (MQTT-3.1.2.11); and the
//! in-flight window they shape (the quota, and what a new server refuses to take).

use super::output::MsgRef;
use super::{Event, Session, State};
use crate::proto::properties::id;
use crate::proto::PacketId;
use crate::proto::{Properties, QoS};
use std::time::Instant;

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

impl Session {
    /// Outgoing QoS>0 flows allowed in flight: `max_inflight` (0 = unlimited), and
    /// under MQTT 5 the server's Receive Maximum (MQTT-4.9.0-2).
    pub(super) fn quota(&self) -> usize {
        let own = match self.config.max_inflight {
            0 => usize::MAX,
            n => n as usize,
        };
        if self.v5() {
            own.min(self.server.receive_maximum.into())
        } else {
            own
        }
    }

    /// Send queued QoS>0 messages while the in-flight window has room.
    pub(super) fn fill_window(&mut self, now: Instant) {
        if self.state == State::Connected {
            let quota = self.quota();
            let max_output = self.config.max_output;
            let mut refused = Vec::new();
            let refuse = self.refusal();
            self.store
                .fill_window(now, quota, max_output, &mut self.out, &refuse, &mut refused);
            self.report_refused(refused);
        }
    }

    /// What the current server refuses of a message it did not take yet (MQTT 5).
    pub(super) fn refusal(&self) -> impl Fn(&MsgRef<'_>) -> Option<u8> + 'static {
        let v5 = self.v5();
        let auto = self.config.topic_alias_auto;
        let server = self.server.clone();
        move |m: &MsgRef<'_>| {
            if !v5 {
                return None;
            }
            let s = &server;
            if m.qos > s.maximum_qos {
                return Some(crate::proto::reason::QOS_NOT_SUPPORTED);
            }
            if m.retain && !s.retain_available {
                return Some(crate::proto::reason::RETAIN_NOT_SUPPORTED);
            }
            let alias = if m.alias.is_some() || auto { 3 } else { 0 };
            let size = crate::proto::publish_len(
                m.topic.len(),
                m.payload.len(),
                m.qos,
                Some(m.props.len() + alias),
            );
            (!s.fits(size)).then_some(crate::proto::reason::PACKET_TOO_LARGE)
        }
    }

    /// Messages the current server refuses end their flow here, with that reason code
    /// and no properties (no packet came for them).
    pub(super) fn report_refused(&mut self, refused: Vec<(PacketId, u8)>) {
        for (mid, reason) in refused {
            self.events.push_back(Event::Published {
                mid,
                reason,
                properties: None,
            });
        }
    }

    /// The Session Expiry Interval of this connection's CONNECT (0 when absent).
    pub(super) fn session_expiry(&self) -> u32 {
        self.config
            .connect_properties
            .int(id::SESSION_EXPIRY_INTERVAL)
            .unwrap_or(0)
    }
}
