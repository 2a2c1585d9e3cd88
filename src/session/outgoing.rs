//! Outgoing QoS 1 and QoS 2 messages: the in-flight window, the queue behind it, and
//! resending after a reconnect or a retry interval.
//!
//! Every unacknowledged message lives in one map ordered by a sequence number taken at
//! `publish` time, so resends keep the original order (MQTT-4.6.0-1), and a second map
//! finds a message from its packet id in O(1) on each acknowledgement (walking the
//! in-flight list per ack is what makes libmosquitto slow with big windows).
//!
//! Messages are always sent oldest first, so the messages ever sent form a prefix of the
//! sequence: everything below `queue_start` has been sent at least once, everything
//! from it on is still queued. The next queued message is one range lookup away.
//!
//! Under MQTT 5 the server's Receive Maximum is a quota on the flows in flight, resends
//! after a reconnect included (MQTT-4.9.0-2): what the quota does not let through at
//! CONNACK waits behind `resend_from` and goes, still before anything new, as acks free
//! the quota.

use super::output::{MsgRef, Output};
use crate::proto::{Ack, Packet, PacketId, QoS};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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
    topic: Box<str>,
    payload: Box<[u8]>,
    qos: QoS,
    retain: bool,
    /// MQTT 5 properties, encoded (no Topic Alias: see `alias`).
    props: Box<[u8]>,
    /// MQTT 5 Topic Alias set by the application.
    alias: Option<u16>,
    state: OutState,
    /// When the last packet of this flow (PUBLISH or PUBREL) was queued for writing.
    sent_at: Option<Instant>,
}

#[derive(Debug, Default)]
pub(super) struct OutStore {
    msgs: BTreeMap<u64, OutMsg>,
    by_mid: HashMap<PacketId, u64>,
    next_seq: u64,
    /// Sequence numbers below this have been sent; from it on they are queued.
    queue_start: u64,
    /// Messages sent and not yet complete (the in-flight window's occupancy).
    inflight: usize,
    /// (sent_at, seq) of every sent message, so the retry deadline is the first entry.
    timeline: BTreeSet<(Instant, u64)>,
    /// Messages sent on an earlier connection and not resent yet on this one (the quota
    /// held them back) start at this sequence number.
    resend_from: Option<u64>,
    /// How many messages from `resend_from` on wait for their resend.
    resend_pending: usize,
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
    fn as_ref(&self) -> MsgRef<'_> {
        MsgRef {
            topic: &self.topic,
            payload: &self.payload,
            qos: self.qos,
            retain: self.retain,
            props: &self.props,
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
        self.msgs.get(seq).map(|m| m.state)
    }

    /// Queue a new message behind every other one. `mid` must not be in use.
    pub(super) fn push(&mut self, mid: PacketId, m: &MsgRef<'_>) {
        debug_assert!(m.qos != QoS::AtMostOnce && !self.contains(mid));
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_mid.insert(mid, seq);
        self.msgs.insert(
            seq,
            OutMsg {
                mid,
                topic: m.topic.into(),
                payload: m.payload.into(),
                qos: m.qos,
                retain: m.retain,
                props: m.props.into(),
                alias: m.alias,
                state: OutState::Queued,
                sent_at: None,
            },
        );
    }

