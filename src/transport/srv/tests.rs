//! SRV ordering with a fixed random sequence, answer parsing, and a lookup against a
//! tiny DNS responder on loopback.

use super::*;
use domain::base::Ttl;
use std::net::UdpSocket;
use std::thread;

fn t(priority: u16, weight: u16, host: &str) -> Target {
    Target {
        priority,
        weight,
        port: 1883,
        host: host.to_string(),
    }
}

fn hosts(v: &[Target]) -> Vec<&str> {
    v.iter().map(|t| t.host.as_str()).collect()
}

#[test]
fn lower_priority_first_whatever_the_weights() {
    let recs = vec![t(20, 100, "c"), t(10, 0, "a"), t(30, 5, "d"), t(10, 0, "b")];
    let out = order(recs, &mut |_| 0);
    let h = hosts(&out);
    assert_eq!(&h[2..], &["c", "d"]);
    assert!(h[..2].contains(&"a") && h[..2].contains(&"b"));
}

#[test]
fn weighted_pick_follows_running_sums() {
    // Weights 10, 30, 60 (running sums 10, 40, 100). r = 0..=10 picks the first,
    // 11..=40 the second, 41..=100 the third (RFC 2782 selection).
    let recs = || vec![t(1, 10, "w10"), t(1, 30, "w30"), t(1, 60, "w60")];
    let first = |r: u32| {
        let mut calls = 0;
        let out = order(recs(), &mut |total| {
            calls += 1;
            if calls == 1 {
                assert_eq!(total, 100);
                r
            } else {
                0
            }
        });
        out[0].host.clone()
    };
    assert_eq!(first(0), "w10");
    assert_eq!(first(10), "w10");
    assert_eq!(first(11), "w30");
    assert_eq!(first(40), "w30");
    assert_eq!(first(41), "w60");
    assert_eq!(first(100), "w60");
}

#[test]
fn remaining_weights_shrink_after_each_pick() {
    let recs = vec![t(1, 10, "w10"), t(1, 30, "w30"), t(1, 60, "w60")];
    let mut totals = Vec::new();
    // Always the largest number: picks the last of what remains each time.
    let out = order(recs, &mut |total| {
        totals.push(total);
        total
    });
    assert_eq!(hosts(&out), ["w60", "w30", "w10"]);
    assert_eq!(totals, [100, 40, 10]);
}

#[test]
fn zero_weight_records_come_first_in_the_draw() {
    // With r = 0 the first record of the list is taken: the weight-0 one.
    let recs = vec![t(1, 5, "heavy"), t(1, 0, "zero")];
    let out = order(recs, &mut |_| 0);
    assert_eq!(hosts(&out), ["zero", "heavy"]);
    let recs = vec![t(1, 5, "heavy"), t(1, 0, "zero")];
    let out = order(recs, &mut |total| total);
    assert_eq!(hosts(&out), ["heavy", "zero"]);
}

#[test]
fn the_real_rng_visits_heavier_targets_first_more_often() {
    let mut rng = Rng(12345);
    let mut heavy_first = 0;
    for _ in 0..1000 {
        let out = order(vec![t(1, 90, "heavy"), t(1, 10, "light")], &mut |n| {
            rng.below_or_equal(n)
        });
        if out[0].host == "heavy" {
            heavy_first += 1;
        }
    }
    assert!((800..=980).contains(&heavy_first), "{heavy_first}");
}

#[test]
fn service_names() {
    assert_eq!(service_name("example.com", false), "_mqtt._tcp.example.com");
    assert_eq!(
        service_name("example.com.", true),
        "_secure-mqtt._tcp.example.com"
    );
}

#[test]
fn server_addresses() {
    assert_eq!(
        parse_server("127.0.0.1:5353"),
        Some("127.0.0.1:5353".parse().unwrap())
    );
    assert_eq!(
        parse_server("10.0.0.1"),
        Some("10.0.0.1:53".parse().unwrap())
    );
    assert_eq!(
        parse_server("[::1]:5353"),
        Some("[::1]:5353".parse().unwrap())
    );
    assert_eq!(parse_server("::1"), Some("[::1]:53".parse().unwrap()));
    assert_eq!(parse_server("nonsense"), None);
}

#[test]
fn domain_from_resolv_conf_entries() {
    assert_eq!(
        domain_from_resolv_conf("nameserver 1.1.1.1\nsearch a.example b.example\n"),
        Some("a.example".to_string())
    );
    assert_eq!(
        domain_from_resolv_conf("search a.example\ndomain d.example.\n"),
        Some("d.example".to_string())
    );
    assert_eq!(domain_from_resolv_conf("nameserver 1.1.1.1\n"), None);
}

