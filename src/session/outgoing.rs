//! Outgoing QoS 1 and QoS 2 messages: the in-flight window, the queue behind it, and
//! resending after a reconnect or a retry interval.
//!
//! Every unacknowledged message has a sequence number taken at `publish` time and lives
//! in a deque indexed by it, so resends keep the original order (MQTT-4.6.0-1); a map
//! finds a message from its packet id in O(1) on each acknowledgement (walking the
//! in-flight list per ack is what makes libmosquitto slow with big windows). A message
//! acknowledged out of order leaves an empty slot until those before it are done, so
//! pushing and completing cost O(1) and no allocation beyond the message's own.
//!
//! Messages are always sent oldest first, so the messages ever sent form a prefix of the
//! sequence: everything below `queue_start` has been sent at least once, everything
//! from it on is still queued. The next queued message is one range lookup away.
//!
//! Under MQTT 5 the server's Receive Maximum is a quota on the flows in flight, resends
//! after a reconnect included (MQTT-4.9.0-2): what the quota does not let through at
//! CONNACK waits behind `resend_from` and goes, still before anything new, as acks free
//! the quota.

use super::ids::IdHash;
use super::output::{MsgRef, Output};
use crate::proto::{Ack, Packet, PacketId, QoS};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OutState {
    /// Never sent: waiting for a connection or for room in the in-flight window.
    Queued,
    /// QoS 1 PUBLISH sent.
    WaitPubAck,
    /// QoS 2 PUBLISH sent.
    WaitPubRec,
    /// QoS 2 PUBREC received and PUBREL sent (or due on the next connection).
    WaitPubComp,
}

#[derive(Debug)]
struct OutMsg {
    mid: PacketId,
    /// Topic, payload and MQTT 5 properties (encoded, no Topic Alias: see `alias`), in
    /// one allocation: a message costs one malloc.
    data: Box<[u8]>,
    topic_len: usize,
    payload_len: usize,
    qos: QoS,
    retain: bool,
    /// MQTT 5 Topic Alias set by the application.
    alias: Option<u16>,
    state: OutState,
    /// When the last packet of this flow (PUBLISH or PUBREL) was queued for writing.
    sent_at: Option<Instant>,
}

#[derive(Debug, Default)]
pub(super) struct OutStore {
    msgs: Slots,
    by_mid: HashMap<PacketId, u64, IdHash>,
    /// Sequence numbers below this have been sent; from it on they are queued.
    queue_start: u64,
    /// Messages sent and not yet complete (the in-flight window's occupancy).
    inflight: usize,
    /// (sent_at, seq) each time a message was sent, oldest first (the caller's clock
    /// never goes back), so the retry deadline is the first entry. An entry whose
    /// message is gone or was sent again since is stale: stale entries are dropped from
    /// the front at once and from the rest when they outnumber the live ones.
    timeline: VecDeque<(Instant, u64)>,
    /// Messages sent on an earlier connection and not resent yet on this one (the quota
    /// held them back) start at this sequence number.
    resend_from: Option<u64>,
    /// How many messages from `resend_from` on wait for their resend.
    resend_pending: usize,
}

/// The messages by sequence number: `slots[i]` holds number `base + i`, `None` once it
/// is complete (or refused) while an older one is not.
#[derive(Debug, Default)]
struct Slots {
    slots: VecDeque<Option<OutMsg>>,
    base: u64,
    live: usize,
}

impl Slots {
    fn len(&self) -> usize {
        self.live
    }

    /// The number the next message gets.
    fn next_seq(&self) -> u64 {
        self.base + self.slots.len() as u64
    }

    fn push(&mut self, msg: OutMsg) -> u64 {
        let seq = self.next_seq();
        self.slots.push_back(Some(msg));
        self.live += 1;
        seq
    }

