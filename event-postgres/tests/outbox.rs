//! The outbox and its relay against the real server.

mod common;

use common::*;
use event_postgres::{Outbox, OutboxRelay, RelayMode, Tables, migrate};
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
