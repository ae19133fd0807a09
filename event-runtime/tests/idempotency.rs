//! Idempotent consumers: a handler runs once per (consumer, tenant, type,
//! key), failures are retried, racing deliveries run it once.

mod common;

use common::{CoursePublished, EnrollmentCompleted, ID, envelope};
use event_runtime::idempotency::{
    Claim, ClaimToken, ConsumeError, DEFAULT_RETENTION, Handled, IdempotencyKey,
    IdempotentConsumer, InMemoryStore, KeySource, ProcessedStore, StoreError,
};
use event_runtime::{Envelope, EventId, Header};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;

fn course(tenant: &str, id: &str) -> Envelope<CoursePublished> {
    Envelope::new(CoursePublished {
        course_id: "c_1".into(),
    })
    .tenant(tenant)
    .correlation("req_1")
    .id(EventId::new(id).unwrap())
    .build()
}

fn enrollment(id: &str) -> Envelope<EnrollmentCompleted> {
    let mut env: Envelope<EnrollmentCompleted> =
        Envelope::from_json_slice(&serde_json::to_vec(&envelope()).unwrap()).unwrap();
    if id != ID {
        env = Envelope::new(env.into_data())
            .tenant("tenant_7f3c")
            .correlation("req_xyz789")
            .id(EventId::new(id).unwrap())
            .build();
    }
    env
}

#[derive(Debug, PartialEq)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[test]
fn a_key_is_scoped_by_tenant_and_namespaced_by_type() {
    let key = IdempotencyKey::of(&course("tenant_a", "evt_1"));
    assert_eq!(key.tenant_id(), "tenant_a");
    assert_eq!(key.event_type(), "course.published");
    assert_eq!(key.source(), KeySource::EventId);
    assert_eq!(key.key(), "evt_1");
    assert_eq!(key.as_str(), "8:tenant_a/course.published/id/evt_1");

    assert_ne!(key, IdempotencyKey::of(&course("tenant_b", "evt_1")));
    assert_ne!(
        key,
        IdempotencyKey::new("tenant_a", "course.archived", KeySource::EventId, "evt_1")
    );
    // A tenant holding the separator cannot forge another tenant's key.
    let forged = IdempotencyKey::new("a/course.published/id", "x.y", KeySource::EventId, "k");
    let plain = IdempotencyKey::new("a", "course.published", KeySource::EventId, "id/x.y/id/k");
    assert_ne!(forged.as_str(), plain.as_str());
    assert_eq!(forged.tenant_id(), "a/course.published/id");
    assert_eq!(plain.key(), "id/x.y/id/k");
}

#[test]
fn the_natural_key_replaces_the_event_id_when_the_event_has_one() {
    let key = IdempotencyKey::of(&enrollment(ID));
    assert_eq!(key.source(), KeySource::Natural);
    assert_eq!(key.key(), common::enrollment_id().to_string());
    assert_eq!(key, IdempotencyKey::of(&enrollment("evt_republished")));
}

#[test]
fn a_header_gives_the_event_id_key_before_the_payload_is_read() {
    let bytes = course("tenant_a", "evt_1").to_json_vec().unwrap();
    let header = Header::from_json_slice(&bytes).unwrap();
    assert_eq!(
        IdempotencyKey::of_header(&header),
        IdempotencyKey::of(&course("tenant_a", "evt_1"))
    );
}