    fn index(&self, seq: u64) -> Option<usize> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        (i < self.slots.len()).then_some(i)
    }

    fn get(&self, seq: u64) -> Option<&OutMsg> {
        self.slots.get(self.index(seq)?)?.as_ref()
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut OutMsg> {
        let i = self.index(seq)?;
        self.slots.get_mut(i)?.as_mut()
    }

    fn remove(&mut self, seq: u64) -> Option<OutMsg> {
        let i = self.index(seq)?;
        let msg = self.slots.get_mut(i)?.take()?;
        self.live -= 1;
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.base += 1;
        }
        if self.slots.is_empty() {
            // Keep a burst's worth of slots, not the largest burst ever.
            self.slots.shrink_to(64);
        }
        Some(msg)
    }

    /// The sequence numbers of the messages in `from..to`, in order.
    fn seqs(&self, from: u64, to: u64) -> impl Iterator<Item = u64> + '_ {
        let start = from.max(self.base);
        let end = to.min(self.next_seq());
        (start..end.max(start)).filter(move |&seq| self.get(seq).is_some())
    }

    /// The first message numbered `from` or later.
    fn first_from(&mut self, from: u64) -> Option<(u64, &mut OutMsg)> {
        let start = usize::try_from(from.saturating_sub(self.base)).unwrap_or(usize::MAX);
        let base = self.base;
        self.slots
            .iter_mut()
            .enumerate()
            .skip(start)
            .find_map(|(i, m)| Some((base + i as u64, m.as_mut()?)))
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &OutMsg)> + '_ {
        let base = self.base;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, m)| Some((base + i as u64, m.as_ref()?)))
    }
}

/// Messages sent on an earlier connection still resent, and the quota they get.
pub(super) struct Resend {
    pub(super) clean: bool,
    pub(super) quota: usize,
}

/// What the current connection's server refuses to take (MQTT 5: a packet over its
/// Maximum Packet Size, a QoS above its Maximum QoS, retain where it has none), as the
/// reason code that ends the message's flow; checked as each PUBLISH is about to go,
/// since the limits of a new connection may be stricter than those it was accepted
/// under.
pub(super) type Refuse<'a> = &'a dyn Fn(&MsgRef<'_>) -> Option<u8>;

impl OutMsg {
    fn new(mid: PacketId, m: &MsgRef<'_>) -> OutMsg {
        let mut data = Vec::with_capacity(m.topic.len() + m.payload.len() + m.props.len());
        data.extend_from_slice(m.topic.as_bytes());
        data.extend_from_slice(m.payload);
        data.extend_from_slice(m.props);
        OutMsg {
            mid,
            data: data.into_boxed_slice(),
            topic_len: m.topic.len(),
            payload_len: m.payload.len(),
            qos: m.qos,
            retain: m.retain,
            alias: m.alias,
            state: OutState::Queued,
            sent_at: None,
        }
    }

    fn as_ref(&self) -> MsgRef<'_> {
        let (topic, rest) = self.data.split_at(self.topic_len);
        let (payload, props) = rest.split_at(self.payload_len);
        MsgRef {
            // SAFETY: `new` copied these bytes from a `&str`, and nothing changes them.
            topic: unsafe { std::str::from_utf8_unchecked(topic) },
            payload,
            qos: self.qos,
            retain: self.retain,
            props,
            alias: self.alias,
        }
    }
}

impl OutStore {
    /// Unacknowledged messages, in flight plus queued (what `max_queued` limits).
    pub(super) fn len(&self) -> usize {
        self.msgs.len()
    }

    pub(super) fn contains(&self, mid: PacketId) -> bool {
        self.by_mid.contains_key(&mid)
    }

    pub(super) fn state_of(&self, mid: PacketId) -> Option<OutState> {
        let seq = self.by_mid.get(&mid)?;
        self.msgs.get(*seq).map(|m| m.state)
    }

    /// Queue a new message behind every other one. `mid` must not be in use.
    pub(super) fn push(&mut self, mid: PacketId, m: &MsgRef<'_>) {
        debug_assert!(m.qos != QoS::AtMostOnce && !self.contains(mid));
        let seq = self.msgs.push(OutMsg::new(mid, m));
        self.by_mid.insert(mid, seq);
    }

    /// Whether some message was never sent yet.
    pub(super) fn has_queued(&self) -> bool {
        self.msgs.seqs(self.queue_start, u64::MAX).next().is_some()
    }

