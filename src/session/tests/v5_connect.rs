//! MQTT 5 connection rules: CONNECT as configured, Clean Start, the server's CONNACK
//! limits applied, our own limits enforced, topic aliases both ways.

use super::harness::*;
use crate::error::Error;
use crate::proto::properties::id;
use crate::proto::{
    reason, ConnAck, Disconnect, Packet, Properties, ProtocolVersion, Publish, QoS, Value,
};
use crate::session::{Event as SEvent, SessionConfig};
use std::time::Duration;

fn int(pid: u8, v: u32) -> Properties {
    Properties::new().with(pid, Value::Int(v))
}

fn alias(a: u32) -> Properties {
    int(id::TOPIC_ALIAS, a)
}

fn publish5(topic: &str, qos: QoS, pkid: u16, props: Properties) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos,
        retain: false,
        topic: topic.into(),
        pkid,
        payload: b"m".to_vec(),
        properties: props,
    })
}

/// The (topic, Topic Alias) of each PUBLISH in `packets`.
fn topics_and_aliases(packets: &[Packet]) -> Vec<(String, Option<u32>)> {
    packets
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => (p.topic.clone(), p.properties.int(id::TOPIC_ALIAS)),
            other => panic!("expected PUBLISH, got {other:?}"),
        })
        .collect()
}

#[test]
fn connect_carries_exactly_the_configured_properties() {
    let mut p = Peer::new(SessionConfig {
        client_id: "ab".into(),
        keep_alive: 60,
        connect_properties: int(id::SESSION_EXPIRY_INTERVAL, 120),
        ..cfg5()
    });
    p.s.connect(p.now);
    assert_eq!(
        p.s.transmit_buf(),
        [
            0x10, 20, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 60, 5, 0x11, 0, 0, 0, 120, 0, 2,
            b'a', b'b'
        ]
    );
}

#[test]
fn clean_start_first_only() {
    let mut p = Peer::new(SessionConfig {
        clean_session: false,
        clean_start_first_only: true,
        ..cfg5()
    });
    let clean_of = |packet: &Packet| match packet {
        Packet::Connect(c) => c.clean_session,
        other => panic!("{other:?}"),
    };
    let (c, _) = p.connect_with(Properties::new());
    assert!(clean_of(&c), "first CONNECT starts clean");
    p.s.connection_closed(p.now, 7);
    p.events();
    let (c, _) = p.connect_with(Properties::new());
    assert!(!clean_of(&c), "a reconnect resumes");
    p.s.connection_closed(p.now, 7);
    p.events();
    p.s.restart_clean_start();
    let (c, _) = p.connect_with(Properties::new());
    assert!(clean_of(&c), "a new connect call starts clean again");
}

#[test]
fn connack_properties_reach_the_event() {
    let mut p = Peer::new(cfg5());
    p.s.connect(p.now);
    p.sent();
    let props = Properties::new().with(id::REASON_STRING, Value::Str("hi".into()));
    p.feed_ok(Packet::ConnAck(ConnAck {
        session_present: true,
        code: 0,
        properties: props.clone(),
    }));
    assert_eq!(
        p.events_v5(),
        [Event5::Other(SEvent::Connected {
            session_present: true,
            code: 0,
            properties: props
        })]
    );
}

#[test]
fn a_refusing_reason_code_is_reported_and_nothing_is_sent() {
    let mut p = Peer::new(cfg5());
    let r = p.s.publish(p.now, "t", b"x", QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((1, Error::NoConn))), "queued: {r:?}");
    p.s.connect(p.now);
    p.sent();
    p.feed_ok(Packet::ConnAck(ConnAck::new(false, reason::NOT_AUTHORIZED)));
    assert_eq!(
        p.events(),
        [Event::Connected {
            session_present: false,
            code: 0x87
        }]
    );
    assert!(p.sent().is_empty(), "nothing is sent after a refusal");
}

