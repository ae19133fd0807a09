//! The pipeline's metrics, read through the facade.

mod common;

use common::*;
use event_delivery::summary::SummaryRecorder;
use event_delivery::{Bus, CircuitBreaker, HandlerError, PublishAsync, RetryPolicy, consumer};
use event_runtime::Publisher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[tokio::test(start_paused = true)]
async fn published_consumed_by_outcome_latency_retries_dlq_depth_and_breaker_state() {
    let recorder = SummaryRecorder::new();
    metrics::set_global_recorder(recorder.clone()).unwrap();

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
        c("events_published_total{type=\"enrollment.completed\"}"),
        Some(5)
    );
    let consumed = |outcome: &str| {
        c(&format!(
            "events_consumed_total{{consumer=\"certificate-service\",outcome=\"{outcome}\",type=\"enrollment.completed\"}}"
        ))
    };
    assert_eq!(consumed("processed"), Some(2));
    assert_eq!(consumed("duplicate"), Some(1));
    assert_eq!(consumed("dead_lettered"), Some(2));
    assert_eq!(
        c(
            "event_retries_total{class=\"transient\",consumer=\"certificate-service\",type=\"enrollment.completed\"}"
        ),
        Some(2)
    );
    assert_eq!(
        recorder.gauge("event_dead_letters{consumer=\"certificate-service\"}"),
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
