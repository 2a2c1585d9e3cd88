//! CONNECT / CONNACK, DISCONNECT and the end of a connection.

use super::harness::*;
use crate::error::Error;
use crate::proto::{Connect, Disconnect, LastWill, Packet, ProtocolVersion, QoS};
use crate::session::{SessionConfig, State};
use std::time::Duration;

#[test]
fn connect_sends_connect_from_config() {
    let mut p = Peer::new(SessionConfig {
        protocol: ProtocolVersion::V31,
        client_id: "client-7".into(),
        clean_session: false,
        keep_alive: 17,
        will: Some(LastWill {
            properties: Default::default(),
            topic: "will/t".into(),
            payload: b"bye".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: true,
        }),
        username: Some("user".into()),
        password: Some(b"pw".to_vec()),
        ..SessionConfig::default()
    });
    assert_eq!(p.s.state(), State::Disconnected);
    assert!(!p.s.wants_write());
    p.s.connect(p.now);
    assert_eq!(p.s.state(), State::Connecting);
    assert_eq!(
        p.sent(),
        [Packet::Connect(Box::new(Connect {
            properties: Default::default(),
            protocol: ProtocolVersion::V31,
            client_id: "client-7".into(),
            clean_session: false,
            keep_alive: 17,
            will: Some(LastWill {
                properties: Default::default(),
                topic: "will/t".into(),
                payload: b"bye".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
            }),
            username: Some("user".into()),
            password: Some(b"pw".to_vec()),
        }))]
    );
}

#[test]
fn connect_bytes_are_exact() {
    let mut p = Peer::new(SessionConfig {
        client_id: "ab".into(),
        keep_alive: 60,
        ..SessionConfig::default()
    });
    p.s.connect(p.now);
    // MQTT-3.1: "MQTT", level 4, flags clean session, keepalive 60, client id "ab".
    assert_eq!(
        p.s.transmit_buf(),
        [0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 2, b'a', b'b']
    );
}

#[test]
fn connack_accepted() {
    let mut p = Peer::new(cfg());
    p.s.connect(p.now);
    p.sent();
    p.feed_ok(Packet::ConnAck(crate::proto::ConnAck {
        properties: Default::default(),
        session_present: true,
        code: 0,
    }));
    assert_eq!(p.s.state(), State::Connected);
    assert_eq!(
        p.events(),
        [Event::Connected {
            session_present: true,
            code: 0
        }]
    );
    assert!(!p.s.wants_write());
}

#[test]
fn connack_refused_stays_connecting_and_sends_nothing() {
    let mut p = Peer::new(cfg());
    p.s.connect(p.now);
    p.publish("t", b"queued", QoS::AtLeastOnce);
    p.sent();
    p.feed_ok(connack(5));
    assert_eq!(
        p.events(),
        [Event::Connected {
            session_present: false,
            code: 5
        }]
    );
    assert_eq!(p.s.state(), State::Connecting);
    // The queued message waits for an accepted connection.
    assert!(!p.s.wants_write());
    // No CONNACK timeout after a refusal: the caller closes.
    assert_eq!(p.s.next_timeout(), None);
    p.s.connection_closed(p.now, 5);
    assert_eq!(p.events(), [Event::Disconnected { rc: 5 }]);
}

#[test]
fn connack_timeout() {
    let mut p = Peer::new(SessionConfig {
        connack_timeout: Duration::from_secs(10),
        ..cfg()
    });
    p.s.connect(p.now);
    p.sent();
    assert_eq!(p.s.next_timeout(), Some(p.at(10)));
    p.advance(Duration::from_millis(9_999));
    p.tick().unwrap();
    p.advance(Duration::from_millis(1));
    assert!(matches!(p.tick(), Err(Error::Keepalive)));
}

#[test]
fn connack_timeout_is_the_keepalive_period_when_shorter() {
    let mut p = Peer::new(SessionConfig {
        keep_alive: 3,
        connack_timeout: Duration::from_secs(10),
        ..cfg()
    });
    p.s.connect(p.now);
    p.sent();
    assert_eq!(p.s.next_timeout(), Some(p.at(3)));
    p.advance_secs(3);
    assert!(matches!(p.tick(), Err(Error::Keepalive)));
}

#[test]
fn connack_in_time_stops_the_connack_timer() {
    let mut p = Peer::new(SessionConfig {
        keep_alive: 0,
        connack_timeout: Duration::from_secs(10),
        ..cfg()
    });
    p.s.connect(p.now);
    p.sent();
    p.advance_secs(9);
    p.feed_ok(connack(0));
    assert_eq!(p.s.next_timeout(), None);
    p.advance_secs(100);
    p.tick().unwrap();
}

#[test]
fn second_connack_is_a_protocol_error() {
    let mut p = Peer::connected(cfg());
    let err = p.feed(connack(0)).unwrap_err();
    assert!(matches!(err, Error::UnexpectedPacket("CONNACK")), "{err:?}");
    assert_eq!(err.code(), crate::error::code::PROTOCOL);
}

#[test]
fn packet_before_connack_is_a_protocol_error() {
    let mut p = Peer::new(cfg());
    p.s.connect(p.now);
    p.sent();
    let err = p.feed(Packet::PingResp).unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedPacket("PINGRESP")),
        "{err:?}"
    );
}

