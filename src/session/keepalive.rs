//! Connection timers: CONNACK timeout and keepalive (MQTT-3.1.2.10).
//!
//! Time only ever comes in as an argument; this module just remembers instants and
//! says which deadline is next.
//!
//! The keepalive rule is paho's and libmosquitto's, stricter than the spec's "at most N
//! seconds without sending" (MQTT-3.1.2-23): a PINGREQ also goes out after N seconds
//! without *receiving* anything, so a dead broker is noticed while the client keeps
//! publishing QoS 0. A PINGREQ unanswered for N seconds ends the connection.

use super::Session;
use std::time::{Duration, Instant};

/// What `handle_timeout` must do about keepalive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keepalive {
    Idle,
    SendPing,
    TimedOut,
}

#[derive(Debug, Default)]
pub(super) struct Timers {
    /// When CONNECT was queued, while its CONNACK is awaited.
    connect_sent: Option<Instant>,
    /// Last time bytes were written to the transport.
    last_out: Option<Instant>,
    /// Last time bytes were read from the transport.
    last_in: Option<Instant>,
    /// When the outstanding PINGREQ was queued; only one at a time.
    ping_sent: Option<Instant>,
}

impl Timers {
    /// A new connection: CONNECT is queued now.
    pub(super) fn start(&mut self, now: Instant) {
        *self = Timers {
            connect_sent: Some(now),
            last_out: Some(now),
            last_in: Some(now),
            ping_sent: None,
        };
    }

    pub(super) fn stop(&mut self) {
        *self = Timers::default();
    }

    pub(super) fn connack_received(&mut self) {
        self.connect_sent = None;
    }

    pub(super) fn bytes_in(&mut self, now: Instant) {
        self.last_in = Some(now);
    }

    pub(super) fn bytes_out(&mut self, now: Instant) {
        self.last_out = Some(now);
    }

    pub(super) fn pingresp(&mut self) {
        self.ping_sent = None;
    }

    pub(super) fn connack_deadline(&self, timeout: Duration) -> Option<Instant> {
        self.connect_sent.map(|t| t + timeout)
    }

    /// The next keepalive instant: the PINGREQ timeout while one is outstanding, else
    /// when the next PINGREQ is due. `None` with keepalive 0 (disabled).
    pub(super) fn keepalive_deadline(&self, keep_alive: u16) -> Option<Instant> {
        if keep_alive == 0 {
            return None;
        }
        let period = Duration::from_secs(keep_alive.into());
        match self.ping_sent {
            Some(t) => Some(t + period),
            None => Some(self.last_out?.min(self.last_in?) + period),
        }
    }

    /// Decide what keepalive needs at `now`; records the PINGREQ when one is due.
    pub(super) fn poll(&mut self, now: Instant, keep_alive: u16) -> Keepalive {
        let Some(deadline) = self.keepalive_deadline(keep_alive) else {
            return Keepalive::Idle;
        };
        if now < deadline {
            Keepalive::Idle
        } else if self.ping_sent.is_some() {
            Keepalive::TimedOut
        } else {
            self.ping_sent = Some(now);
            Keepalive::SendPing
        }
    }
}

impl Session {
    pub(super) fn connack_timeout(&self) -> Duration {
        match self.keep_alive {
            0 => self.config.connack_timeout,
            ka => self
                .config
                .connack_timeout
                .min(Duration::from_secs(ka.into())),
        }
    }

    /// Resending within a connection is for 3.1/3.1.1 only (MQTT-4.4.0-1 forbids it
    /// under MQTT 5).
    pub(super) fn retry_interval(&self) -> Option<Duration> {
        (self.config.retry_interval > 0 && !self.v5())
            .then(|| Duration::from_secs(self.config.retry_interval.into()))
    }
}
