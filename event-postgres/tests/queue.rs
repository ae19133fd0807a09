//! The durable queue and the dead letters under the delivery pipeline:
//! outbox -> relay -> queue -> consumer (inbox in the handler's
//! transaction) -> retry by run_at -> dead_letters -> operator replay.

mod common;

use common::*;
use event_delivery::{DeadLetterFilter, DeadLetters, Handler, HandlerError, RetryPolicy, consumer};
use event_postgres::{Outbox, OutboxRelay, PgDeadLetters, PgProcessedStore, PgQueue};
use event_runtime::{ErrorClass, Service, catalog};
use sqlx::{Postgres, Row, Transaction};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct CertificateService;
impl Service for CertificateService {
    const NAME: &'static str = "certificate-service";
}

catalog! {
    /// What the certificate service handles.
    #[derive(Debug, Clone, PartialEq)]
    pub enum CertificateInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

/// Writes the certificate through the handler's transaction. Every fifth
/// event fails transiently on its first attempt; event 7 fails permanently
/// until `fixed`.
#[derive(Clone)]
struct Certificates {
    effects: String,
    attempts: Arc<Mutex<HashMap<u32, u32>>>,
    fixed: Arc<AtomicBool>,
}

impl Handler<CertificateInbound, Transaction<'static, Postgres>> for Certificates {
    type Error = HandlerError;

    async fn handle(
        &self,
        event: CertificateInbound,
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<(), HandlerError> {
        let CertificateInbound::EnrollmentCompleted(e) = event;
        let n = e.data().seq;
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let a = attempts.entry(n).or_default();
            *a += 1;
            *a
        };
        if n == 7 && !self.fixed.load(Ordering::SeqCst) {
            return Err(HandlerError::permanent("certificate template missing"));
        }
        if n % 5 == 0 && attempt == 1 {
            return Err(HandlerError::transient("renderer timed out"));
        }
        sqlx::query(&format!(
            "INSERT INTO {} (event_id, enrollment_id, n, consumer) VALUES ($1, $2, $3, 'certificate-service')",
            self.effects
        ))
        .bind(e.id().as_str())
        .bind(&e.data().enrollment_id)
        .bind(n as i32)
        .execute(&mut **tx)
        .await
        .map_err(|e| HandlerError::transient(e.to_string()))?;
        Ok(())
    }
}

