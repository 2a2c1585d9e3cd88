//! `mqttc_properties`: MQTT 5 property lists for C (paho's `Properties`).
#![allow(non_camel_case_types)]
//!
//! A list the application builds owns its values, strings NUL-terminated for the
//! getters. A list handed to a callback for an incoming message borrows the message's
//! property bytes and decodes them the first time a getter asks, so a message whose
//! properties nobody reads costs nothing.

use super::types::*;
use super::*;
use crate::proto::properties::{self, check_value, spec_of, PropError, PropType, ValueRef};
use crate::proto::{Properties, PropsRef, Value};
use std::ffi::CString;
use std::sync::OnceLock;

/// One property with its value in the form the getters hand out.
#[derive(Clone, Debug)]
enum CValue {
    Int(u32),
    Str(CString),
    Bin(Vec<u8>),
    Pair(CString, CString),
}

#[derive(Clone, Debug)]
struct CProp {
    id: u8,
    value: CValue,
}

impl CProp {
    fn from_ref(id: u8, v: ValueRef<'_>) -> CProp {
        // Property strings were checked for U+0000 when decoded or added.
        let cstr = |s: &str| CString::new(s).unwrap_or_default();
        let value = match v {
            ValueRef::Int(n) => CValue::Int(n),
            ValueRef::Str(s) => CValue::Str(cstr(s)),
            ValueRef::Bin(b) => CValue::Bin(b.to_vec()),
            ValueRef::Pair(n, v) => CValue::Pair(cstr(n), cstr(v)),
        };
        CProp { id, value }
    }
}

enum Storage {
    Owned(Vec<CProp>),
    /// The validated property bytes of a received packet, alive while the callback
    /// that got this list runs.
    Borrowed {
        ptr: *const u8,
        len: usize,
        decoded: OnceLock<Vec<CProp>>,
    },
}

/// An ordered list of MQTT 5 properties (opaque). Functions: `mqttc_properties_new`,
/// `_copy`, `_free`, `_add_int`, `_add_string`, `_add_binary`, `_add_user`, `_count`,
/// `_id_at`, `_get_int`, `_get_string`, `_get_binary`, `_get_user`; names with
/// `mqttc_property_name`. A list given to a `_v5` function is copied before it
/// returns; a list passed to a callback is borrowed until the callback returns (copy
/// it with `mqttc_properties_copy` to keep it).
pub struct mqttc_properties {
    storage: Storage,
}

// SAFETY: the borrowed bytes are only read, and the decoded cache is a OnceLock; a
// borrowed list lives only while the callback it was passed to runs, during which its
// bytes do not change.
unsafe impl Send for mqttc_properties {}
// SAFETY: as above: shared access only reads.
unsafe impl Sync for mqttc_properties {}

impl mqttc_properties {
    pub(crate) fn owned(p: &Properties) -> mqttc_properties {
        mqttc_properties {
            storage: Storage::Owned(
                p.iter()
                    .map(|prop| CProp::from_ref(prop.id, prop.value.as_ref()))
                    .collect(),
            ),
        }
    }

    /// A view of `props`, valid while its bytes are.
    pub(crate) fn borrowed(props: PropsRef<'_>) -> mqttc_properties {
        let bytes = props.bytes();
        mqttc_properties {
            storage: Storage::Borrowed {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
                decoded: OnceLock::new(),
            },
        }
    }

    fn list(&self) -> &[CProp] {
        match &self.storage {
            Storage::Owned(v) => v,
            Storage::Borrowed { ptr, len, decoded } => decoded.get_or_init(|| {
                if *len == 0 {
                    return Vec::new();
                }
                // SAFETY: the bytes belong to the message being delivered and stay
                // valid, unchanged, until the callback this list was passed to returns.
                let bytes = unsafe { std::slice::from_raw_parts(*ptr, *len) };
                PropsRef::from_validated(bytes)
                    .iter()
                    .map(|(id, v)| CProp::from_ref(id, v))
                    .collect()
            }),
        }
    }

