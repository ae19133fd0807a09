//! The outbox and its relay against the real server.

mod common;

use common::*;
use event_postgres::{Outbox, OutboxBatch, OutboxRelay, RelayMode, Tables, migrate};
use sqlx::Row;
use std::time::Duration;

#[tokio::test]
async fn migrations_run_twice_with_quoted_names_and_keep_the_briefs_processed_events_table() {
    let schema = format!("Odd \"name\" {:08x}", fastrand::u32(..));
    let tables = Tables::new(schema)
        .unwrap()
        .outbox("out box")
        .unwrap()
        .processed_events("processed_events")
        .unwrap();
    let db = TestDb::with_tables(tables.clone()).await;
    migrate(&db.pool, &tables)
        .await
        .expect("a second run changes nothing");

    let columns: Vec<(String, String)> = sqlx::query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'processed_events' ORDER BY ordinal_position",
    )
    .bind(tables.schema())
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let first: Vec<(&str, &str)> = columns
        .iter()
        .take(5)
        .map(|(c, t)| (c.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        first,
        [
            ("event_id", "text"),
            ("event_type", "text"),
            ("consumer", "text"),
            ("processed_at", "timestamp with time zone"),
            ("result", "jsonb"),
        ]
    );
    let unique: Vec<String> = sqlx::query(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE n.nspname = $1 AND c.contype = 'u' ORDER BY 1",
    )
    .bind(tables.schema())
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert!(
        unique.contains(&"UNIQUE (event_id, consumer)".to_owned()),
        "{unique:?}"
    );

    let outbox = Outbox::new(tables.clone());
    let mut tx = db.pool.begin().await.unwrap();
    outbox.stage(&mut tx, &completed("enr_1", 1)).await.unwrap();
    tx.commit().await.unwrap();
    let relay = OutboxRelay::new(db.pool.clone(), Recording::default()).tables(tables);
    assert_eq!(relay.run_once().await.unwrap(), 1);
    println!(
        "checked: 5 brief columns, {} unique constraints, 1 event relayed through quoted names",
        unique.len()
    );
    db.drop().await;
}

#[test]
fn names_postgres_would_truncate_or_cannot_hold_are_refused() {
    let long = "x".repeat(64);
    let err = Tables::new(long.clone()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "the schema name `{long}` is longer than 63 bytes, which PostgreSQL would truncate"
        )
    );
    let err = Tables::default().outbox("").unwrap_err().to_string();
    assert_eq!(err, "the outbox table name `` is empty");
}

#[tokio::test]
async fn a_staged_event_is_published_only_if_the_callers_transaction_commits() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone()).tables(db.tables.clone());

    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO {} (event_id, enrollment_id, n, consumer) VALUES ('x', 'enr_1', 0, 'producer')",
        db.effects()
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    outbox.stage(&mut tx, &completed("enr_1", 1)).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(db.count(&db.effects()).await, 0);

    let event = completed("enr_1", 2);
    let mut tx = db.pool.begin().await.unwrap();
    outbox.stage(&mut tx, &event).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(relay.run_once().await.unwrap(), 1);
    let sent = transport.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, event.id().as_str());
    assert_eq!(sent[0].event_type, "enrollment.completed");
    assert_eq!(sent[0].partition_key.as_deref(), Some("enr_1"));
    assert_eq!(decode(&sent[0]), event.clone());
    assert_eq!(
        db.count(&db.tables.qualified_outbox()).await,
        0,
        "published rows are deleted"
    );
    println!("checked: rolled back 1 -> published 0; committed 1 -> published 1, row deleted");
    db.drop().await;
}

#[tokio::test]
async fn rows_carry_the_columns_a_cdc_outbox_router_reads_and_mark_mode_keeps_them() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let event = completed("enr_7", 1);
    let mut tx = db.pool.begin().await.unwrap();
    outbox.stage(&mut tx, &event).await.unwrap();
    tx.commit().await.unwrap();
    let row = sqlx::query(&format!(
        "SELECT id, aggregatetype, aggregateid, type, payload::jsonb ->> 'id' FROM {}",
        db.tables.qualified_outbox()
    ))
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let got: (String, String, String, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let id = event.id().as_str().to_owned();
    assert_eq!(
        got,
        (
            id.clone(),
            "enrollment".into(),
            "enr_7".into(),
            "enrollment.completed".into(),
            id
        )
    );
    let stats = outbox.stats(&db.pool).await.unwrap();
    assert_eq!(stats.pending, 1);
    assert!(stats.oldest.is_some());
    let relay = OutboxRelay::new(db.pool.clone(), Recording::default())
        .tables(db.tables.clone())
        .mode(RelayMode::Mark);
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(
        relay.run_once().await.unwrap(),
        0,
        "a marked row is not published again"
    );
    assert_eq!(db.count(&db.tables.qualified_outbox()).await, 1);
    assert_eq!(outbox.stats(&db.pool).await.unwrap().pending, 0);
    db.drop().await;
}

