//! rumqttc's side of bench/run.sh: the same workloads as bench/bench_mqttc.c, through
//! rumqttc's synchronous `Client` (a publishing thread) and `Connection` (its event loop,
//! iterated on the main thread), or with `async` first, its fastest configuration: an
//! `AsyncClient` publishing from a task and its `EventLoop` polled on a tokio
//! current-thread runtime (inflight 1000, request channel capacity 1000 in both).
//!
//!   bench-rumqttc [async] CASE HOST PORT COUNT SIZE
//!
//! CASE: pub0 | pub1 | pub2 (publish COUNT messages of SIZE bytes at that QoS, max
//! inflight 1000, until all are written (QoS 0) or acknowledged), recv (subscribe to
//! "flood/COUNT/SIZE", which bench/sink answers with COUNT QoS 0 messages), lat
//! (COUNT sequential round trips through a broker, subscribed to its own topic).
//! Prints one `RESULT key=value ...` line, as the C programs do.

use rumqttc::{AsyncClient, Client, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use std::time::{Duration, Instant};

const INFLIGHT: u16 = 1000;

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The `lat` case's RESULT line from its round-trip times (microseconds).
fn print_latency(count: usize, mut samples: Vec<f64>, cpu: f64) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "RESULT msgs={count} p50={:.1} p99={:.1} max={:.1} cpu={cpu:.6}",
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1]
    );
}

