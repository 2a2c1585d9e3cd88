//! mqttc: an MQTT 3.1 / 3.1.1 client library with a C ABI mirroring paho-mqtt's client.

pub mod error;
pub mod proto;
pub mod session;
