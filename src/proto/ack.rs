//! PUBACK, PUBREC, PUBREL and PUBCOMP (MQTT-3.4 to MQTT-3.7): a packet identifier, and
//! under MQTT 5 a reason code and properties.

use super::codec::{begin_packet, check_remaining, Reader};
use super::properties::{self, Where};
use super::{Ack, ProtoError};

/// The property place of packet type `ty` (4 to 7).
fn place(ty: u8) -> Where {
    1 << ty
}

/// `ty` is the packet type (it decides which properties are allowed).
pub(super) fn read(ty: u8, body: &[u8], v: super::ProtocolVersion) -> Result<Ack, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    let mut ack = Ack::new(pkid);
    // MQTT-3.4.2.1: a remaining length of 2 means reason 0 and no properties; of 3, a
    // reason without properties.
    if v.is_v5() && !r.is_empty() {
        ack.reason = r.u8()?;
        if !r.is_empty() {
            ack.properties = properties::read_owned(&mut r, place(ty))?;
        }
    }
    r.finish()?;
    Ok(ack)
}

/// `byte1` carries the packet type and its fixed flags (0b0010 for PUBREL). Under MQTT
/// 5 the short forms are used where they say everything: 2 bytes for reason 0 without
/// properties (as paho and libmosquitto send), 3 for a reason alone.
pub(super) fn write(byte1: u8, ack: &Ack, v5: bool, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let pkid = ack.pkid.to_be_bytes();
    if !v5 || (ack.reason == 0 && ack.properties.is_empty()) {
        begin_packet(out, byte1, 2);
        out.extend_from_slice(&pkid);
    } else if ack.properties.is_empty() {
        begin_packet(out, byte1, 3);
        out.extend_from_slice(&[pkid[0], pkid[1], ack.reason]);
    } else {
        let len = check_remaining(3 + properties::checked_wire_len(&ack.properties)?)?;
        begin_packet(out, byte1, len);
        out.extend_from_slice(&[pkid[0], pkid[1], ack.reason]);
        ack.properties.write(out);
    }
    Ok(())
}
