//! MQTT 5 flows: reason codes that end a flow, SUBACK/UNSUBACK codes, the server's
//! DISCONNECT of every length, ours, enhanced authentication.

use super::harness::*;
use crate::error::{code, Error};
use crate::proto::properties::id;
use crate::proto::{
    reason, Ack, Auth, Disconnect, Packet, Properties, QoS, SubAck, SubOptions, Subscribe,
    UnsubAck, Value,
};
use crate::session::{Event as SEvent, SessionConfig, State};

fn rs(s: &str) -> Properties {
    Properties::new().with(id::REASON_STRING, Value::Str(s.into()))
}

fn ack(pkid: u16, reason: u8, properties: Properties) -> Ack {
    Ack {
        pkid,
        reason,
        properties,
    }
}

fn published(mid: u16, reason: u8, properties: Properties) -> Event5 {
    Event5::Other(SEvent::Published {
        mid,
        reason,
        properties: Some(properties),
    })
}

#[test]
fn puback_reason_and_properties_reach_the_event() {
    let mut p = Peer::connected(cfg5());
    let a = p.publish("t", b"x", QoS::AtLeastOnce);
    let b = p.publish("t", b"x", QoS::AtLeastOnce);
    p.sent();
    p.feed_ok(Packet::PubAck(ack(
        a,
        reason::NO_MATCHING_SUBSCRIBERS,
        Properties::new(),
    )));
    p.feed_ok(Packet::PubAck(ack(b, reason::NOT_AUTHORIZED, rs("acl"))));
    assert_eq!(
        p.events_v5(),
        [
            published(a, 0x10, Properties::new()),
            published(b, 0x87, rs("acl"))
        ]
    );
    assert!(p.s.is_published(a) && p.s.is_published(b));
}

#[test]
fn qos0_is_published_without_properties() {
    let mut p = Peer::connected(cfg5());
    let m = p.publish("t", b"x", QoS::AtMostOnce);
    p.sent();
    assert_eq!(
        p.events_v5(),
        [Event5::Other(SEvent::Published {
            mid: m,
            reason: 0,
            properties: None
        })]
    );
}

#[test]
fn pubrec_with_a_failure_code_ends_the_flow() {
    let mut p = Peer::connected(cfg5());
    let m = p.publish("t", b"x", QoS::ExactlyOnce);
    p.sent();
    p.feed_ok(Packet::PubRec(ack(m, reason::QUOTA_EXCEEDED, rs("full"))));
    // No PUBREL.
    assert!(p.sent().is_empty());
    assert_eq!(p.events_v5(), [published(m, 0x97, rs("full"))]);
    assert!(p.s.is_published(m));
    // A later PUBCOMP for it is ignored.
    p.feed_ok(pubcomp(m));
    assert!(p.events_v5().is_empty());
}

#[test]
fn pubrec_success_codes_go_on_to_pubrel() {
    let mut p = Peer::connected(cfg5());
    let m = p.publish("t", b"x", QoS::ExactlyOnce);
    p.sent();
    p.feed_ok(Packet::PubRec(ack(
        m,
        reason::NO_MATCHING_SUBSCRIBERS,
        Properties::new(),
    )));
    assert_eq!(p.sent(), [pubrel(m)]);
    p.feed_ok(Packet::PubComp(ack(
        m,
        reason::PACKET_IDENTIFIER_NOT_FOUND,
        Properties::new(),
    )));
    // "Packet identifier not found" ends the flow as well.
    assert_eq!(p.events_v5(), [published(m, 0x92, Properties::new())]);
}

#[test]
fn pubrel_with_a_reason_code_is_answered() {
    let mut p = Peer::connected(cfg5());
    p.feed_ok(Packet::Publish(publish(
        "t",
        b"x",
        QoS::ExactlyOnce,
        5,
        false,
    )));
    p.events();
    p.s.delivered(QoS::ExactlyOnce, 5);
    assert_eq!(p.sent(), [pubrec(5)]);
    p.feed_ok(Packet::PubRel(ack(
        5,
        reason::PACKET_IDENTIFIER_NOT_FOUND,
        Properties::new(),
    )));
    assert_eq!(p.sent(), [pubcomp(5)]);
    // Released: the same id is a new message now.
    p.feed_ok(Packet::Publish(publish(
        "t",
        b"y",
        QoS::ExactlyOnce,
        5,
        false,
    )));
    assert_eq!(p.events().len(), 1);
}

