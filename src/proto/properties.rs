//! MQTT 5 properties (MQTT-2.2.2): the 27 identifiers, their types, which packet may
//! carry which, and the two forms a property list takes here.
//!
//! * [`Properties`], an owned list in wire order, for what the application builds
//!   (CONNECT, SUBSCRIBE, DISCONNECT ...) and for the packets a client receives rarely
//!   (CONNACK, acknowledgements, AUTH).
//! * [`PropsRef`], a borrowed view of a property block that was validated once when its
//!   packet was decoded and is read on demand: the receive path of PUBLISH allocates
//!   nothing per property, and nothing at all when nobody reads them.
//!
//! Validation on decode follows the specification: an unknown identifier or a value of
//! the wrong shape is malformed (MQTT-2.2.2-1, MQTT-1.5.x), a single-valued property
//! given twice or a value out of its range is a protocol error, and a property that the
//! packet may not carry is a protocol error.

use super::codec::{field_len, write_field, Reader};
use super::ProtoError;

pub use super::property_spec::*;

/// Wire size of one value.
fn value_len(ty: PropType, value: ValueRef<'_>) -> usize {
    match (ty, value) {
        (PropType::Byte, _) => 1,
        (PropType::TwoByte, _) => 2,
        (PropType::FourByte, _) => 4,
        (PropType::VarInt, ValueRef::Int(v)) => varint_len(v as usize),
        (_, ValueRef::Str(s)) => 2 + s.len(),
        (_, ValueRef::Bin(b)) => 2 + b.len(),
        (_, ValueRef::Pair(n, v)) => 4 + n.len() + v.len(),
        (_, ValueRef::Int(_)) => 0,
    }
}

/// Bytes a Variable Byte Integer takes (MQTT-1.5.5).
pub fn varint_len(v: usize) -> usize {
    super::remaining_length_len(v)
}

/// Appends a Variable Byte Integer; `v` is at most 268435455.
pub fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    debug_assert!(v <= VBI_MAX as usize);
    loop {
        let digit = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(digit);
            return;
        }
        out.push(digit | 0x80);
    }
}

fn write_value(out: &mut Vec<u8>, ty: PropType, value: ValueRef<'_>) {
    match (ty, value) {
        (PropType::Byte, ValueRef::Int(v)) => out.push(v as u8),
        (PropType::TwoByte, ValueRef::Int(v)) => out.extend_from_slice(&(v as u16).to_be_bytes()),
        (PropType::FourByte, ValueRef::Int(v)) => out.extend_from_slice(&v.to_be_bytes()),
        (PropType::VarInt, ValueRef::Int(v)) => write_varint(out, v as usize),
        (_, ValueRef::Str(s)) => write_field(out, s.as_bytes()),
        (_, ValueRef::Bin(b)) => write_field(out, b),
        (_, ValueRef::Pair(n, v)) => {
            write_field(out, n.as_bytes());
            write_field(out, v.as_bytes());
        }
        _ => debug_assert!(false, "value checked against its type"),
    }
}

/// An owned property list, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties(Vec<Property>);

