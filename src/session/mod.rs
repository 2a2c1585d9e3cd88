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

use crate::error::Error;
use crate::proto::{LastWill, ProtocolVersion, Publish, QoS};
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
    /// How long to wait for CONNACK after CONNECT is queued.
    pub connack_timeout: Duration,
}

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
    /// An incoming message; call [`Session::message_delivered`] once the application
    /// has seen it (that sends PUBACK / PUBREC).
    Message(Publish),
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

/// One client's protocol state across connections.
pub struct Session {
    config: SessionConfig,
}

impl Session {
    pub fn new(config: SessionConfig) -> Session {
        Session { config }
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
        unimplemented!()
    }

    /// The transport is up: discard any unsent bytes, queue CONNECT, start waiting for
    /// CONNACK. With `clean_session` the incoming QoS 2 state is forgotten.
    pub fn connect(&mut self, now: Instant) {
        let _ = now;
        unimplemented!()
    }

    /// Queue a PUBLISH. Returns the message id (also for QoS 0). `Err((mid, e))`:
    /// `NoConn` when disconnected (QoS>0 stays queued and goes out after the next
    /// CONNACK, QoS 0 is dropped), `QueueSize` when `max_queued` is reached (dropped),
    /// `Inval` / `PayloadSize` for a bad topic or payload (mid 0, nothing assigned).
    pub fn publish(
        &mut self,
        now: Instant,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<u16, (u16, Error)> {
        let _ = (now, topic, payload, qos, retain);
        unimplemented!()
    }

    /// Queue one SUBSCRIBE with all filters. `NoConn` when disconnected, `Inval` for an
    /// empty list or an invalid filter.
    pub fn subscribe(&mut self, now: Instant, filters: &[(&str, QoS)]) -> Result<u16, Error> {
        let _ = (now, filters);
        unimplemented!()
    }

    /// Queue one UNSUBSCRIBE with all filters.
    pub fn unsubscribe(&mut self, now: Instant, filters: &[&str]) -> Result<u16, Error> {
        let _ = (now, filters);
        unimplemented!()
    }

    /// Queue DISCONNECT; the caller closes the transport once `wants_write()` is false
    /// and then calls `connection_closed`, which reports rc 0. `NoConn` when there is no
    /// connection.
    pub fn disconnect(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        unimplemented!()
    }

    /// The transport is gone (after `disconnect`, an error, or EOF). Unsent bytes are
    /// dropped, unacknowledged messages are kept for the next connection, and
    /// `Event::Disconnected` is queued: rc 0 if `disconnect` was requested, else `rc`.
    pub fn connection_closed(&mut self, now: Instant, rc: i32) {
        let _ = (now, rc);
        unimplemented!()
    }

    /// Feed bytes read from the transport. Any error means the connection must be
    /// closed (then call `connection_closed` with `err.code()`).
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        let _ = (now, data);
        unimplemented!()
    }

    /// Run timers that are due: keepalive PINGREQ, `Error::Keepalive` when PINGRESP (or
    /// CONNACK) did not come in time, message retry.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        unimplemented!()
    }

    /// The earliest instant at which `handle_timeout` has work; `None` when idle.
    pub fn next_timeout(&self) -> Option<Instant> {
        unimplemented!()
    }

    /// Bytes waiting to be written (a contiguous run of whole or partly written packets).
    pub fn transmit_buf(&self) -> &[u8] {
        unimplemented!()
    }

    /// `n` bytes from the front of `transmit_buf` were written.
    pub fn consume_transmit(&mut self, now: Instant, n: usize) {
        let _ = (now, n);
        unimplemented!()
    }

    pub fn wants_write(&self) -> bool {
        !self.transmit_buf().is_empty()
    }

    /// The application has seen an incoming message: queue its PUBACK (QoS 1) or
    /// PUBREC (QoS 2). QoS 0 does nothing.
    pub fn message_delivered(&mut self, qos: QoS, pkid: u16) {
        let _ = (qos, pkid);
        unimplemented!()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        unimplemented!()
    }

    /// True once message `mid` has been issued and is complete (see `Event::Published`).
    pub fn is_published(&self, mid: u16) -> bool {
        let _ = mid;
        unimplemented!()
    }
}
