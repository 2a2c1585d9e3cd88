//! Incoming PUBLISH flows: acknowledgements wait for the application, QoS 2 exactly once.

use super::harness::*;
use crate::proto::{Packet, ProtocolVersion, QoS};
use crate::session::SessionConfig;

#[test]
fn incoming_qos0_is_delivered_and_not_acknowledged() {
    let mut p = Peer::connected(cfg());
    p.feed_ok(publish_pkt("in/0", b"zero", QoS::AtMostOnce, 0, false));
    assert_eq!(
        p.events(),
        [Event::Message(publish(
            "in/0",
            b"zero",
            QoS::AtMostOnce,
            0,
            false
        ))]
    );
    p.s.delivered(QoS::AtMostOnce, 0);
    assert!(!p.s.wants_write());
}

#[test]
fn incoming_qos1_puback_only_after_delivery() {
    let mut p = Peer::connected(cfg());
    p.feed_ok(publish_pkt("in/1", b"one", QoS::AtLeastOnce, 42, false));
    assert_eq!(
        p.events(),
        [Event::Message(publish(
            "in/1",
            b"one",
            QoS::AtLeastOnce,
            42,
            false
        ))]
    );
    assert!(!p.s.wants_write());
    p.s.delivered(QoS::AtLeastOnce, 42);
    assert_eq!(p.sent_bytes(), [0x40, 2, 0, 42]);
}

#[test]
fn incoming_qos1_duplicates_are_delivered_again() {
    // QoS 1 is at least once: a resend is a new delivery (MQTT-4.3.2).
    let mut p = Peer::connected(cfg());
    p.feed_ok(publish_pkt("t", b"x", QoS::AtLeastOnce, 5, false));
    p.feed_ok(publish_pkt("t", b"x", QoS::AtLeastOnce, 5, true));
    assert_eq!(p.events().len(), 2);
}

#[test]
fn incoming_qos2_delivered_exactly_once() {
    let mut p = Peer::connected(cfg());
    let msg = publish_pkt("in/2", b"two", QoS::ExactlyOnce, 7, false);
    p.feed_ok(msg);
    assert_eq!(
        p.events(),
        [Event::Message(publish(
            "in/2",
            b"two",
            QoS::ExactlyOnce,
            7,
            false
        ))]
    );
    assert!(!p.s.wants_write());
    p.s.delivered(QoS::ExactlyOnce, 7);
    assert_eq!(p.sent_bytes(), [0x50, 2, 0, 7]);
    // The broker did not see PUBREC and resends: acknowledged again, not delivered.
    p.feed_ok(publish_pkt("in/2", b"two", QoS::ExactlyOnce, 7, true));
    assert_eq!(p.events(), []);
    assert_eq!(p.sent(), [pubrec(7)]);
    p.feed_ok(pubrel(7));
    assert_eq!(p.sent_bytes(), [0x70, 2, 0, 7]);
    // Released: the same id now starts a new message.
    p.feed_ok(publish_pkt("in/2", b"again", QoS::ExactlyOnce, 7, false));
    assert_eq!(
        p.events(),
        [Event::Message(publish(
            "in/2",
            b"again",
            QoS::ExactlyOnce,
            7,
            false
        ))]
    );
}

#[test]
fn incoming_qos2_duplicate_before_delivery_confirmation() {
    let mut p = Peer::connected(cfg());
    p.feed_ok(publish_pkt("t", b"x", QoS::ExactlyOnce, 3, false));
    p.feed_ok(publish_pkt("t", b"x", QoS::ExactlyOnce, 3, true));
    assert_eq!(p.events().len(), 1);
    assert_eq!(p.sent(), [pubrec(3)]);
}

#[test]
fn pubrel_for_unknown_id_is_answered() {
    let mut p = Peer::connected(cfg());
    p.feed_ok(pubrel(999));
    assert_eq!(p.sent(), [pubcomp(999)]);
    assert_eq!(p.events(), []);
}

#[test]
fn message_delivered_for_released_qos2_sends_nothing() {
    let mut p = Peer::connected(cfg());
    p.feed_ok(publish_pkt("t", b"x", QoS::ExactlyOnce, 3, false));
    p.feed_ok(publish_pkt("t", b"x", QoS::ExactlyOnce, 3, true));
    p.feed_ok(pubrel(3));
    assert_eq!(p.sent(), [pubrec(3), pubcomp(3)]);
    p.s.delivered(QoS::ExactlyOnce, 3);
    assert!(!p.s.wants_write());
}

