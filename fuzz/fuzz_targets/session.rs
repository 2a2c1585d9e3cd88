//! An arbitrary sequence of commands and broker input against one `Session`, on a
//! virtual clock: connect, publish (any topic, payload, QoS), subscribe, unsubscribe,
//! disconnect, connection_closed, message_delivered, handle_timeout with time moving on,
//! partial writes, and bytes from the "broker" (raw chunks or well-formed packets with
//! fuzzer-chosen ids, so that the session gets past CONNACK and into its flows).
//!
//! Checked after every step, besides "no panic":
//! - `Session::check_invariants`: ids in use are non-zero and unique, the message store
//!   agrees with itself;
//! - every byte written decodes with `proto::decode`, each connection's stream starts
//!   with CONNECT, nothing follows DISCONNECT, and a QoS>0 PUBLISH or a PUBREL carries
//!   the id of a message the application published and that is not complete;
//! - an id returned by publish/subscribe/unsubscribe is non-zero and not in use; every
//!   `Published`, `Subscribed` and `Unsubscribed` event answers an outstanding request,
//!   once;
//! - under MQTT 5 (with CONNACKs carrying limits, acks with reason codes, topic
//!   aliases both ways, AUTH and the server's DISCONNECT), the QoS>0 PUBLISH flows in
//!   flight on a connection never exceed the quota (the server's Receive Maximum, and
//!   `max_inflight`), and no PUBLISH exceeds the server's Maximum Packet Size.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqttc::proto::properties::id;
use mqttc::proto::{
    self, Ack, Auth, ConnAck, DecodeOptions, Disconnect, Packet, Properties, ProtocolVersion,
    Publish, QoS, SubAck, UnsubAck, Value,
};
use mqttc::session::{Event, Inbox, Incoming, Session, SessionConfig, State};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

#[derive(Arbitrary, Debug)]
struct Setup {
    v31: bool,
    v5: bool,
    /// MQTT 5: our Receive Maximum (0: none) and Topic Alias Maximum in CONNECT.
    receive_max: u8,
    topic_alias_max: u8,
    alias_auto: bool,
    /// MQTT 5: an Authentication Method in CONNECT, and whether AUTH is handled.
    auth: bool,
    auth_handler: bool,
    clean_session: bool,
    keep_alive: u8,
    max_inflight: u8,
    max_queued: u8,
    retry_interval: u8,
    /// 0: unlimited; otherwise a small bound so that it is reached.
    max_output: u16,
    max_packet_size: u16,
}

#[derive(Arbitrary, Debug)]
enum Cmd {
    Connect,
    Publish {
        topic: Topic,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
    },
    Subscribe(Vec<(Topic, u8)>),
    Unsubscribe(Vec<Topic>),
    Disconnect,
    ConnectionClosed(i8),
    /// Acknowledge the n-th message handed to the application and not acknowledged yet.
    Deliver(u8),
    /// Advance the clock by this many milliseconds, then run timers if due.
    Advance(u16),
    /// Jump to the session's next deadline and run timers.
    Timeout,
    /// Write this many bytes of what the session wants to send (0: everything).
    Write(u16),
    Raw(Vec<u8>),
    Connack {
        session_present: bool,
        code: u8,
        /// MQTT 5 limits, picked by bits.
        limits: u16,
    },
    /// Acks for an id: `which` picks the id among outstanding ones, or any id; under
    /// MQTT 5 with a reason code.
    Ack {
        kind: u8,
        which: Id,
        reason: u8,
    },
    /// MQTT 5: the server's DISCONNECT in one of its forms.
    ServerDisconnect(u8),
    /// MQTT 5: an AUTH from the server, and our answer.
    Auth(u8),
    Authenticate(u8),
    /// MQTT 5: publish with a Topic Alias (and maybe an empty topic).
    PublishAlias {
        topic: Topic,
        alias: u8,
        empty: bool,
        qos: u8,
    },
    Suback {
        which: Id,
        codes: Vec<u8>,
    },
    Incoming {
        topic: Topic,
        payload: Vec<u8>,
        qos: u8,
        dup: bool,
        which: Id,
        /// MQTT 5: a Topic Alias, and whether the topic is left out.
        alias: u8,
        empty: bool,
    },
    PingResp,
    /// Bytes of a well-formed packet, cut at `at` and fed in two pieces.
    Split {
        at: u8,
        kind: u8,
        which: Id,
    },
}

