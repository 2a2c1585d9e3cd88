//! Packet identifier (paho's `mid`) allocation.
//!
//! Ids come from one counter shared by PUBLISH (every QoS: paho gives QoS 0 messages a
//! `mid` too, for `on_publish`), SUBSCRIBE and UNSUBSCRIBE. The counter starts at 1,
//! wraps from 65535 to 1 (0 is never valid, MQTT-2.3.1-1) and skips ids that an
//! unfinished flow still uses (MQTT-2.3.1-2: a new packet must use an unused id).
//!
//! There is deliberately no 64 Kbit bitmap here: an idle client should stay small, and
//! the session's own maps (unacknowledged publishes, pending SUBSCRIBE/UNSUBSCRIBE)
//! already answer "is this id in use" in O(1).

use crate::proto::PacketId;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PacketIds {
    /// The last id handed out; 0 before the first.
    last: PacketId,
    /// The counter has passed 65535 at least once, so every id may have been issued.
    wrapped: bool,
}

impl PacketIds {
    /// The next id after the last one that `in_use` does not claim, or `None` when all
    /// 65535 ids are taken (the caller reports a full queue).
    pub(super) fn next(&mut self, in_use: impl Fn(PacketId) -> bool) -> Option<PacketId> {
        for _ in 0..u16::MAX {
            self.last = if self.last == u16::MAX {
                self.wrapped = true;
                1
            } else {
                self.last + 1
            };
            if !in_use(self.last) {
                return Some(self.last);
            }
        }
        None
    }

    /// Whether `mid` has been handed out by this counter. Once the counter has wrapped
    /// every non-zero id counts as issued: remembering each one would cost the bitmap
    /// this module avoids, and `is_published` only needs "not pending" after a wrap.
    pub(super) fn issued(&self, mid: PacketId) -> bool {
        mid != 0 && (self.wrapped || mid <= self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_one_and_counts_up() {
        let mut ids = PacketIds::default();
        assert!(!ids.issued(1));
        assert_eq!(ids.next(|_| false), Some(1));
        assert_eq!(ids.next(|_| false), Some(2));
        assert!(ids.issued(2));
        assert!(!ids.issued(3));
        assert!(!ids.issued(0));
    }

    #[test]
    fn wraps_to_one_skipping_ids_in_use() {
        let mut ids = PacketIds {
            last: 65534,
            wrapped: false,
        };
        assert_eq!(ids.next(|id| id == 65535), Some(1));
        assert!(ids.wrapped);
        assert!(ids.issued(40_000));
        assert_eq!(ids.next(|id| id == 2 || id == 3), Some(4));
    }

    #[test]
    fn none_when_every_id_is_in_use() {
        let mut ids = PacketIds::default();
        assert_eq!(ids.next(|_| true), None);
        // One id freed: it is found again wherever the counter stands.
        assert_eq!(ids.next(|id| id != 7), Some(7));
    }
}

/// The hasher of maps and sets keyed by packet id. The keys are 16-bit ids, so even a
/// broker choosing them (incoming QoS 2) can pile at most a few hundred into one
/// bucket: SipHash's flood resistance buys nothing here and costs a good part of each
/// acknowledgement; one multiply spreads them instead.
/// (Spelled out at each use: cbindgen, reading every file, trips over generic aliases
/// of std's maps.)
pub(super) type IdHash = BuildHasherDefault<IdHasher>;

#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u16(&mut self, id: u16) {
        // Fibonacci hashing: the table takes its bucket from the low bits (a run of
        // consecutive ids never shares one) and its tag from the top seven, which
        // depend on every bit of the id.
        self.0 = u64::from(id).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
