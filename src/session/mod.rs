//! Sans-I/O MQTT session state machine.
//!
//! The session never touches a socket, a thread or the system clock: the caller passes
//! `now` into every call that depends on time. It is driven like rustls's connection:
//!
//! * commands: [`Session::connect`] (the transport is up: queue CONNECT),
//!   [`Session::publish`], [`Session::subscribe`], [`Session::unsubscribe`],
//!   [`Session::disconnect`], [`Session::connection_closed`] (the transport went away);
//! * input: [`Session::handle_bytes`] with bytes read from the transport, and
//!   [`Session::handle_timeout`] once [`Session::next_timeout`] has passed;
//! * output: [`Session::transmit_buf`] / [`Session::consume_transmit`] for bytes to write
//!   (all queued packets in one contiguous buffer, so one `write` sends many), and
//!   [`Session::poll_event`] for what the application must hear about.
//!
//! An incoming QoS 1/2 message is acknowledged only once the application has seen it:
//! the caller dispatches [`Event::Message`] and then calls [`Session::message_delivered`].
//!
//! MQTT 5 adds to the same machine: the server's CONNACK limits (Receive Maximum as a
//! quota, Maximum QoS, Retain Available, Maximum Packet Size, Server Keep Alive,
//! Assigned Client Identifier) and our own (the CONNECT properties), topic aliases both
//! ways, reason codes that end flows, the server's DISCONNECT, enhanced authentication
//! (AUTH), and a DISCONNECT with a reason before closing on a broken packet.

mod aliases;
mod ids;
pub(crate) mod inbox;
mod incoming;
mod keepalive;
pub mod limits;
mod outgoing;
mod output;
mod publish;
mod requests;
#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::proto::{
    Connect, Disconnect, LastWill, Packet, PacketId, Properties, ProtoError, ProtocolVersion, QoS,
};
use aliases::InAliases;
use ids::{IdHash, PacketIds};
pub use inbox::{Inbox, Incoming};
use keepalive::{Keepalive, Timers};
pub use limits::{OwnLimits, ServerLimits};
use outgoing::OutStore;
use output::Output;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// Everything the session needs to know to build CONNECT and run its flows.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub protocol: ProtocolVersion,
    /// May be empty (3.1.1: the broker assigns one).
    pub client_id: String,
    pub clean_session: bool,
    /// Seconds; 0 disables keepalive.
    pub keep_alive: u16,
    pub will: Option<LastWill>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
    /// Outgoing QoS>0 messages in flight at once; 0 = unlimited. Default 20.
    pub max_inflight: u32,
    /// Unacknowledged QoS>0 messages (in flight plus queued) kept at most; 0 = unlimited.
    pub max_queued: u32,
    /// Seconds after which an unacknowledged QoS>0 message is resent with DUP set on a
    /// live connection; 0 (default) never resends within a connection.
    pub retry_interval: u32,
    /// Largest incoming packet accepted (fixed header included).
    pub max_packet_size: usize,
    /// How long at most to wait for CONNACK after CONNECT is queued; with a keepalive
    /// period shorter than this, that period is the limit (as paho 1.6, which drops a
    /// connection silent for a keepalive period in any state).
    pub connack_timeout: Duration,
    /// Bound on the unwritten bytes of the output buffer (0 = none); see
    /// [`DEFAULT_MAX_OUTPUT`].
    pub max_output: usize,
    /// MQTT 5 CONNECT properties, sent exactly as given; they also set our own limits
    /// (Receive Maximum, Maximum Packet Size, Topic Alias Maximum).
    pub connect_properties: Properties,
    /// MQTT 5 paho FIRST_ONLY: Clean Start 1 on the first CONNECT after
    /// [`Session::restart_clean_start`], 0 after (`clean_session` is then false).
    pub clean_start_first_only: bool,
    /// MQTT 5: assign outgoing topic aliases automatically, up to the server's maximum.
    pub topic_alias_auto: bool,
    /// MQTT 5: the application answers AUTH packets; without it an AUTH from the server
    /// is a protocol error.
    pub auth_handler: bool,
}