    /// An owned copy (of a borrowed list too).
    pub(crate) fn deep_copy(&self) -> mqttc_properties {
        mqttc_properties {
            storage: Storage::Owned(self.list().to_vec()),
        }
    }

    /// The list as the protocol core takes it.
    pub(crate) fn to_properties(&self) -> Properties {
        let mut p = Properties::new();
        for cp in self.list() {
            let value = match &cp.value {
                CValue::Int(n) => Value::Int(*n),
                CValue::Str(s) => Value::Str(s.to_string_lossy().into_owned()),
                CValue::Bin(b) => Value::Bin(b.clone()),
                CValue::Pair(n, v) => Value::Pair(
                    n.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                ),
            };
            // Values were checked when added (or decoded); a multi-valued id appends.
            let _ = p.add(cp.id, value);
        }
        p
    }

    fn owned_list(&mut self) -> &mut Vec<CProp> {
        if let Storage::Borrowed { .. } = self.storage {
            self.storage = Storage::Owned(self.list().to_vec());
        }
        match &mut self.storage {
            Storage::Owned(v) => v,
            Storage::Borrowed { .. } => unreachable!("made owned above"),
        }
    }

    /// Add after checking against the specification's table: single-valued ids replace
    /// an earlier value in its place.
    fn add(&mut self, id: u8, value: CValue, check: ValueRef<'_>) -> c_int {
        let spec = match check_value(id, check) {
            Ok(spec) => spec,
            Err(PropError::UnknownId | PropError::WrongType | PropError::OutOfRange) => {
                return MQTTC_ERR_INVAL
            }
        };
        let list = self.owned_list();
        if !spec.multi {
            if let Some(p) = list.iter_mut().find(|p| p.id == id) {
                p.value = value;
                return MQTTC_ERR_SUCCESS;
            }
        }
        list.push(CProp { id, value });
        MQTTC_ERR_SUCCESS
    }

    /// The `n`-th value of `id`, or the getter's error: INVAL when `id` is not of
    /// `kind`, NOT_FOUND when absent.
    fn nth(&self, id: c_int, n: c_int, kind: fn(PropType) -> bool) -> Result<&CValue, c_int> {
        let id = u8::try_from(id).map_err(|_| MQTTC_ERR_INVAL)?;
        let spec = spec_of(id).ok_or(MQTTC_ERR_INVAL)?;
        if !kind(spec.ty) || n < 0 {
            return Err(MQTTC_ERR_INVAL);
        }
        self.list()
            .iter()
            .filter(|p| p.id == id)
            .nth(n as usize)
            .map(|p| &p.value)
            .ok_or(MQTTC_ERR_NOT_FOUND)
    }
}

/// The list a `props` argument stands for: NULL is an empty list.
pub(crate) fn props_arg(p: *const mqttc_properties) -> Properties {
    // SAFETY: p is NULL or a list from mqttc_properties_new/copy (or one passed to a
    // callback that is still running), per the API contract.
    match unsafe { p.as_ref() } {
        Some(list) => list.to_properties(),
        None => Properties::new(),
    }
}

fn list_mut<'a>(p: *mut mqttc_properties) -> Option<&'a mut mqttc_properties> {
    // SAFETY: p is NULL or a live list owned by the caller (API contract); the caller
    // does not use it from another thread during this call.
    unsafe { p.as_mut() }
}

fn list_ref<'a>(p: *const mqttc_properties) -> Option<&'a mqttc_properties> {
    // SAFETY: p is NULL or a live list (API contract).
    unsafe { p.as_ref() }
}

/// A new, empty property list. Returns NULL with errno ENOMEM when out of memory.
#[no_mangle]
pub extern "C" fn mqttc_properties_new() -> *mut mqttc_properties {
    ffi_body!(std::ptr::null_mut(), {
        Box::into_raw(Box::new(mqttc_properties {
            storage: Storage::Owned(Vec::new()),
        }))
    })
}

