//! Ordering: per key in order, keys in parallel up to the limit, global one
//! at a time, a retry holds its key back.

mod common;

use common::*;
use event_delivery::{Bus, HandlerError, PublishAsync, RetryPolicy, consumer};
use event_runtime::Publisher;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Publishes `events` (key, fails on its first attempt, waits before it
/// returns) and returns the order in which the handler succeeded, as (key,
/// seq). A handler that does not wait finishes where the consumer's worker
/// pulled it; one that waits opens its key's lane.
async fn handled_order(
    events: &[(u8, bool, bool)],
    concurrency: Option<usize>,
    capacity: usize,
) -> Vec<(String, u32)> {
    let bus = Bus::with_capacity(capacity);
    let order: Arc<Mutex<Vec<(String, u32)>>> = Arc::default();
    let failed_once: Arc<Mutex<HashSet<u32>>> = Arc::default();
    let flaky: Arc<HashSet<u32>> = Arc::new(
        events
            .iter()
            .enumerate()
            .filter(|(_, (_, f, _))| *f)
            .map(|(i, _)| i as u32)
            .collect(),
    );
    let waits: Arc<HashSet<u32>> = Arc::new(
        events
            .iter()
            .enumerate()
            .filter(|(_, (_, _, w))| *w)
            .map(|(i, _)| i as u32)
            .collect(),
    );
    let seen = order.clone();
    let builder = consumer::<CertificateService>().retry(RetryPolicy::default().jitter(0.5));
    let builder = match concurrency {
        Some(n) => builder.ordering_concurrency(n),
        None => builder.global_order(),
    };
    bus.subscribe(builder.handle(move |e: CertificateInbound| {
        let seen = seen.clone();
        let failed_once = failed_once.clone();
        let flaky = flaky.clone();
        let waits = waits.clone();
        async move {
            let (key, seq) = seq_of(&e);
            // Handlers that take time, so lanes overlap.
            if waits.contains(&seq) {
                tokio::time::sleep(Duration::from_millis(10 + u64::from(seq % 7))).await;
            }
            if flaky.contains(&seq) && failed_once.lock().unwrap().insert(seq) {
                return Err(HandlerError::transient("timeout"));
            }
            seen.lock().unwrap().push((key, seq));
            Ok(())
        }
    }));
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for (seq, (key, _, _)) in events.iter().enumerate() {
        publisher
            .publish(&completed(&format!("enr_{key}"), seq as u32))
            .await
            .unwrap();
    }
    let report = bus.shutdown().await;
    assert_eq!(report.consumers[0].1.processed, events.len() as u64);
    Arc::try_unwrap(order).unwrap().into_inner().unwrap()
}

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the interleaving of keys, which events fail once and which
    /// handlers wait: every event is handled once, and per key in publish
    /// order, even when a retry (5 s or more) sits in front of later events
    /// of its key.
    #[test]
    fn per_key_order_holds_under_random_interleavings_and_retries(
        events in prop::collection::vec(
            (0u8..5, prop::bool::weighted(0.2), prop::bool::weighted(0.7)),
            1..40,
        ),
        concurrency in 1usize..6,
        capacity in 1usize..8,
    ) {
        let order = paused().block_on(handled_order(&events, Some(concurrency), capacity));
        prop_assert_eq!(order.len(), events.len());
        let mut last: HashMap<String, u32> = HashMap::new();
        for (key, seq) in &order {
            if let Some(prev) = last.insert(key.clone(), *seq) {
                prop_assert!(prev < *seq, "key {} handled {} after {}", key, seq, prev);
            }
        }
    }

    /// Global ordering: every event in publish order, retries included.
    #[test]
    fn global_order_is_publish_order(
        events in prop::collection::vec(
            (0u8..5, prop::bool::weighted(0.2), prop::bool::weighted(0.7)),
            1..30,
        ),
    ) {
        let order = paused().block_on(handled_order(&events, None, 4));
        let seqs: Vec<u32> = order.iter().map(|(_, s)| *s).collect();
        prop_assert_eq!(seqs, (0..events.len() as u32).collect::<Vec<_>>());
    }
}

/// The time it takes to handle `keys` events, one second each.
async fn elapsed_for(keys: &[&str], concurrency: Option<usize>) -> Duration {
    let bus = Bus::new();
    let builder = consumer::<CertificateService>();
    let builder = match concurrency {
        Some(n) => builder.ordering_concurrency(n),
        None => builder.global_order(),
    };
    bus.subscribe(builder.handle(|_e: CertificateInbound| async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok::<(), HandlerError>(())
    }));
    let start = Instant::now();
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for (i, key) in keys.iter().enumerate() {
        publisher.publish(&completed(key, i as u32)).await.unwrap();
    }
    bus.shutdown().await;
    start.elapsed()
}

#[tokio::test(start_paused = true)]
async fn different_keys_run_in_parallel_up_to_the_limit() {
    let keys = ["a", "b", "c", "d", "e", "f"];
    assert_eq!(elapsed_for(&keys, Some(6)).await, Duration::from_secs(1));
    assert_eq!(elapsed_for(&keys, Some(2)).await, Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn the_same_key_runs_one_at_a_time_and_global_runs_everything_one_at_a_time() {
    assert_eq!(
        elapsed_for(&["a", "a", "a"], Some(8)).await,
        Duration::from_secs(3)
    );
    assert_eq!(
        elapsed_for(&["a", "b", "c"], None).await,
        Duration::from_secs(3)
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_for_a_key_holds_back_later_events_of_that_key_only() {
    let order = handled_order(
        &[(1, true, true), (1, false, true), (2, false, true)],
        Some(4),
        8,
    )
    .await;
    // enr_1's first event waits out its retry (at once, after 10 ms of
    // handling); enr_2 goes ahead; enr_1's second event waits behind it.
    assert_eq!(
        order,
        [
            ("enr_2".to_owned(), 2),
            ("enr_1".to_owned(), 0),
            ("enr_1".to_owned(), 1)
        ]
    );
}

/// On two threads, handlers that finish at once and handlers that yield
/// mixed: per key in publish order, every event once.
#[test]
fn per_key_order_holds_on_a_multi_thread_runtime_with_handlers_that_yield() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for round in 0..20u32 {
        let order = rt.block_on(async move {
            let bus = Bus::with_capacity(4);
            let order: Arc<Mutex<Vec<(String, u32)>>> = Arc::default();
            let seen = order.clone();
            bus.subscribe(
                consumer::<CertificateService>()
                    .ordering_concurrency(3)
                    .handle(move |e: CertificateInbound| {
                        let seen = seen.clone();
                        async move {
                            let (key, seq) = seq_of(&e);
                            for _ in 0..(seq + round) % 3 {
                                tokio::task::yield_now().await;
                            }
                            seen.lock().unwrap().push((key, seq));
                            Ok::<(), HandlerError>(())
                        }
                    }),
            );
            let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
            for seq in 0..300u32 {
                let key = format!("enr_{}", (seq * 7 + round) % 5);
                publisher.publish(&completed(&key, seq)).await.unwrap();
            }
            let report = bus.shutdown().await;
            assert_eq!(report.consumers[0].1.processed, 300);
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        });
        assert_eq!(order.len(), 300, "round {round}");
        let mut last: HashMap<String, u32> = HashMap::new();
        for (key, seq) in &order {
            if let Some(prev) = last.insert(key.clone(), *seq) {
                assert!(
                    prev < *seq,
                    "round {round}: key {key} handled {seq} after {prev}"
                );
            }
        }
    }
}