#[test]
fn a_handler_that_succeeds_runs_once_and_is_recorded() {
    let consumer = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
    let event = course("tenant_a", "evt_1");
    let runs = AtomicUsize::new(0);
    let handler = |data: &CoursePublished| -> Result<String, Refused> {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok(format!("certificate for {}", data.course_id))
    };

    let before = OffsetDateTime::now_utc();
    let first = consumer.handle(&event, handler).unwrap();
    assert_eq!(first, Handled::Processed("certificate for c_1".to_owned()));
    for _ in 0..3 {
        match consumer.handle(&event, handler).unwrap() {
            Handled::Duplicate(record) => {
                assert_eq!(record.key, IdempotencyKey::of(&event));
                assert_eq!(record.event_id, "evt_1");
                assert_eq!(record.event_type(), "course.published");
                assert_eq!(record.consumer, "certificate-service");
                assert!(record.processed_at >= before);
                assert!(record.processed_at <= OffsetDateTime::now_utc());
                assert_eq!(record.result, json!("certificate for c_1"));
            }
            other => panic!("expected a duplicate, got {other:?}"),
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(consumer.is_processed(&IdempotencyKey::of(&event)).unwrap());
}

#[test]
fn a_handler_that_fails_records_nothing_and_is_retried() {
    let consumer = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
    let event = course("tenant_a", "evt_1");
    let runs = AtomicUsize::new(0);

    let failed = consumer.handle(&event, |_| -> Result<(), Refused> {
        runs.fetch_add(1, Ordering::SeqCst);
        Err(Refused("certificate service unavailable"))
    });
    match failed {
        Err(ConsumeError::Handler(e)) => assert_eq!(e, Refused("certificate service unavailable")),
        other => panic!("expected the handler's error, got {other:?}"),
    }
    assert!(!consumer.is_processed(&IdempotencyKey::of(&event)).unwrap());
    assert!(consumer.store().is_empty(), "the claim was not released");

    let retried = consumer
        .handle(&event, |_| -> Result<(), Refused> {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    assert!(retried.ran());
    let again = consumer
        .handle(&event, |_| -> Result<(), Refused> {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    assert!(!again.ran());
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_handler_that_panics_releases_its_claim_and_the_panic_goes_on() {
    let consumer = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
    let event = course("tenant_a", "evt_1");
    let runs = AtomicUsize::new(0);

    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        consumer.handle(&event, |_| -> Result<(), Refused> {
            runs.fetch_add(1, Ordering::SeqCst);
            panic!("template missing");
        })
    }));
    let payload = panicked.expect_err("the handler's panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"template missing"));
    assert!(consumer.store().is_empty(), "the claim was not released");

    // The redelivery runs the handler now, not after the 5-minute lease.
    let retried = consumer
        .handle(&event, |_| -> Result<(), Refused> {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    assert!(retried.ran(), "redelivery got {retried:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn one_tenant_cannot_suppress_another_tenants_event() {
    let consumer = IdempotentConsumer::new("analytics-service", InMemoryStore::new());
    let ok = |_: &CoursePublished| Ok::<_, Refused>(());
    assert!(
        consumer
            .handle(&course("tenant_a", "evt_1"), ok)
            .unwrap()
            .ran()
    );
    // Same id, other tenant: a different event.
    assert!(
        consumer
            .handle(&course("tenant_b", "evt_1"), ok)
            .unwrap()
            .ran()
    );
    assert!(
        !consumer
            .handle(&course("tenant_b", "evt_1"), ok)
            .unwrap()
            .ran()
    );
}

#[test]
fn consumers_keep_their_own_records() {
    let store = Arc::new(InMemoryStore::new());
    let certificates = IdempotentConsumer::new("certificate-service", Arc::clone(&store));
    let notifications = IdempotentConsumer::new("notification-service", Arc::clone(&store));
    let event = course("tenant_a", "evt_1");
    let ok = |_: &CoursePublished| Ok::<_, Refused>(());
    assert!(certificates.handle(&event, ok).unwrap().ran());
    assert!(notifications.handle(&event, ok).unwrap().ran());
    assert!(!certificates.handle(&event, ok).unwrap().ran());
    assert_eq!(store.len(), 2);
}

#[test]
fn the_same_fact_under_two_ids_is_handled_once_by_natural_key() {
    let consumer = IdempotentConsumer::new("gamification-service", InMemoryStore::new());
    let ok = |_: &EnrollmentCompleted| Ok::<_, Refused>(10);
    assert!(consumer.handle(&enrollment(ID), ok).unwrap().ran());
    match consumer.handle(&enrollment("evt_republished"), ok).unwrap() {
        Handled::Duplicate(record) => assert_eq!(record.event_id, ID),
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[test]
fn concurrent_deliveries_run_the_handler_exactly_once() {
    const THREADS: usize = 8;
    for round in 0..20 {
        let consumer = Arc::new(IdempotentConsumer::new(
            "certificate-service",
            InMemoryStore::new(),
        ));
        let event = Arc::new(course("tenant_a", &format!("evt_{round}")));
        let runs = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (consumer, event, runs, barrier) = (
                    Arc::clone(&consumer),
                    Arc::clone(&event),
                    Arc::clone(&runs),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    consumer
                        .handle(&event, |_| {
                            runs.fetch_add(1, Ordering::SeqCst);
                            // Long enough for the others to arrive meanwhile.
                            std::thread::sleep(Duration::from_millis(5));
                            Ok::<_, Refused>(())
                        })
                        .unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Handled<()>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "round {round}");
        assert_eq!(outcomes.iter().filter(|h| h.ran()).count(), 1);
        assert!(outcomes.iter().all(|h| matches!(
            h,
            Handled::Processed(()) | Handled::Duplicate(_) | Handled::InFlight { .. }
        )));
        // Once it finished, every later delivery is a duplicate.
        assert!(matches!(
            consumer.handle(&event, |_| Ok::<_, Refused>(())).unwrap(),
            Handled::Duplicate(_)
        ));
    }
}

#[test]
fn concurrent_deliveries_of_a_failing_handler_leave_it_to_a_retry() {
    let consumer = Arc::new(IdempotentConsumer::new("svc", InMemoryStore::new()));
    let event = Arc::new(course("tenant_a", "evt_1"));
    let runs = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (consumer, event, runs, barrier) = (
                Arc::clone(&consumer),
                Arc::clone(&event),
                Arc::clone(&runs),
                Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                barrier.wait();
                consumer
                    .handle(&event, |_| -> Result<(), Refused> {
                        runs.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        Err(Refused("down"))
                    })
                    .is_err()
            })
        })
        .collect();
    let failed = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|&failed| failed)
        .count();
    // Each run failed; no delivery saw a record, since there is none.
    assert_eq!(failed, runs.load(Ordering::SeqCst));
    assert!(!consumer.is_processed(&IdempotencyKey::of(&*event)).unwrap());
    assert!(
        consumer
            .handle(&event, |_| Ok::<_, Refused>(()))
            .unwrap()
            .ran()
    );
}

const NOW: OffsetDateTime = datetime!(2026-03-27 10:30:00 UTC);
const LEASE: Duration = Duration::from_secs(60);

fn key() -> IdempotencyKey {
    IdempotencyKey::new("tenant_a", "course.published", KeySource::EventId, "evt_1")
}

fn acquired(claim: Claim) -> ClaimToken {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("expected the claim, got {other:?}"),
    }
}

#[test]
fn a_claim_blocks_others_until_its_lease_runs_out() {
    let store = InMemoryStore::new();
    let first = acquired(store.claim("svc", &key(), "evt_1", NOW, LEASE).unwrap());
    let later = NOW + Duration::from_secs(59);
    assert_eq!(
        store.claim("svc", &key(), "evt_1", later, LEASE).unwrap(),
        Claim::InFlight { claimed_at: NOW }
    );
    // The holder crashed: after the lease, another delivery takes over...
    let expired = NOW + LEASE;
    let second = acquired(store.claim("svc", &key(), "evt_1", expired, LEASE).unwrap());
    assert_ne!(first, second);
    // ...and the first holder can neither record over it nor release it.
    match store.complete("svc", &key(), first, expired, json!(null)) {
        Err(StoreError::ClaimLost {
            key: lost,
            consumer,
        }) => {
            assert_eq!(lost, key());
            assert_eq!(consumer, "svc");
        }
        other => panic!("expected a lost claim, got {other:?}"),
    }
    store.release("svc", &key(), first).unwrap();
    store
        .complete("svc", &key(), second, expired, json!("done"))
        .unwrap();
    let record = store.get("svc", &key()).unwrap().unwrap();
    assert_eq!(record.key, key());
    assert_eq!(record.event_id, "evt_1");
    assert_eq!(record.consumer, "svc");
    assert_eq!(record.processed_at, expired);
    assert_eq!(record.result, json!("done"));
    assert_eq!(
        store.claim("svc", &key(), "evt_1", expired, LEASE).unwrap(),
        Claim::Processed(record)
    );
}

#[test]
fn completing_a_released_claim_is_refused() {
    let store = InMemoryStore::new();
    let token = acquired(store.claim("svc", &key(), "evt_1", NOW, LEASE).unwrap());
    store.release("svc", &key(), token).unwrap();
    let e = store
        .complete("svc", &key(), token, NOW, json!(null))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "consumer `svc` lost its claim on `8:tenant_a/course.published/id/evt_1`: the lease ran out and another delivery took it over"
    );
}

#[test]
fn records_older_than_the_retention_window_are_purged() {
    assert_eq!(DEFAULT_RETENTION, Duration::from_secs(30 * 24 * 3600));
    let store = InMemoryStore::new();
    let old_key = key();
    let new_key = IdempotencyKey::new("tenant_a", "course.published", KeySource::EventId, "evt_2");
    let in_flight =
        IdempotencyKey::new("tenant_a", "course.published", KeySource::EventId, "evt_3");
    let t = acquired(store.claim("svc", &old_key, "evt_1", NOW, LEASE).unwrap());
    store
        .complete("svc", &old_key, t, NOW, json!(null))
        .unwrap();
    let day_31 = NOW + Duration::from_secs(31 * 24 * 3600);
    let t = acquired(
        store
            .claim("svc", &new_key, "evt_2", day_31, LEASE)
            .unwrap(),
    );
    store
        .complete("svc", &new_key, t, day_31, json!(null))
        .unwrap();
    acquired(store.claim("svc", &in_flight, "evt_3", NOW, LEASE).unwrap());

    let cutoff = day_31 - DEFAULT_RETENTION;
    assert_eq!(store.purge_older_than(cutoff).unwrap(), 1);
    assert_eq!(store.get("svc", &old_key).unwrap(), None);
    assert!(store.get("svc", &new_key).unwrap().is_some());
    // A claim is not a record: it stays until completed, released or
    // taken over.
    assert_eq!(store.len(), 2);
    // Purged, the event would be handled again.
    assert!(matches!(
        store
            .claim("svc", &old_key, "evt_1", day_31, LEASE)
            .unwrap(),
        Claim::Acquired(_)
    ));
}

#[test]
fn the_consumer_purges_by_its_retention() {
    let consumer = IdempotentConsumer::new("svc", InMemoryStore::new());
    consumer
        .handle(&course("tenant_a", "evt_1"), |_| Ok::<_, Refused>(()))
        .unwrap();
    assert_eq!(consumer.purge().unwrap(), 0, "a fresh record was purged");
    // A retention too long to subtract from now keeps everything.
    let consumer = consumer.retention(Duration::MAX);
    assert_eq!(consumer.purge().unwrap(), 0);
    let consumer = consumer.retention(Duration::ZERO);
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(consumer.purge().unwrap(), 1);
    assert!(consumer.store().is_empty());
}
