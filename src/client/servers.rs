//! Broker failover (paho.mqtt.c's serverURIs): the host and port given to connect are
//! entry 0, `servers_set` adds entries 1... A failed attempt or a lost connection moves
//! on to the next entry at once; only when a whole round has failed does the reconnect
//! delay apply, and the next round starts again at the broker of the last CONNACK.

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
    /// The entry the open connection uses.
    connected: Option<usize>,
    /// A round has just failed: the caller waits the reconnect delay once.
    round_failed: bool,
}

impl Servers {
    pub fn count(&self) -> usize {
        1 + self.extra.len()
    }

    /// Replace entries 1.. and start over from entry 0.
    pub fn set(&mut self, extra: Vec<(String, u16)>) {
        *self = Servers {
            extra,
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
        let i = self.current.min(self.count() - 1);
        let (h, p) = self.entry(i, host, port);
        (i, h, p)
    }

    /// Host and port of entry `i` (`host`, `port`: entry 0's).
    pub fn entry<'a>(&'a self, i: usize, host: &'a str, port: u16) -> (&'a str, u16) {
        match i.checked_sub(1).and_then(|j| self.extra.get(j)) {
            Some((h, p)) => (h, *p),
            None => (host, port),
        }
    }

    /// A connection to entry `i` is open.
    pub fn opened(&mut self, i: usize) {
        self.connected = Some(i);
    }

    /// The connection is gone.
    pub fn closed(&mut self) {
        self.connected = None;
    }

    /// The broker of the open connection accepted it: rounds start there now.
    pub fn accepted(&mut self) {
        if let Some(i) = self.connected {
            self.sticky = i;
            self.current = i;
        }
        self.failed = 0;
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

    /// The entry the open connection uses.
    pub fn connected(&self) -> Option<usize> {
        self.connected
    }
}

#[cfg(test)]
mod tests {
    use super::Servers;

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
        s.opened(1);
        s.accepted();
        assert_eq!(s.connected(), Some(1));
        // Lost: the next one at once, then the third, then a failed round back at b.
        s.closed();
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
}