async fn drain(db: &TestDb, queue: &PgQueue, handler: Certificates) {
    let store = PgProcessedStore::with_tables(db.pool.clone(), &db.tables);
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let pipeline = consumer::<CertificateService>()
        .store(store)
        .dead_letters(dlq)
        .retry(
            RetryPolicy::default()
                .backoff(Duration::from_millis(50), 2)
                .jitter(0.0),
        )
        .handler::<CertificateInbound, _>(handler);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let subscriber = queue.subscribe(
        "certificate-service",
        Duration::from_secs(30),
        Duration::from_millis(20),
        async {
            let _ = stopped.await;
        },
    );
    let running = tokio::spawn(pipeline.run(subscriber));
    tokio::time::timeout(Duration::from_secs(60), async {
        while queue.depth("certificate-service").await.unwrap() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the queue drains");
    stop.send(()).unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn the_queue_retries_by_run_at_dead_letters_permanent_failures_and_replays_them() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let mut tx = db.pool.begin().await.unwrap();
    for n in 1..=20 {
        outbox
            .stage(&mut tx, &completed(&format!("enr_{n}"), n))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let queue = PgQueue::new(db.pool.clone(), &db.tables);
    let relay = OutboxRelay::new(db.pool.clone(), queue.to(["certificate-service"]))
        .tables(db.tables.clone());
    assert_eq!(relay.run_once().await.unwrap(), 20);
    assert_eq!(queue.depth("certificate-service").await.unwrap(), 20);

    let handler = Certificates {
        effects: db.effects(),
        attempts: Arc::default(),
        fixed: Arc::default(),
    };
    drain(&db, &queue, handler.clone()).await;
    assert_eq!(db.count(&db.effects()).await, 19);
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let dead = dlq.list(&DeadLetterFilter::all()).await.unwrap();
    assert_eq!(dead.len(), 1);
    let entry = &dead[0];
    assert_eq!(entry.consumer, "certificate-service");
    assert_eq!(entry.event_type.as_deref(), Some("enrollment.completed"));
    assert_eq!(entry.class, ErrorClass::Permanent);
    assert_eq!(entry.attempts, 1, "permanent: never retried");
    assert!(
        entry.error.contains("certificate template missing"),
        "{}",
        entry.error
    );
    assert_eq!(
        decode_bytes(&entry.payload).data().seq,
        7,
        "original bytes kept"
    );
    let attempts = handler.attempts.lock().unwrap().clone();
    let retried: Vec<u32> = (1..=20).filter(|n| attempts[n] == 2).collect();
    assert_eq!(
        retried,
        [5, 10, 15, 20],
        "transient failures retried once each"
    );

    // The fix is deployed; the operator replays the type.
    handler.fixed.store(true, Ordering::SeqCst);
    let replayed = dlq
        .retry_all(
            &DeadLetterFilter::all().event_type("enrollment.completed"),
            &queue,
        )
        .await
        .unwrap();
    assert_eq!(replayed.len(), 1);
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
    drain(&db, &queue, handler.clone()).await;
    let distinct: i64 = sqlx::query(&format!(
        "SELECT count(DISTINCT event_id) FROM {}",
        db.effects()
    ))
    .fetch_one(&db.pool)
    .await
    .unwrap()
    .get(0);
    assert_eq!((db.count(&db.effects()).await, distinct), (20, 20));
    println!(
        "checked: 20 relayed into the queue, 4 transient failures retried once, 1 permanent \
         dead-lettered after 1 attempt, 19 effects; replayed 1 by type -> 20 effects, 0 dead letters"
    );
    db.drop().await;
}

fn decode_bytes(bytes: &[u8]) -> event_runtime::Envelope<EnrollmentCompleted> {
    event_runtime::Envelope::from_json_slice(bytes).unwrap()
}

#[tokio::test]
async fn an_unsettled_claim_reappears_after_the_visibility_timeout_with_its_attempt_counted() {
    let db = TestDb::new().await;
    let queue = PgQueue::new(db.pool.clone(), &db.tables);
    let transport = queue.to(["a", "b"]);
    let message = event_delivery::Message {
        event_type: "enrollment.completed",
        major: 1,
        id: "evt_q1".into(),
        partition_key: Some("enr_1".into()),
        delivery: event_runtime::Delivery::AtLeastOnce,
        payload: completed("enr_1", 1).to_json_vec().unwrap().into(),
    };
    event_delivery::Transport::send(&transport, message)
        .await
        .unwrap();
    assert_eq!(
        (
            queue.depth("a").await.unwrap(),
            queue.depth("b").await.unwrap()
        ),
        (1, 1)
    );

    let visibility = Duration::from_millis(500);
    let first = queue.claim("a", visibility).await.unwrap().expect("due");
    assert_eq!(event_delivery::Incoming::attempt(&first), 1);
    // The consumer dies without settling.
    drop(first);
    assert!(
        queue.claim("a", visibility).await.unwrap().is_none(),
        "hidden"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let second = queue
        .claim("a", visibility)
        .await
        .unwrap()
        .expect("visible again");
    assert_eq!(event_delivery::Incoming::attempt(&second), 2);
    event_delivery::Incoming::ack(second).await;
    assert_eq!(
        (
            queue.depth("a").await.unwrap(),
            queue.depth("b").await.unwrap()
        ),
        (0, 1)
    );
    println!(
        "checked: 1 message fanned out to 2 consumers, hidden while claimed, redelivered as attempt 2, acked"
    );
    db.drop().await;
}
