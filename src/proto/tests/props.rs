//! Property tests: round trips of arbitrary valid packets, no panic on arbitrary bytes,
//! streams split anywhere, and topic matching against a naive reference.

use super::super::properties::id::SUBSCRIPTION_IDENTIFIER;
use super::super::properties::{
    PropSpec, PropType, Where, IN_AUTH, IN_CONNACK, IN_CONNECT, IN_DISCONNECT, IN_PUBLISH,
    IN_SUBACK, IN_SUBSCRIBE, IN_UNSUBACK, IN_UNSUBSCRIBE, IN_WILL, SPECS,
};
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

/// A valid value for property `spec`.
fn value(spec: &'static PropSpec) -> BoxedStrategy<Value> {
    match spec.ty {
        PropType::Utf8 => string().prop_map(Value::Str).boxed(),
        PropType::Binary => bytes().prop_map(Value::Bin).boxed(),
        PropType::Pair => (string(), string())
            .prop_map(|(n, v)| Value::Pair(n, v))
            .boxed(),
        ty => {
            let type_max = match ty {
                PropType::Byte => 0xFF,
                PropType::TwoByte => 0xFFFF,
                PropType::VarInt => 268_435_455,
                _ => u32::MAX,
            };
            let (lo, hi) = (spec.min, spec.max.min(type_max));
            prop_oneof![Just(lo), Just(hi), lo..=hi]
                .prop_map(Value::Int)
                .boxed()
        }
    }
}

/// Up to five properties allowed in `place` (single-valued ones added twice replace
/// the first, as `Properties::add` does).
fn props(place: Where) -> BoxedStrategy<Properties> {
    let allowed: Vec<&'static PropSpec> = SPECS.iter().filter(|s| s.allowed & place != 0).collect();
    let one = prop::sample::select(allowed).prop_flat_map(|spec| (Just(spec.id), value(spec)));
    vec(one, 0..5)
        .prop_map(move |list| {
            let mut p = Properties::new();
            for (id, v) in list {
                // MQTT-3.8.2.1.2: one Subscription Identifier outside PUBLISH.
                if id == SUBSCRIPTION_IDENTIFIER && place != IN_PUBLISH {
                    p.remove(id);
                }
                p.add(id, v).expect("generated within range");
            }
            p
        })
        .boxed()
}

/// Empty under 3.1/3.1.1.
fn props_if(v5: bool, place: Where) -> BoxedStrategy<Properties> {
    if v5 {
        props(place)
    } else {
        Just(Properties::new()).boxed()
    }
}

fn will(v5: bool) -> impl Strategy<Value = LastWill> {
    (
        topic_name(),
        bytes(),
        qos(),
        any::<bool>(),
        props_if(v5, IN_WILL),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| LastWill {
            topic,
            payload,
            qos,
            retain,
            properties,
        })
}

