//! The outgoing byte stream: every queued packet encoded back to back in one buffer, so
//! a single `write` can carry many packets.
//!
//! QoS 0 messages have no acknowledgement: they are "published" once their last byte
//! has been written (paho's `on_publish` for QoS 0). Each one leaves a marker (stream
//! offset of its end, mid) instead of any per-message allocation.

use super::aliases::{AliasUse, OutAliases};
use super::Event;
use crate::proto::{self, Packet, ProtoError, ProtocolVersion, PublishV5, QoS};
use std::collections::VecDeque;

/// Written-out prefix size past which the buffer is compacted even though unwritten
/// bytes remain (a slow socket must not make the buffer grow without bound).
const COMPACT_AT: usize = 64 * 1024;

/// Capacity an empty buffer keeps: enough for the usual bursts, while one big message
/// does not leave an idle client holding its size for ever.
pub(super) const KEEP_CAPACITY: usize = 64 * 1024;

/// A PUBLISH to encode: the message as the application gave it.
#[derive(Clone, Copy, Debug)]
pub(super) struct MsgRef<'a> {
    pub(super) topic: &'a str,
    pub(super) payload: &'a [u8],
    pub(super) qos: QoS,
    pub(super) retain: bool,
    /// MQTT 5: its properties, encoded, without any Topic Alias.
    pub(super) props: &'a [u8],
    /// MQTT 5: the Topic Alias the application set.
    pub(super) alias: Option<u16>,
}

#[derive(Debug)]
pub(super) struct Output {
    /// The protocol of the connection the bytes are for.
    pub(super) protocol: ProtocolVersion,
    /// MQTT 5 outgoing topic aliases of this connection.
    pub(super) aliases: OutAliases,
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    pos: usize,
    /// Stream offset of `buf[0]`: bytes written and discarded before it.
    base: u64,
    /// (stream offset just past the packet, mid) for each unwritten QoS 0 PUBLISH, in
    /// stream order.
    qos0: VecDeque<(u64, u16)>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            protocol: ProtocolVersion::V311,
            aliases: OutAliases::default(),
            buf: Vec::new(),
            pos: 0,
            base: 0,
            qos0: VecDeque::new(),
        }
    }
}

impl Output {
    pub(super) fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Whether appending `len` more bytes would pass `limit` (0 = no limit) while bytes
    /// are already waiting: an empty buffer takes any one packet, so no message is too
    /// big to ever be sent, and the buffer stays below `limit` plus one packet.
    pub(super) fn over_limit(&self, len: usize, limit: usize) -> bool {
        let waiting = self.pending().len();
        limit > 0 && waiting > 0 && waiting.saturating_add(len) > limit
    }

    /// Drop everything not yet written, including QoS 0 messages that never got out.
    pub(super) fn clear(&mut self) {
        self.qos0.clear();
        self.empty();
    }

    fn empty(&mut self) {
        self.base += self.buf.len() as u64;
        self.buf.clear();
        self.buf.shrink_to(KEEP_CAPACITY);
        self.pos = 0;
    }

    /// Append one packet; on failure nothing partial is left behind.
    pub(super) fn packet(&mut self, packet: &Packet) -> Result<(), ProtoError> {
        proto::encode(packet, self.protocol, &mut self.buf)
    }

    /// Append one PUBLISH; on failure nothing partial is left behind. Under MQTT 5 a
    /// `fresh` message (not a resend after a reconnect, which carries its full topic)
    /// may go out with a Topic Alias, the application's or an automatic one.
    pub(super) fn publish(
        &mut self,
        m: &MsgRef<'_>,
        dup: bool,
        pkid: u16,
        fresh: bool,
    ) -> Result<(), ProtoError> {
        let start = self.buf.len();
        let (topic, v5) = if self.protocol.is_v5() {
            let AliasUse { alias, send_topic } = if fresh {
                self.aliases.choose(m.topic, m.alias)
            } else {
                AliasUse::NONE
            };
            let topic = if send_topic { m.topic } else { "" };
            (
                topic,
                Some(PublishV5 {
                    props: m.props,
                    alias,
                }),
            )
        } else {
            (m.topic, None)
        };
        proto::encode_publish(
            &mut self.buf,
            topic,
            m.payload,
            m.qos,
            m.retain,
            dup,
            pkid,
            v5,
        )
        .inspect_err(|_| self.buf.truncate(start))
    }

    /// Drop what was appended after the first `len` unwritten bytes (a packet just
    /// encoded and then refused); written bytes are never touched.
    pub(super) fn truncate_unwritten(&mut self, len: usize) {
        self.buf.truncate(self.pos + len);
    }

    /// Remember that the packet just appended is QoS 0 message `mid`.
    pub(super) fn mark_qos0(&mut self, mid: u16) {
        self.qos0
            .push_back((self.base + self.buf.len() as u64, mid));
    }

    pub(super) fn has_unwritten_qos0(&self, mid: u16) -> bool {
        // Linear, but only over QoS 0 messages still in the buffer, and only for
        // `is_published`, never on the publish path.
        self.qos0.iter().any(|&(_, m)| m == mid)
    }

    /// `n` bytes were written; QoS 0 messages now entirely written are published.
    pub(super) fn consume(&mut self, n: usize, events: &mut VecDeque<Event>) {
        self.pos += n.min(self.buf.len() - self.pos);
        let written = self.base + self.pos as u64;
        while let Some(&(end, mid)) = self.qos0.front() {
            if end > written {
                break;
            }
            self.qos0.pop_front();
            events.push_back(Event::Published {
                mid,
                reason: 0,
                properties: None,
            });
        }
        if self.pos == self.buf.len() {
            self.empty();
        } else if self.pos >= COMPACT_AT && self.pos * 2 >= self.buf.len() {
            // Moves at most as many bytes as were written since the last compaction.
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_buffer_gives_back_big_allocations() {
        let mut out = Output::default();
        let mut events = VecDeque::new();
        let payload = vec![1; 1 << 20];
        let m = MsgRef {
            topic: "t",
            payload: &payload,
            qos: QoS::AtMostOnce,
            retain: false,
            props: &[],
            alias: None,
        };
        out.publish(&m, false, 0, true).unwrap();
        out.mark_qos0(1);
        assert!(out.buf.capacity() > 1 << 20);
        let n = out.pending().len();
        out.consume(n - 1, &mut events);
        assert!(events.is_empty());
        out.consume(1, &mut events);
        assert_eq!(
            events,
            [Event::Published {
                mid: 1,
                reason: 0,
                properties: None
            }]
        );
        assert!(out.buf.capacity() <= KEEP_CAPACITY);
        assert!(out.pending().is_empty());
    }
}
