//! Framing shared by every packet kind: the fixed header, the remaining-length integer,
//! field readers and writers, and the `decode`/`encode` entry points that dispatch on the
//! packet type. Packet bodies are read and written by their own modules.

use super::{ack, auth, connack, connect, disconnect, publish, suback, subscribe, unsubscribe};
use super::{
    DecodeOptions, Packet, PacketId, ProtoError, ProtocolVersion, PublishRef, MAX_REMAINING_LENGTH,
};

// Control packet types (MQTT-2.2.1).
pub(super) const CONNECT: u8 = 1;
pub(super) const CONNACK: u8 = 2;
pub(super) const PUBLISH: u8 = 3;
pub(super) const PUBACK: u8 = 4;
pub(super) const PUBREC: u8 = 5;
pub(super) const PUBREL: u8 = 6;
pub(super) const PUBCOMP: u8 = 7;
pub(super) const SUBSCRIBE: u8 = 8;
pub(super) const SUBACK: u8 = 9;
pub(super) const UNSUBSCRIBE: u8 = 10;
pub(super) const UNSUBACK: u8 = 11;
pub(super) const PINGREQ: u8 = 12;
pub(super) const PINGRESP: u8 = 13;
pub(super) const DISCONNECT: u8 = 14;
pub(super) const AUTH: u8 = 15;

/// Longest string or binary field: its length prefix is two bytes (MQTT-1.5.3).
pub(super) const MAX_FIELD_LEN: usize = u16::MAX as usize;

/// The fixed header that starts every packet (MQTT-2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    /// Packet type (high nibble) and flags (low nibble).
    pub byte1: u8,
    /// Bytes after the fixed header.
    pub remaining_length: usize,
    /// Bytes of the fixed header itself: 2 to 5.
    pub header_len: usize,
}

impl FixedHeader {
    pub fn packet_type(&self) -> u8 {
        self.byte1 >> 4
    }

    /// Whole packet size on the wire, fixed header included.
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length
    }
}

/// Parses the fixed header at the front of `buf` without judging its type or flags;
/// `Ok(None)` while the remaining-length field is incomplete.
pub fn peek_fixed_header(buf: &[u8]) -> Result<Option<FixedHeader>, ProtoError> {
    let Some(&byte1) = buf.first() else {
        return Ok(None);
    };
    let mut remaining_length = 0usize;
    // MQTT-2.2.3: seven value bits per byte, least significant first, bit 7 set when
    // another byte follows, four bytes at most. A non-minimal encoding (0x80 0x00) is
    // not forbidden by 3.1.1 (only MQTT 5 forbids it, MQTT-1.5.5-1), so it is accepted.
    for i in 0..4 {
        let Some(&b) = buf.get(1 + i) else {
            return Ok(None);
        };
        remaining_length |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(FixedHeader {
                byte1,
                remaining_length,
                header_len: 2 + i,
            }));
        }
    }
    Err(ProtoError::MalformedRemainingLength)
}