/// An answer to `query` holding `records` (name, priority, weight, port, target).
fn answer(query: &[u8], rcode: Rcode, records: &[(u16, u16, u16, &str)]) -> Vec<u8> {
    let q = Message::from_octets(query).unwrap();
    let question = q.sole_question().unwrap();
    let mut b = MessageBuilder::new_vec().start_answer(&q, rcode).unwrap();
    for (prio, weight, port, target) in records {
        let target: Name<Vec<u8>> = Name::vec_from_str(target).unwrap();
        b.push((
            question.qname(),
            Ttl::from_secs(60),
            Srv::new(*prio, *weight, *port, target),
        ))
        .unwrap();
    }
    b.finish()
}

#[test]
fn parses_srv_answers() {
    let qname: Name<Vec<u8>> = Name::vec_from_str("_mqtt._tcp.example.test").unwrap();
    let query = build_query(&qname, 7);
    let bytes = answer(
        &query,
        Rcode::NOERROR,
        &[
            (10, 5, 1883, "b1.example.test."),
            (20, 0, 8883, "b2.example.test."),
        ],
    );
    let recs = parse_answer(&bytes).ok().unwrap();
    assert_eq!(
        recs,
        vec![
            Target {
                priority: 10,
                weight: 5,
                port: 1883,
                host: "b1.example.test".into()
            },
            Target {
                priority: 20,
                weight: 0,
                port: 8883,
                host: "b2.example.test".into()
            },
        ]
    );
    let nx = answer(&query, Rcode::NXDOMAIN, &[]);
    assert!(matches!(parse_answer(&nx), Err(Answer::NoSuchName)));
    let fail = answer(&query, Rcode::SERVFAIL, &[]);
    assert!(matches!(parse_answer(&fail), Err(Answer::Failed(_))));
}

/// Answers `n` queries on a loopback UDP socket; the first `truncate` of them come
/// back truncated (TC set, no records), so the client retries over TCP on the same
/// port, where a listener answers in full.
fn responder(records: Vec<(u16, u16, u16, String)>, truncate: bool) -> SocketAddr {
    // A free UDP port whose TCP twin is free too (a busy machine may hold it).
    let (udp, addr, tcp) = (0..100)
        .find_map(|_| {
            let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
            let addr = udp.local_addr().ok()?;
            let tcp = std::net::TcpListener::bind(addr).ok()?;
            Some((udp, addr, tcp))
        })
        .expect("no UDP port with a free TCP twin on 127.0.0.1");
    let recs = records.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        if let Ok((n, peer)) = udp.recv_from(&mut buf) {
            let r: Vec<(u16, u16, u16, &str)> = recs
                .iter()
                .map(|(a, b, c, d)| (*a, *b, *c, d.as_str()))
                .collect();
            let mut reply = if truncate {
                answer(&buf[..n], Rcode::NOERROR, &[])
            } else {
                answer(&buf[..n], Rcode::NOERROR, &r)
            };
            if truncate {
                reply[2] |= 0x02; // TC
            }
            let _ = udp.send_to(&reply, peer);
        }
    });
    if truncate {
        thread::spawn(move || {
            if let Ok((mut s, _)) = tcp.accept() {
                let mut len = [0u8; 2];
                s.read_exact(&mut len).unwrap();
                let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                s.read_exact(&mut q).unwrap();
                let r: Vec<(u16, u16, u16, &str)> = records
                    .iter()
                    .map(|(a, b, c, d)| (*a, *b, *c, d.as_str()))
                    .collect();
                let reply = answer(&q, Rcode::NOERROR, &r);
                s.write_all(&(reply.len() as u16).to_be_bytes()).unwrap();
                s.write_all(&reply).unwrap();
            }
        });
    }
    addr
}

#[test]
fn lookup_over_udp() {
    let server = responder(vec![(1, 1, 1234, "broker.example.test.".into())], false);
    let deadline = Instant::now() + Duration::from_secs(5);
    let recs = lookup("_mqtt._tcp.example.test", &[server], deadline).unwrap();
    assert_eq!(hosts(&recs), ["broker.example.test"]);
    assert_eq!(recs[0].port, 1234);
}

#[test]
fn truncated_answer_is_retried_over_tcp() {
    let server = responder(
        vec![
            (1, 1, 1111, "a.example.test.".into()),
            (2, 1, 2222, "b.example.test.".into()),
        ],
        true,
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let recs = lookup("_mqtt._tcp.example.test", &[server], deadline).unwrap();
    assert_eq!(recs.len(), 2);
}

#[test]
fn silent_server_times_out_with_errno() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = udp.local_addr().unwrap();
    let deadline = Instant::now() + Duration::from_millis(300);
    let started = Instant::now();
    let e = lookup("_mqtt._tcp.example.test", &[server], deadline).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(e.error, Error::Io(ref io) if io.raw_os_error() == Some(libc::ETIMEDOUT)));
    drop(udp);
}