#[tokio::test]
async fn rows_committed_in_reverse_order_are_neither_skipped_nor_reordered() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone()).tables(db.tables.clone());

    // Two keys: the lower seq commits last and is still published.
    let mut t1 = db.pool.begin().await.unwrap();
    let mut t2 = db.pool.begin().await.unwrap();
    let seq_a = outbox.stage(&mut t1, &completed("enr_a", 1)).await.unwrap();
    let seq_b = outbox.stage(&mut t2, &completed("enr_b", 1)).await.unwrap();
    assert!(seq_a < seq_b);
    t2.commit().await.unwrap();
    assert_eq!(relay.run_once().await.unwrap(), 1);
    t1.commit().await.unwrap();
    assert_eq!(
        relay.run_once().await.unwrap(),
        1,
        "the late, lower seq is not skipped"
    );
    let keys: Vec<_> = transport
        .messages()
        .iter()
        .map(|m| m.partition_key.as_deref().unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["enr_b", "enr_a"]);

    // One key: the second transaction tries to commit first; it waits at
    // stage until the first commits, so the key's order is commit order.
    let mut t1 = db.pool.begin().await.unwrap();
    outbox.stage(&mut t1, &completed("enr_c", 1)).await.unwrap();
    let second = {
        let pool = db.pool.clone();
        let outbox = outbox.clone();
        tokio::spawn(async move {
            let mut t2 = pool.begin().await.unwrap();
            outbox.stage(&mut t2, &completed("enr_c", 2)).await.unwrap();
            t2.commit().await.unwrap();
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the second stage of the key waits for the first"
    );
    assert_eq!(
        relay.run_once().await.unwrap(),
        0,
        "nothing of the key is visible yet"
    );
    t1.commit().await.unwrap();
    second.await.unwrap();
    let mut published = 0;
    while published < 2 {
        published += relay.run_once().await.unwrap();
    }
    let sent = transport.messages();
    let c: Vec<u32> = sent[2..].iter().map(|m| decode(m).data().seq).collect();
    assert_eq!(c, [1, 2]);
    println!(
        "checked: 2 keys committed in reverse seq order -> 2 published, none skipped; \
         1 key with 2 transactions -> published [1, 2]"
    );
    db.drop().await;
}

#[tokio::test]
async fn relays_wake_on_notify_and_poll_when_notifications_are_off() {
    let db = TestDb::new().await;
    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone())
        .tables(db.tables.clone())
        // A poll this long would fail the wait below: only NOTIFY wakes it.
        .poll_interval(Duration::from_secs(3600));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outbox = Outbox::new(db.tables.clone());
    let mut tx = db.pool.begin().await.unwrap();
    outbox.stage(&mut tx, &completed("enr_n", 1)).await.unwrap();
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        while transport.messages().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the NOTIFY woke the relay");
    stop.send(()).unwrap();
    let report = running.await.unwrap();
    assert_eq!(report.published, 1);

    // Without NOTIFY, the poll finds the row.
    let quiet = Outbox::new(db.tables.clone()).notify(false);
    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone())
        .tables(db.tables.clone())
        .poll_interval(Duration::from_millis(100));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tx = db.pool.begin().await.unwrap();
    quiet.stage(&mut tx, &completed("enr_p", 1)).await.unwrap();
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        while transport.messages().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("polling found the row");
    stop.send(()).unwrap();
    assert_eq!(running.await.unwrap().published, 1);
    println!("checked: 1 event relayed on NOTIFY, 1 event relayed by polling");
    db.drop().await;
}

/// An event without a partition key.
#[derive(Debug, Clone, PartialEq, event_runtime::Event)]
#[event(
    type = "course.viewed",
    version = "2.0",
    producer = "catalog-service",
    ordering = "unordered",
    delivery = "at-most-once"
)]
struct CourseViewed {
    course_id: String,
}

fn viewed(course: &str) -> event_runtime::Envelope<CourseViewed> {
    event_runtime::Envelope::new(CourseViewed {
        course_id: course.to_owned(),
    })
    .tenant("tenant_a")
    .correlation("req_test")
    .build()
}

async fn drain(relay: &OutboxRelay<Recording>) -> usize {
    let mut published = 0;
    loop {
        let n = relay.run_once().await.unwrap();
        if n == 0 {
            return published;
        }
        published += n;
    }
}

