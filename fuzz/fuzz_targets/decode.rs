//! Arbitrary bytes into `proto::decode`, under both protocol versions and a small or
//! unlimited maximum packet size chosen by the first input byte. Decoding must never
//! panic, and every packet that decodes must re-encode to bytes that decode to the same
//! packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mqttc::proto::{decode, encode, DecodeOptions, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let protocol = if selector & 1 == 0 {
        ProtocolVersion::V311
    } else {
        ProtocolVersion::V31
    };
    let max_packet_size = if selector & 2 == 0 {
        DecodeOptions::default().max_packet_size
    } else {
        // 0..=63: small enough that the size check fires on real inputs.
        usize::from(selector >> 2)
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
        encode(&packet, &mut again).expect("a decoded packet encodes");
        // Only a non-minimal remaining length or a 3.1 CONNECT's missing user name or
        // password can make the input longer than its re-encoding.
        assert!(again.len() <= used);
        assert_eq!(decode(&again, &opts), Ok(Some((packet, again.len()))));
        rest = &rest[used..];
    }
});