#[test]
fn receive_maximum_is_a_quota_kept_in_order() {
    for quota in [1u16, 2] {
        let mut p = Peer::new(SessionConfig {
            max_inflight: 20,
            ..cfg5()
        });
        p.connect_with(int(id::RECEIVE_MAXIMUM, quota.into()));
        let mids: Vec<u16> = (0..5)
            .map(|_| p.publish("t", b"x", QoS::AtLeastOnce))
            .collect();
        let mut seen = publish_ids(&p.sent());
        assert_eq!(seen.len(), quota as usize, "quota {quota}");
        // Each ack lets exactly one more out, oldest first.
        let mut acked = 0;
        while acked < mids.len() {
            p.feed_ok(puback(mids[acked]));
            acked += 1;
            let next = publish_ids(&p.sent());
            assert!(next.len() <= 1, "quota {quota}: {next:?}");
            seen.extend(next);
        }
        let order: Vec<u16> = seen.iter().map(|&(m, _)| m).collect();
        assert_eq!(order, mids, "quota {quota}: strict order");
    }
}

#[test]
fn max_inflight_below_the_server_quota_still_applies() {
    let mut p = Peer::new(SessionConfig {
        max_inflight: 2,
        ..cfg5()
    });
    p.connect_with(int(id::RECEIVE_MAXIMUM, 10));
    for _ in 0..5 {
        p.publish("t", b"x", QoS::AtLeastOnce);
    }
    assert_eq!(p.sent().len(), 2);
}

#[test]
fn the_quota_covers_resends_after_a_reconnect() {
    let mut p = Peer::new(SessionConfig {
        max_inflight: 0,
        clean_session: false,
        ..cfg5()
    });
    p.connect_with(Properties::new());
    let a = p.publish("t", b"a", QoS::AtLeastOnce);
    let b = p.publish("t", b"b", QoS::ExactlyOnce);
    let c = p.publish("t", b"c", QoS::AtLeastOnce);
    assert_eq!(p.sent().len(), 3);
    // b is PUBREC'd: a PUBREL is what it resends.
    p.feed_ok(pubrec(b));
    assert_eq!(p.sent(), [pubrel(b)]);
    p.s.connection_closed(p.now, 7);
    p.events();
    let Err((d, Error::NoConn)) = p.s.publish(p.now, "t", b"d", QoS::AtLeastOnce, false) else {
        panic!("queued while disconnected");
    };
    // The new server allows one flow at a time; it keeps our session.
    p.s.connect(p.now);
    p.sent();
    p.feed_ok(Packet::ConnAck(ConnAck {
        session_present: true,
        code: 0,
        properties: int(id::RECEIVE_MAXIMUM, 1),
    }));
    p.events();
    assert_eq!(publish_ids(&p.sent()), [(a, true)]);
    p.feed_ok(puback(a));
    assert_eq!(p.sent(), [pubrel(b)]);
    p.feed_ok(pubcomp(b));
    assert_eq!(publish_ids(&p.sent()), [(c, true)]);
    p.feed_ok(puback(c));
    assert_eq!(publish_ids(&p.sent()), [(d, false)]);
    p.feed_ok(puback(d));
    assert!(p.sent().is_empty());
    let published: Vec<Event> = p.events();
    assert_eq!(
        published,
        [a, b, c, d].map(|mid| Event::Published { mid }).to_vec()
    );
}

#[test]
fn a_resend_acknowledged_before_its_turn_frees_its_place() {
    let mut p = Peer::new(SessionConfig {
        max_inflight: 0,
        clean_session: false,
        ..cfg5()
    });
    p.connect_with(Properties::new());
    let a = p.publish("t", b"a", QoS::AtLeastOnce);
    let b = p.publish("t", b"b", QoS::AtLeastOnce);
    p.sent();
    p.s.connection_closed(p.now, 7);
    p.events();
    p.s.connect(p.now);
    p.sent();
    p.feed_ok(Packet::ConnAck(ConnAck {
        session_present: true,
        code: 0,
        properties: int(id::RECEIVE_MAXIMUM, 1),
    }));
    p.events();
    assert_eq!(publish_ids(&p.sent()), [(a, true)]);
    // The server acknowledges b, kept from the last connection, before its resend.
    p.feed_ok(puback(b));
    assert!(p.sent().is_empty());
    p.feed_ok(puback(a));
    assert!(p.sent().is_empty());
    assert_eq!(
        p.events(),
        [Event::Published { mid: b }, Event::Published { mid: a }]
    );
}