#[tokio::test]
async fn stage_many_commits_or_rolls_back_with_the_callers_transaction_and_keeps_the_batch_order() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone())
        .tables(db.tables.clone())
        .batch_size(4);

    // Rolled back: neither the business write nor any event remains.
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO {} (event_id, enrollment_id, n, consumer) VALUES ('x', 'enr_1', 0, 'producer')",
        db.effects()
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    let rolled_back: Vec<_> = (0..5).map(|i| completed("enr_a", i)).collect();
    let seqs = outbox.stage_many(&mut tx, &rolled_back).await.unwrap();
    assert_eq!(seqs.len(), 5);
    tx.rollback().await.unwrap();
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(db.count(&db.effects()).await, 0);
    assert_eq!(db.count(&db.tables.qualified_outbox()).await, 0);

    // Committed: two keys interleaved, in one statement.
    let events: Vec<_> = (0..10)
        .map(|i| completed(if i % 3 == 0 { "enr_b" } else { "enr_a" }, i))
        .collect();
    let mut tx = db.pool.begin().await.unwrap();
    let seqs = outbox.stage_many(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seqs in the batch's order: {seqs:?}"
    );
    let by_seq: Vec<(i64, String)> = sqlx::query(&format!(
        "SELECT seq, id FROM {} ORDER BY seq",
        db.tables.qualified_outbox()
    ))
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let expected: Vec<(i64, String)> = seqs
        .iter()
        .zip(&events)
        .map(|(s, e)| (*s, e.id().as_str().to_owned()))
        .collect();
    assert_eq!(by_seq, expected, "each returned seq is its event's row");

    assert_eq!(drain(&relay).await, 10);
    let sent = transport.messages();
    let ids: Vec<&str> = sent.iter().map(|m| m.id.as_str()).collect();
    let staged: Vec<&str> = events.iter().map(|e| e.id().as_str()).collect();
    assert_eq!(ids, staged, "published in staging order");
    assert_eq!(decode(&sent[3]), events[3]);

    // Nothing to stage sends nothing.
    let mut tx = db.pool.begin().await.unwrap();
    let none: Vec<event_runtime::Envelope<EnrollmentCompleted>> = Vec::new();
    assert!(outbox.stage_many(&mut tx, &none).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    println!(
        "checked: rolled back 5 -> 0 rows, 0 effects; committed 10 over 2 keys -> 10 seqs in order, \
         10 published in staging order; empty batch -> nothing"
    );
    db.drop().await;
}

/// aggregatetype, aggregateid, type, major, delivery, partition_key, payload.
type Columns = (String, String, String, i32, String, Option<String>, String);

#[tokio::test]
async fn a_batch_of_several_types_writes_the_rows_stage_writes() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let columns = |db: &TestDb| {
        let pool = db.pool.clone();
        let sql = format!(
            "SELECT aggregatetype, aggregateid, type, major, delivery, partition_key, payload
             FROM {} ORDER BY seq",
            db.tables.qualified_outbox()
        );
        async move {
            sqlx::query(&sql)
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    let row: Columns = (
                        r.get(0),
                        r.get(1),
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        r.get(5),
                        r.get(6),
                    );
                    row
                })
                .collect::<Vec<_>>()
        }
    };
    let keyed = completed("enr_k", 1);
    let unkeyed = viewed("c_1");

    let mut tx = db.pool.begin().await.unwrap();
    outbox.stage(&mut tx, &keyed).await.unwrap();
    outbox.stage(&mut tx, &unkeyed).await.unwrap();
    tx.commit().await.unwrap();
    let one_by_one = columns(&db).await;
    sqlx::query(&format!("DELETE FROM {}", db.tables.qualified_outbox()))
        .execute(&db.pool)
        .await
        .unwrap();

    // The same two events through a batch (fresh ids: `id` is unique).
    let keyed_again = completed("enr_k", 1);
    let unkeyed_again = viewed("c_1");
    let mut batch = OutboxBatch::new();
    batch
        .push(&keyed_again)
        .unwrap()
        .push(&unkeyed_again)
        .unwrap();
    assert_eq!(batch.len(), 2);
    let mut tx = db.pool.begin().await.unwrap();
    let seqs = outbox.stage_batch(&mut tx, &batch).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(seqs.len(), 2);
    let batched = columns(&db).await;

    // Every column but the payload (which carries the id) is the same.
    let strip = |rows: Vec<Columns>, ids: [&str; 2]| {
        rows.into_iter()
            .zip(ids)
            .map(|(mut r, id)| {
                assert!(r.6.contains(id), "the payload is the envelope of `{id}`");
                if r.1 == id {
                    r.1 = "<event id>".into();
                }
                r.6 = String::new();
                r
            })
            .collect::<Vec<_>>()
    };
    let a = strip(one_by_one, [keyed.id().as_str(), unkeyed.id().as_str()]);
    let b = strip(
        batched,
        [keyed_again.id().as_str(), unkeyed_again.id().as_str()],
    );
    assert_eq!(a, b);
    assert_eq!(
        a[1],
        (
            "course".into(),
            "<event id>".into(),
            "course.viewed".into(),
            2,
            "at-most-once".into(),
            None,
            String::new()
        ),
        "an unkeyed event's aggregateid is its event id"
    );
    assert_eq!(a[0].1, "enr_k");

    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone()).tables(db.tables.clone());
    assert_eq!(drain(&relay).await, 2);
    let types: Vec<&str> = transport.messages().iter().map(|m| m.event_type).collect();
    assert_eq!(types, ["enrollment.completed", "course.viewed"]);

    // A bad event is refused at push and leaves the batch as it was.
    batch.clear();
    batch.push(&completed("enr_k", 2)).unwrap();
    let bad = event_runtime::Envelope::new(CourseViewed {
        course_id: "c_2".into(),
    })
    .tenant("")
    .correlation("req_test")
    .build();
    let err = batch.push(&bad).unwrap_err().to_string();
    assert!(err.starts_with("encoding the envelope"), "{err}");
    assert_eq!(batch.len(), 1);
    println!(
        "checked: 2 rows (keyed, unkeyed) staged one by one and in a batch agree on 6 columns; \
         2 published with their types; 1 bad event refused at push, batch kept 1"
    );
    db.drop().await;
}

