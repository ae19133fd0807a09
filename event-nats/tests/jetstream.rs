//! Against the machine's JetStream server (`NATS_URL` overrides
//! 127.0.0.1:4222); each test under its own subject prefix and streams.

mod common;

use common::*;
use event_delivery::{
    ConsumerBuilder, DeadLetterFilter, DeadLetters, HandlerError, InMemoryStore, PublishAsync,
    RetryPolicy,
};
use event_nats::{NatsDeadLetters, NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::{ErrorClass, Publisher};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(20);

async fn setup(
    test: &str,
    topology: Topology,
) -> (event_nats::async_nats::jetstream::Context, Topology) {
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = topology.subjects(Subjects::new(unique_prefix(test)));
    let report = topology.ensure(&js).await.unwrap();
    assert!(report.drift.is_empty(), "{:?}", report.drift);
    (js, topology)
}

fn transport(
    js: &event_nats::async_nats::jetstream::Context,
    topology: &Topology,
) -> NatsTransport {
    NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone())
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .backoff(Duration::from_millis(400), 2)
        .jitter(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_to_three_services_each_gets_every_event() {
    const N: u32 = 20;
    let services = [
        "certificate-service",
        "notification-service",
        "activity-log",
    ];
    let mut topology = Topology::new();
    for s in services {
        topology = topology.consumer::<CertificateInbound>(s);
    }
    let (js, topology) = setup("fanout", topology).await;
    let publisher = Publisher::<EnrollmentService, _>::new(transport(&js, &topology));
    for i in 0..N {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    let mut runs = Vec::new();
    let mut counts = Vec::new();
    for s in services {
        let count = Arc::new(AtomicU32::new(0));
        counts.push(count.clone());
        let consumer = ConsumerBuilder::named(s).handle(move |_e: CertificateInbound| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                Ok::<(), HandlerError>(())
            }
        });
        let sub = NatsSubscriber::new(&js, &topology, s).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        runs.push((
            stop,
            tokio::spawn(sub.run(consumer, async {
                let _ = stopped.await;
            })),
        ));
    }
    assert!(
        until(WAIT, || counts
            .iter()
            .all(|c| c.load(Ordering::SeqCst) >= N))
        .await
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    for (stop, run) in runs {
        stop.send(()).unwrap();
        let stats = run.await.unwrap();
        assert_eq!(stats.processed, u64::from(N));
        assert_eq!(stats.duplicates, 0);
    }
    let handled: Vec<u32> = counts.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    println!("fan-out: {N} published, handled per service {handled:?}");
    assert_eq!(handled, [N, N, N]);
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_publish_inside_the_window_is_stored_once() {
    let (js, topology) = setup(
        "dedup",
        Topology::new().consumer::<CertificateInbound>("certificate-service"),
    )
    .await;
    let publisher = Publisher::<EnrollmentService, _>::new(transport(&js, &topology));
    let event = completed("enr_1", 1);
    for _ in 0..3 {
        publisher.publish(&event).await.unwrap();
    }
    publisher.publish(&completed("enr_2", 2)).await.unwrap();
    let mut stream = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    let stored = stream.info().await.unwrap().state.messages;
    println!("dedup: 4 publishes of 2 event ids, {stored} stored");
    assert_eq!(stored, 2);
    let first = stream.get_raw_message(1).await.unwrap();
    assert_eq!(
        first.subject.as_str(),
        format!(
            "{}.enrollment.completed.v1",
            topology.subject_scheme().prefix()
        )
    );
    assert_eq!(
        first
            .headers
            .get(event_nats::async_nats::header::NATS_MESSAGE_ID)
            .unwrap()
            .as_str(),
        event.id().as_str()
    );
    assert_eq!(&first.payload[..], &event.to_json_vec().unwrap()[..]);
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_is_idempotent_and_reports_a_differing_config_without_overwriting_it() {
    let (js, topology) = setup(
        "ensure",
        Topology::new().consumer::<CertificateInbound>("certificate-service"),
    )
    .await;
    let again = topology.ensure(&js).await.unwrap();
    assert!(again.created.is_empty(), "{:?}", again.created);
    // The event stream, the DLQ stream, the consumer and its retry consumer.
    assert_eq!(again.unchanged.len(), 4, "{:?}", again.unchanged);
    assert!(again.drift.is_empty());

    let changed = topology
        .clone()
        .ack_wait(Duration::from_secs(7))
        .duplicate_window(Duration::from_secs(10));
    let report = changed.ensure(&js).await.unwrap();
    println!("ensure drift: {:#?}", report.drift);
    let fields: Vec<_> = report.drift.iter().map(|d| d.field).collect();
    assert_eq!(
        fields,
        [
            "duplicate_window",
            "duplicate_window",
            "ack_wait",
            "ack_wait"
        ]
    );
    assert!(
        report.drift[2]
            .to_string()
            .contains("ack_wait is deployed as 30s but planned as 7s")
    );
    assert!(report.created.is_empty());
    let stream = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    let info = stream.consumer_info("certificate-service").await.unwrap();
    assert_eq!(
        info.config.ack_wait,
        Duration::from_secs(30),
        "left as deployed"
    );
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_naked_and_redelivered_after_the_policy_delay() {
    let (js, topology) = setup(
        "nak",
        Topology::new().consumer::<CertificateInbound>("certificate-service"),
    )
    .await;
    let calls: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = calls.clone();
    let consumer = ConsumerBuilder::named("certificate-service")
        .retry(fast_retry())
        .handle(move |_e: CertificateInbound| {
            let seen = seen.clone();
            async move {
                let mut calls = seen.lock().unwrap();
                calls.push(Instant::now());
                if calls.len() < 3 {
                    Err(HandlerError::transient("certificate store timed out"))
                } else {
                    Ok(())
                }
            }
        });
    Publisher::<EnrollmentService, _>::new(transport(&js, &topology))
        .publish(&completed("enr_1", 1))
        .await
        .unwrap();
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    assert!(until(WAIT, || calls.lock().unwrap().len() >= 3).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    let stats = run.await.unwrap();
    let calls = calls.lock().unwrap().clone();
    let gap = calls[2] - calls[1];
    println!(
        "nak: {} deliveries, retries {}, second retry after {gap:?}",
        calls.len(),
        stats.retries
    );
    assert_eq!(calls.len(), 3);
    assert_eq!(stats.retries, 2);
    assert_eq!(stats.processed, 1);
    assert!(
        gap >= Duration::from_millis(400),
        "redelivered after {gap:?}, before the nak delay"
    );
    let stream = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    let info = stream.consumer_info("certificate-service").await.unwrap();
    assert_eq!(info.delivered.stream_sequence, 1);
    assert_eq!(info.num_redelivered, 0);
    assert_eq!(info.num_ack_pending, 0, "acked at last");
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_is_termed_to_the_dlq_stream_then_retried_after_a_fix() {
    let (js, topology) = setup(
        "term",
        Topology::new().consumer::<CertificateInbound>("certificate-service"),
    )
    .await;
    let dlq = NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "certificate-service",
    );
    let fixed = Arc::new(AtomicBool::new(false));
    let handled = Arc::new(AtomicU32::new(0));
    let (f, h) = (fixed.clone(), handled.clone());
    let consumer = ConsumerBuilder::named("certificate-service")
        .dead_letters(dlq.clone())
        .retry(fast_retry())
        .handle(move |_e: CertificateInbound| {
            let (f, h) = (f.clone(), h.clone());
            async move {
                if !f.load(Ordering::SeqCst) {
                    return Err(HandlerError::permanent(
                        "course has no certificate template",
                    ));
                }
                h.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
    let publisher = Publisher::<EnrollmentService, _>::new(transport(&js, &topology));
    let events: Vec<_> = (0..3).map(|i| completed(&format!("enr_{i}"), i)).collect();
    for e in &events {
        publisher.publish(e).await.unwrap();
    }
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    assert!(
        until_async(WAIT, || async {
            dlq.depth(&DeadLetterFilter::all()).await.ok() == Some(3)
        })
        .await
    );
    let entries = dlq.list(&DeadLetterFilter::all()).await.unwrap();
    assert_eq!(entries.len(), 3);
    let first = entries
        .iter()
        .find(|e| e.event_id.as_deref() == Some(events[0].id().as_str()))
        .unwrap();
    assert_eq!(first.event_type.as_deref(), Some("enrollment.completed"));
    assert_eq!(first.error, "course has no certificate template");
    assert_eq!(first.class, ErrorClass::Permanent);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.consumer, "certificate-service");
    assert_eq!(first.partition_key.as_deref(), Some("enr_0"));
    assert_eq!(&first.payload[..], &events[0].to_json_vec().unwrap()[..]);
    // The headers on the DLQ stream message itself.
    let raw = js
        .get_stream(topology.subject_scheme().dlq_stream("certificate-service"))
        .await
        .unwrap()
        .get_raw_message(first.id.0)
        .await
        .unwrap();
    assert_eq!(
        raw.headers.get("Event-Dlq-Class").unwrap().as_str(),
        "permanent"
    );
    assert_eq!(raw.headers.get("Event-Dlq-Attempts").unwrap().as_str(), "1");
    // Termed: nothing pending on the event stream.
    let stream = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    let info = stream.consumer_info("certificate-service").await.unwrap();
    assert_eq!(info.num_ack_pending, 0);
    assert_eq!(info.num_pending, 0);

    // Inspect, discard one, fix the handler, retry one, then by type.
    assert_eq!(
        dlq.get(first.id).await.unwrap().unwrap().event_id,
        first.event_id
    );
    let others: Vec<_> = entries.iter().filter(|e| e.id != first.id).collect();
    assert!(dlq.discard(others[1].id).await.unwrap());
    assert!(!dlq.discard(others[1].id).await.unwrap());
    fixed.store(true, Ordering::SeqCst);
    assert!(dlq.retry(first.id).await.unwrap());
    assert!(until(WAIT, || handled.load(Ordering::SeqCst) == 1).await);
    assert_eq!(dlq.retry_type("enrollment.completed").await.unwrap(), 1);
    assert!(until(WAIT, || handled.load(Ordering::SeqCst) == 2).await);
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
    stop.send(()).unwrap();
    let stats = run.await.unwrap();
    println!("term/DLQ: 3 dead-lettered, 1 discarded, 2 retried and handled; stats {stats:?}");
    assert_eq!(stats.dead_lettered, 3);
    assert_eq!(stats.processed, 2);
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_consumer_resumes_from_its_ack_floor_with_nothing_lost() {
    const N: u32 = 40;
    // Messages the stopped instance had pulled but not started come back
    // after the ack wait.
    let (js, topology) = setup(
        "restart",
        Topology::new()
            .consumer::<CertificateInbound>("certificate-service")
            .ack_wait(Duration::from_secs(2)),
    )
    .await;
    let publisher = Publisher::<EnrollmentService, _>::new(transport(&js, &topology));
    for i in 0..N {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    let store = InMemoryStore::new();
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let make = |seen: Arc<Mutex<Vec<u32>>>| {
        ConsumerBuilder::named("certificate-service")
            .store(store.clone())
            .handle(move |e: CertificateInbound| {
                let seen = seen.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    seen.lock().unwrap().push(seq_of(&e).1);
                    Ok::<(), HandlerError>(())
                }
            })
    };
    // First run: stop after some are handled.
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap()
        .concurrency(2);
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(make(seen.clone()), async {
        let _ = stopped.await;
    }));
    assert!(until(WAIT, || seen.lock().unwrap().len() >= 10).await);
    stop.send(()).unwrap();
    let first = run.await.unwrap();
    let floor = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap()
        .consumer_info("certificate-service")
        .await
        .unwrap()
        .ack_floor
        .stream_sequence;
    // Second run, a new subscriber on the same durable consumer.
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(make(seen.clone()), async {
        let _ = stopped.await;
    }));
    assert!(until(WAIT, || seen.lock().unwrap().len() >= N as usize).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    let second = run.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let distinct: HashSet<u32> = seen.iter().copied().collect();
    println!(
        "restart: {N} published, first run handled {}, ack floor {floor}, second run handled {}, {} distinct",
        first.processed,
        second.processed,
        distinct.len()
    );
    assert_eq!(distinct.len(), N as usize, "nothing lost");
    assert_eq!(seen.len(), N as usize, "nothing handled twice");
    assert_eq!(first.processed + second.processed, u64::from(N));
    assert!(
        first.processed < u64::from(N),
        "the first run stopped early"
    );
    assert!(floor >= 1 && floor <= first.processed, "ack floor {floor}");
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_is_the_pending_count_and_the_age_of_the_oldest_pending() {
    let (js, topology) = setup(
        "lag",
        Topology::new().consumer::<CertificateInbound>("certificate-service"),
    )
    .await;
    let mut sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    assert_eq!(sub.record_lag().await.unwrap(), (0, Duration::ZERO));
    let publisher = Publisher::<EnrollmentService, _>::new(transport(&js, &topology));
    for i in 0..5 {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (pending, age) = sub.record_lag().await.unwrap();
    println!("lag: {pending} pending, oldest {age:?}");
    assert_eq!(pending, 5);
    assert!(age >= Duration::from_millis(250), "{age:?}");
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded_by_max_deliver_then_the_dlq() {
    let (js, topology) = setup(
        "maxdeliver",
        Topology::new()
            .consumer::<CertificateInbound>("certificate-service")
            .max_deliver(3),
    )
    .await;
    let dlq = NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "certificate-service",
    );
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let consumer = ConsumerBuilder::named("certificate-service")
        .dead_letters(dlq.clone())
        .retry(fast_retry())
        .handle(move |_e: CertificateInbound| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(HandlerError::transient("still down"))
            }
        });
    Publisher::<EnrollmentService, _>::new(transport(&js, &topology))
        .publish(&completed("enr_1", 1))
        .await
        .unwrap();
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    assert!(
        until_async(WAIT, || async {
            dlq.depth(&DeadLetterFilter::all()).await.ok() == Some(1)
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(()).unwrap();
    run.await.unwrap();
    let entry = &dlq.list(&DeadLetterFilter::all()).await.unwrap()[0];
    println!(
        "max_deliver 2: {} handler runs, dead letter after {} attempts",
        calls.load(Ordering::SeqCst),
        entry.attempts
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(entry.attempts, 2);
    assert_eq!(entry.class, ErrorClass::Transient);
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_holds_while_two_instances_compete() {
    const KEYS: u32 = 3;
    const PER_KEY: u32 = 12;
    let (js, topology) = setup(
        "order",
        Topology::new()
            .consumer::<CertificateInbound>("certificate-service")
            .ordered("certificate-service"),
    )
    .await;
    let publisher = Publisher::<EnrollmentService, _>::new(transport(&js, &topology));
    for seq in 0..PER_KEY {
        for k in 0..KEYS {
            publisher
                .publish(&completed(&format!("enr_{k}"), seq))
                .await
                .unwrap();
        }
    }
    // (instance, key, seq) in the order handlers ran.
    let log: Arc<Mutex<Vec<(u32, String, u32)>>> = Arc::default();
    let store = InMemoryStore::new();
    let mut runs = Vec::new();
    for instance in 0..2u32 {
        let log = log.clone();
        let consumer = ConsumerBuilder::named("certificate-service")
            .store(store.clone())
            .handle(move |e: CertificateInbound| {
                let log = log.clone();
                async move {
                    let (key, seq) = seq_of(&e);
                    // Uneven handler times, so a free-for-all would reorder
                    // (it does: without `ordered` this test fails).
                    tokio::time::sleep(Duration::from_millis(u64::from(
                        (seq * 7 + instance * 3) % 5,
                    )))
                    .await;
                    log.lock().unwrap().push((instance, key, seq));
                    Ok::<(), HandlerError>(())
                }
            });
        let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
            .await
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        runs.push((
            stop,
            tokio::spawn(sub.run(consumer, async {
                let _ = stopped.await;
            })),
        ));
    }
    let total = (KEYS * PER_KEY) as usize;
    assert!(until(WAIT, || log.lock().unwrap().len() >= total).await);
    for (stop, run) in runs {
        stop.send(()).unwrap();
        run.await.unwrap();
    }
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), total);
    let by_instance: Vec<usize> = (0..2)
        .map(|i| log.iter().filter(|(n, _, _)| *n == i).count())
        .collect();
    for k in 0..KEYS {
        let key = format!("enr_{k}");
        let seqs: Vec<u32> = log
            .iter()
            .filter(|(_, kk, _)| *kk == key)
            .map(|(_, _, s)| *s)
            .collect();
        assert_eq!(seqs, (0..PER_KEY).collect::<Vec<_>>(), "order of {key}");
    }
    println!(
        "order: {KEYS} keys x {PER_KEY} events in order per key; handled per instance {by_instance:?}"
    );
    assert!(
        by_instance.iter().all(|n| *n > 0),
        "both instances competed: {by_instance:?}"
    );
    cleanup(&js, &topology).await;
}