    /// Send queued messages, oldest first, while the window (`quota` flows in flight)
    /// has room and the output buffer stays within `max_output` (0 = unlimited): past
    /// it they stay queued here, as they are, until the buffer drains. Resends held back
    /// by the quota go first.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fill_window(
        &mut self,
        now: Instant,
        quota: usize,
        max_output: usize,
        out: &mut Output,
        refuse: Refuse<'_>,
        refused: &mut Vec<(PacketId, u8)>,
    ) {
        if let Some(from) = self.resend_from {
            let mut next = from;
            let seqs: Vec<u64> = self.msgs.seqs(from, self.queue_start).collect();
            for seq in seqs {
                if self.inflight - self.resend_pending >= quota {
                    next = seq;
                    break;
                }
                next = seq + 1;
                self.resend_pending -= 1;
                let msg = self.msgs.get_mut(seq).expect("listed above");
                if msg.state != OutState::WaitPubComp {
                    if let Some(rc) = refuse(&msg.as_ref()) {
                        let mid = msg.mid;
                        self.drop_sent(seq);
                        refused.push((mid, rc));
                        continue;
                    }
                }
                put(msg, true, false, out);
                stamp(&mut self.timeline, seq, msg, now);
            }
            self.tidy_timeline();
            self.resend_from = (self.resend_pending > 0).then_some(next);
            if self.resend_pending > 0 {
                // Refusals leave empty slots.
                self.compact();
                return;
            }
        }
        while self.inflight < quota {
            let Some((seq, msg)) = self.msgs.first_from(self.queue_start) else {
                break;
            };
            if let Some(rc) = refuse(&msg.as_ref()) {
                let mid = msg.mid;
                self.msgs.remove(seq);
                self.by_mid.remove(&mid);
                refused.push((mid, rc));
                // Everything from the old start up to here is empty now.
                self.queue_start = seq + 1;
                continue;
            }
            let props_len = msg.data.len() - msg.topic_len - msg.payload_len;
            let props = out.protocol.is_v5().then_some(props_len + 3);
            let len = crate::proto::publish_len(msg.topic_len, msg.payload_len, msg.qos, props);
            if out.over_limit(len, max_output) {
                break;
            }
            msg.state = match msg.qos {
                QoS::ExactlyOnce => OutState::WaitPubRec,
                _ => OutState::WaitPubAck,
            };
            put(msg, false, true, out);
            stamp(&mut self.timeline, seq, msg, now);
            self.queue_start = seq + 1;
            self.inflight += 1;
        }
        self.compact();
    }

    /// PUBACK (QoS 1) or PUBCOMP (QoS 2): the flow ends if `mid` is in state `expected`.
    /// Anything else (unknown id, duplicate, wrong QoS) is ignored.
    pub(super) fn complete(&mut self, mid: PacketId, expected: OutState) -> bool {
        if self.state_of(mid) != Some(expected) {
            return false;
        }
        let seq = self.by_mid.remove(&mid).expect("state_of found it");
        self.msgs.remove(seq).expect("by_mid and msgs agree");
        self.inflight -= 1;
        self.tidy_timeline();
        if self.resend_from.is_some_and(|from| seq >= from) {
            // Acknowledged before its resend (the server kept it from the last
            // connection).
            self.resend_pending -= 1;
            if self.resend_pending == 0 {
                self.resend_from = None;
            }
        }
        self.compact();
        true
    }

    /// Close the gaps of the slots deque once empty slots outnumber the messages (one
    /// message never acknowledged must not keep a slot for each one completed after
    /// it): the messages are renumbered in order, which is all their numbers are for.
    fn compact(&mut self) {
        let len = self.msgs.slots.len();
        if len <= 2 * self.msgs.live + 64 {
            return;
        }
        let base = self.msgs.base;
        // below[i]: how many messages sit in slots before slot i.
        let mut below = Vec::with_capacity(len + 1);
        let mut n = 0u64;
        for slot in &self.msgs.slots {
            below.push(n);
            n += u64::from(slot.is_some());
        }
        below.push(n);
        let renumber = |seq: u64| {
            let i = usize::try_from(seq.saturating_sub(base)).map_or(len, |i| i.min(len));
            base + below[i]
        };
        // The live timeline entries, found under the old numbers.
        let mut timeline = std::mem::take(&mut self.timeline);
        timeline.retain(|&entry| self.is_live(entry));
        self.timeline = timeline
            .into_iter()
            .map(|(t, seq)| (t, renumber(seq)))
            .collect();
        let slots = std::mem::take(&mut self.msgs.slots);
        self.msgs.slots = slots.into_iter().filter(Option::is_some).collect();
        for (i, m) in self.msgs.slots.iter().enumerate() {
            if let Some(m) = m {
                self.by_mid.insert(m.mid, base + i as u64);
            }
        }
        self.queue_start = renumber(self.queue_start);
        self.resend_from = self.resend_from.map(renumber);
    }

    /// PUBREC: the broker owns the message now; move on to PUBREL (MQTT-4.3.3). The
    /// PUBREL is written to `out` when given, else it goes out on the next connection.
    pub(super) fn pubrec(&mut self, now: Instant, mid: PacketId, out: Option<&mut Output>) -> bool {
        let Some(&seq) = self.by_mid.get(&mid) else {
            return false;
        };
        let msg = self.msgs.get_mut(seq).expect("by_mid and msgs agree");
        if msg.state != OutState::WaitPubRec {
            return false;
        }
        msg.state = OutState::WaitPubComp;
        if let Some(out) = out {
            put(msg, false, false, out);
        }
        stamp(&mut self.timeline, seq, msg, now);
        self.tidy_timeline();
        true
    }

    /// After CONNACK: resend every message sent on an earlier connection, in original
    /// order and before anything new (MQTT-4.4.0-1): a PUBLISH again with DUP set
    /// (MQTT-3.3.1-1) and its full topic, a PUBREL again for QoS 2 messages already
    /// PUBREC'd. With a clean session the broker forgot those, so, as paho 1.6 does,
    /// they restart as PUBLISH. At most `quota` go now; the rest wait for room.
    pub(super) fn resend_all(
        &mut self,
        now: Instant,
        r: Resend,
        out: &mut Output,
        refuse: Refuse<'_>,
        refused: &mut Vec<(PacketId, u8)>,
    ) {
        self.resend_from = None;
        self.resend_pending = 0;
        let mut sent = 0;
        let seqs: Vec<u64> = self.msgs.seqs(0, self.queue_start).collect();
        for seq in seqs {
            let msg = self.msgs.get_mut(seq).expect("listed above");
            if r.clean && msg.state == OutState::WaitPubComp {
                msg.state = OutState::WaitPubRec;
            }
            if sent >= r.quota {
                if self.resend_from.is_none() {
                    self.resend_from = Some(seq);
                }
                self.resend_pending += 1;
                continue;
            }
            if msg.state != OutState::WaitPubComp {
                if let Some(rc) = refuse(&msg.as_ref()) {
                    let mid = msg.mid;
                    self.drop_sent(seq);
                    refused.push((mid, rc));
                    continue;
                }
            }
            put(msg, true, false, out);
            stamp(&mut self.timeline, seq, msg, now);
            sent += 1;
        }
        self.tidy_timeline();
        self.compact();
    }

    /// Forget a message sent on an earlier connection that the current server refuses.
    fn drop_sent(&mut self, seq: u64) {
        if let Some(msg) = self.msgs.remove(seq) {
            self.by_mid.remove(&msg.mid);
            self.inflight -= 1;
        }
    }

    /// Whether timeline entry `(t, seq)` is the last sending of a message still here.
    fn is_live(&self, (t, seq): (Instant, u64)) -> bool {
        self.msgs.get(seq).is_some_and(|m| m.sent_at == Some(t))
    }

    /// Drop stale entries from the front of the timeline (so its first entry is the
    /// retry deadline), and the others once they outnumber the live ones.
    fn tidy_timeline(&mut self) {
        while let Some(&entry) = self.timeline.front() {
            if self.is_live(entry) {
                break;
            }
            self.timeline.pop_front();
        }
        if self.timeline.len() > 2 * self.inflight + 64 {
            let mut timeline = std::mem::take(&mut self.timeline);
            timeline.retain(|&entry| self.is_live(entry));
            self.timeline = timeline;
        }
    }

    /// When the oldest unacknowledged packet is due for a resend.
    pub(super) fn next_retry(&self, interval: Duration) -> Option<Instant> {
        self.timeline.front().map(|&(t, _)| t + interval)
    }

    /// Resend (DUP set, or PUBREL again) what has waited `interval` or longer.
    pub(super) fn retry(&mut self, now: Instant, interval: Duration, out: &mut Output) {
        while let Some(&(t, seq)) = self.timeline.front() {
            if t + interval > now {
                break;
            }
            let msg = self
                .msgs
                .get_mut(seq)
                .expect("the timeline's front is live");
            put(msg, true, false, out);
            // `interval` > 0, so the new stamp is not due yet and the loop ends.
            stamp(&mut self.timeline, seq, msg, now);
            self.tidy_timeline();
        }
    }
}