#[test]
fn maximum_qos_and_retain_available_refuse_before_an_id_is_taken() {
    let mut p = Peer::new(cfg5());
    p.connect_with(int(id::MAXIMUM_QOS, 0).with(id::RETAIN_AVAILABLE, Value::Int(0)));
    let r = p.s.publish(p.now, "t", b"x", QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((0, Error::QosNotSupported))), "{r:?}");
    let r = p.s.publish(p.now, "t", b"x", QoS::AtMostOnce, true);
    assert!(matches!(r, Err((0, Error::NotSupported))), "{r:?}");
    assert!(p.sent().is_empty());
    // No id was used up.
    assert_eq!(p.publish("t", b"x", QoS::AtMostOnce), 1);
    // Maximum QoS 1 allows 1, not 2.
    let mut p = Peer::new(cfg5());
    p.connect_with(int(id::MAXIMUM_QOS, 1));
    assert_eq!(p.publish("t", b"x", QoS::AtLeastOnce), 1);
    let r = p.s.publish(p.now, "t", b"x", QoS::ExactlyOnce, false);
    assert!(matches!(r, Err((0, Error::QosNotSupported))), "{r:?}");
}

#[test]
fn maximum_packet_size_counts_the_whole_packet() {
    let mut p = Peer::new(cfg5());
    p.connect_with(int(id::MAXIMUM_PACKET_SIZE, 20));
    // QoS 0, topic "t": 2 (fixed header) + 3 (topic) + 1 (properties) + payload.
    assert!(p
        .s
        .publish(p.now, "t", &[0; 14], QoS::AtMostOnce, false)
        .is_ok());
    let r = p.s.publish(p.now, "t", &[0; 15], QoS::AtMostOnce, false);
    assert!(matches!(r, Err((0, Error::OversizePacket))), "{r:?}");
    assert_eq!(p.sent().len(), 1);
    // SUBSCRIBE too; the refused call takes no id.
    let long = "x".repeat(20);
    let r = p.s.subscribe(p.now, &[(&long, QoS::AtMostOnce)]);
    assert!(matches!(r, Err(Error::OversizePacket)), "{r:?}");
    assert!(p.sent().is_empty());
    assert_eq!(p.s.subscribe(p.now, &[("a", QoS::AtMostOnce)]).unwrap(), 2);
}

#[test]
fn server_keep_alive_replaces_ours() {
    let mut p = Peer::new(SessionConfig {
        keep_alive: 60,
        ..cfg5()
    });
    p.connect_with(int(id::SERVER_KEEP_ALIVE, 5));
    assert_eq!(p.s.keep_alive(), 5);
    assert_eq!(p.s.next_timeout(), Some(p.at(5)));
    p.advance_secs(5);
    p.tick().unwrap();
    assert_eq!(p.sent(), [Packet::PingReq]);
}

#[test]
fn assigned_client_identifier_is_used_for_reconnects() {
    let mut p = Peer::new(SessionConfig {
        client_id: String::new(),
        ..cfg5()
    });
    let (c, _) = p.connect_with(
        Properties::new().with(id::ASSIGNED_CLIENT_IDENTIFIER, Value::Str("auto-1".into())),
    );
    assert!(matches!(c, Packet::Connect(ref c) if c.client_id.is_empty()));
    p.s.connection_closed(p.now, 7);
    p.events();
    let (c, _) = p.connect_with(Properties::new());
    assert!(
        matches!(c, Packet::Connect(ref c) if c.client_id == "auto-1"),
        "{c:?}"
    );
}

/// After an error from the server side, the DISCONNECT the session queued and the
/// event the close reports.
fn assert_disconnects_with(p: &mut Peer, r: Result<(), Error>, code: u8) {
    let e = r.expect_err("the connection must end");
    assert_eq!(e.code(), crate::error::code::PROTOCOL, "{e}");
    assert_eq!(p.sent(), [Packet::Disconnect(Disconnect::reason(code))]);
    p.s.connection_closed(p.now, e.code());
    assert_eq!(
        p.events_v5().last(),
        Some(&Event5::Other(SEvent::Disconnected {
            rc: crate::error::code::PROTOCOL,
            reason: Some(code),
            properties: None
        }))
    );
}

