//! Duplicates, panics and the handler's transaction.

mod common;

use common::*;
use event_delivery::{
    Acked, Attempt, Bus, Handler, HandlerError, InMemoryStore, PendingRecords, ProcessedStore,
    PublishAsync, Verdict, consumer,
};
use event_runtime::idempotency::{
    Claim, ClaimToken, IdempotencyKey, ProcessedStore as _, StoreError,
};
use event_runtime::{Delivery, Publisher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

#[tokio::test(start_paused = true)]
async fn a_duplicate_delivery_is_acked_and_the_handler_runs_once() {
    let bus = Bus::new();
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    bus.subscribe(
        consumer::<CertificateService>().handle(move |_e: CertificateInbound| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<(), HandlerError>(())
            }
        }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    let event = completed("enr_1", 1);
    for _ in 0..3 {
        publisher.publish(&event).await.unwrap();
    }
    let stats = bus.shutdown().await.consumers[0].1;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!((stats.processed, stats.duplicates), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_async_handler_releases_its_claim_and_the_panic_is_re_raised() {
    let store = InMemoryStore::new();
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let certificates = consumer::<CertificateService>()
        .store(store.clone())
        .handle(move |_e: CertificateInbound| {
            let counted = counted.clone();
            async move {
                tokio::task::yield_now().await;
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("renderer crashed");
                }
                Ok::<(), HandlerError>(())
            }
        });
    let event = completed("enr_1", 1);
    let bytes = event.to_json_vec().unwrap();
    let first = tokio::spawn({
        let certificates = certificates.clone();
        let bytes = bytes.clone();
        async move {
            certificates
                .process(&bytes, None, Delivery::AtLeastOnce, Attempt::FIRST)
                .await
        }
    })
    .await;
    let panic = first.expect_err("the panic is re-raised").into_panic();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"renderer crashed"));
    // The claim was released: another delivery takes the key at once.
    let key = IdempotencyKey::of(&event);
    let claim = store.inner().claim(
        "certificate-service",
        &key,
        event.id().as_str(),
        OffsetDateTime::now_utc(),
        Duration::from_secs(300),
    );
    let Ok(Claim::Acquired(token)) = claim else {
        panic!("the claim was not released: {claim:?}")
    };
    store
        .inner()
        .release("certificate-service", &key, token)
        .unwrap();
    let second = certificates
        .process(&bytes, None, Delivery::AtLeastOnce, Attempt::FIRST)
        .await;
    assert_eq!(second, Verdict::Ack(Acked::Processed));
}

#[tokio::test(start_paused = true)]
async fn on_the_bus_a_panic_is_an_unknown_failure_retried_once() {
    let bus = Bus::new();
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    bus.subscribe(
        consumer::<CertificateService>().handle(move |_e: CertificateInbound| {
            let counted = counted.clone();
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("renderer crashed");
                }
                Ok::<(), HandlerError>(())
            }
        }),
    );
    Publisher::<EnrollmentService, _>::new(bus.clone())
        .publish(&completed("enr_1", 1))
        .await
        .unwrap();
    let stats = bus.shutdown().await.consumers[0].1;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!((stats.processed, stats.retries), (1, 1));
}

/// A store whose transaction holds the handler's writes next to the
/// record, as a database transaction would.
#[derive(Clone, Default)]
struct LedgerStore {
    records: InMemoryStore,
    committed: Arc<Mutex<Vec<String>>>,
}

#[derive(Default)]
struct LedgerTx {
    writes: Vec<String>,
    records: PendingRecords,
}

impl ProcessedStore for LedgerStore {
    type Tx = LedgerTx;

    async fn claim(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        event_id: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        self.records
            .claim(consumer, key, event_id, now, lease)
            .await
    }
    async fn begin(&self) -> Result<LedgerTx, StoreError> {
        Ok(LedgerTx::default())
    }
    async fn complete_in(
        &self,
        tx: &mut LedgerTx,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
        now: OffsetDateTime,
        result: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.records
            .complete_in(&mut tx.records, consumer, key, token, now, result)
            .await
    }
    async fn commit(&self, tx: LedgerTx) -> Result<(), StoreError> {
        self.committed.lock().unwrap().extend(tx.writes);
        self.records.commit(tx.records).await
    }
    async fn rollback(&self, _tx: LedgerTx) -> Result<(), StoreError> {
        Ok(())
    }
    async fn release(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> Result<(), StoreError> {
        self.records.release(consumer, key, token).await
    }
}

/// Writes a ledger line through the transaction, then fails the first time.
struct IssueCertificate {
    calls: AtomicU32,
}

impl Handler<CertificateInbound, LedgerTx> for IssueCertificate {
    type Error = HandlerError;

