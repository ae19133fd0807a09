//! Every retry path with its delays, on tokio's paused clock.

mod common;

use common::*;
use event_delivery::{
    Bus, DeadLetterFilter, DeadLetters, HandlerError, InMemoryDeadLetters, PublishAsync,
    RetryPolicy, consumer,
};
use event_runtime::{ErrorClass, Publisher};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Runs one event through a consumer whose handler answers with `outcome`
/// on each call (by call number, 1-based); returns the offsets of the calls
/// from the publish and the dead letter queue.
async fn run_one(
    policy: RetryPolicy,
    outcome: impl Fn(u32) -> Result<(), HandlerError> + Send + Sync + 'static,
) -> (
    Vec<Duration>,
    InMemoryDeadLetters,
    event_delivery::ConsumerStats,
) {
    let bus = Bus::new();
    let dlq = InMemoryDeadLetters::new();
    let calls: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = calls.clone();
    let outcome = Arc::new(outcome);
    let certificates = consumer::<CertificateService>()
        .retry(policy)
        .dead_letters(dlq.clone())
        .handle(move |_event: CertificateInbound| {
            let seen = seen.clone();
            let outcome = outcome.clone();
            async move {
                let n = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(Instant::now());
                    seen.len() as u32
                };
                outcome(n)
            }
        });
    bus.subscribe(certificates);
    let start = Instant::now();
    Publisher::<EnrollmentService, _>::new(bus.clone())
        .publish(&completed("enr_1", 1))
        .await
        .unwrap();
    let report = bus.shutdown().await;
    let offsets = calls.lock().unwrap().iter().map(|t| *t - start).collect();
    (offsets, dlq, report.consumers[0].1)
}

fn gaps(offsets: &[Duration]) -> Vec<Duration> {
    offsets.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn transient_retries_at_once_then_5s_30s_3min_then_dead_letters_after_5_attempts() {
    let (offsets, dlq, stats) = run_one(RetryPolicy::default().jitter(0.0), |_| {
        Err(HandlerError::transient("renderer answered 503"))
    })
    .await;
    assert_eq!(
        gaps(&offsets),
        [
            Duration::ZERO,
            Duration::from_secs(5),
            Duration::from_secs(30),
            Duration::from_secs(180)
        ]
    );
    assert_eq!(stats.retries, 4);
    assert_eq!(stats.dead_lettered, 1);
    let entries = dlq.list(&DeadLetterFilter::all()).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].attempts, 5);
    assert_eq!(entries[0].class, ErrorClass::Transient);
    assert_eq!(entries[0].error, "renderer answered 503");
    assert!(entries[0].first_failure <= entries[0].last_failure);
}

#[tokio::test(start_paused = true)]
async fn jitter_adds_at_most_its_fraction_to_each_delay() {
    let (offsets, _, stats) = run_one(RetryPolicy::default().jitter(0.2), |_| {
        Err(HandlerError::transient("timeout"))
    })
    .await;
    let gaps = gaps(&offsets);
    assert_eq!(gaps.len(), 4);
    assert_eq!(gaps[0], Duration::ZERO);
    for (gap, base) in gaps[1..].iter().zip([5u64, 30, 180]) {
        let base = Duration::from_secs(base);
        assert!(
            *gap >= base && *gap <= base.mul_f64(1.2),
            "{gap:?} vs {base:?}"
        );
    }
    assert_eq!(stats.dead_lettered, 1);
}

#[tokio::test(start_paused = true)]
async fn transient_twice_then_success_is_processed_without_dead_letter() {
    let (offsets, dlq, stats) = run_one(RetryPolicy::default().jitter(0.0), |n| {
        if n <= 2 {
            Err(HandlerError::transient("connection reset"))
        } else {
            Ok(())
        }
    })
    .await;
    assert_eq!(gaps(&offsets), [Duration::ZERO, Duration::from_secs(5)]);
    assert_eq!((stats.processed, stats.dead_lettered), (1, 0));
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn permanent_goes_straight_to_the_dead_letter_queue() {
    let (offsets, dlq, stats) = run_one(RetryPolicy::default(), |_| {
        Err(HandlerError::permanent("enrollment enr_1 not found"))
    })
    .await;
    assert_eq!(offsets.len(), 1);
    assert_eq!(stats.retries, 0);
    let entry = &dlq.list(&DeadLetterFilter::all()).await.unwrap()[0];
    assert_eq!((entry.attempts, entry.class), (1, ErrorClass::Permanent));
}

#[tokio::test(start_paused = true)]
async fn unknown_is_retried_once_at_once_then_dead_lettered() {
    let (offsets, dlq, _) = run_one(RetryPolicy::default(), |_| {
        Err(HandlerError::unknown("something odd"))
    })
    .await;
    assert_eq!(gaps(&offsets), [Duration::ZERO]);
    let entry = &dlq.list(&DeadLetterFilter::all()).await.unwrap()[0];
    assert_eq!((entry.attempts, entry.class), (2, ErrorClass::Unknown));
}

#[tokio::test(start_paused = true)]
async fn a_policy_is_configurable_per_consumer() {
    let (offsets, _, _) = run_one(
        RetryPolicy::default()
            .transient_attempts(3)
            .backoff(Duration::from_secs(1), 2)
            .jitter(0.0),
        |_| Err(HandlerError::transient("timeout")),
    )
    .await;
    assert_eq!(gaps(&offsets), [Duration::ZERO, Duration::from_secs(1)]);
}
