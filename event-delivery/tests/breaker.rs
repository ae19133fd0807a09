//! Circuit breaker transitions, and a consumer behind an open breaker.

mod common;

use common::*;
use event_delivery::{
    Admission, BreakerState, Bus, CircuitBreaker, HandlerError, PublishAsync, RetryPolicy, consumer,
};
use event_runtime::Publisher;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn closed_open_half_open_one_probe_then_open_again_or_closed() {
    let breaker = CircuitBreaker::default();
    // 5 failures of 10 is not over 50 %.
    for ok in [true, false].repeat(5) {
        breaker.record(ok, false);
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    // The window slides: the 11th outcome, a failure, pushes out the oldest
    // (a success) and makes it 6 of 10.
    breaker.record(false, false);
    assert_eq!(breaker.state(), BreakerState::Open);
    assert!(matches!(breaker.admit(), Admission::Wait(Some(_))));

    tokio::time::advance(Duration::from_secs(29)).await;
    assert_eq!(breaker.state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert_eq!(breaker.admit(), Admission::Probe);
    assert_eq!(breaker.admit(), Admission::Wait(None), "one probe only");

    breaker.record(false, true);
    assert_eq!(breaker.state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(breaker.admit(), Admission::Probe);
    breaker.record(true, true);
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.admit(), Admission::Pass);
    // Closed again with an empty window: one failure does not reopen it.
    breaker.record(false, false);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn fewer_than_ten_events_never_open_it() {
    let breaker = CircuitBreaker::default();
    for _ in 0..9 {
        breaker.record(false, false);
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn while_open_deliveries_stay_queued_and_none_is_dropped_or_dead_lettered() {
    let bus = Bus::with_capacity(4);
    let calls: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::default();
    let seen = calls.clone();
    let start = Instant::now();
    // The dependency is down for the first 40 s.
    let certificates = consumer::<CertificateService>()
        .circuit_breaker(CircuitBreaker::default())
        .retry(RetryPolicy::default().transient_attempts(50).jitter(0.0))
        .ordering_concurrency(20)
        .handle(move |_e: CertificateInbound| {
            let seen = seen.clone();
            async move {
                let up = start.elapsed() >= Duration::from_secs(40);
                seen.lock().unwrap().push((Instant::now(), up));
                if up {
                    Ok(())
                } else {
                    Err(HandlerError::transient("certificate renderer answered 503"))
                }
            }
        });
    bus.subscribe(certificates);
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for i in 0..20 {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    let stats = bus.shutdown().await.consumers[0].1;
    assert_eq!(
        (stats.processed, stats.dead_lettered, stats.dropped),
        (20, 0, 0)
    );

    let calls = calls.lock().unwrap();
    let at = |t: &Instant| *t - start;
    let failures: Vec<_> = calls
        .iter()
        .filter(|(_, up)| !up)
        .map(|(t, _)| at(t))
        .collect();
    // 10 failures at once open it; the other 10 deliveries and the retries
    // wait, not counted as attempts. At 30 s one probe, which fails (the
    // dependency is still down): open again. At 60 s a probe succeeds and
    // closes it.
    assert_eq!(failures.len(), 11, "{failures:?}");
    assert!(failures[..10].iter().all(|t| *t == Duration::ZERO));
    assert_eq!(failures[10], Duration::from_secs(30));
    let successes: Vec<_> = calls
        .iter()
        .filter(|(_, up)| *up)
        .map(|(t, _)| at(t))
        .collect();
    assert_eq!(successes.len(), 20);
    assert!(
        successes.iter().all(|t| *t >= Duration::from_secs(60)),
        "{successes:?}"
    );
    assert_eq!(stats.retries, 11);
}
