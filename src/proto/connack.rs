//! CONNACK (MQTT-3.2).

use super::codec::{begin_packet, check_remaining, Reader, CONNACK};
use super::properties::{self, IN_CONNACK};
use super::{ConnAck, DecodeOptions, Properties, ProtoError, ProtocolVersion};

pub(super) fn read(body: &[u8], opts: &DecodeOptions) -> Result<ConnAck, ProtoError> {
    let mut r = Reader::new(body);
    let flags = r.u8()?;
    // Any return code decodes: the client maps it (MQTT-3.2.2.3 reserves 6..=255, but
    // refusing the packet would hide the broker's answer).
    let code = r.u8()?;
    // MQTT 5 always has a property length (MQTT-3.2.2.3). A CONNACK without one is
    // still read: it is how a 3.1.1 broker refuses a level-5 CONNECT ("20 02 00 01"),
    // and the client must see that refusal to fall back.
    let properties = if opts.protocol.is_v5() && !r.is_empty() {
        properties::read_owned(&mut r, IN_CONNACK)?
    } else {
        Properties::new()
    };
    r.finish()?;
    let session_present = match opts.protocol {
        // MQTT-3.2.2-1: bits 7-1 of the acknowledge flags are reserved and 0.
        ProtocolVersion::V311 | ProtocolVersion::V5 => match flags {
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
        properties,
    })
}

pub(super) fn write(connack: &ConnAck, v5: bool, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let props_len = if v5 {
        properties::checked_wire_len(&connack.properties)?
    } else {
        0
    };
    begin_packet(out, CONNACK << 4, check_remaining(2 + props_len)?);
    out.extend_from_slice(&[u8::from(connack.session_present), connack.code]);
    if v5 {
        connack.properties.write(out);
    }
    Ok(())
}