#[test]
fn our_receive_maximum_is_enforced() {
    let mut p = Peer::new(SessionConfig {
        connect_properties: int(id::RECEIVE_MAXIMUM, 2),
        ..cfg5()
    });
    p.connect_with(Properties::new());
    p.feed_ok(publish5("t", QoS::AtLeastOnce, 1, Properties::new()));
    p.feed_ok(publish5("t", QoS::ExactlyOnce, 2, Properties::new()));
    // QoS 0 does not count; a resent QoS 2 (same id) is not a new flow.
    p.feed_ok(publish5("t", QoS::AtMostOnce, 0, Properties::new()));
    p.feed_ok(publish5("t", QoS::ExactlyOnce, 2, Properties::new()));
    assert_eq!(p.sent(), [pubrec(2)]);
    // Acknowledging one makes room for one.
    p.s.delivered(QoS::AtLeastOnce, 1);
    assert_eq!(p.sent(), [puback(1)]);
    p.feed_ok(publish5("t", QoS::AtLeastOnce, 3, Properties::new()));
    p.events();
    let r = p.feed(publish5("t", QoS::AtLeastOnce, 4, Properties::new()));
    assert_disconnects_with(&mut p, r, reason::RECEIVE_MAXIMUM_EXCEEDED);
}

#[test]
fn our_maximum_packet_size_is_enforced() {
    let mut p = Peer::new(SessionConfig {
        connect_properties: int(id::MAXIMUM_PACKET_SIZE, 16),
        ..cfg5()
    });
    p.connect_with(Properties::new());
    // 2 + 3 + 1 + 10 = 16 bytes: accepted; one more byte is not.
    let mut m = publish5("t", QoS::AtMostOnce, 0, Properties::new());
    if let Packet::Publish(ref mut x) = m {
        x.payload = vec![0; 10];
    }
    p.feed_ok(m.clone());
    if let Packet::Publish(ref mut x) = m {
        x.payload = vec![0; 11];
    }
    let r = p.feed(m);
    assert_disconnects_with(&mut p, r, reason::PACKET_TOO_LARGE);
}

#[test]
fn a_malformed_packet_gets_disconnect_0x81() {
    let mut p = Peer::connected(cfg5());
    // PUBLISH with both QoS bits set.
    let r = p.feed_bytes(&[0x36, 5, 0, 1, b't', 0, 1]);
    assert_disconnects_with(&mut p, r, reason::MALFORMED_PACKET);
}

#[test]
fn an_unexpected_packet_gets_disconnect_0x82() {
    let mut p = Peer::connected(cfg5());
    let r = p.feed(Packet::PingReq);
    assert_disconnects_with(&mut p, r, reason::PROTOCOL_ERROR);
}

#[test]
fn incoming_topic_aliases_are_resolved() {
    let mut p = Peer::new(SessionConfig {
        connect_properties: int(id::TOPIC_ALIAS_MAXIMUM, 5),
        ..cfg5()
    });
    p.connect_with(Properties::new());
    p.feed_ok(publish5("a/b", QoS::AtMostOnce, 0, alias(1)));
    p.feed_ok(publish5("", QoS::AtMostOnce, 0, alias(1)));
    p.feed_ok(publish5("c", QoS::AtMostOnce, 0, alias(1)));
    p.feed_ok(publish5("", QoS::AtMostOnce, 0, alias(1)));
    let topics: Vec<(String, Option<u32>)> = p
        .events_v5()
        .into_iter()
        .map(|e| match e {
            Event5::Message(m) => (m.topic, m.properties.int(id::TOPIC_ALIAS)),
            other => panic!("{other:?}"),
        })
        .collect();
    // The full topic always; the alias stays among the properties.
    assert_eq!(
        topics,
        [
            ("a/b".into(), Some(1)),
            ("a/b".into(), Some(1)),
            ("c".into(), Some(1)),
            ("c".into(), Some(1))
        ]
    );
    // A new connection forgets them.
    p.s.connection_closed(p.now, 7);
    p.events();
    p.connect_with(Properties::new());
    let r = p.feed(publish5("", QoS::AtMostOnce, 0, alias(1)));
    assert_disconnects_with(&mut p, r, reason::TOPIC_ALIAS_INVALID);
}

