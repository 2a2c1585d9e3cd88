//! Property tests: round trips of arbitrary valid packets, no panic on arbitrary bytes,
//! streams split anywhere, and topic matching against a naive reference.

use super::super::topic::{matches, valid_topic_filter, valid_topic_name};
use super::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn pkid() -> impl Strategy<Value = u16> {
    1..=u16::MAX
}

/// Any string without U+0000, including multi-byte characters.
fn string() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,12}"
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..40)
}

fn topic_name() -> impl Strategy<Value = String> {
    "[^\u{0}+#]{1,16}"
}

fn topic_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![Just("+".to_owned()), "[^\u{0}+#/]{0,5}"];
    (vec(level, 1..5), any::<bool>()).prop_map(|(levels, hash)| {
        let mut f = levels.join("/");
        if hash {
            f.push_str("/#");
        }
        if f.is_empty() {
            // A single empty level: the empty filter is invalid (MQTT-4.7.3-1).
            f.push('#');
        }
        f
    })
}

fn will() -> impl Strategy<Value = LastWill> {
    (topic_name(), bytes(), qos(), any::<bool>()).prop_map(|(topic, payload, qos, retain)| {
        LastWill {
            topic,
            payload,
            qos,
            retain,
        }
    })
}

fn connect() -> impl Strategy<Value = Connect> {
    (
        prop_oneof![Just(ProtocolVersion::V31), Just(ProtocolVersion::V311)],
        string(),
        any::<bool>(),
        any::<u16>(),
        option::of(will()),
        option::of(string()),
        option::of(bytes()),
    )
        .prop_map(
            |(protocol, client_id, clean_session, keep_alive, will, username, mut password)| {
                // MQTT-3.1.2-22: 3.1.1 has no password without a user name.
                if protocol == ProtocolVersion::V311 && username.is_none() {
                    password = None;
                }
                Connect {
                    protocol,
                    client_id,
                    clean_session,
                    keep_alive,
                    will,
                    username,
                    password,
                }
            },
        )
}

fn publish() -> impl Strategy<Value = Publish> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic_name(),
        pkid(),
        vec(any::<u8>(), 0..300),
    )
        .prop_map(|(qos, dup, retain, topic, pkid, payload)| {
            let at_most_once = qos == QoS::AtMostOnce;
            Publish {
                // MQTT-3.3.1-2, MQTT-2.3.1-5.
                dup: dup && !at_most_once,
                qos,
                retain,
                topic,
                pkid: if at_most_once { 0 } else { pkid },
                payload,
            }
        })
}

fn ack() -> impl Strategy<Value = Ack> {
    pkid().prop_map(|pkid| Ack { pkid })
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        connect().prop_map(Packet::Connect),
        (any::<bool>(), any::<u8>()).prop_map(|(session_present, code)| Packet::ConnAck(ConnAck {
            session_present,
            code
        })),
        publish().prop_map(Packet::Publish),
        ack().prop_map(Packet::PubAck),
        ack().prop_map(Packet::PubRec),
        ack().prop_map(Packet::PubRel),
        ack().prop_map(Packet::PubComp),
        (pkid(), vec((topic_filter(), qos()), 1..5))
            .prop_map(|(pkid, filters)| Packet::Subscribe(Subscribe { pkid, filters })),
        (pkid(), vec(prop_oneof![0..=2u8, Just(0x80)], 1..10))
            .prop_map(|(pkid, return_codes)| Packet::SubAck(SubAck { pkid, return_codes })),
        (pkid(), vec(topic_filter(), 1..5))
            .prop_map(|(pkid, filters)| Packet::Unsubscribe(Unsubscribe { pkid, filters })),
        ack().prop_map(Packet::UnsubAck),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        Just(Packet::Disconnect),
    ]
}

/// What a 3.1 decoder makes of `p`: CONNACK has no session-present flag there.
fn as_v31(p: &Packet) -> Packet {
    match p {
        Packet::ConnAck(c) => Packet::ConnAck(ConnAck {
            session_present: false,
            ..*c
        }),
        other => other.clone(),
    }
}

fn opts() -> impl Strategy<Value = DecodeOptions> {
    (
        prop_oneof![Just(ProtocolVersion::V31), Just(ProtocolVersion::V311)],
        prop_oneof![0..64usize, Just(DecodeOptions::default().max_packet_size)],
    )
        .prop_map(|(protocol, max_packet_size)| DecodeOptions {
            max_packet_size,
            protocol,
        })
}

/// Decoding never panics; what decodes re-encodes to a packet that decodes the same.
fn check_arbitrary(data: &[u8], opts: &DecodeOptions) -> Result<(), TestCaseError> {
    if let Ok(Some((p, used))) = decode(data, opts) {
        prop_assert!(used <= data.len() && used <= opts.max_packet_size);
        let again = encoded(&p);
        prop_assert!(again.len() <= used, "re-encoding is never longer");
        prop_assert_eq!(decode(&again, opts), Ok(Some((p, again.len()))));
    }
    Ok(())
}