#[tokio::test]
async fn stage_many_waits_for_an_open_transaction_staging_the_same_key() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let transport = Recording::default();
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone()).tables(db.tables.clone());

    let mut t1 = db.pool.begin().await.unwrap();
    outbox.stage(&mut t1, &completed("enr_c", 1)).await.unwrap();
    let second = {
        let pool = db.pool.clone();
        let outbox = outbox.clone();
        tokio::spawn(async move {
            let mut t2 = pool.begin().await.unwrap();
            let batch = [completed("enr_d", 1), completed("enr_c", 2)];
            outbox.stage_many(&mut t2, &batch).await.unwrap();
            t2.commit().await.unwrap();
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the batch waits on the key the first transaction holds"
    );
    assert_eq!(
        relay.run_once().await.unwrap(),
        0,
        "not even the batch's other key is visible yet"
    );
    t1.commit().await.unwrap();
    second.await.unwrap();
    assert_eq!(drain(&relay).await, 3);
    let c: Vec<u32> = transport
        .messages()
        .iter()
        .map(decode)
        .filter(|e| e.data().enrollment_id == "enr_c")
        .map(|e| e.data().seq)
        .collect();
    assert_eq!(c, [1, 2]);
    println!("checked: a batch waited on 1 held key, then 3 published, key enr_c in order [1, 2]");
    db.drop().await;
}

/// On its first message, counts the relay locks of the outbox held
/// anywhere: the claiming transaction is the only one taking them.
#[derive(Clone)]
struct CountRelayLocks {
    admin: sqlx::PgPool,
    table: String,
    seen: std::sync::Arc<std::sync::Mutex<Option<i64>>>,
}

impl event_delivery::Transport for CountRelayLocks {
    type Error = Never;
    async fn send(&self, _message: event_delivery::Message) -> Result<(), Never> {
        if self.seen.lock().unwrap().is_some() {
            return Ok(());
        }
        let held: i64 = sqlx::query(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
             AND classid::bigint = (hashtext($1 || ':relay')::bigint & 4294967295)",
        )
        .bind(&self.table)
        .fetch_one(&self.admin)
        .await
        .unwrap()
        .get(0);
        *self.seen.lock().unwrap() = Some(held);
        Ok(())
    }
}

#[tokio::test]
async fn a_relay_batch_locks_no_more_keys_than_it_has_rows() {
    let db = TestDb::new().await;
    let outbox = Outbox::new(db.tables.clone());
    let events: Vec<_> = (0..100)
        .map(|i| completed(&format!("enr_{i}"), i))
        .collect();
    let mut tx = db.pool.begin().await.unwrap();
    outbox.stage_many(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
    let transport = CountRelayLocks {
        admin: db.pool.clone(),
        table: db.tables.qualified_outbox(),
        seen: Default::default(),
    };
    let relay = OutboxRelay::new(db.pool.clone(), transport.clone())
        .tables(db.tables.clone())
        .batch_size(10);
    assert_eq!(relay.run_once().await.unwrap(), 10);
    let held = transport.seen.lock().unwrap().expect("a message was sent");
    // The head holds 40 rows of 40 keys; locking them all would show 40.
    assert_eq!(held, 10, "relay locks held while publishing a batch of 10");
    println!("checked: 100 keys staged, a batch of 10 held {held} relay locks");
    db.drop().await;
}