#[test]
fn incoming_aliases_above_our_maximum_are_refused() {
    let mut p = Peer::new(SessionConfig {
        connect_properties: int(id::TOPIC_ALIAS_MAXIMUM, 2),
        ..cfg5()
    });
    p.connect_with(Properties::new());
    let r = p.feed(publish5("t", QoS::AtMostOnce, 0, alias(3)));
    assert_disconnects_with(&mut p, r, reason::TOPIC_ALIAS_INVALID);
    // Without a Topic Alias Maximum in CONNECT, none is allowed at all.
    let mut p = Peer::connected(cfg5());
    let r = p.feed(publish5("t", QoS::AtMostOnce, 0, alias(1)));
    assert_disconnects_with(&mut p, r, reason::TOPIC_ALIAS_INVALID);
    // An empty topic without an alias.
    let mut p = Peer::connected(cfg5());
    let r = p.feed(publish5("", QoS::AtMostOnce, 0, Properties::new()));
    assert_disconnects_with(&mut p, r, reason::PROTOCOL_ERROR);
}

#[test]
fn outgoing_aliases_set_by_the_application() {
    let mut p = Peer::new(SessionConfig {
        clean_session: false,
        ..cfg5()
    });
    p.connect_with(int(id::TOPIC_ALIAS_MAXIMUM, 3));
    let now = p.now;
    p.s.publish_v5(now, "x/y", b"1", QoS::AtLeastOnce, false, &alias(1))
        .unwrap();
    p.s.publish_v5(now, "", b"2", QoS::AtLeastOnce, false, &alias(1))
        .unwrap();
    p.s.publish_v5(now, "x/y", b"3", QoS::AtMostOnce, false, &alias(1))
        .unwrap();
    assert_eq!(
        topics_and_aliases(&p.sent()),
        [
            ("x/y".into(), Some(1)),
            ("".into(), Some(1)),
            ("".into(), Some(1))
        ]
    );
    // Above the server's maximum; an alias never set with an empty topic.
    let r =
        p.s.publish_v5(now, "x", b"", QoS::AtMostOnce, false, &alias(4));
    assert!(matches!(r, Err((0, Error::Property(_)))), "{r:?}");
    let r =
        p.s.publish_v5(now, "", b"", QoS::AtMostOnce, false, &alias(2));
    assert!(matches!(r, Err((0, Error::Inval))), "{r:?}");
    // After a reconnect the unacknowledged ones go again with their full topic.
    p.s.connection_closed(p.now, 7);
    p.events();
    let (_, resent) = p.connect_with(int(id::TOPIC_ALIAS_MAXIMUM, 3));
    assert_eq!(
        topics_and_aliases(&resent),
        [("x/y".into(), None), ("x/y".into(), None)]
    );
}

#[test]
fn automatic_aliases_reuse_the_least_recently_used() {
    let mut p = Peer::new(SessionConfig {
        topic_alias_auto: true,
        ..cfg5()
    });
    p.connect_with(int(id::TOPIC_ALIAS_MAXIMUM, 2));
    for t in ["a", "b", "a", "c", "c", "b"] {
        p.publish(t, b"x", QoS::AtMostOnce);
    }
    assert_eq!(
        topics_and_aliases(&p.sent()),
        [
            ("a".into(), Some(1)),
            ("b".into(), Some(2)),
            ("".into(), Some(1)),
            ("c".into(), Some(2)),
            ("".into(), Some(2)),
            ("b".into(), Some(1)),
        ]
    );
    // A server without aliases gets full topics.
    p.s.connection_closed(p.now, 7);
    p.events();
    p.connect_with(Properties::new());
    p.publish("a", b"x", QoS::AtMostOnce);
    assert_eq!(topics_and_aliases(&p.sent()), [("a".into(), None)]);
}