/// Default bound on the output buffer. A broker that stops reading must not make the
/// client eat memory: past this many unwritten bytes a QoS 0 publish is refused with
/// `QueueSize`, and queued QoS>0 messages wait in the message queue (counted by
/// `max_queued`) instead of being encoded, until the buffer drains. A packet is only
/// refused or held back when bytes are already waiting, so one message larger than the
/// bound still goes out. Acknowledgements, PINGREQ, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT
/// and the resends after a reconnect (at most the in-flight window) are never held back.
pub(crate) const DEFAULT_MAX_OUTPUT: usize = 4 * 1024 * 1024;

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            protocol: ProtocolVersion::V311,
            client_id: String::new(),
            clean_session: true,
            keep_alive: 60,
            will: None,
            username: None,
            password: None,
            max_inflight: 20,
            max_queued: 0,
            retry_interval: 0,
            max_packet_size: crate::proto::MAX_REMAINING_LENGTH + 5,
            connack_timeout: Duration::from_secs(30),
            max_output: DEFAULT_MAX_OUTPUT,
            connect_properties: Properties::new(),
            clean_start_first_only: false,
            topic_alias_auto: false,
            auth_handler: false,
        }
    }
}

/// Where the session is in a connection's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No transport.
    Disconnected,
    /// CONNECT queued, waiting for CONNACK.
    Connecting,
    /// CONNACK accepted.
    Connected,
    /// DISCONNECT queued; the caller closes the transport once it is written.
    Disconnecting,
}

/// What the application must hear about, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// CONNACK received; `code` 0 is accepted, anything else a refusal (3.1.1: 1..=5;
    /// 5: a reason code of 0x80 or more; the caller then closes). `properties` are the
    /// CONNACK's (empty under 3.1.1).
    Connected {
        session_present: bool,
        code: u8,
        properties: Properties,
    },
    /// An incoming message, its topic, payload and properties in [`Session::inbox`];
    /// call [`Session::message_delivered`] once the application has seen it (that
    /// sends PUBACK / PUBREC).
    Message(Incoming),
    /// An outgoing message is complete: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP, or
    /// under MQTT 5 a PUBACK/PUBREC with a failure code, or PUBCOMP "packet identifier
    /// not found". `reason` and `properties` are that packet's (`None` for QoS 0).
    Published {
        mid: u16,
        reason: u8,
        properties: Option<Properties>,
    },
    /// A QoS 2 message was answered with PUBACK (RabbitMQ's MQTT plugin grants at most
    /// QoS 1): its flow completes as QoS 1, as in paho; `Published` follows at once.
    Downgraded { mid: u16 },
    /// SUBACK: one code per filter (0, 1, 2 granted; 0x80 and above failure).
    Subscribed {
        mid: u16,
        granted: Vec<u8>,
        properties: Properties,
    },
    /// UNSUBACK; under MQTT 5 one reason code per filter (empty under 3.1.1).
    Unsubscribed {
        mid: u16,
        reasons: Vec<u8>,
        properties: Properties,
    },
    /// MQTT 5 AUTH from the server (during the connect exchange or a
    /// re-authentication); answer with [`Session::authenticate`].
    Auth { reason: u8, properties: Properties },
    /// The connection ended; `rc` 0 after a requested disconnect, otherwise the
    /// result code that ended it. Under MQTT 5, `reason` is the reason code of the
    /// DISCONNECT that ended it (the server's, or the one this client sent) and
    /// `properties` the server DISCONNECT's properties.
    Disconnected {
        rc: i32,
        reason: Option<u8>,
        properties: Option<Properties>,
    },
}

/// SUBSCRIBE and UNSUBSCRIBE waiting for their acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PendingKind {
    Subscribe,
    Unsubscribe,
}

/// One client's protocol state across connections.
pub struct Session {
    config: SessionConfig,
    state: State,
    ids: PacketIds,
    out: Output,
    /// Outgoing QoS 1/2 messages not yet complete, in flight or queued.
    store: OutStore,
    /// SUBSCRIBE / UNSUBSCRIBE sent on this connection and not yet acknowledged.
    pending: HashMap<PacketId, PendingKind, IdHash>,
    /// Incoming QoS 2 packet ids delivered and not yet released by PUBREL.
    incoming_qos2: HashSet<PacketId, IdHash>,
    events: VecDeque<Event>,
    /// The start of a packet whose end has not been read yet.
    inbuf: Vec<u8>,
    /// Topics and payloads of the messages of `Event::Message` events, until the caller
    /// takes them.
    inbox: Inbox,
    timers: Timers,
    /// A CONNACK (accepted or not) arrived on this connection.
    connack_received: bool,
    /// CONNECT could not be encoded (a field too long); reported by `handle_timeout`,
    /// which `next_timeout` makes due at once, because `connect` cannot return it.
    connect_error: Option<(Instant, ProtoError)>,
    /// Counts connections (`Incoming::epoch`).
    epoch: u32,
    /// Clean Start / Clean Session of the current connection's CONNECT.
    conn_clean: bool,
    /// FIRST_ONLY: the next CONNECT is the first since `restart_clean_start`.
    first_connect: bool,
    /// The keepalive in force: ours, or the server's Server Keep Alive (MQTT 5).
    keep_alive: u16,
    /// The server's limits from the last CONNACK (MQTT 5; defaults before one).
    server: ServerLimits,
    /// Our own limits, from the CONNECT properties of this connection.
    own: OwnLimits,
    /// Incoming aliases of this connection.
    in_aliases: InAliases,
    /// Incoming QoS 1 messages not yet acknowledged (our Receive Maximum counts them).
    in_qos1: usize,
    /// The DISCONNECT that ends this connection (reason, server properties), for
    /// `Event::Disconnected`.
    closing: Option<(u8, Option<Properties>)>,
}

