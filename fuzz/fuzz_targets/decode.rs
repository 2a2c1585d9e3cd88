//! Arbitrary bytes into `proto::decode`, under each protocol version (3.1, 3.1.1, 5)
//! and a small or unlimited maximum packet size chosen by the first input byte.
//! Decoding must never panic, and every packet that decodes must re-encode to bytes
//! that decode to the same packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mqttc::proto::{decode, encode, DecodeOptions, Packet, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let protocol = match selector & 3 {
        0 => ProtocolVersion::V311,
        1 => ProtocolVersion::V31,
        _ => ProtocolVersion::V5,
    };
    let max_packet_size = if selector & 4 == 0 {
        DecodeOptions::default().max_packet_size
    } else {
        // 0..=31: small enough that the size check fires on real inputs.
        usize::from(selector >> 3)
    };
    let opts = DecodeOptions {
        max_packet_size,
        protocol,
    };
    // Decode the input as a stream, one packet after another.
    let mut rest = stream;
    while let Ok(Some((packet, used))) = decode(rest, &opts) {
        assert!(used > 0 && used <= rest.len() && used <= max_packet_size);
        let mut again = Vec::new();
        encode(&packet, protocol, &mut again).expect("a decoded packet encodes");
        // Only a non-minimal remaining length, a 3.1 CONNECT's missing user name or
        // password, and the MQTT 5 short forms the encoder does not produce (CONNACK
        // without properties, AUTH with a reason alone) change the length.
        let short_form = protocol == ProtocolVersion::V5
            && matches!(packet, Packet::ConnAck(_) | Packet::Auth(_));
        assert!(short_form || again.len() <= used);
        let unlimited = DecodeOptions {
            max_packet_size: DecodeOptions::default().max_packet_size,
            protocol,
        };
        assert_eq!(decode(&again, &unlimited), Ok(Some((packet, again.len()))));
        rest = &rest[used..];
    }
});
