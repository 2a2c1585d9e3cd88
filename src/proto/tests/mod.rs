//! Byte-exact, malformed-input and property tests for the wire format. Expected bytes
//! are written out by hand from the specification, never produced by the encoder.

mod connect;
mod framing;
mod properties;
mod props;
mod publish;
mod subscribe;
mod topic;
mod v5;

use super::*;

pub(super) fn v311() -> DecodeOptions {
    DecodeOptions::default()
}

pub(super) fn v31() -> DecodeOptions {
    DecodeOptions {
        protocol: ProtocolVersion::V31,
        ..DecodeOptions::default()
    }
}

pub(super) fn v5() -> DecodeOptions {
    DecodeOptions {
        protocol: ProtocolVersion::V5,
        ..DecodeOptions::default()
    }
}

pub(super) fn encoded(packet: &Packet) -> Vec<u8> {
    encoded_as(packet, ProtocolVersion::V311)
}

pub(super) fn encoded_as(packet: &Packet, protocol: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    encode(packet, protocol, &mut out).expect("encode");
    out
}

/// `packet` encodes to exactly `bytes`, `bytes` decode to exactly `packet` using all of
/// them, and every proper prefix of `bytes` asks for more.
pub(super) fn assert_wire(packet: &Packet, bytes: &[u8], opts: &DecodeOptions) {
    assert_eq!(
        encoded_as(packet, opts.protocol),
        bytes,
        "encoding of {packet:?}"
    );
    assert_decodes(bytes, packet, opts);
}

/// `bytes` decode to `packet` using all of them, and every proper prefix asks for more.
pub(super) fn assert_decodes(bytes: &[u8], packet: &Packet, opts: &DecodeOptions) {
    assert_eq!(
        decode(bytes, opts),
        Ok(Some((packet.clone(), bytes.len()))),
        "decoding of {bytes:02x?}"
    );
    for n in 0..bytes.len() {
        assert_eq!(decode(&bytes[..n], opts), Ok(None), "prefix of {n} bytes");
    }
}

/// Decoding `bytes` fails with `err`.
pub(super) fn assert_malformed(bytes: &[u8], opts: &DecodeOptions, err: ProtoError) {
    assert_eq!(decode(bytes, opts), Err(err), "decoding of {bytes:02x?}");
}

/// Prefixes `body` with a fixed header made by hand (remaining length < 128).
pub(super) fn packet(byte1: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut p = vec![byte1, body.len() as u8];
    p.extend_from_slice(body);
    p
}

/// A length-prefixed field, for building bodies by hand.
pub(super) fn field(s: &[u8]) -> Vec<u8> {
    let mut f = (s.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(s);
    f
}