/// A packet id: one of the outstanding ones (by index), or a raw value.
#[derive(Arbitrary, Debug)]
enum Id {
    Outstanding(u8),
    Raw(u16),
}

/// Topics from a small alphabet so that they are usually valid, sometimes not.
#[derive(Arbitrary, Debug)]
enum Topic {
    Short(u8),
    Any(String),
}

impl Topic {
    fn get(&self) -> String {
        match self {
            Topic::Short(n) => {
                const PARTS: [&str; 8] = ["a", "b", "+", "#", "", "c/d", "\u{e9}", "x"];
                let mut t = String::from(PARTS[(n & 7) as usize]);
                if n & 8 != 0 {
                    t.push('/');
                    t.push_str(PARTS[((n >> 4) & 7) as usize]);
                }
                t
            }
            Topic::Any(s) => s.chars().take(64).collect(),
        }
    }
}

fn qos(v: u8) -> QoS {
    QoS::from_u8(v % 3).unwrap()
}

/// What the test knows independently of the session.
struct Model {
    /// QoS>0 messages published and not yet reported complete: mid -> qos.
    messages: HashMap<u16, QoS>,
    /// QoS>0 messages completed on this connection: a hostile broker may acknowledge a
    /// message whose PUBLISH still waits in the output buffer, which then goes out.
    done: HashMap<u16, QoS>,
    /// Requests answered on this connection (same reason as `done`).
    done_requests: HashMap<u16, bool>,
    /// QoS 0 messages accepted on this connection and not yet reported.
    qos0: HashMap<u16, usize>,
    /// SUBSCRIBE / UNSUBSCRIBE sent on this connection, unanswered: mid -> is_subscribe.
    requests: HashMap<u16, bool>,
    /// Incoming QoS>0 messages handed to the application, not yet acknowledged.
    to_deliver: Vec<Incoming>,
    /// MQTT 5: QoS>0 flows sent on this connection and not complete, and how many
    /// may be (`usize::MAX`: no limit).
    flight: HashSet<u16>,
    quota: usize,
    /// MQTT 5: the server's Maximum Packet Size on this connection, for the packets
    /// queued from `limit_from` (a stream offset) on: what was queued before the
    /// CONNACK could not know it.
    max_packet: usize,
    limit_from: usize,
    /// Bytes of this connection's stream already checked and dropped from `stream`.
    consumed: usize,
    /// The bytes written on this connection that do not form a whole packet yet.
    stream: Vec<u8>,
    /// Packets seen on this connection.
    packets: usize,
    disconnect_sent: bool,
}

impl Model {
    fn new_connection(&mut self) {
        self.qos0.clear();
        self.done.clear();
        self.done_requests.clear();
        self.requests.clear();
        self.stream.clear();
        self.packets = 0;
        self.disconnect_sent = false;
        self.flight.clear();
        self.consumed = 0;
        self.limit_from = usize::MAX;
    }

    /// A SUBSCRIBE (`true`) or UNSUBSCRIBE with this id was made on this connection.
    fn request_seen(&self, mid: u16, subscribe: bool) -> bool {
        self.requests.get(&mid) == Some(&subscribe)
            || self.done_requests.get(&mid) == Some(&subscribe)
    }

    fn outstanding(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self
            .messages
            .keys()
            .chain(self.requests.keys())
            .copied()
            .collect();
        v.sort_unstable();
        v
    }

    fn pick(&self, which: &Id) -> u16 {
        match which {
            Id::Raw(v) => *v,
            Id::Outstanding(i) => {
                let o = self.outstanding();
                if o.is_empty() {
                    1
                } else {
                    o[*i as usize % o.len()]
                }
            }
        }
    }

