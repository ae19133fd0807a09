//! Fault tests against the real server. Each prints the counts it checked.

mod common;

use common::*;
use event_delivery::{Message, ProcessedStore, Transport};
use event_postgres::{Outbox, OutboxRelay, PgProcessedStore};
use event_runtime::OffsetDateTime;
use event_runtime::idempotency::{Claim, IdempotencyKey};
use sqlx::{PgPool, Row};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn stage_all(db: &TestDb, events: &[(String, u32)]) {
    let outbox = Outbox::new(db.tables.clone());
    let mut tx = db.pool.begin().await.unwrap();
    for (key, n) in events {
        outbox.stage(&mut tx, &completed(key, *n)).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn kill(admin: &PgPool, application_name: &str, only_in_transaction: bool) -> i64 {
    sqlx::query(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = $1 AND (NOT $2 OR state = 'idle in transaction')",
    )
    .bind(application_name)
    .bind(only_in_transaction)
    .fetch_one(admin)
    .await
    .unwrap()
    .get(0)
}

/// Sends to a recording; on its first message, terminates the relay's
/// connection, which is idle in its claim transaction: after publish,
/// before mark.
#[derive(Clone)]
struct KillAfterFirstSend {
    inner: Recording,
    admin: PgPool,
    relay_app: String,
    killed: Arc<AtomicU64>,
    armed: Arc<AtomicBool>,
}

impl Transport for KillAfterFirstSend {
    type Error = Never;
    async fn send(&self, message: Message) -> Result<(), Never> {
        self.inner.send(message).await?;
        if self.armed.swap(false, Ordering::SeqCst) {
            let n = kill(&self.admin, &self.relay_app, true).await;
            self.killed.fetch_add(n as u64, Ordering::SeqCst);
        }
        Ok(())
    }
}

async fn wait_until_empty(db: &TestDb, limit: Duration) {
    tokio::time::timeout(limit, async {
        loop {
            if db.count(&db.tables.qualified_outbox()).await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the outbox drains");
}

#[tokio::test]
async fn terminating_the_relays_connection_between_publish_and_mark_loses_nothing_and_applies_once()
{
    let db = TestDb::new().await;
    let events: Vec<(String, u32)> = (0..200).map(|i| (format!("enr_{}", i % 10), i)).collect();
    stage_all(&db, &events).await;

    let relay_app = format!("relay-{:016x}", fastrand::u64(..));
    let relay_pool = pool_named(&relay_app, 4).await;
    let transport = KillAfterFirstSend {
        inner: Recording::default(),
        admin: db.pool.clone(),
        relay_app: relay_app.clone(),
        killed: Arc::default(),
        armed: Arc::new(AtomicBool::new(true)),
    };
    let relay = OutboxRelay::new(relay_pool.clone(), transport.clone())
        .tables(db.tables.clone())
        .batch_size(50)
        .poll_interval(Duration::from_millis(100));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    wait_until_empty(&db, Duration::from_secs(60)).await;
    stop.send(()).unwrap();
    let report = running.await.unwrap();

    let sent = transport.inner.messages();
    let distinct: HashSet<&str> = sent.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        transport.killed.load(Ordering::SeqCst),
        1,
        "the relay's connection was killed"
    );
    assert!(report.failures >= 1, "{report:?}");
    assert_eq!(distinct.len(), 200, "nothing lost");
    assert!(sent.len() > 200, "the killed batch was published again");

    // The consumer: every delivery, duplicates included, through the inbox.
    let store = PgProcessedStore::with_tables(db.pool.clone(), &db.tables);
    let mut applied = 0;
    let mut duplicates = 0;
    for message in &sent {
        match consume(
            &store,
            &db.effects(),
            "certificate-service",
            &message.payload,
            OffsetDateTime::now_utc(),
        )
        .await
        {
            Outcome::Applied => applied += 1,
            Outcome::Duplicate => duplicates += 1,
            Outcome::InFlight => panic!("no claim is in flight"),
        }
    }
    assert_eq!(applied, 200);
    assert_eq!(db.count(&db.effects()).await, 200, "each effect once");
    // The effects, in the order they were applied, keep each key's order.
    let applied_rows: Vec<(String, i32)> = sqlx::query(&format!(
        "SELECT enrollment_id, n FROM {} ORDER BY seq",
        db.effects()
    ))
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let keys = assert_per_key_order(applied_rows.iter().map(|(k, n)| (k.as_str(), *n as u32)));
    println!(
        "checked: 200 staged, {} deliveries ({} republished after the kill), 200 distinct ids, \
         {applied} effects applied, {duplicates} duplicates skipped, {} relay failures, {keys} keys in order",
        sent.len(),
        sent.len() - 200,
        report.failures
    );
    relay_pool.close().await;
    db.drop().await;
}

#[tokio::test]
async fn a_consumer_crashing_mid_handler_is_reprocessed_once_after_the_lease() {
    let db = TestDb::new().await;
    let store = PgProcessedStore::with_tables(db.pool.clone(), &db.tables);
    let event = completed("enr_1", 1);
    let key = IdempotencyKey::of(&event);
    let lease = Duration::from_secs(30);
    let t0 = OffsetDateTime::now_utc();
    let consumer = "certificate-service";

    // First delivery: claims, writes, crashes before commit (the
    // transaction and its connection go away).
    let Claim::Acquired(crashed) = store
        .claim(consumer, &key, event.id().as_str(), t0, lease)
        .await
        .unwrap()
    else {
        panic!("the first delivery claims");
    };
    let mut tx = store.begin().await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO {} (event_id, enrollment_id, n, consumer) VALUES ($1, 'enr_1', 1, $2)",
        db.effects()
    ))
    .bind(event.id().as_str())
    .bind(consumer)
    .execute(&mut *tx)
    .await
    .unwrap();
    let pid: i32 = sqlx::query("SELECT pg_backend_pid()")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&db.pool)
        .await
        .unwrap();
    drop(tx);

    // A redelivery within the lease waits.
    let payload = event.to_json_vec().unwrap();
    let within = consume(
        &store,
        &db.effects(),
        consumer,
        &payload,
        t0 + Duration::from_secs(5),
    )
    .await;
    assert_eq!(within, Outcome::InFlight);
    assert_eq!(
        db.count(&db.effects()).await,
        0,
        "the crashed handler's write is gone"
    );

    // After the lease, it is processed, once.
    let after = consume(
        &store,
        &db.effects(),
        consumer,
        &payload,
        t0 + Duration::from_secs(31),
    )
    .await;
    assert_eq!(after, Outcome::Applied);
    let again = consume(
        &store,
        &db.effects(),
        consumer,
        &payload,
        t0 + Duration::from_secs(32),
    )
    .await;
    assert_eq!(again, Outcome::Duplicate);
    assert_eq!(db.count(&db.effects()).await, 1);

    // The crashed delivery's token no longer completes anything.
    let mut tx = store.begin().await.unwrap();
    let err = store
        .complete_in(
            &mut tx,
            consumer,
            &key,
            crashed,
            t0,
            serde_json::Value::Null,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lost its claim"), "{err}");
    store.rollback(tx).await.unwrap();

    let record = store.get(consumer, &key).await.unwrap().expect("recorded");
    assert_eq!(record.event_id, event.id().as_str());
    assert_eq!(record.result, serde_json::json!({"ok": true}));
    println!(
        "checked: 1 crash, 1 in-flight refusal, 1 effect after the lease, 1 duplicate, 1 stale token refused"
    );
    db.drop().await;
}

#[tokio::test]
async fn keys_are_scoped_by_tenant_and_a_release_lets_a_redelivery_run() {
    let db = TestDb::new().await;
    let store = PgProcessedStore::with_tables(db.pool.clone(), &db.tables);
    let a = completed_for("tenant_a", "enr_1", 1);
    let b = completed_for("tenant_b", "enr_1", 1);
    let now = OffsetDateTime::now_utc();
    // Same id text in two tenants: two keys.
    let ka = IdempotencyKey::new(
        "tenant_a",
        "enrollment.completed",
        event_runtime::idempotency::KeySource::EventId,
        "evt_same",
    );
    let kb = IdempotencyKey::new(
        "tenant_b",
        "enrollment.completed",
        event_runtime::idempotency::KeySource::EventId,
        "evt_same",
    );
    let lease = Duration::from_secs(60);
    assert!(matches!(
        store
            .claim("c", &ka, a.id().as_str(), now, lease)
            .await
            .unwrap(),
        Claim::Acquired(_)
    ));
    let Claim::Acquired(tb) = store
        .claim("c", &kb, b.id().as_str(), now, lease)
        .await
        .unwrap()
    else {
        panic!("another tenant's key is its own");
    };
    store.release("c", &kb, tb).await.unwrap();
    assert!(matches!(
        store
            .claim("c", &kb, b.id().as_str(), now, lease)
            .await
            .unwrap(),
        Claim::Acquired(_)
    ));
    let tenants: Vec<String> = sqlx::query(&format!(
        "SELECT tenant_id FROM {} ORDER BY tenant_id",
        db.tables.qualified_processed_events()
    ))
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert_eq!(tenants, ["tenant_a", "tenant_b"]);
    db.drop().await;
}

#[tokio::test]
async fn retention_deletes_old_records_in_batches_and_keeps_claims_in_flight() {
    let db = TestDb::new().await;
    let store = PgProcessedStore::with_tables(db.pool.clone(), &db.tables);
    let now = OffsetDateTime::now_utc();
    let old = now - Duration::from_secs(31 * 24 * 3600);
    for i in 0..25u32 {
        let e = completed("enr_r", i);
        let at = if i < 20 { old } else { now };
        assert_eq!(
            consume(&store, &db.effects(), "c", &e.to_json_vec().unwrap(), at).await,
            Outcome::Applied
        );
    }
    let inflight = completed("enr_r", 99);
    let key = IdempotencyKey::of(&inflight);
    store
        .claim(
            "c",
            &key,
            inflight.id().as_str(),
            old,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    let deleted = store
        .purge_older_than(now - event_runtime::idempotency::DEFAULT_RETENTION, 7)
        .await
        .unwrap();
    assert_eq!(deleted, 20);
    assert_eq!(db.count(&db.tables.qualified_processed_events()).await, 6);
    println!("checked: 20 old records purged in batches of 7, 5 recent and 1 claim kept");
    db.drop().await;
}

/// Routes each message to one of `n` consumers by partition key, like a
/// partitioned transport.
#[derive(Clone)]
struct Partitioned {
    lanes: Vec<tokio::sync::mpsc::UnboundedSender<Message>>,
    sent: Arc<AtomicU64>,
}

impl Transport for Partitioned {
    type Error = Never;
    async fn send(&self, message: Message) -> Result<(), Never> {
        let key = message.partition_key.as_deref().unwrap_or(&message.id);
        let lane = key
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
            % self.lanes.len();
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.lanes[lane].send(message).expect("the consumer runs");
        Ok(())
    }
}

fn scale() -> usize {
    std::env::var("EVENT_POSTGRES_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_relays_and_four_consumers_apply_every_event_once_in_per_key_order() {
    let total = scale();
    let keys = 200;
    let db = TestDb::new().await;
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..4)
        .map(|_| tokio::sync::mpsc::unbounded_channel::<Message>())
        .unzip();
    let transport = Partitioned {
        lanes: senders,
        sent: Arc::default(),
    };

    // Consumers: each handles its lane in order, through the inbox.
    let store = PgProcessedStore::with_tables(db.pool.clone(), &db.tables);
    let applied = Arc::new(AtomicU64::new(0));
    let duplicates = Arc::new(AtomicU64::new(0));
    let order: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let mut consumers = Vec::new();
    for mut lane in receivers {
        let (store, effects, applied, duplicates, order) = (
            store.clone(),
            db.effects(),
            applied.clone(),
            duplicates.clone(),
            order.clone(),
        );
        consumers.push(tokio::spawn(async move {
            while let Some(message) = lane.recv().await {
                let e = decode(&message);
                match consume(
                    &store,
                    &effects,
                    "analytics-service",
                    &message.payload,
                    OffsetDateTime::now_utc(),
                )
                .await
                {
                    Outcome::Applied => {
                        applied.fetch_add(1, Ordering::SeqCst);
                        let mut order = order.lock().unwrap();
                        if let Some(prev) =
                            order.insert(e.data().enrollment_id.clone(), e.data().seq)
                        {
                            assert!(
                                e.data().seq > prev,
                                "key {}: {} after {prev}",
                                e.data().enrollment_id,
                                e.data().seq
                            );
                        }
                    }
                    Outcome::Duplicate => {
                        duplicates.fetch_add(1, Ordering::SeqCst);
                    }
                    Outcome::InFlight => panic!("one consumer per key: nothing in flight"),
                }
            }
        }));
    }

    // Four relays, running while four producers stage.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut relays = Vec::new();
    for _ in 0..4 {
        let relay = OutboxRelay::new(db.pool.clone(), transport.clone())
            .tables(db.tables.clone())
            .batch_size(200)
            .poll_interval(Duration::from_millis(50));
        let mut stopped = stopped.clone();
        relays.push(tokio::spawn(relay.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })));
    }
    let mut producers = Vec::new();
    for p in 0..4usize {
        let db_pool = db.pool.clone();
        let outbox = Outbox::new(db.tables.clone());
        producers.push(tokio::spawn(async move {
            // Producer p owns keys p, p+4, ...: per key, seq grows.
            let per = total / 4;
            for chunk in (0..per).collect::<Vec<_>>().chunks(100) {
                let mut tx = db_pool.begin().await.unwrap();
                for &i in chunk {
                    let key = format!("enr_{}", (i % (keys / 4)) * 4 + p);
                    outbox
                        .stage(&mut tx, &completed(&key, i as u32))
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    wait_until_empty(&db, Duration::from_secs(1800)).await;
    stop.send(true).unwrap();
    let mut published = 0;
    let mut failures = 0;
    for r in relays {
        let report = r.await.unwrap();
        published += report.published;
        failures += report.failures;
    }
    drop(transport);
    for c in consumers {
        c.await.unwrap();
    }
    let staged = (total / 4) * 4;
    let effects = db.count(&db.effects()).await;
    let distinct: i64 = sqlx::query(&format!(
        "SELECT count(DISTINCT event_id) FROM {}",
        db.effects()
    ))
    .fetch_one(&db.pool)
    .await
    .unwrap()
    .get(0);
    assert_eq!(
        published as usize, staged,
        "no row published twice without a fault"
    );
    assert_eq!(applied.load(Ordering::SeqCst) as usize, staged);
    assert_eq!(effects as usize, staged);
    assert_eq!(distinct as usize, staged);
    println!(
        "checked: {staged} staged by 4 producers, {published} published by 4 relays ({failures} failed batches), \
         {} applied by 4 consumers, {} duplicates, {effects} effect rows ({distinct} distinct), order held on {} keys",
        applied.load(Ordering::SeqCst),
        duplicates.load(Ordering::SeqCst),
        order.lock().unwrap().len()
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_reconnects_with_backoff_after_losing_its_connections_and_loses_nothing() {
    let db = TestDb::new().await;
    let relay_app = format!("relay-{:016x}", fastrand::u64(..));
    let relay_pool = pool_named(&relay_app, 4).await;
    let transport = Recording::default();
    let relay = OutboxRelay::new(relay_pool.clone(), transport.clone())
        .tables(db.tables.clone())
        .batch_size(20)
        .poll_interval(Duration::from_millis(50))
        .max_backoff(Duration::from_millis(400));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    let mut killed = 0;
    let mut staged = 0u32;
    for wave in 0..5u32 {
        let events: Vec<(String, u32)> = (0..100)
            .map(|i| (format!("enr_{}", i % 7), wave * 100 + i))
            .collect();
        stage_all(&db, &events).await;
        staged += 100;
        // Kill once the relay has reconnected (a connection to kill).
        let mut round = 0;
        for _ in 0..400 {
            round = kill(&db.pool, &relay_app, false).await;
            if round > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        killed += round;
    }
    wait_until_empty(&db, Duration::from_secs(120)).await;
    stop.send(()).unwrap();
    let report = running.await.unwrap();
    let sent = transport.messages();
    let distinct: HashSet<&str> = sent.iter().map(|m| m.id.as_str()).collect();
    assert!(killed >= 5, "connections were killed: {killed}");
    assert!(report.failures >= 1, "the relay saw the loss: {report:?}");
    assert_eq!(distinct.len(), staged as usize, "nothing lost");
    let store = PgProcessedStore::with_tables(db.pool.clone(), &db.tables);
    for m in &sent {
        consume(
            &store,
            &db.effects(),
            "activity-log",
            &m.payload,
            OffsetDateTime::now_utc(),
        )
        .await;
    }
    assert_eq!(db.count(&db.effects()).await, staged as i64);
    println!(
        "checked: {staged} staged in 5 waves, {killed} relay connections killed, {} relay failures, \
         {} deliveries, {} distinct, {staged} effects",
        report.failures,
        sent.len(),
        distinct.len()
    );
    relay_pool.close().await;
    db.drop().await;
}

/// Records in send order, yielding between messages so relays interleave.
#[derive(Clone, Default)]
struct Interleaving {
    sent: Arc<Mutex<Vec<(String, u32, String)>>>,
}

impl Transport for Interleaving {
    type Error = Never;
    async fn send(&self, message: Message) -> Result<(), Never> {
        let e = decode(&message);
        self.sent
            .lock()
            .unwrap()
            .push((e.data().enrollment_id.clone(), e.data().seq, message.id));
        tokio::time::sleep(Duration::from_micros(200)).await;
        Ok(())
    }
}

/// Four relays drain `rows` rows over `keys` keys, staged beforehand, in
/// batches of `batch`; each row is published once and each key in order.
async fn four_relays_share_a_backlog(rows: u32, keys: u32, batch: usize) {
    let db = TestDb::new().await;
    let events: Vec<(String, u32)> = (0..rows)
        .map(|i| (format!("enr_{}", i % keys), i))
        .collect();
    for chunk in events.chunks(200) {
        stage_all(&db, chunk).await;
    }
    let transport = Interleaving::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut relays = Vec::new();
    for _ in 0..4 {
        let relay = OutboxRelay::new(db.pool.clone(), transport.clone())
            .tables(db.tables.clone())
            .batch_size(batch)
            .poll_interval(Duration::from_millis(20));
        let mut stopped = stopped.clone();
        relays.push(tokio::spawn(relay.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })));
    }
    wait_until_empty(&db, Duration::from_secs(300)).await;
    stop.send(true).unwrap();
    let mut batches_by_relay = Vec::new();
    for r in relays {
        batches_by_relay.push(r.await.unwrap().batches);
    }
    let sent = transport.sent.lock().unwrap().clone();
    let distinct: HashSet<&str> = sent.iter().map(|(_, _, id)| id.as_str()).collect();
    let rows = rows as usize;
    assert_eq!((sent.len(), distinct.len()), (rows, rows), "each row once");
    let keys = assert_per_key_order(sent.iter().map(|(k, n, _)| (k.as_str(), *n)));
    assert!(
        batches_by_relay.iter().filter(|b| **b > 0).count() >= 2,
        "the relays shared the work: {batches_by_relay:?}"
    );
    println!(
        "checked: {rows} rows over {keys} keys, 4 relays in batches of {batch} \
         (batches {batches_by_relay:?}), {rows} sent, {rows} distinct, per-key order held"
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_relays_sharing_a_backlog_publish_each_key_in_order_and_each_row_once() {
    // Fewer keys than a batch: the first relay can lock them all.
    four_relays_share_a_backlog(2000, 5, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_relays_sharing_a_backlog_of_more_keys_than_a_batch_keep_each_key_in_order() {
    // More keys than a batch: each claim locks a part of the head's keys
    // and the relays contend for the rest.
    four_relays_share_a_backlog(3000, 40, 8).await;
}