impl Session {
    pub fn new(config: SessionConfig) -> Session {
        Session {
            config,
            state: State::Disconnected,
            ids: PacketIds::default(),
            out: Output::default(),
            store: OutStore::default(),
            pending: HashMap::default(),
            incoming_qos2: HashSet::default(),
            events: VecDeque::new(),
            inbuf: Vec::new(),
            inbox: Inbox::default(),
            timers: Timers::default(),
            connack_received: false,
            connect_error: None,
            epoch: 0,
            conn_clean: true,
            first_connect: true,
            keep_alive: 0,
            server: ServerLimits::default(),
            own: OwnLimits::from_connect(&Properties::new()),
            in_aliases: InAliases::default(),
            in_qos1: 0,
            closing: None,
        }
    }

    pub fn protocol(&self) -> ProtocolVersion {
        self.config.protocol
    }

    fn v5(&self) -> bool {
        self.config.protocol.is_v5()
    }

    /// The server's limits from the last CONNACK.
    pub fn server_limits(&self) -> &ServerLimits {
        &self.server
    }

    /// The keepalive in force on this connection (the server's Server Keep Alive
    /// replaces ours under MQTT 5).
    pub fn keep_alive(&self) -> u16 {
        self.keep_alive
    }

    /// MQTT 5: assign outgoing topic aliases automatically (at once on this
    /// connection, and on every later one).
    pub fn set_topic_alias_auto(&mut self, on: bool) {
        self.config.topic_alias_auto = on;
        self.out.aliases.set_auto(on);
    }