    fn new_id(&self, mid: u16) {
        assert_ne!(mid, 0, "id 0 handed out");
        assert!(
            !self.messages.contains_key(&mid) && !self.requests.contains_key(&mid),
            "id {mid} handed out while in use"
        );
    }
}

struct Fuzz {
    s: Session,
    now: Instant,
    model: Model,
    opts: DecodeOptions,
    /// `max_inflight` as a quota.
    own_quota: usize,
    /// The stream offset at which the last input was fed.
    fed_at: usize,
}

impl Fuzz {
    fn feed(&mut self, bytes: &[u8]) {
        self.fed_at = self.model.consumed + self.model.stream.len() + self.s.transmit_buf().len();
        if self.s.state() == State::Disconnected {
            assert!(self.s.handle_bytes(self.now, bytes).is_err());
            return;
        }
        if let Err(e) = self.s.handle_bytes(self.now, bytes) {
            // As the client does: any input error ends the connection.
            self.s.connection_closed(self.now, e.code());
        }
    }

    fn feed_packet(&mut self, packet: &Packet) {
        let mut buf = Vec::new();
        proto::encode(packet, self.s.protocol(), &mut buf).expect("test packets encode");
        self.feed(&buf);
    }

    fn tick(&mut self) {
        if let Err(e) = self.s.handle_timeout(self.now) {
            self.s.connection_closed(self.now, e.code());
        }
    }

    fn write(&mut self, n: usize) {
        let buf = self.s.transmit_buf();
        let n = if n == 0 { buf.len() } else { n.min(buf.len()) };
        if n == 0 {
            return;
        }
        self.model.stream.extend_from_slice(&buf[..n]);
        self.s.consume_transmit(self.now, n);
        self.check_stream();
    }

    /// Every whole packet written must decode and make sense.
    fn check_stream(&mut self) {
        let mut used_total = 0;
        loop {
            let rest = &self.model.stream[used_total..];
            let (packet, used) = match proto::decode(rest, &self.opts) {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => panic!("the session wrote bytes that do not decode: {e} ({rest:02x?})"),
            };
            let at = self.model.consumed + used_total;
            used_total += used;
            let m = &mut self.model;
            if at >= m.limit_from {
                assert!(
                    used <= m.max_packet,
                    "{used} bytes over the server's maximum: {packet:?}"
                );
            }
            assert!(!m.disconnect_sent, "{packet:?} written after DISCONNECT");
            assert_eq!(
                m.packets == 0,
                matches!(packet, Packet::Connect(_)),
                "CONNECT must be the first packet and only the first: {packet:?}"
            );
            m.packets += 1;
            match &packet {
                Packet::Publish(p) if p.qos != QoS::AtMostOnce => {
                    assert!(
                        m.messages.get(&p.pkid) == Some(&p.qos)
                            || m.done.get(&p.pkid) == Some(&p.qos),
                        "PUBLISH id {} is not a message of that QoS",
                        p.pkid
                    );
                    if m.messages.contains_key(&p.pkid) {
                        m.flight.insert(p.pkid);
                    }
                }
                Packet::PubRel(Ack { pkid, .. }) => {
                    // A client sends PUBREL only for its own QoS 2 messages. It takes
                    // no quota (MQTT-4.9.0-2 counts PUBLISH packets): a PUBREL that
                    // answers the server's PUBREC for a message not resent yet on this
                    // connection is due at once.
                    let q2 = Some(&QoS::ExactlyOnce);
                    assert!(
                        m.messages.get(pkid) == q2 || m.done.get(pkid) == q2,
                        "PUBREL {pkid}"
                    );
                }
                Packet::Subscribe(s) => {
                    assert!(m.request_seen(s.pkid, true), "SUBSCRIBE {}", s.pkid)
                }
                Packet::Unsubscribe(u) => {
                    assert!(m.request_seen(u.pkid, false), "UNSUBSCRIBE {}", u.pkid)
                }
                Packet::Disconnect(_) => m.disconnect_sent = true,
                Packet::ConnAck(_) | Packet::SubAck(_) | Packet::UnsubAck(_) | Packet::PingResp => {
                    panic!("a client never sends {packet:?}")
                }
                _ => {}
            }
            assert!(
                m.flight.len() <= m.quota,
                "{} flows in flight, quota {}",
                m.flight.len(),
                m.quota
            );
        }
        self.model.stream.drain(..used_total);
        self.model.consumed += used_total;
    }