impl Properties {
    pub const fn new() -> Properties {
        Properties(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Property> {
        self.0.iter()
    }

    /// Add a property: a single-valued one replaces an earlier value of the same id
    /// (keeping its place), a multi-valued one (User Property, Subscription Identifier)
    /// is appended. The value is checked against the specification's table.
    pub fn add(&mut self, id: u8, value: Value) -> Result<(), PropError> {
        let spec = check_value(id, value.as_ref())?;
        if !spec.multi {
            if let Some(p) = self.0.iter_mut().find(|p| p.id == id) {
                p.value = value;
                return Ok(());
            }
        }
        self.0.push(Property { id, value });
        Ok(())
    }

    /// Builder form of [`Properties::add`] for values known to be valid (tests, and
    /// the library's own lists). Panics on an invalid value.
    pub fn with(mut self, id: u8, value: Value) -> Properties {
        self.add(id, value).expect("a valid property");
        self
    }

    /// Remove every property with identifier `id`.
    pub fn remove(&mut self, id: u8) {
        self.0.retain(|p| p.id != id);
    }

    /// The `n`-th value of `id` (0 = the first).
    pub fn get(&self, id: u8, n: usize) -> Option<&Value> {
        self.0
            .iter()
            .filter(|p| p.id == id)
            .map(|p| &p.value)
            .nth(n)
    }

    /// The first integer value of `id`.
    pub fn int(&self, id: u8) -> Option<u32> {
        match self.get(id, 0) {
            Some(Value::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// The first string value of `id`.
    pub fn str(&self, id: u8) -> Option<&str> {
        match self.get(id, 0) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The first property not allowed in `place`, as an error naming it.
    pub fn check_allowed(&self, place: Where) -> Result<(), ProtoError> {
        let mut seen = 0u64;
        for p in &self.0 {
            let spec = spec_of(p.id).ok_or(ProtoError::InvalidProperty(p.id))?;
            if spec.allowed & place == 0 {
                return Err(ProtoError::PropertyNotAllowed(p.id));
            }
            // MQTT-3.8.2.1.2: one Subscription Identifier in SUBSCRIBE.
            let multi = spec.multi && !(p.id == id::SUBSCRIPTION_IDENTIFIER && place != IN_PUBLISH);
            if !multi && seen & (1 << p.id) != 0 {
                return Err(ProtoError::DuplicateProperty(p.id));
            }
            seen |= 1 << p.id;
        }
        Ok(())
    }

    /// Bytes of the properties themselves, without the length in front.
    pub fn body_len(&self) -> usize {
        self.0
            .iter()
            .map(|p| {
                let ty = spec_of(p.id).map_or(PropType::Byte, |s| s.ty);
                1 + value_len(ty, p.value.as_ref())
            })
            .sum()
    }

    /// Wire size with the Property Length in front.
    pub fn wire_len(&self) -> usize {
        let body = self.body_len();
        varint_len(body) + body
    }

    /// Appends the properties without their length.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        for p in &self.0 {
            let Some(spec) = spec_of(p.id) else {
                debug_assert!(false, "property {} checked when added", p.id);
                continue;
            };
            out.push(p.id);
            write_value(out, spec.ty, p.value.as_ref());
        }
    }

    /// Appends Property Length and the properties (MQTT-2.2.2.1).
    pub fn write(&self, out: &mut Vec<u8>) {
        write_varint(out, self.body_len());
        self.write_body(out);
    }
}

impl From<PropsRef<'_>> for Properties {
    fn from(r: PropsRef<'_>) -> Properties {
        Properties(
            r.iter()
                .map(|(id, v)| Property {
                    id,
                    value: v.to_owned(),
                })
                .collect(),
        )
    }
}

/// A validated property block borrowed from a decoded packet (without its length).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PropsRef<'a> {
    bytes: &'a [u8],
}

impl<'a> PropsRef<'a> {
    /// The block's bytes, as they were on the wire (without the Property Length).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// A view of bytes that [`read_props`] accepted before (bytes from elsewhere give
    /// an iterator that stops at the first thing it cannot read).
    pub fn from_validated(bytes: &'a [u8]) -> PropsRef<'a> {
        PropsRef { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// (identifier, value) in wire order.
    pub fn iter(&self) -> PropsIter<'a> {
        PropsIter {
            r: Reader::new(self.bytes),
        }
    }

    /// The first integer value of `id`.
    pub fn int(&self, id: u8) -> Option<u32> {
        self.iter().find_map(|(i, v)| match v {
            ValueRef::Int(n) if i == id => Some(n),
            _ => None,
        })
    }
}

/// Iterator over a [`PropsRef`].
pub struct PropsIter<'a> {
    r: Reader<'a>,
}

impl<'a> Iterator for PropsIter<'a> {
    type Item = (u8, ValueRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.r.is_empty() {
            return None;
        }
        read_one(&mut self.r).ok().map(|(spec, v)| (spec.id, v))
    }
}

/// Reads one property, checking its identifier and the shape of its value (not
/// whether it is allowed where it stands).
fn read_one<'a>(r: &mut Reader<'a>) -> Result<(&'static PropSpec, ValueRef<'a>), ProtoError> {
    // MQTT-2.2.2.2: the identifier is a Variable Byte Integer, in practice one byte.
    let raw = r.varint()?;
    let id = u8::try_from(raw).map_err(|_| ProtoError::InvalidProperty(0))?;
    let spec = spec_of(id).ok_or(ProtoError::InvalidProperty(id))?;
    let value = match spec.ty {
        PropType::Byte => ValueRef::Int(r.u8()?.into()),
        PropType::TwoByte => ValueRef::Int(r.u16()?.into()),
        PropType::FourByte => ValueRef::Int(r.u32()?),
        PropType::VarInt => ValueRef::Int(r.varint()? as u32),
        PropType::Utf8 => ValueRef::Str(r.string()?),
        PropType::Binary => ValueRef::Bin(r.binary()?),
        PropType::Pair => ValueRef::Pair(r.string()?, r.string()?),
    };
    Ok((spec, value))
}

/// Reads Property Length and the block it announces, validating every property for
/// `place`: known identifier, well-formed value (malformed otherwise); allowed in
/// `place`, not repeated unless multi-valued, value in range (protocol errors).
pub(super) fn read_props<'a>(r: &mut Reader<'a>, place: Where) -> Result<PropsRef<'a>, ProtoError> {
    // Most packets carry none: a single 0, on every incoming message.
    if r.skip_zero() {
        return Ok(PropsRef::default());
    }
    let len = r.varint()?;
    let bytes = r.take(len)?;
    let mut inner = Reader::new(bytes);
    let mut seen = 0u64;
    while !inner.is_empty() {
        let (spec, value) = read_one(&mut inner)?;
        if spec.allowed & place == 0 {
            return Err(ProtoError::PropertyNotAllowed(spec.id));
        }
        let multi = spec.multi && !(spec.id == id::SUBSCRIPTION_IDENTIFIER && place != IN_PUBLISH);
        if !multi && seen & (1 << spec.id) != 0 {
            return Err(ProtoError::DuplicateProperty(spec.id));
        }
        seen |= 1 << spec.id;
        if let ValueRef::Int(v) = value {
            if v < spec.min || v > spec.max {
                return Err(ProtoError::PropertyValue(spec.id));
            }
        }
    }
    Ok(PropsRef { bytes })
}