fn connect(v5: bool) -> impl Strategy<Value = Connect> {
    let protocol = if v5 {
        Just(ProtocolVersion::V5).boxed()
    } else {
        prop_oneof![Just(ProtocolVersion::V31), Just(ProtocolVersion::V311)].boxed()
    };
    (
        protocol,
        string(),
        any::<bool>(),
        any::<u16>(),
        option::of(will(v5)),
        option::of(string()),
        option::of(bytes()),
        props_if(v5, IN_CONNECT),
    )
        .prop_map(
            |(
                protocol,
                client_id,
                clean_session,
                keep_alive,
                will,
                username,
                mut password,
                properties,
            )| {
                // MQTT-3.1.2-22: 3.1.1 has no password without a user name.
                if protocol == ProtocolVersion::V311 && username.is_none() {
                    password = None;
                }
                Connect {
                    properties,
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

fn publish(v5: bool) -> impl Strategy<Value = Publish> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic_name(),
        pkid(),
        vec(any::<u8>(), 0..300),
        props_if(v5, IN_PUBLISH),
    )
        .prop_map(|(qos, dup, retain, topic, pkid, payload, properties)| {
            let at_most_once = qos == QoS::AtMostOnce;
            Publish {
                properties,
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

/// An acknowledgement of packet type `ty` (4..=7).
fn ack(v5: bool, ty: u8) -> impl Strategy<Value = Ack> {
    let reason = if v5 {
        any::<u8>().boxed()
    } else {
        Just(0u8).boxed()
    };
    (pkid(), reason, props_if(v5, 1 << ty)).prop_map(|(pkid, reason, properties)| Ack {
        pkid,
        reason,
        properties,
    })
}

fn sub_options(v5: bool) -> BoxedStrategy<SubOptions> {
    if v5 {
        (qos(), any::<bool>(), any::<bool>(), 0..=2u8)
            .prop_map(|(q, nl, rap, rh)| {
                SubOptions(q as u8 | u8::from(nl) << 2 | u8::from(rap) << 3 | rh << 4)
            })
            .boxed()
    } else {
        qos().prop_map(SubOptions::from).boxed()
    }
}

fn disconnect(v5: bool) -> BoxedStrategy<Disconnect> {
    if !v5 {
        return Just(Disconnect::normal()).boxed();
    }
    prop_oneof![
        Just(Disconnect::normal()),
        any::<u8>().prop_map(Disconnect::reason),
        (any::<u8>(), props(IN_DISCONNECT)).prop_map(|(rc, p)| Disconnect {
            reason: Some(rc),
            properties: Some(p),
        }),
    ]
    .boxed()
}

fn packet_of(v5: bool) -> BoxedStrategy<Packet> {
    let suback_code = if v5 {
        prop::sample::select(vec![
            0u8, 1, 2, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
        ])
        .boxed()
    } else {
        prop_oneof![0..=2u8, Just(0x80)].boxed()
    };
    let unsuback = if v5 {
        (
            pkid(),
            vec(
                prop::sample::select(vec![0u8, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91]),
                1..5,
            ),
            props(IN_UNSUBACK),
        )
            .prop_map(|(pkid, reason_codes, properties)| UnsubAck {
                pkid,
                reason_codes,
                properties,
            })
            .boxed()
    } else {
        pkid().prop_map(UnsubAck::new).boxed()
    };
    let mut kinds = vec![
        connect(v5)
            .prop_map(|c| Packet::Connect(Box::new(c)))
            .boxed(),
        (any::<bool>(), any::<u8>(), props_if(v5, IN_CONNACK))
            .prop_map(|(session_present, code, properties)| {
                Packet::ConnAck(ConnAck {
                    properties,
                    session_present,
                    code,
                })
            })
            .boxed(),
        publish(v5).prop_map(Packet::Publish).boxed(),
        ack(v5, 4).prop_map(Packet::PubAck).boxed(),
        ack(v5, 5).prop_map(Packet::PubRec).boxed(),
        ack(v5, 6).prop_map(Packet::PubRel).boxed(),
        ack(v5, 7).prop_map(Packet::PubComp).boxed(),
        (
            pkid(),
            vec((topic_filter(), sub_options(v5)), 1..5),
            props_if(v5, IN_SUBSCRIBE),
        )
            .prop_map(|(pkid, filters, properties)| {
                Packet::Subscribe(Subscribe {
                    pkid,
                    filters,
                    properties,
                })
            })
            .boxed(),
        (pkid(), vec(suback_code, 1..10), props_if(v5, IN_SUBACK))
            .prop_map(|(pkid, return_codes, properties)| {
                Packet::SubAck(SubAck {
                    pkid,
                    return_codes,
                    properties,
                })
            })
            .boxed(),
        (
            pkid(),
            vec(topic_filter(), 1..5),
            props_if(v5, IN_UNSUBSCRIBE),
        )
            .prop_map(|(pkid, filters, properties)| {
                Packet::Unsubscribe(Unsubscribe {
                    pkid,
                    filters,
                    properties,
                })
            })
            .boxed(),
        unsuback.prop_map(Packet::UnsubAck).boxed(),
        Just(Packet::PingReq).boxed(),
        Just(Packet::PingResp).boxed(),
        disconnect(v5).prop_map(Packet::Disconnect).boxed(),
    ];
    if v5 {
        kinds.push(
            (prop::sample::select(vec![0u8, 0x18, 0x19]), props(IN_AUTH))
                .prop_map(|(reason, properties)| Packet::Auth(Auth { reason, properties }))
                .boxed(),
        );
    }
    prop::strategy::Union::new(kinds).boxed()
}

/// 3.1.1 packets.
fn packet() -> BoxedStrategy<Packet> {
    packet_of(false)
}

/// What a 3.1 decoder makes of `p`: CONNACK has no session-present flag there.
fn as_v31(p: &Packet) -> Packet {
    match p {
        Packet::ConnAck(c) => Packet::ConnAck(ConnAck {
            session_present: false,
            ..c.clone()
        }),
        other => other.clone(),
    }
}

fn opts() -> impl Strategy<Value = DecodeOptions> {
    (
        prop_oneof![
            Just(ProtocolVersion::V31),
            Just(ProtocolVersion::V311),
            Just(ProtocolVersion::V5)
        ],
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
        let again = encoded_as(&p, opts.protocol);
        // Only the short forms that the encoder does not produce get longer: a
        // CONNACK without properties (a 3.1.1 broker's answer to MQTT 5) and an AUTH
        // with a reason alone.
        let short_form =
            matches!(&p, Packet::ConnAck(_) | Packet::Auth(_)) && opts.protocol.is_v5();
        prop_assert!(
            short_form || again.len() <= used,
            "re-encoding is never longer"
        );
        let opts = DecodeOptions {
            max_packet_size: DecodeOptions::default().max_packet_size,
            ..*opts
        };
        prop_assert_eq!(decode(&again, &opts), Ok(Some((p, again.len()))));
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
            encode_publish(&mut direct, &pb.topic, &pb.payload, pb.qos, pb.retain, pb.dup, pb.pkid, None)
                .unwrap();
            prop_assert_eq!(&direct, &bytes);
            prop_assert_eq!(bytes.len(), publish_len(pb.topic.len(), pb.payload.len(), pb.qos, None));
        }
    }

    #[test]
    fn proto_round_trip_v5(p in packet_of(true)) {
        let bytes = encoded_as(&p, ProtocolVersion::V5);
        prop_assert_eq!(decode(&bytes, &v5()), Ok(Some((p.clone(), bytes.len()))));
        for n in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            prop_assert_eq!(decode(&bytes[..n], &v5()), Ok(None));
        }
        if let Packet::Publish(pb) = &p {
            let mut props = Vec::new();
            pb.properties.write_body(&mut props);
            let v = PublishV5 { props: &props, alias: None };
            let mut direct = Vec::new();
            encode_publish(&mut direct, &pb.topic, &pb.payload, pb.qos, pb.retain, pb.dup, pb.pkid, Some(v))
                .unwrap();
            prop_assert_eq!(&direct, &bytes);
            prop_assert_eq!(bytes.len(), publish_len(pb.topic.len(), pb.payload.len(), pb.qos, Some(props.len())));
        }
    }

    #[test]
    fn proto_stream_split_anywhere(
        v5 in any::<bool>(),
        packets in vec(packet_of(false), 1..8),
        packets5 in vec(packet_of(true), 1..8),
        chunk in 1..50usize,
    ) {
        let (protocol, packets) = if v5 {
            (ProtocolVersion::V5, packets5)
        } else {
            (ProtocolVersion::V311, packets)
        };
        let opts = DecodeOptions { protocol, ..v311() };
        let mut wire = Vec::new();
        for p in &packets {
            encode(p, protocol, &mut wire).unwrap();
        }
        let mut buf = Vec::new();
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some((p, used)) = decode(&buf, &opts).unwrap() {
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
        p in prop_oneof![packet_of(false), packet_of(true)],
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        opts in opts(),
    ) {
        // Valid packets with a few bytes changed reach much deeper than random bytes.
        let mut bytes = encoded_as(&p, ProtocolVersion::V5);
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
