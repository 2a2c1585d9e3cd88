//! A scripted broker on a virtual clock, in the manner of quinn-proto's test pair: the
//! test plays the broker packet by packet, and time only moves when the test says so.

use crate::error::Error;
use crate::proto::{
    self, Ack, ConnAck, DecodeOptions, Packet, Properties, ProtocolVersion, Publish, QoS,
};
use crate::session::{self, Session, SessionConfig, State};
use std::time::{Duration, Instant};

/// [`session::Event`] with the message's topic, payload and properties taken from the
/// inbox, so a test compares whole events; the MQTT 5 fields of the other events are
/// left out here (see [`Peer::events_v5`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Connected { session_present: bool, code: u8 },
    Message(Publish),
    Published { mid: u16 },
    Downgraded { mid: u16 },
    Subscribed { mid: u16, granted: Vec<u8> },
    Unsubscribed { mid: u16 },
    Disconnected { rc: i32 },
    Auth { reason: u8, properties: Properties },
}

/// [`session::Event`] whole, the message taken from the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event5 {
    Message(Publish),
    Other(session::Event),
}

pub struct Peer {
    pub base: Instant,
    pub now: Instant,
    pub s: Session,
}

impl Peer {
    /// A session on a fresh clock, not connected.
    pub fn new(config: SessionConfig) -> Peer {
        let base = Instant::now();
        Peer {
            base,
            now: base,
            s: Session::new(config),
        }
    }

    /// A session through CONNECT and an accepted CONNACK, output and events drained.
    pub fn connected(config: SessionConfig) -> Peer {
        let mut p = Peer::new(config);
        p.connect_accepted();
        p
    }

    /// `connect`, CONNECT written, CONNACK 0 fed; returns what followed CONNECT (resends).
    pub fn connect_accepted(&mut self) -> Vec<Packet> {
        self.s.connect(self.now);
        let sent = self.sent();
        assert!(matches!(sent[..], [Packet::Connect(_)]), "{sent:?}");
        self.feed_ok(connack(0));
        assert_eq!(self.s.state(), State::Connected);
        assert_eq!(
            self.events(),
            [Event::Connected {
                session_present: false,
                code: 0
            }]
        );
        self.sent()
    }

    /// Move the clock forward.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    pub fn advance_secs(&mut self, secs: u64) {
        self.advance(Duration::from_secs(secs));
    }

    /// Seconds since the start of the test, for readable assertions on deadlines.
    pub fn at(&self, secs: u64) -> Instant {
        self.base + Duration::from_secs(secs)
    }

    /// Everything the session wants to write, written in one go at `now`.
    pub fn sent_bytes(&mut self) -> Vec<u8> {
        self.s.check_invariants().unwrap();
        let bytes = self.s.transmit_buf().to_vec();
        self.s.consume_transmit(self.now, bytes.len());
        assert!(!self.s.wants_write());
        bytes
    }

    /// Everything the session wants to write, decoded.
    pub fn sent(&mut self) -> Vec<Packet> {
        let protocol = self.s.protocol();
        decode_all_as(&self.sent_bytes(), protocol)
    }

    pub fn feed(&mut self, packet: Packet) -> Result<(), Error> {
        let mut buf = Vec::new();
        proto::encode(&packet, self.s.protocol(), &mut buf).unwrap();
        self.s.handle_bytes(self.now, &buf)
    }

    /// Feed bytes made by hand.
    pub fn feed_bytes(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.s.handle_bytes(self.now, bytes)
    }

    pub fn feed_ok(&mut self, packet: Packet) {
        self.feed(packet).unwrap();
    }

    pub fn events(&mut self) -> Vec<Event> {
        self.s.check_invariants().unwrap();
        let mut events = Vec::new();
        while let Some(ev) = self.s.poll_event() {
            events.push(match ev {
                session::Event::Connected {
                    session_present,
                    code,
                    ..
                } => Event::Connected {
                    session_present,
                    code,
                },
                session::Event::Message(m) => Event::Message(self.s.inbox().to_publish(&m)),
                session::Event::Published { mid, .. } => Event::Published { mid },
                session::Event::Downgraded { mid } => Event::Downgraded { mid },
                session::Event::Subscribed { mid, granted, .. } => {
                    Event::Subscribed { mid, granted }
                }
                session::Event::Unsubscribed { mid, .. } => Event::Unsubscribed { mid },
                session::Event::Disconnected { rc, .. } => Event::Disconnected { rc },
                session::Event::Auth { reason, properties } => Event::Auth { reason, properties },
            });
        }
        // Like the client: the messages polled are dispatched, their bytes given up.
        let mut inbox = self.s.take_inbox(session::Inbox::new());
        inbox.clear(0);
        events
    }

    /// The session's events whole (MQTT 5 fields included).
    pub fn events_v5(&mut self) -> Vec<Event5> {
        self.s.check_invariants().unwrap();
        let mut events = Vec::new();
        while let Some(ev) = self.s.poll_event() {
            events.push(match ev {
                session::Event::Message(m) => Event5::Message(self.s.inbox().to_publish(&m)),
                other => Event5::Other(other),
            });
        }
        let mut inbox = self.s.take_inbox(session::Inbox::new());
        inbox.clear(0);
        events
    }

    pub fn tick(&mut self) -> Result<(), Error> {
        self.s.handle_timeout(self.now)
    }

    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> u16 {
        self.s
            .publish(self.now, topic, payload, qos, false)
            .unwrap()
    }
}