/// A copy of `p` (for example of a list passed to a callback, to keep it after the
/// callback returns); free it with `mqttc_properties_free`. NULL for NULL `p`.
#[no_mangle]
pub extern "C" fn mqttc_properties_copy(p: *const mqttc_properties) -> *mut mqttc_properties {
    ffi_body!(std::ptr::null_mut(), {
        match list_ref(p) {
            Some(list) => Box::into_raw(Box::new(list.deep_copy())),
            None => std::ptr::null_mut(),
        }
    })
}

/// Free a list made by `mqttc_properties_new` or `mqttc_properties_copy`. NULL is
/// ignored. Never free a list passed to a callback.
#[no_mangle]
pub extern "C" fn mqttc_properties_free(p: *mut mqttc_properties) {
    ffi_body!((), {
        if !p.is_null() {
            // SAFETY: p came from Box::into_raw in _new/_copy and is freed once.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}

/// Add an integer property: every integer kind (Byte, Two Byte, Four Byte and Variable
/// Byte Integer identifiers). Ranges are the specification's, as paho checks them:
/// flags 0 or 1 (PayloadFormatIndicator, RequestProblemInformation,
/// RequestResponseInformation, MaximumQoS, RetainAvailable, the *Available flags),
/// ReceiveMaximum and TopicAlias 1..65535, other two-byte values 0..65535,
/// MaximumPacketSize 1..4294967295, SubscriptionIdentifier 1..268435455. A
/// single-valued property added again replaces the earlier value;
/// SubscriptionIdentifier appends.
///
/// Returns `MQTTC_ERR_SUCCESS`, or `MQTTC_ERR_INVAL` (NULL list, unknown id, an id
/// that is not an integer, value out of range).
#[no_mangle]
pub extern "C" fn mqttc_properties_add_int(
    p: *mut mqttc_properties,
    id: c_int,
    value: u32,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let (Some(list), Ok(id)) = (list_mut(p), u8::try_from(id)) else {
            return MQTTC_ERR_INVAL;
        };
        list.add(id, CValue::Int(value), ValueRef::Int(value))
    })
}

/// Add a UTF-8 string property (ContentType, ResponseTopic, AssignedClientIdentifier,
/// AuthenticationMethod, ResponseInformation, ServerReference, ReasonString). `value`
/// is copied. Returns `MQTTC_ERR_SUCCESS`, or `MQTTC_ERR_INVAL` (NULL list or value,
/// unknown id, not a string property, invalid UTF-8, longer than 65535 bytes).
#[no_mangle]
pub extern "C" fn mqttc_properties_add_string(
    p: *mut mqttc_properties,
    id: c_int,
    value: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let s = try_str!(value);
        let (Some(list), Ok(id)) = (list_mut(p), u8::try_from(id)) else {
            return MQTTC_ERR_INVAL;
        };
        let Ok(c) = CString::new(s) else {
            return MQTTC_ERR_INVAL;
        };
        list.add(id, CValue::Str(c), ValueRef::Str(s))
    })
}

/// Add a binary property (CorrelationData, AuthenticationData): `len` bytes of `data`
/// (NULL with `len` 0 is empty), copied. Returns `MQTTC_ERR_SUCCESS`, or
/// `MQTTC_ERR_INVAL` (NULL list, unknown id, not a binary property, `len` negative or
/// above 65535, NULL data with a length).
#[no_mangle]
pub extern "C" fn mqttc_properties_add_binary(
    p: *mut mqttc_properties,
    id: c_int,
    data: *const c_void,
    len: c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        if !(0..=65535).contains(&len) {
            return MQTTC_ERR_INVAL;
        }
        // SAFETY: data is NULL or points to len readable bytes (API contract).
        let bytes = match unsafe { payload_slice(data, len) } {
            Ok(b) => b,
            Err(_) => return MQTTC_ERR_INVAL,
        };
        let (Some(list), Ok(id)) = (list_mut(p), u8::try_from(id)) else {
            return MQTTC_ERR_INVAL;
        };
        list.add(id, CValue::Bin(bytes.to_vec()), ValueRef::Bin(bytes))
    })
}

