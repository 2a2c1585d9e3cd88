//! The C surface. The only place with raw-pointer handling: every exported function
//! body runs inside `ffi_body!`, which turns a panic into an error return, and pointer
//! and string arguments go through the helpers below, never hand-checked.

// Every extern "C" function takes raw pointers from C by design; they are checked
// (NULL, UTF-8, lengths) through the helpers below before use.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

#[macro_use]
mod macros {
    /// Run an `extern "C"` body, turning a panic into `$on_panic`. Wraps the body, not
    /// the signature, so cbindgen reads plain signatures.
    macro_rules! ffi_body {
        ($on_panic:expr, $body:block) => {
            match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
                Ok(v) => v,
                Err(_) => $on_panic,
            }
        };
    }

    /// `let c = try_client!(ptr);` — the client behind a handle, or return INVAL.
    macro_rules! try_client {
        ($ptr:expr) => {
            // SAFETY: the handle is NULL or live (API contract, see client_ref).
            match unsafe { $crate::ffi::client_ref($ptr) } {
                Some(c) => c,
                None => return $crate::ffi::types::MQTTC_ERR_INVAL,
            }
        };
    }

    /// `let s = try_str!(ptr);` — a required UTF-8 C string, or return INVAL.
    macro_rules! try_str {
        ($ptr:expr) => {
            // SAFETY: the pointer is NULL or a NUL-terminated string (API contract).
            match unsafe { $crate::ffi::opt_str($ptr) } {
                Ok(Some(s)) => s,
                _ => return $crate::ffi::types::MQTTC_ERR_INVAL,
            }
        };
    }

    /// `let s = try_opt_str!(ptr);` — an optional UTF-8 C string (NULL → None).
    macro_rules! try_opt_str {
        ($ptr:expr) => {
            // SAFETY: the pointer is NULL or a NUL-terminated string (API contract).
            match unsafe { $crate::ffi::opt_str($ptr) } {
                Ok(s) => s,
                Err(_) => return $crate::ffi::types::MQTTC_ERR_INVAL,
            }
        };
    }

    /// `try_rc!(expr)` — unwrap a `Result<T, i32>` or return the code.
    macro_rules! try_rc {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(rc) => return rc,
            }
        };
    }
}

pub mod callbacks;
pub mod client;
pub mod dispatch;
pub mod helpers;
pub mod loops;
pub mod message;
pub mod options;
pub mod properties;
pub mod pubsub;
pub mod tls;
pub mod types;
pub mod v5;

use crate::error::Error;
use crate::proto::QoS;
use client::mqttc_client;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use types::*;

/// A counted reference to the client behind a handle, held for the length of one C
/// call: a callback run by that call may destroy the client (`mqttc_client_destroy`
/// from inside a callback is allowed), and the memory must outlive the call.
pub struct ClientRef(std::sync::Arc<mqttc_client>);

impl std::ops::Deref for ClientRef {
    type Target = crate::client::Client;
    fn deref(&self) -> &crate::client::Client {
        &self.0.client
    }
}

impl ClientRef {
    /// The handle's callbacks.
    pub fn callbacks(&self) -> &dispatch::CallbackTable {
        &self.0.callbacks
    }

    /// Change the callbacks (and what the client knows of them: log levels heard,
    /// whether AUTH is answered).
    pub fn update_callbacks(&self, f: impl FnOnce(&mut dispatch::Callbacks)) {
        self.0.callbacks.update(&self.0.client, f)
    }
}

/// The client behind a handle.
///
/// # Safety
/// `c` is NULL or a pointer returned by `mqttc_client_new` and not yet destroyed.
pub unsafe fn client_ref(c: *const mqttc_client) -> Option<ClientRef> {
    if c.is_null() {
        return None;
    }
    // SAFETY: per the contract above, a non-NULL handle came from `Arc::into_raw` in
    // mqttc_client_new and its own count is still held (not yet destroyed), so adding
    // a count and taking an Arc for it is sound; the Arc gives that count back.
    unsafe {
        std::sync::Arc::increment_strong_count(c);
        Some(ClientRef(std::sync::Arc::from_raw(c)))
    }
}

/// A NUL-terminated C string as UTF-8: NULL → `Ok(None)`, invalid UTF-8 → `Err`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string alive for `'a`.
pub unsafe fn opt_str<'a>(p: *const c_char) -> Result<Option<&'a str>, std::str::Utf8Error> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated per the contract above.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    // Topics are nearly always ASCII: a word-at-a-time check is several times cheaper
    // than full UTF-8 validation of a short string, on every publish.
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(Some(unsafe { std::str::from_utf8_unchecked(bytes) }));
    }
    std::str::from_utf8(bytes).map(Some)
}

/// `payload`/`payloadlen` as a slice: NULL with length 0 is empty; a negative or
/// too-large length gives PAYLOAD_SIZE; NULL with a length gives INVAL.
///
/// # Safety
/// `payload` is NULL or points to `payloadlen` readable bytes alive for `'a`.
pub unsafe fn payload_slice<'a>(
    payload: *const c_void,
    payloadlen: c_int,
) -> Result<&'a [u8], c_int> {
    if payloadlen < 0 || payloadlen as usize > crate::proto::MAX_REMAINING_LENGTH {
        return Err(MQTTC_ERR_PAYLOAD_SIZE);
    }
    if payloadlen == 0 {
        return Ok(&[]);
    }
    if payload.is_null() {
        return Err(MQTTC_ERR_INVAL);
    }
    // SAFETY: non-NULL with payloadlen readable bytes per the contract above.
    Ok(unsafe { std::slice::from_raw_parts(payload as *const u8, payloadlen as usize) })
}

/// A QoS argument: 0, 1 or 2, else INVAL.
pub fn qos_arg(qos: c_int) -> Result<QoS, c_int> {
    u8::try_from(qos)
        .ok()
        .and_then(QoS::from_u8)
        .ok_or(MQTTC_ERR_INVAL)
}

/// Write an optional out-parameter.
pub fn set_out(p: *mut c_int, v: c_int) {
    if !p.is_null() {
        // SAFETY: the caller passes NULL or a valid int pointer (API convention).
        unsafe { *p = v };
    }
}

/// Error → result code, setting errno for `MQTTC_ERR_ERRNO`.
pub fn rc_of(e: Error) -> c_int {
    crate::client::set_errno(e)
}

/// Result → `Err(result code)` for `try_rc!`.
pub fn rc_result<T>(r: Result<T, Error>) -> Result<T, c_int> {
    r.map_err(rc_of)
}

/// Result → result code.
pub fn rc<T>(r: Result<T, Error>) -> c_int {
    match r {
        Ok(_) => MQTTC_ERR_SUCCESS,
        Err(e) => rc_of(e),
    }
}
