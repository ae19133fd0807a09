//! The in-process bus: fan-out, backpressure, at-most-once, shutdown, and
//! no loss.

mod common;

use common::*;
use event_delivery::{
    Bus, BusError, ConsumerBuilder, DeadLetterFilter, DeadLetters, HandlerError,
    InMemoryDeadLetters, PublishAsync, RetryPolicy,
};
use event_runtime::{Envelope, PublishError, Publisher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

fn counting(
    name: &'static str,
    dlq: InMemoryDeadLetters,
    count: Arc<AtomicU64>,
    fail_every: u32,
) -> event_delivery::Consumer<
    CertificateInbound,
    impl event_delivery::Handler<CertificateInbound, event_delivery::PendingRecords>,
    event_delivery::InMemoryStore,
    InMemoryDeadLetters,
> {
    ConsumerBuilder::named(name)
        .dead_letters(dlq)
        .retry(RetryPolicy::default())
        .handle(move |e: CertificateInbound| {
            let count = count.clone();
            async move {
                let (_, seq) = seq_of(&e);
                tokio::time::sleep(Duration::from_millis(u64::from(seq % 3))).await;
                if fail_every > 0 && seq % fail_every == 0 {
                    return Err(HandlerError::permanent("bad data"));
                }
                if fail_every > 0 && seq % fail_every == 1 {
                    return Err(HandlerError::transient("flaky"));
                }
                count.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })
}

#[tokio::test(start_paused = true)]
async fn every_consumer_service_gets_its_own_copy() {
    let bus = Bus::new();
    let counts: Vec<Arc<AtomicU64>> = (0..3).map(|_| Arc::default()).collect();
    for (name, count) in [
        "certificate-service",
        "notification-service",
        "activity-log",
    ]
    .into_iter()
    .zip(&counts)
    {
        bus.subscribe(counting(name, InMemoryDeadLetters::new(), count.clone(), 0));
    }
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for i in 0..10 {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    bus.shutdown().await;
    for count in &counts {
        assert_eq!(count.load(Ordering::SeqCst), 10);
    }
}

#[tokio::test(start_paused = true)]
async fn no_loss_under_backpressure_published_equals_handled_plus_dead_lettered() {
    const N: u32 = 300;
    let bus = Bus::with_capacity(2);
    let mut consumers = Vec::new();
    for name in [
        "certificate-service",
        "notification-service",
        "gamification-service",
    ] {
        let dlq = InMemoryDeadLetters::new();
        let count = Arc::new(AtomicU64::new(0));
        bus.subscribe(counting(name, dlq.clone(), count.clone(), 5));
        consumers.push((name, dlq, count));
    }
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for i in 0..N {
        publisher
            .publish(&completed(&format!("enr_{}", i % 7), i))
            .await
            .unwrap();
    }
    let report = bus.shutdown().await;
    assert_eq!(report.left, 0);
    for ((name, dlq, count), (reported, stats)) in consumers.iter().zip(&report.consumers) {
        assert_eq!(name, reported);
        let handled = count.load(Ordering::SeqCst);
        let dead = dlq.depth(&DeadLetterFilter::all()).await.unwrap() as u64;
        assert_eq!(handled + dead, u64::from(N), "{name}");
        // Every 5th is permanent; every 5th + 1 transient all 5 attempts.
        assert_eq!(dead, u64::from(2 * N / 5));
        assert_eq!((stats.processed, stats.dead_lettered), (handled, dead));
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_makes_publish_wait_instead_of_dropping() {
    let bus = Bus::with_capacity(1);
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let opened = gate.clone();
    bus.subscribe(
        ConsumerBuilder::named("certificate-service")
            .global_order()
            .handle(move |_e: CertificateInbound| {
                let gate = opened.clone();
                async move {
                    gate.acquire().await.unwrap().forget();
                    Ok::<(), HandlerError>(())
                }
            }),
    );
    let publisher = Arc::new(Publisher::<EnrollmentService, _>::new(bus.clone()));
    let published = Arc::new(AtomicU32::new(0));
    let task = {
        let publisher = publisher.clone();
        let published = published.clone();
        tokio::spawn(async move {
            for i in 0..10 {
                publisher.publish(&completed("enr_1", i)).await.unwrap();
                published.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(60)).await;
    // One in the handler, one in the queue, the third publish waiting: the
    // publisher is held, not failed, and nothing was dropped.
    assert_eq!(published.load(Ordering::SeqCst), 2);
    gate.add_permits(10);
    task.await.unwrap();
    let report = bus.shutdown().await;
    assert_eq!(report.consumers[0].1.processed, 10);
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_queued_and_in_flight_work_including_retries() {
    let bus = Bus::with_capacity(64);
    let dlq = InMemoryDeadLetters::new();
    let count = Arc::new(AtomicU64::new(0));
    bus.subscribe(counting(
        "certificate-service",
        dlq.clone(),
        count.clone(),
        4,
    ));
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for i in 0..50 {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    // At once: most are still queued, some in flight, none retried yet.
    let report = bus.shutdown().await;
    let stats = report.consumers[0].1;
    let dead = dlq.depth(&DeadLetterFilter::all()).await.unwrap() as u64;
    assert_eq!(count.load(Ordering::SeqCst) + dead, 50);
    assert_eq!(stats.settled(), 50);
    // Publishing after shutdown is refused, not dropped.
    let err = publisher
        .publish(&completed("enr_x", 99))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::Transport(BusError::Closed)),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn at_most_once_events_skip_retry_and_the_dead_letter_queue() {
    let bus = Bus::new();
    let dlq = InMemoryDeadLetters::new();
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    bus.subscribe(
        ConsumerBuilder::named("analytics-service")
            .dead_letters(dlq.clone())
            .handle(move |_e: AnalyticsInbound| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    Err::<(), _>(HandlerError::transient("warehouse down"))
                }
            }),
    );
    let event = Envelope::new(PageViewed {
        page: "/courses".into(),
    })
    .tenant("tenant_7f3c")
    .correlation("req_1")
    .build();
    Publisher::<EnrollmentService, _>::new(bus.clone())
        .publish(&event)
        .await
        .unwrap();
    let stats = bus.shutdown().await.consumers[0].1;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        (stats.dropped, stats.retries, stats.dead_lettered),
        (1, 0, 0)
    );
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_publisher_refuses_an_envelope_whose_source_is_another_service() {
    let bus = Bus::new();
    let event = Envelope::new(EnrollmentCompleted {
        enrollment_id: "enr_1".into(),
        seq: 1,
    })
    .source("course-service")
    .tenant("t")
    .correlation("c")
    .build();
    let err = Publisher::<EnrollmentService, _>::new(bus.clone())
        .publish(&event)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "enrollment-service cannot publish an event whose source is course-service: the source of an event is its producer"
    );
}