#[test]
fn incoming_qos2_state_survives_reconnect_without_clean_session() {
    let mut p = Peer::connected(SessionConfig {
        clean_session: false,
        ..cfg()
    });
    p.feed_ok(publish_pkt("t", b"x", QoS::ExactlyOnce, 9, false));
    assert_eq!(p.events().len(), 1);
    // The connection drops before the application confirmed delivery: no PUBREC now.
    p.s.connection_closed(p.now, 7);
    p.s.delivered(QoS::ExactlyOnce, 9);
    assert!(!p.s.wants_write());
    p.events();
    p.connect_accepted();
    // The broker resends with DUP: acknowledged, not delivered a second time.
    p.feed_ok(publish_pkt("t", b"x", QoS::ExactlyOnce, 9, true));
    assert_eq!(p.events(), []);
    assert_eq!(p.sent(), [pubrec(9)]);
}

#[test]
fn clean_session_forgets_incoming_qos2() {
    let mut p = Peer::connected(cfg());
    p.feed_ok(publish_pkt("t", b"x", QoS::ExactlyOnce, 9, false));
    assert_eq!(p.events().len(), 1);
    p.s.connection_closed(p.now, 7);
    p.events();
    p.connect_accepted();
    // MQTT-3.1.2-6: a new session; id 9 is a new message.
    p.feed_ok(publish_pkt("t", b"y", QoS::ExactlyOnce, 9, false));
    assert_eq!(
        p.events(),
        [Event::Message(publish(
            "t",
            b"y",
            QoS::ExactlyOnce,
            9,
            false
        ))]
    );
    assert!(!p.s.wants_write());
}

#[test]
fn acks_for_incoming_and_outgoing_share_the_output_in_order() {
    let mut p = Peer::connected(cfg());
    p.feed_ok(publish_pkt("t", b"x", QoS::AtLeastOnce, 1, false));
    let mid = p.publish("t", b"y", QoS::AtLeastOnce);
    p.s.delivered(QoS::AtLeastOnce, 1);
    let sent = p.sent();
    assert_eq!(
        sent,
        [
            publish_pkt("t", b"y", QoS::AtLeastOnce, mid, false),
            puback(1)
        ]
    );
    assert!(matches!(sent[1], Packet::PubAck(_)));
}

#[test]
fn inbox_lays_out_topic_nul_payload_and_is_handed_over_whole() {
    let mut p = Peer::connected(cfg());
    let mut bytes = Vec::new();
    for packet in [
        publish_pkt("a/b", b"\x00one\x00", QoS::AtMostOnce, 0, false),
        publish_pkt("c", b"", QoS::AtLeastOnce, 3, false),
    ] {
        crate::proto::encode(&packet, ProtocolVersion::V311, &mut bytes).unwrap();
    }
    // Split inside the second packet: it is completed from the partial-packet buffer.
    p.s.handle_bytes(p.now, &bytes[..bytes.len() - 2]).unwrap();
    p.s.handle_bytes(p.now, &bytes[bytes.len() - 2..]).unwrap();
    let mut messages = Vec::new();
    while let Some(ev) = p.s.poll_event() {
        match ev {
            crate::session::Event::Message(m) => messages.push(m),
            other => panic!("{other:?}"),
        }
    }
    let inbox = p.s.take_inbox(crate::session::Inbox::new());
    assert!(p.s.inbox().is_empty());
    assert_eq!(inbox.topic_with_nul(&messages[0]), b"a/b\0");
    assert_eq!(inbox.topic(&messages[0]), "a/b");
    assert_eq!(inbox.payload(&messages[0]), b"\x00one\x00");
    // Payloads are aligned as malloc'd ones are (the buffer itself comes from malloc).
    for m in &messages {
        let at = inbox.payload(m).as_ptr() as usize;
        assert_eq!(at % crate::session::inbox::PAYLOAD_ALIGN, 0);
    }
    assert_eq!(inbox.topic_with_nul(&messages[1]), b"c\0");
    assert_eq!(inbox.payload(&messages[1]), b"");
    assert_eq!((messages[1].qos, messages[1].pkid), (QoS::AtLeastOnce, 3));
    // The next message goes to the fresh inbox.
    p.feed_ok(publish_pkt("d", b"4", QoS::AtMostOnce, 0, false));
    let Some(crate::session::Event::Message(m)) = p.s.poll_event() else {
        panic!("no message");
    };
    assert_eq!(p.s.inbox().topic_with_nul(&m), b"d\0");
    assert_eq!(p.s.inbox().payload(&m), b"4");
}