    fn events(&mut self) {
        while let Some(ev) = self.s.poll_event() {
            let m = &mut self.model;
            match ev {
                Event::Published { mid, .. } => {
                    m.flight.remove(&mid);
                    if let Some(q) = m.messages.remove(&mid) {
                        m.done.insert(mid, q);
                    } else {
                        let n = m.qos0.get_mut(&mid).expect("Published for an unknown mid");
                        *n -= 1;
                        if *n == 0 {
                            m.qos0.remove(&mid);
                        }
                    }
                }
                Event::Subscribed { mid, granted, .. } => {
                    assert_eq!(m.requests.remove(&mid), Some(true), "SUBACK event {mid}");
                    m.done_requests.insert(mid, true);
                    assert!(!granted.is_empty());
                }
                Event::Unsubscribed { mid, .. } => {
                    assert_eq!(m.requests.remove(&mid), Some(false), "UNSUBACK event {mid}");
                    m.done_requests.insert(mid, false);
                }
                Event::Message(p) => {
                    let inbox = self.s.inbox();
                    assert_eq!(inbox.topic_with_nul(&p).last(), Some(&0));
                    assert!(!inbox.topic(&p).is_empty());
                    if p.qos != QoS::AtMostOnce {
                        assert_ne!(p.pkid, 0);
                        m.to_deliver.push(p);
                    }
                }
                Event::Connected {
                    code: 0,
                    properties,
                    ..
                } if self.s.protocol() == ProtocolVersion::V5 => {
                    let rm = properties
                        .int(id::RECEIVE_MAXIMUM)
                        .map_or(usize::MAX, |v| v as usize);
                    m.quota = self.own_quota.min(rm);
                    m.max_packet = properties
                        .int(id::MAXIMUM_PACKET_SIZE)
                        .map_or(usize::MAX, |v| v as usize);
                    // What was queued from the CONNACK on: its resends and after.
                    m.limit_from = self.fed_at;
                }
                Event::Connected { .. } | Event::Auth { .. } | Event::Downgraded { .. } => {}
                // `to_deliver` is kept: acknowledging a message of a past connection
                // late is allowed and must not break anything.
                Event::Disconnected { .. } => m.new_connection(),
            }
        }
        // As the client does once the messages are dispatched.
        drop(self.s.take_inbox(Inbox::new()));
        if self.s.state() == State::Disconnected {
            // Requests die with their connection; their acks can no longer come.
            self.model.requests.clear();
        }
        if let Err(e) = self.s.check_invariants() {
            panic!("session invariant broken: {e}");
        }
    }

