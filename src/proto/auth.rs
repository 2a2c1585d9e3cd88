//! AUTH (MQTT-3.15, MQTT 5 only): a reason code and properties; remaining length 0
//! means Success without properties.

use super::codec::{begin_packet, check_remaining, Reader, AUTH};
use super::properties::{self, IN_AUTH};
use super::{reason, Auth, ProtoError};

pub(super) fn read(body: &[u8]) -> Result<Auth, ProtoError> {
    let mut r = Reader::new(body);
    let mut a = Auth::default();
    if !r.is_empty() {
        a.reason = r.u8()?;
        // MQTT-3.15.2.1: only 0x00, 0x18 and 0x19.
        if !reason::valid_auth(a.reason) {
            return Err(ProtoError::InvalidReturnCode(a.reason));
        }
        // MQTT-3.15.2.2.1: a reason alone is allowed; properties follow otherwise.
        if !r.is_empty() {
            a.properties = properties::read_owned(&mut r, IN_AUTH)?;
        }
    }
    r.finish()?;
    Ok(a)
}

pub(super) fn write(a: &Auth, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    if a.reason == 0 && a.properties.is_empty() {
        out.extend_from_slice(&[AUTH << 4, 0]);
        return Ok(());
    }
    let len = check_remaining(1 + properties::checked_wire_len(&a.properties)?)?;
    begin_packet(out, AUTH << 4, len);
    out.push(a.reason);
    a.properties.write(out);
    Ok(())
}