    /// FIRST_ONLY: the next CONNECT has Clean Start 1 again (paho: each `connect`
    /// call starts clean, its reconnects resume).
    pub fn restart_clean_start(&mut self) {
        self.first_connect = true;
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Options may change between connections; changes apply from the next `connect`
    /// (max_inflight, max_queued and retry_interval apply at once).
    pub fn config_mut(&mut self) -> &mut SessionConfig {
        &mut self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The transport is up: discard any unsent bytes, queue CONNECT, start waiting for
    /// CONNACK. With a clean session (Clean Start) the incoming QoS 2 state is forgotten.
    pub fn connect(&mut self, now: Instant) {
        // Unsent bytes belong to the previous connection; QoS 0 messages among them are
        // lost (never published), QoS>0 messages are resent after CONNACK.
        self.out.clear();
        self.out.protocol = self.config.protocol;
        // MQTT-3.3.2-7: aliases do not outlive a connection; none until CONNACK says.
        self.out.aliases.reset(0, self.config.topic_alias_auto);
        self.in_aliases.clear();
        self.in_qos1 = 0;
        self.closing = None;
        self.epoch = self.epoch.wrapping_add(1);
        self.inbuf = Vec::new();
        self.pending.clear();
        self.connect_error = None;
        let clean =
            self.config.clean_session || (self.config.clean_start_first_only && self.first_connect);
        self.first_connect = false;
        self.conn_clean = clean;
        if clean {
            // MQTT-3.1.2-6: a clean session starts from nothing on both sides, so the
            // broker will not resend a QoS 2 message we already delivered.
            self.incoming_qos2.clear();
        }
        self.keep_alive = self.config.keep_alive;
        self.own = OwnLimits::from_connect(&self.config.connect_properties);
        self.state = State::Connecting;
        self.connack_received = false;
        self.timers.start(now);
        let c = &self.config;
        let v5 = c.protocol.is_v5();
        let connect = Packet::Connect(Box::new(Connect {
            protocol: c.protocol,
            client_id: c.client_id.clone(),
            clean_session: clean,
            keep_alive: c.keep_alive,
            will: c.will.clone(),
            username: c.username.clone(),
            password: c.password.clone(),
            properties: if v5 {
                c.connect_properties.clone()
            } else {
                Properties::new()
            },
        }));
        if let Err(e) = self.out.packet(&connect) {
            self.connect_error = Some((now, e));
        }
    }

    /// The transport is gone (after `disconnect`, an error, or EOF). Unsent bytes are
    /// dropped, unacknowledged messages are kept for the next connection, and
    /// `Event::Disconnected` is queued: rc 0 if `disconnect` was requested, else `rc`.
    pub fn connection_closed(&mut self, now: Instant, rc: i32) {
        let _ = now;
        let rc = match self.state {
            State::Disconnected => return,
            State::Disconnecting => 0,
            State::Connecting | State::Connected => rc,
        };
        self.state = State::Disconnected;
        self.out.clear();
        self.inbuf = Vec::new();
        // paho does not resend SUBSCRIBE/UNSUBSCRIBE; their acks can no longer come.
        self.pending.clear();
        self.timers.stop();
        self.connect_error = None;
        let (reason, properties) = match self.closing.take() {
            Some((reason, props)) => (Some(reason), props),
            None => (None, None),
        };
        self.events.push_back(Event::Disconnected {
            rc,
            reason,
            properties,
        });
    }

    /// Feed bytes read from the transport. Any error means the connection must be
    /// closed (then call `connection_closed` with `err.code()`); under MQTT 5 the
    /// DISCONNECT with the reason the spec names is queued first (MQTT-4.13.1-1): write
    /// what [`Session::transmit_buf`] holds, if the socket takes it, before closing.
    /// `NoConn` when there is no connection.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        if self.state == State::Disconnected {
            return Err(Error::NoConn);
        }
        if !data.is_empty() {
            self.timers.bytes_in(now);
        }
        let r = self.read_bytes(now, data);
        if let Err(e) = &r {
            self.protocol_failure(e);
        }
        r
    }

    /// Queue the DISCONNECT that answers a protocol error under MQTT 5 (not after a
    /// DISCONNECT of either side), and remember its reason for `Event::Disconnected`.
    fn protocol_failure(&mut self, e: &Error) {
        let Some(reason) = e.disconnect_reason() else {
            return;
        };
        if !self.v5() || self.closing.is_some() || self.state == State::Disconnecting {
            return;
        }
        // The state stays: the caller closes at once, and the close reports `e`.
        if self
            .out
            .packet(&Packet::Disconnect(Disconnect::reason(reason)))
            .is_ok()
        {
            self.closing = Some((reason, None));
        }
    }