#[test]
fn properties_a_client_publish_may_not_carry() {
    let mut p = Peer::connected(cfg5());
    let now = p.now;
    for props in [
        int(id::SESSION_EXPIRY_INTERVAL, 1),
        int(id::SUBSCRIPTION_IDENTIFIER, 1),
    ] {
        let r =
            p.s.publish_v5(now, "t", b"", QoS::AtMostOnce, false, &props);
        assert!(
            matches!(r, Err((0, Error::Property(_)))),
            "{props:?}: {r:?}"
        );
    }
    assert!(p.sent().is_empty());
    // Allowed ones go out as given, in order.
    let props = Properties::new()
        .with(id::CONTENT_TYPE, Value::Str("c".into()))
        .with(id::USER_PROPERTY, Value::Pair("k".into(), "v".into()))
        .with(id::MESSAGE_EXPIRY_INTERVAL, Value::Int(9));
    p.s.publish_v5(now, "t", b"", QoS::AtMostOnce, false, &props)
        .unwrap();
    match &p.sent()[..] {
        [Packet::Publish(m)] => assert_eq!(m.properties, props),
        other => panic!("{other:?}"),
    }
}

#[test]
fn properties_on_a_v311_session_are_not_supported() {
    let mut p = Peer::connected(cfg());
    let now = p.now;
    let props = int(id::MESSAGE_EXPIRY_INTERVAL, 1);
    let r =
        p.s.publish_v5(now, "t", b"", QoS::AtMostOnce, false, &props);
    assert!(matches!(r, Err((0, Error::NotSupported))), "{r:?}");
    let r =
        p.s.authenticate(now, reason::REAUTHENTICATE, &Properties::new());
    assert!(matches!(r, Err(Error::NotSupported)), "{r:?}");
    let r = p.s.disconnect_v5(now, Disconnect::reason(4));
    assert!(matches!(r, Err(Error::NotSupported)), "{r:?}");
    assert_eq!(p.s.protocol(), ProtocolVersion::V311);
    let _ = Duration::ZERO;
}

#[test]
fn queued_messages_the_new_server_refuses_end_with_its_reason() {
    let mut p = Peer::new(SessionConfig {
        clean_session: false,
        ..cfg5()
    });
    let now = p.now;
    // Queued while disconnected, before any limit is known.
    let big = match p.s.publish(now, "t", &[0; 100], QoS::AtLeastOnce, false) {
        Err((mid, Error::NoConn)) => mid,
        other => panic!("{other:?}"),
    };
    let q2 = match p.s.publish(now, "t", b"x", QoS::ExactlyOnce, false) {
        Err((mid, Error::NoConn)) => mid,
        other => panic!("{other:?}"),
    };
    let ok = match p.s.publish(now, "t", b"x", QoS::AtLeastOnce, false) {
        Err((mid, Error::NoConn)) => mid,
        other => panic!("{other:?}"),
    };
    p.s.connect(p.now);
    p.sent();
    p.feed_ok(Packet::ConnAck(ConnAck {
        session_present: false,
        code: 0,
        properties: int(id::MAXIMUM_PACKET_SIZE, 50).with(id::MAXIMUM_QOS, Value::Int(1)),
    }));
    // Only the one that fits goes; the others end with the server's reason, no packet.
    assert_eq!(publish_ids(&p.sent()), [(ok, false)]);
    let events = p.events_v5();
    assert!(matches!(
        events[0],
        Event5::Other(SEvent::Connected { code: 0, .. })
    ));
    assert_eq!(
        events[1..],
        [
            Event5::Other(SEvent::Published {
                mid: big,
                reason: reason::PACKET_TOO_LARGE,
                properties: None
            }),
            Event5::Other(SEvent::Published {
                mid: q2,
                reason: reason::QOS_NOT_SUPPORTED,
                properties: None
            }),
        ]
    );
    assert!(p.s.is_published(big) && p.s.is_published(q2) && !p.s.is_published(ok));
}
