//! DISCONNECT (MQTT-3.14): empty under 3.1/3.1.1; under MQTT 5 an optional reason code
//! and properties, each form kept as it is.

use super::codec::{begin_packet, check_remaining, Reader, DISCONNECT};
use super::properties::{self, IN_DISCONNECT};
use super::{Disconnect, ProtoError, ProtocolVersion};

pub(super) fn read(body: &[u8], v: ProtocolVersion) -> Result<Disconnect, ProtoError> {
    let mut r = Reader::new(body);
    let mut d = Disconnect::default();
    // MQTT-3.14.2.1: remaining length 0 means reason 0 and no properties; 1, a reason
    // without properties.
    if v.is_v5() && !r.is_empty() {
        d.reason = Some(r.u8()?);
        if !r.is_empty() {
            d.properties = Some(properties::read_owned(&mut r, IN_DISCONNECT)?);
        }
    }
    // MQTT-3.14.1: 3.1.1's DISCONNECT has no variable header or payload.
    r.finish()?;
    Ok(d)
}

pub(super) fn write(d: &Disconnect, v5: bool, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    match (&d.properties, d.reason) {
        (_, _) if !v5 => out.extend_from_slice(&[DISCONNECT << 4, 0]),
        (None, None) => out.extend_from_slice(&[DISCONNECT << 4, 0]),
        (None, Some(rc)) => out.extend_from_slice(&[DISCONNECT << 4, 1, rc]),
        (Some(props), rc) => {
            let len = check_remaining(1 + properties::checked_wire_len(props)?)?;
            begin_packet(out, DISCONNECT << 4, len);
            out.push(rc.unwrap_or(0));
            props.write(out);
        }
    }
    Ok(())
}