    /// Run timers that are due: keepalive PINGREQ, `Error::Keepalive` when PINGRESP (or
    /// CONNACK) did not come in time, message retry.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        if let Some((_, e)) = self.connect_error.take() {
            return Err(Error::Protocol(e));
        }
        match self.state {
            State::Connecting => match self.timers.connack_deadline(self.connack_timeout()) {
                Some(deadline) if now >= deadline => Err(Error::Keepalive),
                _ => Ok(()),
            },
            State::Connected => {
                match self.timers.poll(now, self.keep_alive) {
                    Keepalive::TimedOut => return Err(Error::Keepalive),
                    Keepalive::SendPing => {
                        let r = self.out.packet(&Packet::PingReq);
                        debug_assert!(r.is_ok());
                    }
                    Keepalive::Idle => {}
                }
                if let Some(interval) = self.retry_interval() {
                    self.store.retry(now, interval, &mut self.out);
                }
                // `max_inflight` may have grown since the last ack.
                self.fill_window(now);
                Ok(())
            }
            State::Disconnected | State::Disconnecting => Ok(()),
        }
    }

    /// The earliest instant at which `handle_timeout` has work; `None` when idle.
    pub fn next_timeout(&self) -> Option<Instant> {
        if let Some((at, _)) = self.connect_error {
            return Some(at);
        }
        match self.state {
            State::Connecting => self.timers.connack_deadline(self.connack_timeout()),
            State::Connected => {
                let keepalive = self.timers.keepalive_deadline(self.keep_alive);
                let retry = self
                    .retry_interval()
                    .and_then(|interval| self.store.next_retry(interval));
                match (keepalive, retry) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            State::Disconnected | State::Disconnecting => None,
        }
    }

    /// Bytes waiting to be written (a contiguous run of whole or partly written packets).
    pub fn transmit_buf(&self) -> &[u8] {
        self.out.pending()
    }

    /// `n` bytes from the front of `transmit_buf` were written.
    pub fn consume_transmit(&mut self, now: Instant, n: usize) {
        if n > 0 {
            self.timers.bytes_out(now);
            self.out.consume(n, &mut self.events);
            // Messages held back by a full output buffer go out as it drains.
            if self.store.has_queued() {
                self.fill_window(now);
            }
        }
    }

    pub fn wants_write(&self) -> bool {
        !self.transmit_buf().is_empty()
    }

    /// The application has seen incoming message `m`: queue its PUBACK (QoS 1) or
    /// PUBREC (QoS 2). QoS 0 does nothing. Dropped when the connection the message
    /// came on is gone: the broker resends it, and a QoS 2 resend is then answered
    /// without a second delivery.
    pub fn message_delivered(&mut self, m: &Incoming) {
        if m.epoch != self.epoch {
            return;
        }
        let pkid = m.pkid;
        match m.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => {
                self.in_qos1 = self.in_qos1.saturating_sub(1);
                self.respond(&Packet::PubAck(crate::proto::Ack::new(pkid)))
            }
            // Only for a message still awaiting release: a PUBREC for an id already
            // released would be a stray packet.
            QoS::ExactlyOnce if self.incoming_qos2.contains(&pkid) => {
                self.respond(&Packet::PubRec(crate::proto::Ack::new(pkid)))
            }
            QoS::ExactlyOnce => {}
        }
    }

    /// `message_delivered` for message `pkid` of this connection (tests).
    #[cfg(test)]
    pub(crate) fn delivered(&mut self, qos: QoS, pkid: u16) {
        self.message_delivered(&Incoming::for_test(qos, pkid, self.epoch));
    }

    /// Where the messages of `Event::Message` events keep their topic and payload.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// Hand over the inbox (with the messages of every `Event::Message` polled so far)
    /// and continue with `empty`, an emptied inbox to reuse. Take it only after polling
    /// every message event, since the ones still queued refer to it.
    pub fn take_inbox(&mut self, empty: Inbox) -> Inbox {
        debug_assert!(empty.is_empty());
        debug_assert!(!self.events.iter().any(|e| matches!(e, Event::Message(_))));
        std::mem::replace(&mut self.inbox, empty)
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// True once message `mid` has been issued and is complete (see `Event::Published`).
    ///
    /// Approximations, so that no per-id history is kept: once the id counter has
    /// wrapped every id counts as issued; and a message that was dropped (QoS 0 while
    /// disconnected or unwritten at a disconnect, `QueueSize`) counts as complete, since
    /// nothing is pending for it; its `publish` result or the disconnect told the caller.
    pub fn is_published(&self, mid: u16) -> bool {
        self.ids.issued(mid)
            && !self.store.contains(mid)
            && !self.pending.contains_key(&mid)
            && !self.out.has_unwritten_qos0(mid)
    }

    /// Checks internal consistency, for tests and the fuzzer (not for production use):
    /// every id in use (unacknowledged messages, pending SUBSCRIBE/UNSUBSCRIBE) is
    /// non-zero, unique and counted as issued; the message store agrees with itself.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        self.store.check()?;
        for mid in self.store.mids().chain(self.pending.keys().copied()) {
            if mid == 0 || !self.ids.issued(mid) {
                return Err(format!("packet id {mid} in use but never issued"));
            }
        }
        if let Some(mid) = self.pending.keys().find(|&&m| self.store.contains(m)) {
            return Err(format!("packet id {mid} used by a message and a request"));
        }
        if self.state == State::Disconnected && (!self.pending.is_empty() || self.wants_write()) {
            return Err("disconnected with requests pending or bytes to write".into());
        }
        Ok(())
    }

    /// Whether new packets may be queued on this connection: after CONNECT, before
    /// DISCONNECT (MQTT-3.1.4: a client may send right after CONNECT).
    fn can_send(&self) -> bool {
        matches!(self.state, State::Connecting | State::Connected)
    }

    /// An id not used by any unfinished flow (MQTT-2.3.1-2).
    fn next_mid(&mut self) -> Option<PacketId> {
        let (store, pending) = (&self.store, &self.pending);
        self.ids
            .next(|id| store.contains(id) || pending.contains_key(&id))
    }
}