    async fn handle(
        &self,
        event: CertificateInbound,
        tx: &mut LedgerTx,
    ) -> Result<(), HandlerError> {
        let (enrollment, _) = seq_of(&event);
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        tx.writes
            .push(format!("certificate for {enrollment}, call {call}"));
        if call == 0 {
            return Err(HandlerError::transient("renderer timed out"));
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn the_handler_writes_and_the_record_commit_together_or_not_at_all() {
    let store = LedgerStore::default();
    let certificates = consumer::<CertificateService>()
        .store(store.clone())
        .handler(IssueCertificate {
            calls: AtomicU32::new(0),
        });
    let event = completed("enr_1", 1);
    let bytes = event.to_json_vec().unwrap();
    let first = certificates
        .process(&bytes, None, Delivery::AtLeastOnce, Attempt::FIRST)
        .await;
    assert!(matches!(first, Verdict::Retry { .. }), "{first:?}");
    // The failed run's write was rolled back with its transaction.
    assert!(store.committed.lock().unwrap().is_empty());
    let key = IdempotencyKey::of(&event);
    assert!(
        store
            .records
            .inner()
            .get("certificate-service", &key)
            .unwrap()
            .is_none()
    );

    let second = certificates
        .process(
            &bytes,
            None,
            Delivery::AtLeastOnce,
            Attempt {
                number: 2,
                first_failure: None,
            },
        )
        .await;
    assert_eq!(second, Verdict::Ack(Acked::Processed));
    assert_eq!(
        *store.committed.lock().unwrap(),
        ["certificate for enr_1, call 1"]
    );
    assert!(
        store
            .records
            .inner()
            .get("certificate-service", &key)
            .unwrap()
            .is_some()
    );
}

/// Keyed by the enrollment: the same fact published twice under two ids.
#[derive(Debug, Clone, PartialEq, event_runtime::Event)]
#[event(
    type = "enrollment.expired",
    version = "1.0",
    producer = "enrollment-service"
)]
pub struct EnrollmentExpired {
    #[event(key)]
    pub enrollment_id: String,
}
impl event_runtime::ProducedBy<EnrollmentService> for EnrollmentExpired {}

event_runtime::catalog! {
    pub enum ExpiryInbound { EnrollmentExpired(EnrollmentExpired) }
}

#[tokio::test(start_paused = true)]
async fn the_same_fact_under_two_ids_is_a_duplicate_by_its_natural_key() {
    let bus = Bus::new();
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    bus.subscribe(
        consumer::<CertificateService>().handle(move |_e: ExpiryInbound| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<(), HandlerError>(())
            }
        }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    let expired = || {
        event_runtime::Envelope::new(EnrollmentExpired {
            enrollment_id: "enr_1".into(),
        })
        .tenant("tenant_7f3c")
        .correlation("req_1")
        .build()
    };
    let (a, b) = (expired(), expired());
    assert_ne!(a.id(), b.id());
    publisher.publish(&a).await.unwrap();
    publisher.publish(&b).await.unwrap();
    let stats = bus.shutdown().await.consumers[0].1;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!((stats.processed, stats.duplicates), (1, 1));
}

/// A running consumer purges its store of the records older than its
/// retention: a long-running consumer's in-memory store does not grow
/// without bound. Real time: the records' times are the wall clock's.
#[test]
fn a_running_consumer_purges_the_records_older_than_its_retention() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = InMemoryStore::new();
        let bus = Bus::new();
        bus.subscribe(
            consumer::<CertificateService>()
                .store(store.clone())
                .retention(Duration::from_secs(1))
                .purge_every(Duration::from_millis(20))
                .handle(|_e: CertificateInbound| async { Ok::<(), HandlerError>(()) }),
        );
        let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
        for n in 0..3 {
            publisher
                .publish(&completed(&format!("enr_{n}"), n))
                .await
                .unwrap();
        }
        let rows = || store.inner().len();
        let kept = tokio::time::timeout(Duration::from_secs(5), async {
            while rows() < 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(kept.is_ok(), "three records, found {}", rows());
        // Younger than the retention at the first purges: kept.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(rows(), 3);
        let purged = tokio::time::timeout(Duration::from_secs(5), async {
            while rows() > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(
            purged.is_ok(),
            "purged after the retention, {} left",
            rows()
        );
        bus.shutdown().await;
    });
}