impl OutStore {
    /// Checks the store's own consistency (for tests and the fuzzer): the two maps
    /// agree, ids are non-zero and unique, sent messages form the prefix below
    /// `queue_start`, `inflight` counts them, and the timeline holds exactly their stamps.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.by_mid.len() != self.msgs.len() {
            return Err(format!(
                "{} ids for {} messages",
                self.by_mid.len(),
                self.msgs.len()
            ));
        }
        let mut sent = 0;
        let stamps: std::collections::HashSet<_> = self.timeline.iter().copied().collect();
        for (seq, msg) in self.msgs.iter() {
            if msg.mid == 0 {
                return Err(format!("message seq {seq} has packet id 0"));
            }
            if self.by_mid.get(&msg.mid) != Some(&seq) {
                return Err(format!("packet id {} not unique or not indexed", msg.mid));
            }
            let queued = msg.state == OutState::Queued;
            if queued != (seq >= self.queue_start) {
                return Err(format!(
                    "message {} in state {:?} on the wrong side of the queue start",
                    msg.mid, msg.state
                ));
            }
            if queued != msg.sent_at.is_none() {
                return Err(format!(
                    "message {} sent_at {:?} in state {:?}",
                    msg.mid, msg.sent_at, msg.state
                ));
            }
            match (msg.qos, msg.state) {
                (QoS::AtMostOnce, _)
                | (QoS::AtLeastOnce, OutState::WaitPubRec | OutState::WaitPubComp)
                | (QoS::ExactlyOnce, OutState::WaitPubAck) => {
                    return Err(format!(
                        "message {} qos {:?} in state {:?}",
                        msg.mid, msg.qos, msg.state
                    ))
                }
                _ => {}
            }
            if let Some(t) = msg.sent_at {
                sent += 1;
                if !stamps.contains(&(t, seq)) {
                    return Err(format!("message {} missing from the timeline", msg.mid));
                }
            }
        }
        if self.msgs.slots.front().is_some_and(Option::is_none) {
            return Err("an empty slot at the front".into());
        }
        if self.msgs.slots.len() > 2 * self.msgs.live + 64 {
            return Err(format!(
                "{} slots for {} messages",
                self.msgs.slots.len(),
                self.msgs.live
            ));
        }
        let live = self.msgs.slots.iter().filter(|m| m.is_some()).count();
        if live != self.msgs.live {
            return Err(format!("{live} messages, {} counted", self.msgs.live));
        }
        let waiting = self
            .resend_from
            .map_or(0, |from| self.msgs.seqs(from, self.queue_start).count());
        if waiting != self.resend_pending {
            return Err(format!(
                "{waiting} messages wait for a resend, {} counted",
                self.resend_pending
            ));
        }
        let live = self.timeline.iter().filter(|&&e| self.is_live(e)).count();
        if sent != self.inflight || live != sent {
            return Err(format!(
                "{sent} sent, inflight {}, timeline {live} live",
                self.inflight
            ));
        }
        if self.timeline.front().is_some_and(|&e| !self.is_live(e)) {
            return Err("a stale entry at the front of the timeline".into());
        }
        if self.timeline.len() > 2 * self.inflight + 64 {
            return Err(format!("{} timeline entries", self.timeline.len()));
        }
        if self
            .timeline
            .iter()
            .zip(self.timeline.iter().skip(1))
            .any(|(a, b)| a.0 > b.0)
        {
            return Err("timeline out of order".into());
        }
        Ok(())
    }

    /// The packet ids in use, for consistency checks.
    pub(super) fn mids(&self) -> impl Iterator<Item = PacketId> + '_ {
        self.by_mid.keys().copied()
    }
}