#[test]
fn suback_and_unsuback_codes_and_properties() {
    let mut p = Peer::connected(cfg5());
    let now = p.now;
    let s =
        p.s.subscribe_v5(
            now,
            &[("a", SubOptions(0x2d)), ("b", SubOptions(0x10))],
            &Properties::new().with(id::SUBSCRIPTION_IDENTIFIER, Value::Int(7)),
        )
        .unwrap();
    assert_eq!(
        p.sent(),
        [Packet::Subscribe(Subscribe {
            pkid: s,
            filters: vec![
                ("a".into(), SubOptions(0x2d)),
                ("b".into(), SubOptions(0x10))
            ],
            properties: Properties::new().with(id::SUBSCRIPTION_IDENTIFIER, Value::Int(7)),
        })]
    );
    p.feed_ok(Packet::SubAck(SubAck {
        pkid: s,
        return_codes: vec![1, 0xA1],
        properties: rs("no ids"),
    }));
    let u = p.s.unsubscribe(now, &["a", "b"]).unwrap();
    p.sent();
    p.feed_ok(Packet::UnsubAck(UnsubAck {
        pkid: u,
        reason_codes: vec![0, 0x11],
        properties: Properties::new(),
    }));
    assert_eq!(
        p.events_v5(),
        [
            Event5::Other(SEvent::Subscribed {
                mid: s,
                granted: vec![1, 0xA1],
                properties: rs("no ids")
            }),
            Event5::Other(SEvent::Unsubscribed {
                mid: u,
                reasons: vec![0, 0x11],
                properties: Properties::new()
            })
        ]
    );
}

#[test]
fn subscribe_options_are_checked() {
    let mut p = Peer::connected(cfg5());
    let now = p.now;
    for bad in [0x03u8, 0x30, 0x40, 0x80] {
        let r =
            p.s.subscribe_v5(now, &[("a", SubOptions(bad))], &Properties::new());
        assert!(matches!(r, Err(Error::Inval)), "{bad:#x}: {r:?}");
    }
    // MQTT-3.8.3-4: No Local on a shared subscription is a protocol error.
    let r =
        p.s.subscribe_v5(now, &[("$share/g/a", SubOptions(0x04))], &Properties::new());
    assert!(matches!(r, Err(Error::Inval)), "{r:?}");
    // A property SUBSCRIBE may not carry.
    let r = p.s.subscribe_v5(now, &[("a", SubOptions(0))], &rs("x"));
    assert!(matches!(r, Err(Error::Property(_))), "{r:?}");
    assert!(p.sent().is_empty());
    // Under 3.1.1 options beyond the QoS cannot be expressed.
    let mut p = Peer::connected(cfg());
    let now = p.now;
    let r =
        p.s.subscribe_v5(now, &[("a", SubOptions(0x04))], &Properties::new());
    assert!(matches!(r, Err(Error::NotSupported)), "{r:?}");
}

#[test]
fn server_disconnect_of_every_length() {
    for (bytes, code_, props) in [
        (vec![0xE0, 0], 0u8, Properties::new()),
        (vec![0xE0, 1, 0x8E], 0x8E, Properties::new()),
        (vec![0xE0, 2, 0x8E, 0], 0x8E, Properties::new()),
        (vec![0xE0, 6, 0x9C, 4, 0x1f, 0, 1, b'x'], 0x9C, rs("x")),
    ] {
        let mut p = Peer::connected(cfg5());
        let r = p.feed_bytes(&bytes);
        let e = r.expect_err("the server ended the connection");
        assert!(
            matches!(e, Error::ServerDisconnect(c) if c == code_),
            "{e:?}"
        );
        assert_eq!(e.code(), code::CONN_LOST);
        // Nothing is sent back.
        assert!(p.sent().is_empty(), "{bytes:02x?}");
        p.s.connection_closed(p.now, e.code());
        assert_eq!(
            p.events_v5(),
            [Event5::Other(SEvent::Disconnected {
                rc: code::CONN_LOST,
                reason: Some(code_),
                properties: Some(props)
            })],
            "{bytes:02x?}"
        );
    }
}

#[test]
fn server_disconnect_before_connack() {
    let mut p = Peer::new(cfg5());
    p.s.connect(p.now);
    p.sent();
    let r = p.feed_bytes(&[0xE0, 1, 0x8A]);
    assert!(matches!(r, Err(Error::ServerDisconnect(0x8A))), "{r:?}");
}

