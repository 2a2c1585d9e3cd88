//! CONNACK (MQTT-3.2).

use super::codec::{begin_packet, Reader, CONNACK};
use super::{ConnAck, DecodeOptions, ProtoError, ProtocolVersion};

const LEN: usize = 2;

pub(super) fn read(body: &[u8], opts: &DecodeOptions) -> Result<ConnAck, ProtoError> {
    let mut r = Reader::new(body);
    let flags = r.u8()?;
    // Any return code decodes: the client maps it (MQTT-3.2.2.3 reserves 6..=255, but
    // refusing the packet would hide the broker's answer).
    let code = r.u8()?;
    r.finish()?;
    let session_present = match opts.protocol {
        // MQTT-3.2.2-1: bits 7-1 of the acknowledge flags are reserved and 0.
        ProtocolVersion::V311 => match flags {
            0 => false,
            1 => true,
            _ => return Err(ProtoError::InvalidFlags),
        },
        // MQTT 3.1 has no session-present flag: the byte is reserved and unused, and
        // brokers of that era send whatever they like in it.
        ProtocolVersion::V31 => false,
    };
    Ok(ConnAck {
        session_present,
        code,
    })
}

pub(super) fn write(connack: &ConnAck, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    begin_packet(out, CONNACK << 4, LEN);
    out.extend_from_slice(&[u8::from(connack.session_present), connack.code]);
    Ok(())
}