/// Append a User Property (name, value), both copied; order is kept. Returns
/// `MQTTC_ERR_SUCCESS`, or `MQTTC_ERR_INVAL` (NULL list, name or value, invalid UTF-8,
/// longer than 65535 bytes).
#[no_mangle]
pub extern "C" fn mqttc_properties_add_user(
    p: *mut mqttc_properties,
    name: *const c_char,
    value: *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let n = try_str!(name);
        let v = try_str!(value);
        let Some(list) = list_mut(p) else {
            return MQTTC_ERR_INVAL;
        };
        let (Ok(cn), Ok(cv)) = (CString::new(n), CString::new(v)) else {
            return MQTTC_ERR_INVAL;
        };
        list.add(
            properties::id::USER_PROPERTY,
            CValue::Pair(cn, cv),
            ValueRef::Pair(n, v),
        )
    })
}

/// Number of entries (each User Property and Subscription Identifier counts once);
/// 0 for NULL.
#[no_mangle]
pub extern "C" fn mqttc_properties_count(p: *const mqttc_properties) -> c_int {
    ffi_body!(0, { list_ref(p).map_or(0, |l| l.list().len() as c_int) })
}

/// The identifier of entry `index`, in wire order; -1 past the end, for a negative
/// index or for NULL.
#[no_mangle]
pub extern "C" fn mqttc_properties_id_at(p: *const mqttc_properties, index: c_int) -> c_int {
    ffi_body!(-1, {
        let (Some(list), Ok(i)) = (list_ref(p), usize::try_from(index)) else {
            return -1;
        };
        list.list().get(i).map_or(-1, |p| c_int::from(p.id))
    })
}

/// The `n`-th (0: first) value of integer property `id` into `*value` (written only on
/// success). Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NOT_FOUND` (absent), or
/// `MQTTC_ERR_INVAL` (NULL list or value, `id` not an integer property, negative `n`).
#[no_mangle]
pub extern "C" fn mqttc_properties_get_int(
    p: *const mqttc_properties,
    id: c_int,
    n: c_int,
    value: *mut u32,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let Some(list) = list_ref(p) else {
            return MQTTC_ERR_INVAL;
        };
        if value.is_null() {
            return MQTTC_ERR_INVAL;
        }
        match list.nth(id, n, PropType::is_int) {
            Ok(CValue::Int(v)) => {
                // SAFETY: non-NULL out-parameter from the caller.
                unsafe { *value = *v };
                MQTTC_ERR_SUCCESS
            }
            Ok(_) => MQTTC_ERR_INVAL,
            Err(rc) => rc,
        }
    })
}

/// The `n`-th value of string property `id`: `*value` points to a NUL-terminated
/// string borrowed from the list (valid while it lives; for a list passed to a
/// callback, until the callback returns). Returns as `mqttc_properties_get_int`.
#[no_mangle]
pub extern "C" fn mqttc_properties_get_string(
    p: *const mqttc_properties,
    id: c_int,
    n: c_int,
    value: *mut *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let Some(list) = list_ref(p) else {
            return MQTTC_ERR_INVAL;
        };
        if value.is_null() {
            return MQTTC_ERR_INVAL;
        }
        match list.nth(id, n, |t| t == PropType::Utf8) {
            Ok(CValue::Str(s)) => {
                // SAFETY: non-NULL out-parameter from the caller.
                unsafe { *value = s.as_ptr() };
                MQTTC_ERR_SUCCESS
            }
            Ok(_) => MQTTC_ERR_INVAL,
            Err(rc) => rc,
        }
    })
}