/// Write the packet `msg`'s state calls for: PUBREL while waiting for PUBCOMP, else the
/// PUBLISH itself (`fresh`: its first sending on this connection, which may use a
/// Topic Alias).
fn put(msg: &OutMsg, dup: bool, fresh: bool, out: &mut Output) {
    let r = match msg.state {
        OutState::WaitPubComp => out.packet(&Packet::PubRel(Ack::new(msg.mid))),
        _ => out.publish(&msg.as_ref(), dup, msg.mid, fresh),
    };
    // Topic and payload size were checked by `Session::publish`, so this cannot fail;
    // `Output` leaves nothing partial behind if it somehow did.
    debug_assert!(r.is_ok(), "encoding a checked PUBLISH failed: {r:?}");
}

/// Record that `msg` (number `seq`) was sent at `now`; its earlier entry goes stale.
/// Sent twice at the same instant, it keeps its one entry. A clock that went back is
/// taken as standing still, so the timeline stays in order.
fn stamp(timeline: &mut VecDeque<(Instant, u64)>, seq: u64, msg: &mut OutMsg, now: Instant) {
    let now = timeline.back().map_or(now, |&(last, _)| last.max(now));
    if msg.sent_at.replace(now) != Some(now) {
        timeline.push_back((now, seq));
    }
}
