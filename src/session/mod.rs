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

mod ids;
pub(crate) mod inbox;
mod incoming;
mod keepalive;
mod outgoing;
mod output;
#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::proto::{
    self, topic, Ack, Connect, LastWill, Packet, PacketId, ProtoError, ProtocolVersion, QoS,
    Subscribe, Unsubscribe, MAX_REMAINING_LENGTH,
};
use ids::PacketIds;
pub use inbox::{Inbox, Incoming};
use keepalive::{Keepalive, Timers};
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
    /// CONNACK received; `code` 0 is accepted, 1..=5 a refusal (the caller then closes).
    Connected { session_present: bool, code: u8 },
    /// An incoming message, its topic and payload in [`Session::inbox`]; call
    /// [`Session::message_delivered`] once the application has seen it (that sends
    /// PUBACK / PUBREC).
    Message(Incoming),
    /// An outgoing message is complete: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP.
    Published { mid: u16 },
    /// SUBACK: one code per filter (0, 1, 2 granted; 0x80 failure).
    Subscribed { mid: u16, granted: Vec<u8> },
    /// UNSUBACK.
    Unsubscribed { mid: u16 },
    /// The connection ended; `rc` 0 after a requested disconnect, otherwise the
    /// result code that ended it.
    Disconnected { rc: i32 },
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
    pending: HashMap<PacketId, PendingKind>,
    /// Incoming QoS 2 packet ids delivered and not yet released by PUBREL.
    incoming_qos2: HashSet<PacketId>,
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
}

