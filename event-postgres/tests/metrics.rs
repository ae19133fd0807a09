//! The gauges of the PostgreSQL adapters against the real server: the
//! queue's pending count and the outbox backlog. Each test installs its
//! own recorder on its thread (tokio's current-thread runtime runs the
//! test's tasks there too), so parallel tests do not share series.

mod common;

use common::*;
use event_delivery::summary::SummaryRecorder;
use event_delivery::{DeadLetterFilter, DeadLetters, HandlerError, consumer};
use event_postgres::{Outbox, OutboxRelay, PgDeadLetters, PgQueue};
use event_runtime::{Service, catalog};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

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

/// Stages `count` events in the outbox and relays them to the queue of
/// `certificate-service`.
async fn relay_to_certificates(db: &TestDb, queue: &PgQueue, count: u32) {
    let outbox = Outbox::new(db.tables.clone());
    let mut tx = db.pool.begin().await.unwrap();
    for n in 1..=count {
        outbox
            .stage(&mut tx, &completed(&format!("enr_{n}"), n))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let relay = OutboxRelay::new(db.pool.clone(), queue.to(["certificate-service"]))
        .tables(db.tables.clone());
    assert_eq!(relay.run_once().await.unwrap(), count as usize);
}

/// Waits until `read` gives `want`, or fails with the last value.
async fn eventually(what: &str, want: f64, read: impl Fn() -> Option<f64>) {
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        while read() != Some(want) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "{what}: expected {want}, last read {:?}",
        read()
    );
}

#[tokio::test]
async fn the_queue_reports_its_ready_rows_as_the_consumers_pending_count() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let db = TestDb::new().await;
    let queue = PgQueue::new(db.pool.clone(), &db.tables);
    relay_to_certificates(&db, &queue, 6).await;
    let gauge = || recorder.gauge("event_consumer_pending{consumer=\"certificate-service\"}");
    assert_eq!(
        queue.record_pending("certificate-service").await.unwrap(),
        6
    );
    assert_eq!(gauge(), Some(6.0));
    assert_eq!(queue.pending("another-service").await.unwrap(), 0);

    // One at a time, and the handler waits: one row in the handler and one
    // in the subscriber's slot are claimed, hidden; four are ready.
    let gate = Arc::new(Semaphore::new(0));
    let open = gate.clone();
    let pipeline =
        consumer::<CertificateService>()
            .global_order()
            .handle(move |_: CertificateInbound| {
                let gate = open.clone();
                async move {
                    gate.acquire().await.unwrap().forget();
                    Ok::<(), HandlerError>(())
                }
            });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let subscriber = queue
        .subscribe(
            "certificate-service",
            Duration::from_secs(30),
            Duration::from_millis(20),
            async {
                let _ = stopped.await;
            },
        )
        .pending_interval(Duration::from_millis(20));
    let running = tokio::spawn(pipeline.run(subscriber));
    eventually("pending while the handler waits", 4.0, gauge).await;
    assert_eq!(queue.depth("certificate-service").await.unwrap(), 6);

    gate.add_permits(6);
    eventually("pending once drained", 0.0, gauge).await;
    tokio::time::timeout(Duration::from_secs(20), async {
        while queue.depth("certificate-service").await.unwrap() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the queue drains");
    stop.send(()).unwrap();
    let stats = running.await.unwrap();
    assert_eq!(stats.processed, 6);
    db.drop().await;
}

#[tokio::test]
async fn the_relay_reports_the_outbox_backlog_and_the_age_of_its_oldest_row() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let mut tx = db.pool.begin().await.unwrap();
    for n in 1..=3 {
        outbox
            .stage(&mut tx, &completed(&format!("enr_{n}"), n))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // The first row was staged a minute and a half ago.
    sqlx::query(&format!(
        "UPDATE {} SET created_at = now() - interval '90 seconds' WHERE seq = (SELECT min(seq) FROM {0})",
        db.tables.qualified_outbox()
    ))
    .execute(&db.pool)
    .await
    .unwrap();

    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone())
        .tables(db.tables.clone())
        .poll_interval(Duration::from_millis(20))
        .stats_interval(Duration::from_millis(20));
    let backlog = relay.record_backlog().await.unwrap();
    assert_eq!(backlog.pending, 3);
    let age = backlog.oldest_age.as_secs_f64();
    assert!((90.0..150.0).contains(&age), "oldest age {age} s");
    let pending = || recorder.gauge("event_outbox_pending");
    let oldest = || recorder.gauge("event_outbox_oldest_age_seconds");
    assert_eq!(pending(), Some(3.0));
    assert_eq!(oldest(), Some(age));

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    eventually("pending once relayed", 0.0, pending).await;
    eventually("oldest age once relayed", 0.0, oldest).await;
    assert_eq!(transport.messages().len(), 3);

    stop.send(()).unwrap();
    let report = running.await.unwrap();
    assert_eq!(report.published, 3);
    db.drop().await;
}

/// The dead letter gauge follows the table, not only what this process
/// did: an entry discarded through another handle on the same table (as
/// `event-ops` does from another process) shows at the next reading.
#[tokio::test]
async fn the_dead_letter_gauge_follows_what_another_process_does_to_the_table() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let db = TestDb::new().await;
    let queue = PgQueue::new(db.pool.clone(), &db.tables);
    relay_to_certificates(&db, &queue, 3).await;

    let pipeline = consumer::<CertificateService>()
        .dead_letters(PgDeadLetters::new(db.pool.clone(), &db.tables))
        .dead_letter_depth_every(Duration::from_millis(50))
        .handle(|_: CertificateInbound| async {
            Err::<(), _>(HandlerError::permanent("no template for this course"))
        });
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
    let gauge = || {
        recorder.gauge(
            "event_dead_letters{consumer=\"certificate-service\",type=\"enrollment.completed\"}",
        )
    };
    eventually("dead-lettered", 3.0, gauge).await;

    let operator = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let entries = operator
        .list(&DeadLetterFilter::all().consumer("certificate-service"))
        .await
        .unwrap();
    assert_eq!(entries.len(), 3);
    assert!(operator.take(entries[0].id).await.unwrap().is_some());
    eventually("after a discard elsewhere", 2.0, gauge).await;

    stop.send(()).unwrap();
    let stats = running.await.unwrap();
    assert_eq!(stats.dead_lettered, 3);
    db.drop().await;
}