#[test]
fn packet_after_refused_connack_is_a_protocol_error() {
    let mut p = Peer::new(cfg());
    p.s.connect(p.now);
    p.feed_ok(connack(2));
    assert!(matches!(
        p.feed(connack(0)),
        Err(Error::UnexpectedPacket("CONNACK"))
    ));
}

#[test]
fn server_only_packets_are_protocol_errors() {
    let subscribe = Packet::Subscribe(crate::proto::Subscribe {
        pkid: 1,
        filters: vec![("a".into(), QoS::AtMostOnce.into())],
        properties: Default::default(),
    });
    let unsubscribe = Packet::Unsubscribe(crate::proto::Unsubscribe {
        properties: Default::default(),
        pkid: 1,
        filters: vec!["a".into()],
    });
    let connect = Packet::Connect(Box::new(Connect {
        properties: Default::default(),
        protocol: ProtocolVersion::V311,
        client_id: "x".into(),
        clean_session: true,
        keep_alive: 0,
        will: None,
        username: None,
        password: None,
    }));
    for (packet, name) in [
        (connect, "CONNECT"),
        (subscribe, "SUBSCRIBE"),
        (unsubscribe, "UNSUBSCRIBE"),
        (Packet::PingReq, "PINGREQ"),
        (Packet::Disconnect(Disconnect::normal()), "DISCONNECT"),
    ] {
        let mut p = Peer::connected(cfg());
        match p.feed(packet) {
            Err(Error::UnexpectedPacket(n)) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn disconnect_reports_rc_zero() {
    let mut p = Peer::connected(cfg());
    p.s.disconnect(p.now).unwrap();
    assert_eq!(p.s.state(), State::Disconnecting);
    assert_eq!(p.sent_bytes(), [0xE0, 0x00]);
    p.s.connection_closed(p.now, 7);
    assert_eq!(p.s.state(), State::Disconnected);
    assert_eq!(p.events(), [Event::Disconnected { rc: 0 }]);
}

#[test]
fn connection_lost_reports_rc_given() {
    let mut p = Peer::connected(cfg());
    p.s.connection_closed(p.now, crate::error::code::CONN_LOST);
    assert_eq!(p.events(), [Event::Disconnected { rc: 7 }]);
    // Already disconnected: nothing more happens.
    p.s.connection_closed(p.now, 3);
    assert_eq!(p.events(), []);
    assert_eq!(p.s.next_timeout(), None);
}

#[test]
fn disconnect_without_connection_is_no_conn() {
    let mut p = Peer::new(cfg());
    assert!(matches!(p.s.disconnect(p.now), Err(Error::NoConn)));
    assert!(matches!(
        p.s.handle_bytes(p.now, &[0x20]),
        Err(Error::NoConn)
    ));
}

#[test]
fn nothing_is_sent_after_disconnect() {
    // MQTT-3.14.4-2: DISCONNECT is the last packet of a connection.
    let mut p = Peer::connected(cfg());
    p.s.disconnect(p.now).unwrap();
    p.s.disconnect(p.now).unwrap();
    let r = p.s.publish(p.now, "t", b"x", QoS::AtMostOnce, false);
    assert!(matches!(r, Err((1, Error::NoConn))), "{r:?}");
    let r = p.s.publish(p.now, "t", b"x", QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((2, Error::NoConn))), "{r:?}");
    assert!(matches!(
        p.s.subscribe(p.now, &[("a", QoS::AtMostOnce)]),
        Err(Error::NoConn)
    ));
    // An incoming PUBREL is not answered either.
    p.feed_ok(pubrel(9));
    assert_eq!(p.sent(), [Packet::Disconnect(Disconnect::normal())]);
}

#[test]
fn unencodable_connect_is_reported_by_handle_timeout() {
    // `connect` cannot return an error, so a CONNECT that cannot be encoded (a client
    // id over 65535 bytes) makes the next timeout due at once and fail there.
    let mut p = Peer::new(SessionConfig {
        client_id: "x".repeat(70_000),
        ..cfg()
    });
    p.s.connect(p.now);
    assert!(!p.s.wants_write());
    assert_eq!(p.s.next_timeout(), Some(p.now));
    let err = p.tick().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(crate::proto::ProtoError::StringTooLong)
        ),
        "{err:?}"
    );
    p.s.connection_closed(p.now, err.code());
    assert_eq!(p.events(), [Event::Disconnected { rc: 2 }]);
}

#[test]
fn connack_after_disconnect_while_connecting() {
    let mut p = Peer::new(SessionConfig {
        clean_session: false,
        ..cfg()
    });
    p.s.connect(p.now);
    p.publish("t", b"x", QoS::AtLeastOnce);
    p.s.disconnect(p.now).unwrap();
    let sent = p.sent();
    assert!(
        matches!(sent[..], [Packet::Connect(_), Packet::Disconnect(_)]),
        "{sent:?}"
    );
    // The broker answers CONNECT before it reads DISCONNECT: not a protocol error, and
    // nothing may follow DISCONNECT (MQTT-3.14.4-2), so the message stays queued.
    p.feed_ok(connack(0));
    assert_eq!(p.s.state(), State::Disconnecting);
    assert!(!p.s.wants_write());
    p.s.connection_closed(p.now, 7);
    assert_eq!(
        p.events(),
        [
            Event::Connected {
                session_present: false,
                code: 0
            },
            Event::Disconnected { rc: 0 }
        ]
    );
    assert_eq!(
        p.connect_accepted(),
        [publish_pkt("t", b"x", QoS::AtLeastOnce, 1, false)]
    );
}