/// Bytes the remaining-length field takes for `len` (4 for anything above 2097151,
/// including lengths too large to encode at all).
pub fn remaining_length_len(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Appends `byte1` and the remaining length; `remaining_length` must be at most
/// [`MAX_REMAINING_LENGTH`] (callers check it with [`check_remaining`]).
pub(super) fn write_fixed_header(out: &mut Vec<u8>, byte1: u8, remaining_length: usize) {
    debug_assert!(remaining_length <= MAX_REMAINING_LENGTH);
    let mut header = [byte1, 0, 0, 0, 0];
    let mut n = 1;
    let mut len = remaining_length;
    loop {
        let digit = (len & 0x7F) as u8;
        len >>= 7;
        if len == 0 {
            header[n] = digit;
            n += 1;
            break;
        }
        header[n] = digit | 0x80;
        n += 1;
    }
    out.extend_from_slice(&header[..n]);
}

/// Reserves room for the whole packet once and writes its fixed header.
pub(super) fn begin_packet(out: &mut Vec<u8>, byte1: u8, remaining_length: usize) {
    out.reserve(1 + remaining_length_len(remaining_length) + remaining_length);
    write_fixed_header(out, byte1, remaining_length);
}

pub(super) fn check_remaining(len: usize) -> Result<usize, ProtoError> {
    if len > MAX_REMAINING_LENGTH {
        Err(ProtoError::PayloadTooLarge)
    } else {
        Ok(len)
    }
}

/// Wire size of a length-prefixed string or binary field.
pub(super) fn field_len(field: &[u8]) -> Result<usize, ProtoError> {
    if field.len() > MAX_FIELD_LEN {
        Err(ProtoError::StringTooLong)
    } else {
        Ok(2 + field.len())
    }
}

/// Appends a length-prefixed field; its length was checked by [`field_len`].
pub(super) fn write_field(out: &mut Vec<u8>, field: &[u8]) {
    debug_assert!(field.len() <= MAX_FIELD_LEN);
    out.extend_from_slice(&(field.len() as u16).to_be_bytes());
    out.extend_from_slice(field);
}

/// Cursor over a packet body. Every read that runs past the end is `Truncated`.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if self.buf.len() < n {
            return Err(ProtoError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(super) fn u8(&mut self) -> Result<u8, ProtoError> {
        Ok(self.take(1)?[0])
    }

    /// Consume the next byte if it is 0 (an empty property list, the common case).
    pub(super) fn skip_zero(&mut self) -> bool {
        match self.buf.split_first() {
            Some((0, rest)) => {
                self.buf = rest;
                true
            }
            _ => false,
        }
    }

    pub(super) fn u16(&mut self) -> Result<u16, ProtoError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(super) fn u32(&mut self) -> Result<u32, ProtoError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A Variable Byte Integer (MQTT-1.5.5): at most four bytes.
    pub(super) fn varint(&mut self) -> Result<usize, ProtoError> {
        let mut v = 0usize;
        for i in 0..4 {
            let b = self.u8()?;
            v |= usize::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtoError::MalformedRemainingLength)
    }

    /// A packet identifier, which is never 0 (MQTT-2.3.1-1).
    pub(super) fn pkid(&mut self) -> Result<PacketId, ProtoError> {
        match self.u16()? {
            0 => Err(ProtoError::ZeroPacketId),
            id => Ok(id),
        }
    }

    /// Length-prefixed binary data (MQTT-1.5.3, MQTT-3.1.3.4).
    pub(super) fn binary(&mut self) -> Result<&'a [u8], ProtoError> {
        let len = usize::from(self.u16()?);
        self.take(len)
    }

    /// Length-prefixed UTF-8 that may still contain U+0000 (callers that scan the
    /// string anyway check for it in the same pass).
    pub(super) fn utf8(&mut self) -> Result<&'a str, ProtoError> {
        // MQTT-1.5.3-1: ill-formed UTF-8, including encoded surrogates, is malformed.
        let bytes = self.binary()?;
        // Topics are nearly always short and ASCII, which std's validation walks byte
        // by byte; `is_ascii` goes a word at a time. Once per incoming message.
        if bytes.is_ascii() {
            // SAFETY: ASCII is valid UTF-8.
            return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        std::str::from_utf8(bytes).map_err(|_| ProtoError::InvalidUtf8)
    }

    /// A UTF-8 encoded string (MQTT-1.5.3).
    pub(super) fn string(&mut self) -> Result<&'a str, ProtoError> {
        let s = self.utf8()?;
        // MQTT-1.5.3-2: U+0000 is malformed.
        if s.as_bytes().contains(&0) {
            return Err(ProtoError::NulInString);
        }
        Ok(s)
    }

    /// Everything left: a PUBLISH payload or SUBACK return codes.
    pub(super) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// The body must end exactly where its last field does.
    pub(super) fn finish(self) -> Result<(), ProtoError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(ProtoError::TrailingBytes)
        }
    }
}

/// Rejects a packet type or fixed-header flags as soon as the first byte is seen.
fn check_byte1(byte1: u8, protocol: ProtocolVersion) -> Result<(), ProtoError> {
    let flags = byte1 & 0x0F;
    match byte1 >> 4 {
        // AUTH exists from MQTT 5 on (MQTT-2.1.2).
        t @ (0 | AUTH) if t == 0 || !protocol.is_v5() => Err(ProtoError::InvalidPacketType(t)),
        PUBLISH => publish::check_flags(flags),
        // MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1.
        PUBREL | SUBSCRIBE | UNSUBSCRIBE if flags == 0b0010 => Ok(()),
        PUBREL | SUBSCRIBE | UNSUBSCRIBE => Err(ProtoError::ReservedFlags(byte1)),
        // MQTT-2.2.2-1, MQTT-2.2.2-2: reserved flags must be exactly as specified.
        _ if flags == 0 => Ok(()),
        _ => Err(ProtoError::ReservedFlags(byte1)),
    }
}

/// Parses one packet from the front of `buf`: `Ok(None)` when more bytes are needed,
/// otherwise the packet and the number of bytes it took.
///
/// The packet type and flags are judged from the first byte, and the size limit as soon
/// as the fixed header is complete, so an oversized or bogus packet is refused before
/// its body is buffered.
pub fn decode(buf: &[u8], opts: &DecodeOptions) -> Result<Option<(Packet, usize)>, ProtoError> {
    Ok(decode_ref(buf, opts)?.map(|(packet, used)| {
        let packet = match packet {
            PacketRef::Publish(p) => Packet::Publish(p.to_owned()),
            PacketRef::Other(p) => p,
        };
        (packet, used)
    }))
}