/// [`read_props`] into an owned list.
pub(super) fn read_owned(r: &mut Reader<'_>, place: Where) -> Result<Properties, ProtoError> {
    read_props(r, place).map(Properties::from)
}

/// Size of a property list with a Property Length in front, failing when a string in
/// it is too long to encode (the builders check this already).
pub(super) fn checked_wire_len(p: &Properties) -> Result<usize, ProtoError> {
    for prop in &p.0 {
        match &prop.value {
            Value::Str(s) => {
                field_len(s.as_bytes())?;
            }
            Value::Bin(b) => {
                field_len(b)?;
            }
            Value::Pair(n, v) => {
                field_len(n.as_bytes())?;
                field_len(v.as_bytes())?;
            }
            Value::Int(_) => {}
        }
    }
    Ok(p.wire_len())
}

/// A sentence for a property error found in a list meant for `place` (for logs).
pub fn explain(e: &ProtoError, place: Where) -> String {
    let name =
        |id: &u8| spec_of(*id).map_or_else(|| format!("property {id}"), |s| s.name.to_string());
    match e {
        ProtoError::PropertyNotAllowed(id) => {
            format!("{} is not allowed in {}", name(id), place_name(place))
        }
        ProtoError::DuplicateProperty(id) => {
            format!("{} may appear only once in {}", name(id), place_name(place))
        }
        ProtoError::InvalidProperty(id) => format!("{id} is not a property identifier"),
        other => other.to_string(),
    }
}