#[test]
fn our_disconnect_forms_and_event() {
    for (d, wire) in [
        (Disconnect::normal(), vec![0xE0, 0]),
        (Disconnect::reason(4), vec![0xE0, 1, 4]),
        (
            Disconnect {
                reason: Some(0),
                properties: Some(Properties::new()),
            },
            vec![0xE0, 2, 0, 0],
        ),
    ] {
        let mut p = Peer::connected(cfg5());
        let code_ = d.code();
        p.s.disconnect_v5(p.now, d).unwrap();
        assert_eq!(p.sent_bytes(), wire);
        assert_eq!(p.s.state(), State::Disconnecting);
        p.s.connection_closed(p.now, 7);
        assert_eq!(
            p.events_v5(),
            [Event5::Other(SEvent::Disconnected {
                rc: 0,
                reason: Some(code_),
                properties: None
            })]
        );
    }
}

#[test]
fn session_expiry_in_disconnect_needs_one_in_connect() {
    let mut p = Peer::connected(cfg5());
    let d = Disconnect {
        reason: Some(0),
        properties: Some(Properties::new().with(id::SESSION_EXPIRY_INTERVAL, Value::Int(10))),
    };
    let r = p.s.disconnect_v5(p.now, d.clone());
    assert!(matches!(r, Err(Error::Property(_))), "{r:?}");
    assert!(p.sent().is_empty());
    assert_eq!(p.s.state(), State::Connected);
    let mut p = Peer::new(SessionConfig {
        connect_properties: Properties::new().with(id::SESSION_EXPIRY_INTERVAL, Value::Int(60)),
        ..cfg5()
    });
    p.connect_with(Properties::new());
    p.s.disconnect_v5(p.now, d).unwrap();
    assert_eq!(p.sent_bytes(), [0xE0, 7, 0, 5, 0x11, 0, 0, 0, 10]);
}

fn auth_cfg(handler: bool) -> SessionConfig {
    SessionConfig {
        connect_properties: Properties::new()
            .with(id::AUTHENTICATION_METHOD, Value::Str("M".into())),
        auth_handler: handler,
        ..cfg5()
    }
}

fn auth_data(reason: u8, data: u8) -> Auth {
    Auth {
        reason,
        properties: Properties::new()
            .with(id::AUTHENTICATION_METHOD, Value::Str("M".into()))
            .with(id::AUTHENTICATION_DATA, Value::Bin(vec![data])),
    }
}

#[test]
fn auth_exchange_during_connect() {
    let mut p = Peer::new(auth_cfg(true));
    p.s.connect(p.now);
    p.sent();
    p.feed_ok(Packet::Auth(auth_data(0x18, 1)));
    assert_eq!(
        p.events(),
        [Event::Auth {
            reason: 0x18,
            properties: auth_data(0x18, 1).properties
        }]
    );
    let now = p.now;
    p.s.authenticate(
        now,
        reason::CONTINUE_AUTHENTICATION,
        &auth_data(0x18, 2).properties,
    )
    .unwrap();
    assert_eq!(
        p.sent_bytes(),
        [0xF0, 10, 0x18, 8, 0x15, 0, 1, b'M', 0x16, 0, 1, 2]
    );
    p.feed_ok(connack(0));
    assert_eq!(p.s.state(), State::Connected);
    // Re-authentication while connected.
    p.events();
    p.s.authenticate(now, reason::REAUTHENTICATE, &auth_data(0x19, 3).properties)
        .unwrap();
    assert_eq!(p.sent(), [Packet::Auth(auth_data(0x19, 3))]);
    p.feed_ok(Packet::Auth(Auth::default()));
    assert_eq!(
        p.events(),
        [Event::Auth {
            reason: 0,
            properties: Properties::new()
        }]
    );
    // Only the two reason codes a client sends.
    let r = p.s.authenticate(now, 0, &Properties::new());
    assert!(matches!(r, Err(Error::Inval)), "{r:?}");
}

#[test]
fn auth_that_nothing_handles_is_a_protocol_error() {
    for cfg in [auth_cfg(false), cfg5()] {
        let mut p = Peer::new(cfg);
        p.s.connect(p.now);
        p.sent();
        let r = p.feed(Packet::Auth(auth_data(0x18, 1)));
        let e = r.expect_err("AUTH must end the connection");
        assert_eq!(e.code(), code::PROTOCOL);
        assert_eq!(
            p.sent(),
            [Packet::Disconnect(Disconnect::reason(
                reason::PROTOCOL_ERROR
            ))]
        );
    }
}

#[test]
fn v311_sessions_send_no_v5_bytes() {
    // The same commands on a 3.1.1 session: no property lengths anywhere.
    let mut p = Peer::connected(cfg());
    p.publish("t", b"x", QoS::AtLeastOnce);
    p.s.disconnect(p.now).unwrap();
    assert_eq!(p.sent_bytes(), [0x32, 6, 0, 1, b't', 0, 1, b'x', 0xE0, 0]);
}