    /// Whether some message was never sent yet.
    pub(super) fn has_queued(&self) -> bool {
        self.msgs.range(self.queue_start..).next().is_some()
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
            let seqs: Vec<u64> = self
                .msgs
                .range(from..self.queue_start)
                .map(|(&s, _)| s)
                .collect();
            for seq in seqs {
                if self.inflight - self.resend_pending >= quota {
                    next = seq;
                    break;
                }
                next = seq + 1;
                self.resend_pending -= 1;
                let msg = self.msgs.get_mut(&seq).expect("listed above");
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
            self.resend_from = (self.resend_pending > 0).then_some(next);
            if self.resend_pending > 0 {
                return;
            }
        }
        while self.inflight < quota {
            let Some((&seq, msg)) = self.msgs.range_mut(self.queue_start..).next() else {
                break;
            };
            if let Some(rc) = refuse(&msg.as_ref()) {
                let mid = msg.mid;
                self.msgs.remove(&seq);
                self.by_mid.remove(&mid);
                refused.push((mid, rc));
                continue;
            }
            let props = out.protocol.is_v5().then(|| msg.props.len() + 3);
            let len = crate::proto::publish_len(msg.topic.len(), msg.payload.len(), msg.qos, props);
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
    }

    /// PUBACK (QoS 1) or PUBCOMP (QoS 2): the flow ends if `mid` is in state `expected`.
    /// Anything else (unknown id, duplicate, wrong QoS) is ignored.
    pub(super) fn complete(&mut self, mid: PacketId, expected: OutState) -> bool {
        if self.state_of(mid) != Some(expected) {
            return false;
        }
        let seq = self.by_mid.remove(&mid).expect("state_of found it");
        let msg = self.msgs.remove(&seq).expect("by_mid and msgs agree");
        if let Some(t) = msg.sent_at {
            self.timeline.remove(&(t, seq));
        }
        self.inflight -= 1;
        if self.resend_from.is_some_and(|from| seq >= from) {
            // Acknowledged before its resend (the server kept it from the last
            // connection).
            self.resend_pending -= 1;
            if self.resend_pending == 0 {
                self.resend_from = None;
            }
        }
        true
    }

    /// PUBREC: the broker owns the message now; move on to PUBREL (MQTT-4.3.3). The
    /// PUBREL is written to `out` when given, else it goes out on the next connection.
    pub(super) fn pubrec(&mut self, now: Instant, mid: PacketId, out: Option<&mut Output>) -> bool {
        let Some(&seq) = self.by_mid.get(&mid) else {
            return false;
        };
        let msg = self.msgs.get_mut(&seq).expect("by_mid and msgs agree");
        if msg.state != OutState::WaitPubRec {
            return false;
        }
        msg.state = OutState::WaitPubComp;
        if let Some(out) = out {
            put(msg, false, false, out);
        }
        stamp(&mut self.timeline, seq, msg, now);
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
        let seqs: Vec<u64> = self
            .msgs
            .range(..self.queue_start)
            .map(|(&s, _)| s)
            .collect();
        for seq in seqs {
            let msg = self.msgs.get_mut(&seq).expect("listed above");
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
    }

    /// Forget a message sent on an earlier connection that the current server refuses.
    fn drop_sent(&mut self, seq: u64) {
        if let Some(msg) = self.msgs.remove(&seq) {
            self.by_mid.remove(&msg.mid);
            if let Some(t) = msg.sent_at {
                self.timeline.remove(&(t, seq));
            }
            self.inflight -= 1;
        }
    }

    /// When the oldest unacknowledged packet is due for a resend.
    pub(super) fn next_retry(&self, interval: Duration) -> Option<Instant> {
        self.timeline.first().map(|&(t, _)| t + interval)
    }

    /// Resend (DUP set, or PUBREL again) what has waited `interval` or longer.
    pub(super) fn retry(&mut self, now: Instant, interval: Duration, out: &mut Output) {
        while let Some(&(t, seq)) = self.timeline.first() {
            if t + interval > now {
                break;
            }
            let msg = self.msgs.get_mut(&seq).expect("timeline and msgs agree");
            put(msg, true, false, out);
            // `interval` > 0, so the new stamp is not due yet and the loop ends.
            stamp(&mut self.timeline, seq, msg, now);
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
        for (&seq, msg) in &self.msgs {
            if msg.mid == 0 {
                return Err(format!("message seq {seq} has packet id 0"));
            }
            if self.by_mid.get(&msg.mid) != Some(&seq) {
                return Err(format!("packet id {} not unique or not indexed", msg.mid));
            }
            if seq >= self.next_seq {
                return Err(format!("seq {seq} not below next_seq {}", self.next_seq));
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
                if !self.timeline.contains(&(t, seq)) {
                    return Err(format!("message {} missing from the timeline", msg.mid));
                }
            }
        }
        let waiting = self
            .resend_from
            .map_or(0, |from| self.msgs.range(from..self.queue_start).count());
        if waiting != self.resend_pending {
            return Err(format!(
                "{waiting} messages wait for a resend, {} counted",
                self.resend_pending
            ));
        }
        if sent != self.inflight || self.timeline.len() != sent {
            return Err(format!(
                "{sent} sent, inflight {}, timeline {}",
                self.inflight,
                self.timeline.len()
            ));
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

fn stamp(timeline: &mut BTreeSet<(Instant, u64)>, seq: u64, msg: &mut OutMsg, now: Instant) {
    if let Some(t) = msg.sent_at.replace(now) {
        timeline.remove(&(t, seq));
    }
    timeline.insert((now, seq));
}