/// A decoded packet; a PUBLISH borrows its topic and payload from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketRef<'a> {
    Publish(PublishRef<'a>),
    /// Any other packet (never `Packet::Publish`).
    Other(Packet),
}

// The receive path returns and matches packets by value, once per message: a bigger
// type turns those moves into memcpy calls (a boxed CONNECT keeps it small).
const _: () = assert!(std::mem::size_of::<PacketRef<'static>>() <= 96);

/// [`decode`] without copying a PUBLISH: the receive path's decoder.
pub fn decode_ref<'a>(
    buf: &'a [u8],
    opts: &DecodeOptions,
) -> Result<Option<(PacketRef<'a>, usize)>, ProtoError> {
    let Some(&byte1) = buf.first() else {
        return Ok(None);
    };
    check_byte1(byte1, opts.protocol)?;
    let Some(header) = peek_fixed_header(buf)? else {
        return Ok(None);
    };
    let size = header.packet_len();
    if size > opts.max_packet_size {
        return Err(ProtoError::PacketTooLarge {
            size,
            max: opts.max_packet_size,
        });
    }
    let Some(body) = buf.get(header.header_len..size) else {
        return Ok(None);
    };
    let v = opts.protocol;
    let packet = match header.packet_type() {
        PUBLISH => {
            return Ok(Some((
                PacketRef::Publish(publish::read(byte1, body, v)?),
                size,
            )))
        }
        CONNECT => Packet::Connect(Box::new(connect::read(body)?)),
        CONNACK => Packet::ConnAck(connack::read(body, opts)?),
        PUBACK => Packet::PubAck(ack::read(PUBACK, body, v)?),
        PUBREC => Packet::PubRec(ack::read(PUBREC, body, v)?),
        PUBREL => Packet::PubRel(ack::read(PUBREL, body, v)?),
        PUBCOMP => Packet::PubComp(ack::read(PUBCOMP, body, v)?),
        SUBSCRIBE => Packet::Subscribe(subscribe::read(body, v)?),
        SUBACK => Packet::SubAck(suback::read(body, v)?),
        UNSUBSCRIBE => Packet::Unsubscribe(unsubscribe::read(body, v)?),
        UNSUBACK => Packet::UnsubAck(suback::read_unsuback(body, v)?),
        // MQTT-3.12.1, MQTT-3.13.1: these have no variable header or payload.
        PINGREQ | PINGRESP if !body.is_empty() => return Err(ProtoError::TrailingBytes),
        PINGREQ => Packet::PingReq,
        PINGRESP => Packet::PingResp,
        DISCONNECT => Packet::Disconnect(disconnect::read(body, v)?),
        AUTH => Packet::Auth(auth::read(body)?),
        t => unreachable!("packet type {t} passed check_byte1"),
    };
    Ok(Some((PacketRef::Other(packet), size)))
}

/// Appends `packet` to `out` exactly as `protocol` lays it out (a CONNECT follows its
/// own `protocol` field): under 3.1/3.1.1 the MQTT 5 fields are left out, and AUTH
/// cannot be encoded. Only what framing needs is checked (field and packet sizes);
/// on error `out` is left unchanged.
pub fn encode(
    packet: &Packet,
    protocol: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    let start = out.len();
    encode_unchecked(packet, protocol, out).inspect_err(|_| out.truncate(start))
}

fn encode_unchecked(
    packet: &Packet,
    protocol: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    let v5 = protocol.is_v5();
    match packet {
        Packet::Connect(c) => connect::write(c, out),
        Packet::ConnAck(c) => connack::write(c, v5, out),
        Packet::Publish(p) => publish::write(p, v5, out),
        Packet::PubAck(a) => ack::write(PUBACK << 4, a, v5, out),
        Packet::PubRec(a) => ack::write(PUBREC << 4, a, v5, out),
        Packet::PubRel(a) => ack::write(PUBREL << 4 | 0b0010, a, v5, out),
        Packet::PubComp(a) => ack::write(PUBCOMP << 4, a, v5, out),
        Packet::Subscribe(s) => subscribe::write(s, v5, out),
        Packet::SubAck(s) => suback::write(SUBACK, s.pkid, &s.return_codes, &s.properties, v5, out),
        Packet::Unsubscribe(u) => unsubscribe::write(u, v5, out),
        Packet::UnsubAck(a) => {
            suback::write(UNSUBACK, a.pkid, &a.reason_codes, &a.properties, v5, out)
        }
        Packet::PingReq => {
            out.extend_from_slice(&[PINGREQ << 4, 0]);
            Ok(())
        }
        Packet::PingResp => {
            out.extend_from_slice(&[PINGRESP << 4, 0]);
            Ok(())
        }
        Packet::Disconnect(d) => disconnect::write(d, v5, out),
        Packet::Auth(a) if v5 => auth::write(a, out),
        Packet::Auth(_) => Err(ProtoError::InvalidPacketType(AUTH)),
    }
}