    fn run(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Connect => {
                if self.s.state() == State::Disconnected {
                    self.s.connect(self.now);
                    self.model.new_connection();
                    self.model.quota = usize::MAX;
                    self.model.max_packet = usize::MAX;
                }
            }
            Cmd::PublishAlias {
                topic,
                alias,
                empty,
                qos: q,
            } => {
                let q = qos(q);
                let topic = if empty { String::new() } else { topic.get() };
                let props =
                    Properties::new().with(id::TOPIC_ALIAS, Value::Int(u32::from(alias % 4) + 1));
                match self.s.publish_v5(self.now, &topic, b"p", q, false, &props) {
                    Ok(mid) => {
                        self.model.new_id(mid);
                        if q == QoS::AtMostOnce {
                            *self.model.qos0.entry(mid).or_default() += 1;
                        } else {
                            self.model.messages.insert(mid, q);
                        }
                    }
                    Err((mid, e)) => {
                        if mid != 0 {
                            self.model.new_id(mid);
                        }
                        if e.code() == mqttc::error::Error::NoConn.code() && q != QoS::AtMostOnce {
                            self.model.messages.insert(mid, q);
                        }
                    }
                }
            }
            Cmd::ServerDisconnect(form) => {
                let d = match form % 4 {
                    0 => Disconnect::normal(),
                    1 => Disconnect::reason(0x8E),
                    2 => Disconnect {
                        reason: Some(form),
                        properties: Some(Properties::new()),
                    },
                    _ => Disconnect {
                        reason: Some(0x9C),
                        properties: Some(
                            Properties::new().with(id::SERVER_REFERENCE, Value::Str("b".into())),
                        ),
                    },
                };
                if self.s.protocol() == ProtocolVersion::V5 {
                    self.feed_packet(&Packet::Disconnect(d));
                }
            }
            Cmd::Auth(r) => {
                if self.s.protocol() == ProtocolVersion::V5 {
                    let reason = [0, 0x18, 0x19][(r % 3) as usize];
                    let properties = Properties::new()
                        .with(id::AUTHENTICATION_METHOD, Value::Str("M".into()))
                        .with(id::AUTHENTICATION_DATA, Value::Bin(vec![r]));
                    self.feed_packet(&Packet::Auth(Auth { reason, properties }));
                }
            }
            Cmd::Authenticate(r) => {
                let props =
                    Properties::new().with(id::AUTHENTICATION_METHOD, Value::Str("M".into()));
                let _ = self.s.authenticate(self.now, r, &props);
            }
            Cmd::Publish {
                topic,
                payload,
                qos: q,
                retain,
            } => {
                let q = qos(q);
                let state = self.s.state();
                match self.s.publish(self.now, &topic.get(), &payload, q, retain) {
                    Ok(mid) => {
                        self.model.new_id(mid);
                        if q == QoS::AtMostOnce {
                            *self.model.qos0.entry(mid).or_default() += 1;
                        } else {
                            self.model.messages.insert(mid, q);
                        }
                    }
                    Err((mid, e)) => {
                        if mid != 0 {
                            self.model.new_id(mid);
                        }
                        // NoConn keeps a QoS>0 message queued for the next connection.
                        if e.code() == mqttc::error::Error::NoConn.code() && q != QoS::AtMostOnce {
                            assert!(matches!(state, State::Disconnected | State::Disconnecting));
                            self.model.messages.insert(mid, q);
                        }
                    }
                }
            }
            Cmd::Subscribe(list) => {
                let owned: Vec<(String, QoS)> = list
                    .iter()
                    .take(8)
                    .map(|(t, q)| (t.get(), qos(*q)))
                    .collect();
                let filters: Vec<(&str, QoS)> =
                    owned.iter().map(|(t, q)| (t.as_str(), *q)).collect();
                if let Ok(mid) = self.s.subscribe(self.now, &filters) {
                    self.model.new_id(mid);
                    self.model.requests.insert(mid, true);
                }
            }
            Cmd::Unsubscribe(list) => {
                let owned: Vec<String> = list.iter().take(8).map(Topic::get).collect();
                let filters: Vec<&str> = owned.iter().map(String::as_str).collect();
                if let Ok(mid) = self.s.unsubscribe(self.now, &filters) {
                    self.model.new_id(mid);
                    self.model.requests.insert(mid, false);
                }
            }
            Cmd::Disconnect => {
                let _ = self.s.disconnect(self.now);
            }
            Cmd::ConnectionClosed(rc) => self.s.connection_closed(self.now, rc.into()),
            Cmd::Deliver(i) => {
                if !self.model.to_deliver.is_empty() {
                    let i = i as usize % self.model.to_deliver.len();
                    let m = self.model.to_deliver.remove(i);
                    self.s.message_delivered(&m);
                }
            }
            Cmd::Advance(ms) => {
                self.now += Duration::from_millis(ms.into());
                if self.s.next_timeout().is_some_and(|t| t <= self.now) {
                    self.tick();
                }
            }
            Cmd::Timeout => {
                if let Some(t) = self.s.next_timeout() {
                    self.now = self.now.max(t);
                }
                self.tick();
            }
            Cmd::Write(n) => self.write(n.into()),
            Cmd::Raw(bytes) => self.feed(&bytes),
            Cmd::Connack {
                session_present,
                code,
                limits,
            } => {
                let v5 = self.s.protocol() == ProtocolVersion::V5;
                let mut properties = Properties::new();
                if v5 {
                    let mut add = |bit: u16, pid: u8, v: Value| {
                        if limits & bit != 0 {
                            properties.add(pid, v).expect("valid");
                        }
                    };
                    add(
                        1,
                        id::RECEIVE_MAXIMUM,
                        Value::Int(u32::from(limits >> 12) + 1),
                    );
                    add(2, id::MAXIMUM_QOS, Value::Int(u32::from(limits >> 11 & 1)));
                    add(4, id::RETAIN_AVAILABLE, Value::Int(0));
                    add(
                        8,
                        id::MAXIMUM_PACKET_SIZE,
                        Value::Int(12 + u32::from(limits >> 6 & 63)),
                    );
                    add(
                        16,
                        id::TOPIC_ALIAS_MAXIMUM,
                        Value::Int(u32::from(limits >> 13)),
                    );
                    add(
                        32,
                        id::SERVER_KEEP_ALIVE,
                        Value::Int(u32::from(limits >> 14)),
                    );
                    add(
                        64 << 4,
                        id::ASSIGNED_CLIENT_IDENTIFIER,
                        Value::Str("as".into()),
                    );
                }
                let code = if v5 {
                    [0, 0x80, 0x87, 0x84, 1][(code % 5) as usize]
                } else {
                    code % 7
                };
                self.feed_packet(&Packet::ConnAck(ConnAck {
                    session_present,
                    code,
                    properties,
                }))
            }
            Cmd::Ack {
                kind,
                which,
                reason,
            } => {
                let pkid = self.model.pick(&which);
                let mut packet = ack_packet(kind, pkid);
                if self.s.protocol() == ProtocolVersion::V5 {
                    let reasons = [0, 0x10, 0x80, 0x87, 0x92, 0x97];
                    if let Packet::PubAck(a)
                    | Packet::PubRec(a)
                    | Packet::PubRel(a)
                    | Packet::PubComp(a) = &mut packet
                    {
                        a.reason = reasons[(reason % 6) as usize];
                    }
                    if let Packet::UnsubAck(u) = &mut packet {
                        u.reason_codes = vec![[0, 0x11, 0x80][(reason % 3) as usize]];
                    }
                }
                self.feed_packet(&packet);
            }
            Cmd::Suback { which, codes } => {
                let pkid = self.model.pick(&which);
                let mut return_codes: Vec<u8> = codes
                    .iter()
                    .take(8)
                    .map(|c| [0, 1, 2, 0x80][(c & 3) as usize])
                    .collect();
                if return_codes.is_empty() {
                    return_codes.push(0);
                }
                if pkid != 0 {
                    self.feed_packet(&Packet::SubAck(SubAck {
                        pkid,
                        return_codes,
                        properties: Properties::new(),
                    }));
                }
            }
            Cmd::Incoming {
                topic,
                payload,
                qos: q,
                dup,
                which,
                alias,
                empty,
            } => {
                let q = qos(q);
                let v5 = self.s.protocol() == ProtocolVersion::V5;
                let mut properties = Properties::new();
                let mut topic = topic.get();
                if v5 && alias > 0 {
                    properties
                        .add(id::TOPIC_ALIAS, Value::Int(u32::from(alias % 8) + 1))
                        .expect("valid");
                    if empty {
                        topic = String::new();
                    }
                }
                let topic_ok = proto::topic::valid_topic_name(&topic) || (v5 && topic.is_empty());
                let pkid = if q == QoS::AtMostOnce {
                    0
                } else {
                    self.model.pick(&which)
                };
                if (q == QoS::AtMostOnce || pkid != 0) && topic_ok {
                    self.feed_packet(&Packet::Publish(Publish {
                        dup: dup && q != QoS::AtMostOnce,
                        qos: q,
                        retain: false,
                        topic,
                        pkid,
                        payload,
                        properties,
                    }));
                }
            }
            Cmd::PingResp => self.feed_packet(&Packet::PingResp),
            Cmd::Split { at, kind, which } => {
                let pkid = self.model.pick(&which).max(1);
                let mut buf = Vec::new();
                proto::encode(&ack_packet(kind, pkid), self.s.protocol(), &mut buf).unwrap();
                let at = at as usize % (buf.len() + 1);
                let (a, b) = buf.split_at(at);
                self.feed(a);
                self.feed(b);
            }
        }
        self.events();
    }
}

