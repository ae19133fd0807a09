//! The pipeline's metrics, read through the facade after real deliveries
//! on the in-process bus. Each test installs its own recorder on its
//! thread (the tests run on tokio's current-thread runtime), so the series
//! of one test are not mixed with another's.

mod common;

use common::*;
use event_delivery::summary::SummaryRecorder;
use event_delivery::{
    Bus, CircuitBreaker, ConsumerBuilder, DeadLetterFilter, DeadLetters, HandlerError,
    InMemoryDeadLetters, PublishAsync, RetryPolicy, consumer,
};
use event_runtime::{Envelope, OffsetDateTime, Publisher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn published_consumed_by_outcome_latency_retries_dlq_depth_and_breaker_state() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);

    let bus = Bus::new();
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let flaky = Arc::new(AtomicU32::new(0));
    bus.subscribe(
        consumer::<CertificateService>()
            .retry(RetryPolicy::default().jitter(0.0))
            .circuit_breaker(CircuitBreaker::default())
            .handle(move |e: CertificateInbound| {
                let counted = counted.clone();
                let flaky = flaky.clone();
                async move {
                    let (_, seq) = seq_of(&e);
                    counted.fetch_add(1, Ordering::SeqCst);
                    match seq {
                        0 => Err(HandlerError::permanent("no such course")),
                        // Fails twice, then succeeds.
                        1 if flaky.fetch_add(1, Ordering::SeqCst) < 2 => {
                            Err(HandlerError::transient("timeout"))
                        }
                        _ => Ok(()),
                    }
                }
            }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    publisher.publish(&completed("enr_0", 0)).await.unwrap();
    publisher.publish(&completed("enr_0", 0)).await.unwrap();
    publisher.publish(&completed("enr_1", 1)).await.unwrap();
    let dup = completed("enr_2", 2);
    publisher.publish(&dup).await.unwrap();
    publisher.publish(&dup).await.unwrap();
    bus.shutdown().await;

    let c = |s: &str| recorder.counter(s);
    assert_eq!(
        c("events_published_total{type=\"enrollment.completed\",version=\"1.0\"}"),
        Some(5)
    );
    let consumed = |outcome: &str| {
        c(&format!(
            "events_consumed_total{{consumer=\"certificate-service\",outcome=\"{outcome}\",type=\"enrollment.completed\"}}"
        ))
    };
    assert_eq!(consumed("processed"), Some(2));
    assert_eq!(consumed("duplicate"), Some(1));
    // Each failed attempt that is tried again counts once.
    assert_eq!(consumed("retried"), Some(2));
    assert_eq!(consumed("dead_lettered"), Some(2));
    assert_eq!(consumed("skipped"), None);
    // Every attempt has exactly one outcome: 7 handler runs and a
    // duplicate that never reached the handler.
    let attempts: u64 = ["processed", "duplicate", "retried", "dead_lettered"]
        .iter()
        .map(|o| consumed(o).unwrap())
        .sum();
    assert_eq!(attempts, u64::from(calls.load(Ordering::SeqCst)) + 1);
    assert_eq!(
        c(
            "event_retries_total{class=\"transient\",consumer=\"certificate-service\",type=\"enrollment.completed\"}"
        ),
        Some(2)
    );
    assert_eq!(
        recorder.gauge(
            "event_dead_letters{consumer=\"certificate-service\",type=\"enrollment.completed\"}"
        ),
        Some(2.0)
    );
    assert_eq!(
        recorder.gauge("event_circuit_breaker_state{consumer=\"certificate-service\"}"),
        Some(0.0)
    );
    let latency = recorder
        .histogram("event_handler_duration_seconds{consumer=\"certificate-service\",type=\"enrollment.completed\"}")
        .unwrap();
    assert_eq!(latency.len() as u32, calls.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn published_by_type_and_version() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);

    let bus = Bus::new();
    bus.subscribe(
        ConsumerBuilder::named("grading-service")
            .handle(|_: BothMajorsInbound| async { Ok::<(), HandlerError>(()) }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    publisher.publish(&completed("enr_1", 1)).await.unwrap();
    for grade in ["A", "B"] {
        let v2 = Envelope::new(EnrollmentCompletedV2 {
            enrollment_id: "enr_2".into(),
            grade: grade.into(),
        })
        .tenant("tenant_7f3c")
        .correlation("req_1")
        .build();
        publisher.publish(&v2).await.unwrap();
    }
    bus.shutdown().await;

    let published = |version: &str| {
        recorder.counter(&format!(
            "events_published_total{{type=\"enrollment.completed\",version=\"{version}\"}}"
        ))
    };
    assert_eq!(published("1.0"), Some(1));
    assert_eq!(published("2.0"), Some(2));
    assert_eq!(
        recorder.counter(
            "events_consumed_total{consumer=\"grading-service\",outcome=\"processed\",type=\"enrollment.completed\"}"
        ),
        Some(3)
    );
}

#[tokio::test(start_paused = true)]
async fn lag_is_the_age_of_the_event_at_handling() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);

    let bus = Bus::new();
    bus.subscribe(
        consumer::<CertificateService>()
            .handle(|_: CertificateInbound| async { Ok::<(), HandlerError>(()) }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    let stamped = |ago: Duration| {
        Envelope::new(EnrollmentCompleted {
            enrollment_id: "enr_1".into(),
            seq: 1,
        })
        .timestamp(OffsetDateTime::now_utc() - ago)
        .tenant("tenant_7f3c")
        .correlation("req_1")
        .build()
    };
    let lag = || {
        recorder
            .gauge("event_consumer_lag_seconds{consumer=\"certificate-service\",type=\"enrollment.completed\"}")
    };
    // Ten minutes behind: the gauge reads the event's age.
    publisher
        .publish(&stamped(Duration::from_secs(600)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let behind = lag().expect("the lag gauge is set at the first delivery");
    assert!((600.0..660.0).contains(&behind), "lag {behind}");
    // Caught up: the next delivery sets it again.
    publisher
        .publish(&stamped(Duration::from_secs(3)))
        .await
        .unwrap();
    bus.shutdown().await;
    let caught_up = lag().unwrap();
    assert!((3.0..63.0).contains(&caught_up), "lag {caught_up}");
    // A timestamp ahead of the consumer's clock is not negative lag.
    let bus = Bus::new();
    bus.subscribe(
        consumer::<CertificateService>()
            .handle(|_: CertificateInbound| async { Ok::<(), HandlerError>(()) }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    let ahead = Envelope::new(EnrollmentCompleted {
        enrollment_id: "enr_9".into(),
        seq: 9,
    })
    .timestamp(OffsetDateTime::now_utc() + Duration::from_secs(3600))
    .tenant("tenant_7f3c")
    .correlation("req_1")
    .build();
    publisher.publish(&ahead).await.unwrap();
    bus.shutdown().await;
    assert_eq!(lag(), Some(0.0));
}

#[tokio::test(start_paused = true)]
async fn at_most_once_failures_and_unknown_types_are_skipped() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);

    let bus = Bus::new();
    bus.subscribe(ConsumerBuilder::named("analytics-service").handle(
        |_: AnalyticsInbound| async { Err::<(), _>(HandlerError::transient("warehouse down")) },
    ));
    bus.subscribe(
        ConsumerBuilder::named("everything-service")
            .handle(|_: AnalyticsInbound| async { Ok::<(), HandlerError>(()) }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    let viewed = Envelope::new(PageViewed {
        page: "/courses".into(),
    })
    .tenant("tenant_7f3c")
    .correlation("req_1")
    .build();
    publisher.publish(&viewed).await.unwrap();
    // A type neither consumer has a contract for, retried into one of them.
    let dead_letters = InMemoryDeadLetters::new();
    dead_letters
        .put(event_delivery::DeadLetter {
            id: event_delivery::DeadLetterId(0),
            payload: Arc::from(
                completed("enr_1", 1)
                    .to_json_vec()
                    .unwrap()
                    .into_boxed_slice(),
            ),
            partition_key: None,
            event_id: None,
            event_type: Some("enrollment.completed".into()),
            version: None,
            tenant_id: None,
            consumer: "everything-service".into(),
            error: "moved here by an operator".into(),
            class: event_runtime::ErrorClass::Permanent,
            attempts: 1,
            first_failure: OffsetDateTime::now_utc(),
            last_failure: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let retried = bus
        .retry_dead_letters(&dead_letters, "everything-service", "enrollment.completed")
        .await
        .unwrap();
    assert_eq!(retried, 1);
    bus.shutdown().await;

    assert_eq!(
        recorder.counter(
            "events_consumed_total{consumer=\"analytics-service\",outcome=\"skipped\",type=\"page.viewed\"}"
        ),
        Some(1)
    );
    assert_eq!(
        recorder.counter(
            "events_consumed_total{consumer=\"analytics-service\",outcome=\"retried\",type=\"page.viewed\"}"
        ),
        None
    );
    assert_eq!(
        recorder.counter(
            "events_consumed_total{consumer=\"everything-service\",outcome=\"skipped\",type=\"unknown\"}"
        ),
        Some(1)
    );
    assert_eq!(
        recorder.counter(
            "events_consumed_total{consumer=\"everything-service\",outcome=\"processed\",type=\"page.viewed\"}"
        ),
        Some(1)
    );
}

#[tokio::test(start_paused = true)]
async fn dead_letter_depth_per_consumer_and_type_follows_retries() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);

    let bus = Bus::new();
    let dead_letters = InMemoryDeadLetters::new();
    let fixed = Arc::new(AtomicBool::new(false));
    let deployed = fixed.clone();
    bus.subscribe(
        ConsumerBuilder::named("grading-service")
            .dead_letters(dead_letters.clone())
            .handle(move |e: BothMajorsInbound| {
                let fixed = deployed.clone();
                async move {
                    match e {
                        BothMajorsInbound::EnrollmentCompletedV2(_)
                            if !fixed.load(Ordering::SeqCst) =>
                        {
                            Err(HandlerError::permanent("no grade scale"))
                        }
                        _ => Ok(()),
                    }
                }
            }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for grade in ["A", "B", "C"] {
        let v2 = Envelope::new(EnrollmentCompletedV2 {
            enrollment_id: format!("enr_{grade}"),
            grade: grade.into(),
        })
        .tenant("tenant_7f3c")
        .correlation("req_1")
        .build();
        publisher.publish(&v2).await.unwrap();
    }
    // Unreadable bytes: dead-lettered under the type `unknown`.
    let gauge = |t: &str| {
        recorder.gauge(&format!(
            "event_dead_letters{{consumer=\"grading-service\",type=\"{t}\"}}"
        ))
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(gauge("enrollment.completed"), Some(3.0));
    assert_eq!(
        dead_letters
            .depth(&DeadLetterFilter::all().consumer("grading-service"))
            .await
            .unwrap(),
        3
    );
    let garbage = event_delivery::DeadLetter {
        id: event_delivery::DeadLetterId(0),
        payload: Arc::from(&b"not json"[..]),
        partition_key: None,
        event_id: None,
        event_type: None,
        version: None,
        tenant_id: None,
        consumer: "grading-service".into(),
        error: "unreadable".into(),
        class: event_runtime::ErrorClass::Permanent,
        attempts: 1,
        first_failure: OffsetDateTime::now_utc(),
        last_failure: OffsetDateTime::now_utc(),
    };
    let garbage = dead_letters.put(garbage).await.unwrap();
    // Retried to the same consumer, still unreadable: back in the queue,
    // and counted under `unknown` beside the three of a known type.
    assert!(bus.retry_dead_letter(&dead_letters, garbage).await.unwrap());
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(gauge("unknown"), Some(1.0));
    assert_eq!(gauge("enrollment.completed"), Some(3.0));
    assert_eq!(
        recorder.counter(
            "events_consumed_total{consumer=\"grading-service\",outcome=\"dead_lettered\",type=\"unknown\"}"
        ),
        Some(1)
    );
    // The fix is deployed and the type retried: its depth goes to 0.
    fixed.store(true, Ordering::SeqCst);
    let retried = bus
        .retry_dead_letters(&dead_letters, "grading-service", "enrollment.completed")
        .await
        .unwrap();
    assert_eq!(retried, 3);
    assert_eq!(gauge("enrollment.completed"), Some(0.0));
    bus.shutdown().await;
    assert_eq!(gauge("enrollment.completed"), Some(0.0));
    assert_eq!(gauge("unknown"), Some(1.0));
}

/// An entry taken out of the queue behind the consumer's back (an operator
/// in another process, here a second handle on the same queue) shows in the
/// gauge at the next reading, not only when the consumer itself adds or
/// retries one.
#[tokio::test(start_paused = true)]
async fn dead_letter_depth_is_read_again_while_the_consumer_runs() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);

    let bus = Bus::new();
    let dead_letters = InMemoryDeadLetters::new();
    bus.subscribe(
        consumer::<CertificateService>()
            .dead_letters(dead_letters.clone())
            .dead_letter_depth_every(Duration::from_secs(10))
            .handle(|_e: CertificateInbound| async {
                Err::<(), _>(HandlerError::permanent("no template"))
            }),
    );
    let gauge = |t: &str| {
        recorder.gauge(&format!(
            "event_dead_letters{{consumer=\"certificate-service\",type=\"{t}\"}}"
        ))
    };
    // Read at the start: nothing yet, of any type.
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(gauge("enrollment.completed"), Some(0.0));
    assert_eq!(gauge("unknown"), Some(0.0));

    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    publisher.publish(&completed("enr_1", 1)).await.unwrap();
    publisher.publish(&completed("enr_2", 2)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(gauge("enrollment.completed"), Some(2.0));

    // Discarded elsewhere: the gauge still says 2 until the next reading.
    let operator = dead_letters.clone();
    let first = operator
        .list(&DeadLetterFilter::all())
        .await
        .unwrap()
        .first()
        .map(|e| e.id)
        .expect("a dead letter");
    assert!(operator.take(first).await.unwrap().is_some());
    assert_eq!(gauge("enrollment.completed"), Some(2.0));
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(gauge("enrollment.completed"), Some(1.0));
    bus.shutdown().await;
}
