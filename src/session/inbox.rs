//! The bytes of incoming messages: one contiguous buffer that every message of a batch
//! is appended to, so receiving allocates nothing once the buffer has grown. It grows
//! until the caller takes it ([`super::Session::take_inbox`]), which a caller that
//! handles `Event::Message` must do once it has dispatched the messages.

use crate::proto::{PacketId, PropsRef, PublishRef, QoS};

/// An incoming message. Its topic and payload lie in the session's [`Inbox`], which the
/// caller takes with [`super::Session::take_inbox`] together with the events that
/// refer to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    /// 0 for QoS 0.
    pub pkid: PacketId,
    /// The connection it came on (its acknowledgement is for that one only).
    pub(super) epoch: u32,
    /// Offset of the topic in the inbox; a NUL follows it.
    topic_at: usize,
    topic_len: usize,
    /// Offset of the payload, a multiple of [`PAYLOAD_ALIGN`].
    payload_at: usize,
    payload_len: usize,
    /// MQTT 5 properties, as on the wire (validated), after the payload.
    props_len: usize,
}

impl Incoming {
    /// A message with nothing in any inbox, for acknowledgement tests.
    #[cfg(test)]
    pub(super) fn for_test(qos: QoS, pkid: PacketId, epoch: u32) -> Incoming {
        Incoming {
            dup: false,
            qos,
            retain: false,
            pkid,
            epoch,
            topic_at: 0,
            topic_len: 0,
            payload_at: 0,
            payload_len: 0,
            props_len: 0,
        }
    }
}

/// Payloads start at this alignment (from the start of the inbox, whose buffer comes
/// from malloc), as a payload allocated on its own would: C code may read a binary
/// payload through a pointer to a struct or an integer.
pub const PAYLOAD_ALIGN: usize = 16;

/// Topics and payloads of incoming messages, laid out as `topic NUL padding payload
/// properties` each, so a C caller gets a NUL-terminated topic and an aligned payload
/// without another copy (the property bytes are kept as they came, read on demand).
#[derive(Debug, Default)]
pub struct Inbox {
    buf: Vec<u8>,
}

impl Inbox {
    pub const fn new() -> Inbox {
        Inbox { buf: Vec::new() }
    }

    /// Keep message `p`, whose full topic is `topic` (a Topic Alias resolved).
    pub(super) fn push(&mut self, p: &PublishRef<'_>, topic: &str, epoch: u32) -> Incoming {
        let topic_at = self.buf.len();
        let payload_at = (topic_at + topic.len() + 1).next_multiple_of(PAYLOAD_ALIGN);
        let props = p.properties.bytes();
        self.buf
            .reserve(payload_at - topic_at + p.payload.len() + props.len());
        self.buf.extend_from_slice(topic.as_bytes());
        self.buf.resize(payload_at, 0);
        self.buf.extend_from_slice(p.payload);
        if !props.is_empty() {
            self.buf.extend_from_slice(props);
        }
        Incoming {
            dup: p.dup,
            qos: p.qos,
            retain: p.retain,
            pkid: p.pkid,
            epoch,
            topic_at,
            topic_len: topic.len(),
            payload_at,
            payload_len: p.payload.len(),
            props_len: props.len(),
        }
    }

    /// The MQTT 5 properties of `m` (empty under 3.1/3.1.1).
    pub fn properties(&self, m: &Incoming) -> PropsRef<'_> {
        let at = m.payload_at + m.payload_len;
        PropsRef::from_validated(self.buf.get(at..at + m.props_len).unwrap_or_default())
    }

    /// The topic of `m`, which must come from this inbox ("" otherwise).
    pub fn topic(&self, m: &Incoming) -> &str {
        // The topic was checked as UTF-8 when it was decoded; from_utf8 only re-walks
        // it (a word at a time for ASCII), on paths that need a `str`.
        std::str::from_utf8(self.topic_bytes(m)).unwrap_or_default()
    }

    fn topic_bytes(&self, m: &Incoming) -> &[u8] {
        self.buf
            .get(m.topic_at..m.topic_at + m.topic_len)
            .unwrap_or_default()
    }

    /// The topic of `m` followed by its NUL terminator.
    pub fn topic_with_nul(&self, m: &Incoming) -> &[u8] {
        self.buf
            .get(m.topic_at..m.topic_at + m.topic_len + 1)
            .unwrap_or(b"\0")
    }

    /// The payload of `m`.
    pub fn payload(&self, m: &Incoming) -> &[u8] {
        self.buf
            .get(m.payload_at..m.payload_at + m.payload_len)
            .unwrap_or_default()
    }

    /// The message as an owned PUBLISH (tests and tools).
    pub fn to_publish(&self, m: &Incoming) -> crate::proto::Publish {
        crate::proto::Publish {
            dup: m.dup,
            qos: m.qos,
            retain: m.retain,
            topic: self.topic(m).to_owned(),
            pkid: m.pkid,
            payload: self.payload(m).to_vec(),
            properties: self.properties(m).into(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forget every message, keeping at most `keep` bytes of capacity.
    pub fn clear(&mut self, keep: usize) {
        self.buf.clear();
        self.buf.shrink_to(keep);
    }

    /// Bytes held, capacity included.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}