/// Naive split-and-recurse matcher to check the one-pass `matches` against.
fn reference_matches(filter: &str, topic: &str) -> bool {
    fn rec(f: &[&str], t: &[&str]) -> bool {
        match (f.first(), t.first()) {
            (None, _) => t.is_empty(),
            (Some(&"#"), _) => true,
            (Some(&"+"), Some(_)) => rec(&f[1..], &t[1..]),
            (Some(l), Some(tl)) => l == tl && rec(&f[1..], &t[1..]),
            (Some(_), None) => false,
        }
    }
    if !valid_topic_filter(filter) || !valid_topic_name(topic) {
        return false;
    }
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let f: Vec<&str> = filter.split('/').collect();
    let t: Vec<&str> = topic.split('/').collect();
    rec(&f, &t)
}

#[test]
fn proto_matches_agrees_with_reference_exhaustively() {
    // Every filter and topic of up to four characters from the interesting alphabet.
    let mut all = vec![String::new()];
    let mut last = all.clone();
    for _ in 0..4 {
        let mut next = Vec::new();
        for s in &last {
            for c in ['a', '/', '+', '#', '$'] {
                next.push(format!("{s}{c}"));
            }
        }
        all.extend_from_slice(&next);
        last = next;
    }
    assert_eq!(all.len(), 781);
    for f in &all {
        for t in &all {
            assert_eq!(matches(f, t), reference_matches(f, t), "{f:?} {t:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn proto_round_trip(p in packet()) {
        let bytes = encoded(&p);
        prop_assert_eq!(decode(&bytes, &v311()), Ok(Some((p.clone(), bytes.len()))));
        prop_assert_eq!(decode(&bytes, &v31()), Ok(Some((as_v31(&p), bytes.len()))));
        // Everything short of the whole packet asks for more.
        let cut = bytes.len() / 2;
        prop_assert_eq!(decode(&bytes[..cut], &v311()), Ok(None));
        if let Packet::Publish(pb) = &p {
            let mut direct = Vec::new();
            encode_publish(&mut direct, &pb.topic, &pb.payload, pb.qos, pb.retain, pb.dup, pb.pkid)
                .unwrap();
            prop_assert_eq!(&direct, &bytes);
            prop_assert_eq!(bytes.len(), publish_len(pb.topic.len(), pb.payload.len(), pb.qos));
        }
    }

    #[test]
    fn proto_stream_split_anywhere(
        packets in vec(packet(), 1..8),
        chunk in 1..50usize,
    ) {
        let mut wire = Vec::new();
        for p in &packets {
            encode(p, &mut wire).unwrap();
        }
        let mut buf = Vec::new();
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some((p, used)) = decode(&buf, &v311()).unwrap() {
                got.push(p);
                buf.drain(..used);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, packets);
    }

    #[test]
    fn proto_arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..300), opts in opts()) {
        check_arbitrary(&data, &opts)?;
    }

    #[test]
    fn proto_mutated_packets_never_panic(
        p in packet(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        opts in opts(),
    ) {
        // Valid packets with a few bytes changed reach much deeper than random bytes.
        let mut bytes = encoded(&p);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        check_arbitrary(&bytes, &opts)?;
        let n = cut.index(bytes.len() + 1);
        check_arbitrary(&bytes[..n], &opts)?;
    }

    #[test]
    fn proto_matches_agrees_with_reference(
        filter in "[ab/+#$]{0,8}",
        topic in "[ab/+#$]{0,8}",
    ) {
        prop_assert_eq!(matches(&filter, &topic), reference_matches(&filter, &topic));
    }

    #[test]
    fn proto_generated_filters_match_generated_topics(
        filter in topic_filter(),
        topic in topic_name(),
    ) {
        prop_assert!(valid_topic_filter(&filter));
        prop_assert!(valid_topic_name(&topic));
        prop_assert_eq!(matches(&filter, &topic), reference_matches(&filter, &topic));
        // A topic name is also a filter that matches itself.
        prop_assert!(matches(&topic, &topic), "{} matches itself", topic);
    }

    #[test]
    fn proto_remaining_length_round_trips(len in 0..=MAX_REMAINING_LENGTH) {
        let mut out = Vec::new();
        super::super::codec::write_fixed_header(&mut out, 0x30, len);
        prop_assert_eq!(out.len(), 1 + remaining_length_len(len));
        let h = peek_fixed_header(&out).unwrap().unwrap();
        prop_assert_eq!((h.remaining_length, h.header_len), (len, out.len()));
    }
}