impl Session {
    pub fn new(config: SessionConfig) -> Session {
        Session {
            config,
            state: State::Disconnected,
            ids: PacketIds::default(),
            out: Output::default(),
            store: OutStore::default(),
            pending: HashMap::new(),
            incoming_qos2: HashSet::new(),
            events: VecDeque::new(),
            inbuf: Vec::new(),
            inbox: Inbox::default(),
            timers: Timers::default(),
            connack_received: false,
            connect_error: None,
        }
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
    /// CONNACK. With `clean_session` the incoming QoS 2 state is forgotten.
    pub fn connect(&mut self, now: Instant) {
        // Unsent bytes belong to the previous connection; QoS 0 messages among them are
        // lost (never published), QoS>0 messages are resent after CONNACK.
        self.out.clear();
        self.inbuf = Vec::new();
        self.pending.clear();
        self.connect_error = None;
        if self.config.clean_session {
            // MQTT-3.1.2-6: a clean session starts from nothing on both sides, so the
            // broker will not resend a QoS 2 message we already delivered.
            self.incoming_qos2.clear();
        }
        self.state = State::Connecting;
        self.connack_received = false;
        self.timers.start(now);
        let c = &self.config;
        let connect = Packet::Connect(Connect {
            protocol: c.protocol,
            client_id: c.client_id.clone(),
            clean_session: c.clean_session,
            keep_alive: c.keep_alive,
            will: c.will.clone(),
            username: c.username.clone(),
            password: c.password.clone(),
        });
        if let Err(e) = self.out.packet(&connect) {
            self.connect_error = Some((now, e));
        }
    }

    /// Queue a PUBLISH. Returns the message id (also for QoS 0). `Err((mid, e))`:
    /// `NoConn` when disconnected (QoS>0 stays queued and goes out after the next
    /// CONNACK, QoS 0 is dropped), `QueueSize` when `max_queued` is reached (dropped),
    /// `Inval` / `PayloadSize` for a bad topic or payload (mid 0, nothing assigned).
    ///
    /// After `disconnect` nothing more may be sent on that connection (MQTT-3.14.4-2),
    /// so publishing while `Disconnecting` behaves as while `Disconnected`. Should all
    /// 65535 ids be in use, the result is `QueueSize` with mid 0.
    pub fn publish(
        &mut self,
        now: Instant,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<u16, (u16, Error)> {
        if !topic::valid_topic_name(topic) {
            return Err((0, Error::Inval));
        }
        // MQTT-2.2.3: the remaining length cannot exceed 268435455.
        let pkid_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
        if (2 + topic.len() + pkid_len).saturating_add(payload.len()) > MAX_REMAINING_LENGTH {
            return Err((0, Error::PayloadSize));
        }
        let mid = self.next_mid().ok_or((0, Error::QueueSize))?;
        if qos == QoS::AtMostOnce {
            if !self.can_send() {
                return Err((mid, Error::NoConn));
            }
            let len = proto::publish_len(topic.len(), payload.len(), qos);
            if self.out.over_limit(len, self.config.max_output) {
                return Err((mid, Error::QueueSize));
            }
            // Straight into the output buffer: no per-message allocation.
            self.out
                .publish(topic, payload, qos, retain, false, 0)
                .map_err(|_| (mid, Error::PayloadSize))?;
            self.out.mark_qos0(mid);
            return Ok(mid);
        }
        let max_queued = self.config.max_queued as usize;
        if max_queued > 0 && self.store.len() >= max_queued {
            return Err((mid, Error::QueueSize));
        }
        self.store.push(mid, topic, payload, qos, retain);
        match self.state {
            State::Connected => {
                self.fill_window(now);
                Ok(mid)
            }
            // Queued behind CONNECT until CONNACK (then resent/sent in order).
            State::Connecting => Ok(mid),
            State::Disconnected | State::Disconnecting => Err((mid, Error::NoConn)),
        }
    }

    /// Queue one SUBSCRIBE with all filters. `NoConn` when disconnected, `Inval` for an
    /// empty list or an invalid filter (checked first, as paho does).
    pub fn subscribe(&mut self, now: Instant, filters: &[(&str, QoS)]) -> Result<u16, Error> {
        let _ = now;
        // MQTT-3.8.3-3: at least one filter.
        if filters.is_empty() || !filters.iter().all(|(f, _)| topic::valid_topic_filter(f)) {
            return Err(Error::Inval);
        }
        let packet = |pkid| {
            Packet::Subscribe(Subscribe {
                pkid,
                filters: filters.iter().map(|&(f, q)| (f.to_owned(), q)).collect(),
            })
        };
        self.send_request(packet, PendingKind::Subscribe)
    }

    /// Queue one UNSUBSCRIBE with all filters.
    pub fn unsubscribe(&mut self, now: Instant, filters: &[&str]) -> Result<u16, Error> {
        let _ = now;
        // MQTT-3.10.3-2: at least one filter.
        if filters.is_empty() || !filters.iter().all(|f| topic::valid_topic_filter(f)) {
            return Err(Error::Inval);
        }
        let packet = |pkid| {
            Packet::Unsubscribe(Unsubscribe {
                pkid,
                filters: filters.iter().map(|&f| f.to_owned()).collect(),
            })
        };
        self.send_request(packet, PendingKind::Unsubscribe)
    }

    /// Queue DISCONNECT; the caller closes the transport once `wants_write()` is false
    /// and then calls `connection_closed`, which reports rc 0. `NoConn` when there is no
    /// connection.
    pub fn disconnect(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        match self.state {
            State::Disconnected => Err(Error::NoConn),
            // Already queued; a second DISCONNECT would break MQTT-3.14.4-2.
            State::Disconnecting => Ok(()),
            State::Connecting | State::Connected => {
                let r = self.out.packet(&Packet::Disconnect);
                debug_assert!(r.is_ok());
                self.state = State::Disconnecting;
                Ok(())
            }
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
        self.events.push_back(Event::Disconnected { rc });
    }

    /// Feed bytes read from the transport. Any error means the connection must be
    /// closed (then call `connection_closed` with `err.code()`). `NoConn` when there is
    /// no connection.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        if self.state == State::Disconnected {
            return Err(Error::NoConn);
        }
        if !data.is_empty() {
            self.timers.bytes_in(now);
        }
        self.read_bytes(now, data)
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
                match self.timers.poll(now, self.config.keep_alive) {
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
                let keepalive = self.timers.keepalive_deadline(self.config.keep_alive);
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

    /// The application has seen an incoming message: queue its PUBACK (QoS 1) or
    /// PUBREC (QoS 2). QoS 0 does nothing. Dropped when the connection the message
    /// came on is gone: the broker resends it, and a QoS 2 resend is then answered
    /// without a second delivery.
    pub fn message_delivered(&mut self, qos: QoS, pkid: u16) {
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.respond(&Packet::PubAck(Ack { pkid })),
            // Only for a message still awaiting release: a PUBREC for an id already
            // released would be a stray packet.
            QoS::ExactlyOnce if self.incoming_qos2.contains(&pkid) => {
                self.respond(&Packet::PubRec(Ack { pkid }))
            }
            QoS::ExactlyOnce => {}
        }
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

    fn send_request(
        &mut self,
        packet: impl FnOnce(PacketId) -> Packet,
        kind: PendingKind,
    ) -> Result<u16, Error> {
        if !self.can_send() {
            return Err(Error::NoConn);
        }
        let mid = self.next_mid().ok_or(Error::QueueSize)?;
        // Filters were validated, so only a packet over 268435455 bytes can fail here.
        self.out
            .packet(&packet(mid))
            .map_err(|_| Error::PayloadSize)?;
        self.pending.insert(mid, kind);
        Ok(mid)
    }

    /// Send queued QoS>0 messages while the in-flight window has room.
    fn fill_window(&mut self, now: Instant) {
        if self.state == State::Connected {
            let c = &self.config;
            self.store
                .fill_window(now, c.max_inflight, c.max_output, &mut self.out);
        }
    }

    fn connack_timeout(&self) -> Duration {
        match self.config.keep_alive {
            0 => self.config.connack_timeout,
            ka => self
                .config
                .connack_timeout
                .min(Duration::from_secs(ka.into())),
        }
    }

    fn retry_interval(&self) -> Option<Duration> {
        (self.config.retry_interval > 0)
            .then(|| Duration::from_secs(self.config.retry_interval.into()))
    }
}
