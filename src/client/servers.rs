//! Broker failover (paho.mqtt.c's serverURIs): the host and port given to connect are
//! entry 0, `servers_set` adds entries 1... A failed attempt or a lost connection moves
//! on to the next entry at once; only when a whole round has failed does the reconnect
//! delay apply, and the next round starts again at the broker of the last CONNACK. A
//! connection lost soon after its CONNACK still counts in the round, so brokers that
//! accept and then drop the client cannot make it reconnect without pause.

use std::time::{Duration, Instant};

/// The entries and where the client is in them.
#[derive(Clone, Debug, Default)]
pub struct Servers {
    /// Entries 1.. (entry 0 is the host and port of connect).
    pub extra: Vec<(String, u16)>,
    /// The entry the next attempt goes to.
    current: usize,
    /// The entry of the last accepted CONNACK: where each round starts.
    sticky: usize,
    /// Entries that failed since the round started.
    failed: usize,
    /// The broker the open connection uses (host, port), whatever the list says since.
    connected: Option<(String, u16)>,
    /// When the open connection's CONNACK accepted it.
    accepted_at: Option<Instant>,
    /// A round has just failed: the caller waits the reconnect delay once.
    round_failed: bool,
}

impl Servers {
    pub fn count(&self) -> usize {
        1 + self.extra.len()
    }

    /// Replace entries 1.. and start over from entry 0 (the open connection, if any,
    /// stays what it is).
    pub fn set(&mut self, extra: Vec<(String, u16)>) {
        *self = Servers {
            extra,
            connected: self.connected.take(),
            accepted_at: self.accepted_at,
            ..Servers::default()
        };
    }

    /// A new connect (connect, connect_async): entry 0 first.
    pub fn restart(&mut self) {
        let extra = std::mem::take(&mut self.extra);
        self.set(extra);
    }

    /// The entry the next attempt goes to: its index, and its host and port (`host`,
    /// `port`: entry 0's).
    pub fn next<'a>(&'a self, host: &'a str, port: u16) -> (usize, &'a str, u16) {
        match self.current.checked_sub(1).and_then(|j| self.extra.get(j)) {
            Some((h, p)) => (self.current, h, *p),
            None => (0, host, port),
        }
    }

    /// A connection to `host`:`port` (the current entry) is open.
    pub fn opened(&mut self, host: &str, port: u16) {
        self.connected = Some((host.to_string(), port));
        self.accepted_at = None;
    }

    /// The connection is gone; one accepted at least `stable` ago ends the round (the
    /// next failure starts a new one).
    pub fn closed(&mut self, now: Instant, stable: Duration) {
        if self
            .accepted_at
            .is_some_and(|t| now.saturating_duration_since(t) >= stable)
        {
            self.failed = 0;
        }
        self.connected = None;
        self.accepted_at = None;
    }

    /// The broker of the open connection accepted it: rounds start there now.
    pub fn accepted(&mut self, now: Instant) {
        if self.connected.is_some() {
            self.sticky = self.current.min(self.count() - 1);
            self.accepted_at = Some(now);
        }
    }

    /// The current entry failed (an attempt, or a connection that was lost): move on.
    pub fn failed(&mut self) {
        self.failed += 1;
        if self.failed >= self.count() {
            self.failed = 0;
            self.current = self.sticky.min(self.count() - 1);
            self.round_failed = true;
        } else {
            self.current = (self.current + 1) % self.count();
        }
    }

    /// Whether the reconnect delay is due (a whole round failed); asking clears it.
    pub fn take_round_failed(&mut self) -> bool {
        std::mem::take(&mut self.round_failed)
    }

    /// The broker the open connection uses.
    pub fn connected(&self) -> Option<(&str, u16)> {
        self.connected.as_ref().map(|(h, p)| (h.as_str(), *p))
    }
}

#[cfg(test)]
mod tests {
    use super::Servers;
    use std::time::{Duration, Instant};

    fn entries(s: &Servers) -> (usize, String, u16) {
        let (i, h, p) = s.next("a", 1);
        (i, h.to_string(), p)
    }

    #[test]
    fn one_entry_waits_after_every_failure() {
        let mut s = Servers::default();
        assert_eq!(entries(&s), (0, "a".into(), 1));
        s.failed();
        assert!(s.take_round_failed());
        assert!(!s.take_round_failed());
        assert_eq!(entries(&s).0, 0);
    }

    #[test]
    fn rounds_move_on_at_once_and_start_at_the_last_connack() {
        let mut s = Servers::default();
        s.set(vec![("b".into(), 2), ("c".into(), 3)]);
        assert_eq!(entries(&s), (0, "a".into(), 1));
        s.failed();
        assert!(!s.take_round_failed());
        assert_eq!(entries(&s), (1, "b".into(), 2));
        let t0 = Instant::now();
        s.opened("b", 2);
        s.accepted(t0);
        assert_eq!(s.connected(), Some(("b", 2)));
        // Lost after a while: the next one at once, then the third, then a failed
        // round back at b.
        s.closed(t0 + Duration::from_secs(5), Duration::from_secs(1));
        assert_eq!(s.connected(), None);
        s.failed();
        assert!(!s.take_round_failed());
        assert_eq!(entries(&s).0, 2);
        s.failed();
        assert!(!s.take_round_failed());
        assert_eq!(entries(&s).0, 0);
        s.failed();
        assert!(s.take_round_failed());
        assert_eq!(entries(&s).0, 1);
        // A new list starts over at entry 0.
        s.set(vec![("d".into(), 4)]);
        assert_eq!(entries(&s).0, 0);
        s.failed();
        assert_eq!(entries(&s), (1, "d".into(), 4));
        s.restart();
        assert_eq!(entries(&s).0, 0);
    }

    #[test]
    fn brokers_that_accept_and_drop_still_make_a_round() {
        let mut s = Servers::default();
        s.set(vec![("b".into(), 2)]);
        let t = Instant::now();
        let stable = Duration::from_secs(1);
        // a accepts and drops at once, b too: a failed round all the same.
        s.opened("a", 1);
        s.accepted(t);
        s.closed(t, stable);
        s.failed();
        assert!(!s.take_round_failed());
        s.opened("b", 2);
        s.accepted(t);
        s.closed(t + Duration::from_millis(10), stable);
        s.failed();
        assert!(s.take_round_failed());
        // The next round starts at b, the last to accept.
        assert_eq!(entries(&s).0, 1);
    }
}
