//! mqttc: an MQTT 3.1 / 3.1.1 / 5 client library with a C ABI mirroring paho-mqtt's client.
//!
//! Layers, bottom up: `proto` (sans-I/O wire format), `session` (sans-I/O protocol
//! state), `transport` (non-blocking byte streams), `client` (connection life, loops,
//! callbacks) and `ffi` (the `extern "C"` surface declared in include/mqttc.h).

// Every `unsafe` block says why it is sound (`// SAFETY: ...`); clippy -D warnings in CI
// enforces it.
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod client;
pub mod error;
pub mod ffi;
pub mod proto;
pub mod session;
pub mod transport;