fn ack_packet(kind: u8, pkid: u16) -> Packet {
    let a = Ack::new(pkid);
    match kind % 6 {
        0 => Packet::PubAck(a),
        1 => Packet::PubRec(a),
        2 => Packet::PubRel(a),
        3 => Packet::PubComp(a),
        4 => Packet::UnsubAck(UnsubAck::new(pkid)),
        _ => Packet::PingResp,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    let protocol = if setup.v5 {
        ProtocolVersion::V5
    } else if setup.v31 {
        ProtocolVersion::V31
    } else {
        ProtocolVersion::V311
    };
    let mut connect_properties = Properties::new();
    if setup.v5 {
        if setup.receive_max > 0 {
            connect_properties
                .add(
                    id::RECEIVE_MAXIMUM,
                    Value::Int(u32::from(setup.receive_max % 5) + 1),
                )
                .expect("valid");
        }
        connect_properties
            .add(
                id::TOPIC_ALIAS_MAXIMUM,
                Value::Int(u32::from(setup.topic_alias_max % 5)),
            )
            .expect("valid");
        if setup.auth {
            connect_properties
                .add(id::AUTHENTICATION_METHOD, Value::Str("M".into()))
                .expect("valid");
        }
    }
    let config = SessionConfig {
        protocol,
        client_id: "fuzz".into(),
        clean_session: setup.clean_session,
        keep_alive: (setup.keep_alive % 8).into(),
        max_inflight: (setup.max_inflight % 6).into(),
        max_queued: (setup.max_queued % 12).into(),
        retry_interval: (setup.retry_interval % 4).into(),
        max_output: match setup.max_output {
            0 => 0,
            n => 16 + (n % 4096) as usize,
        },
        max_packet_size: if setup.max_packet_size == 0 {
            SessionConfig::default().max_packet_size
        } else {
            2 + (setup.max_packet_size % 512) as usize
        },
        connect_properties,
        topic_alias_auto: setup.alias_auto,
        auth_handler: setup.auth_handler,
        ..SessionConfig::default()
    };
    let own_quota = match setup.max_inflight % 6 {
        0 => usize::MAX,
        n => n.into(),
    };
    let opts = DecodeOptions {
        max_packet_size: SessionConfig::default().max_packet_size,
        protocol,
    };
    let mut f = Fuzz {
        s: Session::new(config),
        now: Instant::now(),
        model: Model {
            messages: HashMap::new(),
            done: HashMap::new(),
            done_requests: HashMap::new(),
            qos0: HashMap::new(),
            requests: HashMap::new(),
            to_deliver: Vec::new(),
            flight: HashSet::new(),
            quota: usize::MAX,
            max_packet: usize::MAX,
            limit_from: usize::MAX,
            consumed: 0,
            stream: Vec::new(),
            packets: 0,
            disconnect_sent: false,
        },
        opts,
        own_quota,
        fed_at: 0,
    };
    let mut steps = 0;
    // MQTTC_FUZZ_TRACE=1 prints the setup and each command (to replay a crash).
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let trace = *TRACE.get_or_init(|| std::env::var_os("MQTTC_FUZZ_TRACE").is_some());
    if trace {
        eprintln!("{setup:?}");
    }
    while let Ok(cmd) = Cmd::arbitrary(&mut u) {
        if trace {
            eprintln!("{:?} {cmd:?}", f.s.state());
        }
        f.run(cmd);
        steps += 1;
        if steps >= 256 || u.is_empty() {
            break;
        }
    }
    // Whatever is left written out must decode too.
    f.write(0);
    f.events();
});
