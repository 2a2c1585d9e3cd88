//! Message copies owned by the caller.

use super::properties::mqttc_properties;
use super::types::*;
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};

/// Deep-copy `m` into `out` (topic and payload newly allocated).
///
/// # Safety
/// `m` points to a valid message whose pointers are valid.
pub(crate) unsafe fn copy_into(m: &mqttc_message) -> Option<mqttc_message> {
    if m.topic.is_null() || m.payloadlen < 0 || (m.payloadlen > 0 && m.payload.is_null()) {
        return None;
    }
    // SAFETY: topic is a NUL-terminated string per the message contract.
    let topic = unsafe { std::ffi::CStr::from_ptr(m.topic) }.to_owned();
    let payload: &[u8] = if m.payloadlen == 0 {
        &[]
    } else {
        // SAFETY: payload holds payloadlen bytes per the message contract.
        unsafe { std::slice::from_raw_parts(m.payload as *const u8, m.payloadlen as usize) }
    };
    // SAFETY: properties is NULL or a live list per the message contract.
    let props = unsafe { m.properties.as_ref() };
    Some(owned_message(
        m.mid, topic, payload, m.qos, m.retain, m.dup, props,
    ))
}

/// A message whose topic and payload are heap allocations owned by the message.
pub(crate) fn owned_message(
    mid: c_int,
    topic: CString,
    payload: &[u8],
    qos: c_int,
    retain: bool,
    dup: bool,
    properties: Option<&mqttc_properties>,
) -> mqttc_message {
    let payloadlen = payload.len() as c_int;
    let payload_ptr = if payload.is_empty() {
        std::ptr::null()
    } else {
        Box::into_raw(payload.to_vec().into_boxed_slice()) as *const u8 as *const c_void
    };
    mqttc_message {
        mid,
        topic: topic.into_raw() as *const c_char,
        payload: payload_ptr,
        payloadlen,
        qos,
        retain,
        dup,
        properties: properties.map_or(std::ptr::null(), |p| {
            Box::into_raw(Box::new(p.deep_copy())) as *const mqttc_properties
        }),
    }
}

/// Free what `owned_message` allocated inside `m` (not `m` itself).
///
/// # Safety
/// `m` was made by `owned_message` and its contents are not freed yet.
pub(crate) unsafe fn free_contents(m: &mut mqttc_message) {
    if !m.topic.is_null() {
        // SAFETY: topic came from CString::into_raw.
        drop(unsafe { CString::from_raw(m.topic as *mut c_char) });
        m.topic = std::ptr::null();
    }
    if !m.payload.is_null() {
        let len = m.payloadlen as usize;
        // SAFETY: payload came from Box<[u8]> of exactly payloadlen bytes.
        drop(unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                m.payload as *mut u8,
                len,
            ))
        });
        m.payload = std::ptr::null();
    }
    if !m.properties.is_null() {
        // SAFETY: properties came from Box::into_raw in owned_message.
        drop(unsafe { Box::from_raw(m.properties as *mut mqttc_properties) });
        m.properties = std::ptr::null();
    }
}

/// Copy a message (for example the one `on_message` received), its MQTT 5 properties
/// included, so it outlives the callback. Free it with `mqttc_message_free`. Returns NULL for NULL or an invalid
/// message (NULL topic, negative length), or when out of memory.
#[no_mangle]
pub extern "C" fn mqttc_message_copy(msg: *const mqttc_message) -> *mut mqttc_message {
    ffi_body!(std::ptr::null_mut(), {
        // SAFETY: msg is NULL or a valid message (API contract).
        let Some(m) = (unsafe { msg.as_ref() }) else {
            return std::ptr::null_mut();
        };
        // SAFETY: m is a valid message whose pointers are valid (API contract).
        match unsafe { copy_into(m) } {
            Some(copy) => Box::into_raw(Box::new(copy)),
            None => std::ptr::null_mut(),
        }
    })
}

/// Free a message made by `mqttc_message_copy` (topic, payload and the struct). NULL
/// is ignored.
#[no_mangle]
pub extern "C" fn mqttc_message_free(msg: *mut mqttc_message) {
    ffi_body!((), {
        if msg.is_null() {
            return;
        }
        // SAFETY: msg came from mqttc_message_copy (Box::into_raw), freed once.
        let mut b = unsafe { Box::from_raw(msg) };
        // SAFETY: its contents were made by copy_into and are freed once, here.
        unsafe { free_contents(&mut b) };
    })
}

/// Free the array `mqttc_subscribe_simple` returned, with its `count` messages. NULL is
/// ignored.
#[no_mangle]
pub extern "C" fn mqttc_messages_free(messages: *mut mqttc_message, count: c_int) {
    ffi_body!((), {
        if messages.is_null() || count <= 0 {
            return;
        }
        // SAFETY: the array came from Box<[mqttc_message]> of `count` elements.
        let mut arr =
            unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(messages, count as usize)) };
        for m in arr.iter_mut() {
            // SAFETY: each element's contents were made by copy_into, freed once here.
            unsafe { free_contents(m) };
        }
    })
}