/// Decode a whole byte stream into packets; a trailing partial packet is a test failure.
pub fn decode_all(bytes: &[u8]) -> Vec<Packet> {
    decode_all_as(bytes, ProtocolVersion::V311)
}

/// [`decode_all`] for a protocol.
pub fn decode_all_as(mut bytes: &[u8], protocol: ProtocolVersion) -> Vec<Packet> {
    let opts = DecodeOptions {
        protocol,
        ..DecodeOptions::default()
    };
    let mut packets = Vec::new();
    while !bytes.is_empty() {
        let (packet, used) = proto::decode(bytes, &opts)
            .unwrap()
            .expect("a whole packet");
        packets.push(packet);
        bytes = &bytes[used..];
    }
    packets
}

pub fn encode(packet: &Packet) -> Vec<u8> {
    let mut buf = Vec::new();
    proto::encode(packet, ProtocolVersion::V311, &mut buf).unwrap();
    buf
}

pub fn connack(code: u8) -> Packet {
    Packet::ConnAck(ConnAck::new(false, code))
}

pub fn puback(pkid: u16) -> Packet {
    Packet::PubAck(Ack::new(pkid))
}

pub fn pubrec(pkid: u16) -> Packet {
    Packet::PubRec(Ack::new(pkid))
}

pub fn pubrel(pkid: u16) -> Packet {
    Packet::PubRel(Ack::new(pkid))
}

pub fn pubcomp(pkid: u16) -> Packet {
    Packet::PubComp(Ack::new(pkid))
}

/// A PUBLISH as the session or the broker would send it.
pub fn publish(topic: &str, payload: &[u8], qos: QoS, pkid: u16, dup: bool) -> Publish {
    Publish {
        properties: Default::default(),
        dup,
        qos,
        retain: false,
        topic: topic.into(),
        pkid,
        payload: payload.to_vec(),
    }
}

pub fn publish_pkt(topic: &str, payload: &[u8], qos: QoS, pkid: u16, dup: bool) -> Packet {
    Packet::Publish(publish(topic, payload, qos, pkid, dup))
}

/// The packet ids of the PUBLISH packets in `packets`, with their DUP flag.
pub fn publish_ids(packets: &[Packet]) -> Vec<(u16, bool)> {
    packets
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => (p.pkid, p.dup),
            other => panic!("expected PUBLISH, got {other:?}"),
        })
        .collect()
}

pub fn cfg() -> SessionConfig {
    SessionConfig {
        client_id: "c1".into(),
        ..SessionConfig::default()
    }
}

/// An MQTT 5 session's configuration.
pub fn cfg5() -> SessionConfig {
    SessionConfig {
        protocol: ProtocolVersion::V5,
        ..cfg()
    }
}

impl Peer {
    /// `connect`, CONNECT written and returned, a CONNACK 0 with `props` fed; the
    /// Connected event checked and dropped. Returns CONNECT and what followed it.
    pub fn connect_with(&mut self, props: Properties) -> (Packet, Vec<Packet>) {
        self.s.connect(self.now);
        let mut sent = self.sent();
        assert!(matches!(sent[..], [Packet::Connect(_)]), "{sent:?}");
        self.feed_ok(Packet::ConnAck(ConnAck {
            session_present: false,
            code: 0,
            properties: props,
        }));
        assert_eq!(self.s.state(), State::Connected);
        assert!(matches!(
            self.events()[..],
            [Event::Connected { code: 0, .. }]
        ));
        (sent.remove(0), self.sent())
    }
}