fn usage() -> ! {
    eprintln!("usage: bench-rumqttc [async] pub0|pub1|pub2|recv|lat HOST PORT COUNT SIZE");
    std::process::exit(2);
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let asynchronous = args.get(1).map(String::as_str) == Some("async");
    if asynchronous {
        args.remove(1);
    }
    if args.len() != 6 {
        usage();
    }
    let case = args[1].as_str();
    let host = args[2].clone();
    let port: u16 = args[3].parse().unwrap_or_else(|_| usage());
    let count: usize = args[4].parse().unwrap_or_else(|_| usage());
    let size: usize = args[5].parse().unwrap_or_else(|_| usage());

    let mut opts = MqttOptions::new(format!("bench-rumqttc-{}", std::process::id()), host, port);
    opts.set_keep_alive(Duration::from_secs(60));
    opts.set_clean_session(true);
    opts.set_inflight(INFLIGHT);
    opts.set_max_packet_size(size + 1024, size + 1024);
    if asynchronous {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(run_async(case, opts, count, size));
        return;
    }
    let (client, mut connection) = Client::new(opts, 1000);

    // Wait for CONNACK.
    for ev in connection.iter() {
        match ev {
            Ok(Event::Incoming(Packet::ConnAck(_))) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("bench-rumqttc: connect: {e}");
                std::process::exit(1);
            }
        }
    }

    match case {
        "pub0" | "pub1" | "pub2" => {
            let qos = qos_of(case);
            let payload = vec![b'x'; size];
            let (t0, c0) = (Instant::now(), cpu_seconds());
            let publisher = client.clone();
            let thread = std::thread::spawn(move || {
                for _ in 0..count {
                    publisher
                        .publish("bench/topic", qos, false, &payload[..])
                        .expect("publish");
                }
            });
            let mut done = 0usize;
            for ev in connection.iter() {
                let finished = match ev {
                    Ok(Event::Outgoing(Outgoing::Publish(_))) => qos == QoS::AtMostOnce,
                    Ok(Event::Incoming(Packet::PubAck(_))) => qos == QoS::AtLeastOnce,
                    Ok(Event::Incoming(Packet::PubComp(_))) => qos == QoS::ExactlyOnce,
                    Ok(_) => false,
                    Err(e) => {
                        eprintln!("bench-rumqttc: {e}");
                        std::process::exit(1);
                    }
                };
                if finished {
                    done += 1;
                    if done == count {
                        break;
                    }
                }
            }
            let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
            thread.join().unwrap();
            println!("RESULT msgs={count} secs={secs:.6} cpu={cpu:.6}");
        }
        "recv" => {
            let (t0, c0) = (Instant::now(), cpu_seconds());
            client
                .subscribe(format!("flood/{count}/{size}"), QoS::AtMostOnce)
                .expect("subscribe");
            let mut got = 0usize;
            for ev in connection.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::Publish(_))) => {
                        got += 1;
                        if got == count {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("bench-rumqttc: {e}");
                        std::process::exit(1);
                    }
                }
            }
            let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
            println!("RESULT msgs={count} secs={secs:.6} cpu={cpu:.6}");
        }
        "lat" => {
            let topic = format!("lat/rumqttc/{}", std::process::id());
            let payload = vec![b'x'; size];
            client
                .subscribe(topic.as_str(), QoS::AtMostOnce)
                .expect("subscribe");
            for ev in connection.iter() {
                if let Ok(Event::Incoming(Packet::SubAck(_))) = ev {
                    break;
                }
            }
            // The first tenth (at least one) warms up and is not counted.
            let warmup = (count / 10).max(1);
            let mut samples = Vec::with_capacity(count);
            let (c0, mut t) = (cpu_seconds(), Instant::now());
            client
                .try_publish(topic.as_str(), QoS::AtMostOnce, false, &payload[..])
                .expect("publish");
            let mut n = 0usize;
            for ev in connection.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::Publish(_))) => {
                        if n >= warmup {
                            samples.push(t.elapsed().as_nanos() as f64 / 1000.0);
                        }
                        n += 1;
                        if n == count + warmup {
                            break;
                        }
                        t = Instant::now();
                        client
                            .try_publish(topic.as_str(), QoS::AtMostOnce, false, &payload[..])
                            .expect("publish");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("bench-rumqttc: {e}");
                        std::process::exit(1);
                    }
                }
            }
            print_latency(count, samples, cpu_seconds() - c0);
        }
        _ => usage(),
    }
    let _ = client.disconnect();
    for ev in connection.iter() {
        match ev {
            Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn qos_of(case: &str) -> QoS {
    match case {
        "pub0" => QoS::AtMostOnce,
        "pub1" => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// The next event, or the end of the program on an error.
async fn next(eventloop: &mut EventLoop) -> Event {
    match eventloop.poll().await {
        Ok(ev) => ev,
        Err(e) => {
            eprintln!("bench-rumqttc: {e}");
            std::process::exit(1);
        }
    }
}

/// The same cases through `AsyncClient` and `EventLoop`, on the current-thread runtime.
async fn run_async(case: &str, opts: MqttOptions, count: usize, size: usize) {
    let (client, mut eventloop) = AsyncClient::new(opts, 1000);
    while !matches!(
        next(&mut eventloop).await,
        Event::Incoming(Packet::ConnAck(_))
    ) {}
    let payload = vec![b'x'; size];
    match case {
        "pub0" | "pub1" | "pub2" => {
            let qos = qos_of(case);
            let (t0, c0) = (Instant::now(), cpu_seconds());
            let publisher = client.clone();
            let task = tokio::task::spawn(async move {
                for _ in 0..count {
                    publisher
                        .publish("bench/topic", qos, false, &payload[..])
                        .await
                        .expect("publish");
                }
            });
            let mut done = 0usize;
            while done < count {
                let finished = match next(&mut eventloop).await {
                    Event::Outgoing(Outgoing::Publish(_)) => qos == QoS::AtMostOnce,
                    Event::Incoming(Packet::PubAck(_)) => qos == QoS::AtLeastOnce,
                    Event::Incoming(Packet::PubComp(_)) => qos == QoS::ExactlyOnce,
                    _ => false,
                };
                done += usize::from(finished);
            }
            let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
            task.await.unwrap();
            println!("RESULT msgs={count} secs={secs:.6} cpu={cpu:.6}");
        }
        "recv" => {
            let (t0, c0) = (Instant::now(), cpu_seconds());
            client
                .subscribe(format!("flood/{count}/{size}"), QoS::AtMostOnce)
                .await
                .expect("subscribe");
            let mut got = 0usize;
            while got < count {
                if let Event::Incoming(Packet::Publish(_)) = next(&mut eventloop).await {
                    got += 1;
                }
            }
            let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
            println!("RESULT msgs={count} secs={secs:.6} cpu={cpu:.6}");
        }
        "lat" => {
            let topic = format!("lat/rumqttc-async/{}", std::process::id());
            client
                .subscribe(topic.as_str(), QoS::AtMostOnce)
                .await
                .expect("subscribe");
            while !matches!(
                next(&mut eventloop).await,
                Event::Incoming(Packet::SubAck(_))
            ) {}
            let warmup = (count / 10).max(1);
            let mut samples = Vec::with_capacity(count);
            let (c0, mut t) = (cpu_seconds(), Instant::now());
            client
                .try_publish(topic.as_str(), QoS::AtMostOnce, false, &payload[..])
                .expect("publish");
            let mut n = 0usize;
            while n < count + warmup {
                if let Event::Incoming(Packet::Publish(_)) = next(&mut eventloop).await {
                    if n >= warmup {
                        samples.push(t.elapsed().as_nanos() as f64 / 1000.0);
                    }
                    n += 1;
                    t = Instant::now();
                    if n < count + warmup {
                        client
                            .try_publish(topic.as_str(), QoS::AtMostOnce, false, &payload[..])
                            .expect("publish");
                    }
                }
            }
            print_latency(count, samples, cpu_seconds() - c0);
        }
        _ => usage(),
    }
    let _ = client.disconnect().await;
    loop {
        match eventloop.poll().await {
            Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