/// The `n`-th value of binary property `id`: `*data` (borrowed as for
/// `mqttc_properties_get_string`; NULL when empty) and `*len`. Returns as
/// `mqttc_properties_get_int`.
#[no_mangle]
pub extern "C" fn mqttc_properties_get_binary(
    p: *const mqttc_properties,
    id: c_int,
    n: c_int,
    data: *mut *const c_void,
    len: *mut c_int,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let Some(list) = list_ref(p) else {
            return MQTTC_ERR_INVAL;
        };
        if data.is_null() || len.is_null() {
            return MQTTC_ERR_INVAL;
        }
        match list.nth(id, n, |t| t == PropType::Binary) {
            Ok(CValue::Bin(b)) => {
                let ptr = if b.is_empty() {
                    std::ptr::null()
                } else {
                    b.as_ptr() as *const c_void
                };
                // SAFETY: non-NULL out-parameters from the caller.
                unsafe {
                    *data = ptr;
                    *len = b.len() as c_int;
                }
                MQTTC_ERR_SUCCESS
            }
            Ok(_) => MQTTC_ERR_INVAL,
            Err(rc) => rc,
        }
    })
}

/// The `n`-th User Property: `*name` and `*value`, borrowed as for
/// `mqttc_properties_get_string`. Returns `MQTTC_ERR_SUCCESS`, `MQTTC_ERR_NOT_FOUND`,
/// or `MQTTC_ERR_INVAL` (NULL list or out-parameter, negative `n`).
#[no_mangle]
pub extern "C" fn mqttc_properties_get_user(
    p: *const mqttc_properties,
    n: c_int,
    name: *mut *const c_char,
    value: *mut *const c_char,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let Some(list) = list_ref(p) else {
            return MQTTC_ERR_INVAL;
        };
        if name.is_null() || value.is_null() {
            return MQTTC_ERR_INVAL;
        }
        match list.nth(c_int::from(properties::id::USER_PROPERTY), n, |t| {
            t == PropType::Pair
        }) {
            Ok(CValue::Pair(k, v)) => {
                // SAFETY: non-NULL out-parameters from the caller.
                unsafe {
                    *name = k.as_ptr();
                    *value = v.as_ptr();
                }
                MQTTC_ERR_SUCCESS
            }
            Ok(_) => MQTTC_ERR_INVAL,
            Err(rc) => rc,
        }
    })
}

/// The specification's name of property `id` without spaces, as paho spells it
/// ("MessageExpiryInterval"); "" for an unknown id. A static string.
#[no_mangle]
pub extern "C" fn mqttc_property_name(id: c_int) -> *const c_char {
    ffi_body!(c"".as_ptr(), {
        static NAMES: OnceLock<Vec<(u8, CString)>> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            properties::SPECS
                .iter()
                .map(|s| (s.id, CString::new(s.name).unwrap_or_default()))
                .collect()
        });
        u8::try_from(id)
            .ok()
            .and_then(|id| names.iter().find(|(i, _)| *i == id))
            .map_or(c"".as_ptr(), |(_, n)| n.as_ptr())
    })
}

/// The name of MQTT 5 reason code `reason_code` as the specification's table gives it
/// first ("Success" for 0, "Unspecified error" for 128); "Unknown reason code" for a
/// value not in the table. A static string, never NULL.
#[no_mangle]
pub extern "C" fn mqttc_reason_string(reason_code: c_int) -> *const c_char {
    ffi_body!(c"Unknown reason code".as_ptr(), {
        static NAMES: OnceLock<Vec<(u8, CString)>> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            (0..=255u8)
                .filter_map(|c| {
                    crate::proto::reason::name(c).map(|n| (c, CString::new(n).unwrap_or_default()))
                })
                .collect()
        });
        u8::try_from(reason_code)
            .ok()
            .and_then(|c| names.iter().find(|(i, _)| *i == c))
            .map_or(c"Unknown reason code".as_ptr(), |(_, n)| n.as_ptr())
    })
}
