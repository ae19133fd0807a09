//! The operator CLI, run as a binary against the real server.

mod common;

use common::*;
use event_delivery::{DeadLetter, DeadLetterId, DeadLetters};
use event_postgres::{Outbox, PgDeadLetters, PgQueue};
use event_runtime::{ErrorClass, OffsetDateTime, Version};
use serde_json::Value;
use std::process::{Command, Output};

fn ops(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_event-ops"))
        .args(args)
        .env("DATABASE_URL", database_url())
        .output()
        .expect("event-ops runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn dead(consumer: &str, n: u32) -> DeadLetter {
    let e = completed("enr_1", n);
    let now = OffsetDateTime::now_utc();
    DeadLetter {
        id: DeadLetterId(0),
        payload: e.to_json_vec().unwrap().into(),
        partition_key: Some("enr_1".into()),
        event_id: Some(e.id().as_str().into()),
        event_type: Some("enrollment.completed".into()),
        version: Some(Version::new(1, 0)),
        tenant_id: Some("tenant_a".into()),
        consumer: consumer.into(),
        error: "certificate template missing".into(),
        class: ErrorClass::Permanent,
        attempts: 1,
        first_failure: now,
        last_failure: now,
    }
}

#[tokio::test]
async fn event_ops_lists_shows_retries_discards_and_reports_with_documented_exit_codes() {
    let schema = format!("ops_{:016x}", fastrand::u64(..));
    let out = ops(&["migrate", "--schema", &schema]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("migrated schema `{schema}`\n"));
    let db = TestDb::with_tables(event_postgres::Tables::new(schema.clone()).unwrap()).await;
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let a = dlq.put(dead("certificate-service", 1)).await.unwrap();
    let b = dlq.put(dead("certificate-service", 2)).await.unwrap();
    let c = dlq.put(dead("notification-service", 3)).await.unwrap();

    let out = ops(&[
        "dlq",
        "list",
        "--schema",
        &schema,
        "--consumer",
        "certificate-service",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.to_string(), b.to_string()]);

    let out = ops(&["dlq", "list", "--schema", &schema]);
    let text = stdout(&out);
    assert!(text.starts_with("ID "), "{text}");
    assert!(
        text.contains("notification-service") && text.contains("certificate template missing"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4);

    let out = ops(&["dlq", "show", &a.to_string(), "--schema", &schema]);
    let text = stdout(&out);
    assert!(text.contains("class         permanent"), "{text}");
    assert!(text.contains("attempts      1"), "{text}");
    assert!(text.contains("\"enrollmentId\": \"enr_1\""), "{text}");

    let out = ops(&["dlq", "stats", "--schema", &schema, "--json"]);
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        stats[0],
        serde_json::json!({"consumer": "certificate-service", "type": "enrollment.completed", "depth": 2})
    );

    let out = ops(&[
        "dlq",
        "retry",
        "--type",
        "enrollment.completed",
        "--consumer",
        "certificate-service",
        "--schema",
        &schema,
    ]);
    assert_eq!(
        stdout(&out),
        "moved 2 dead letter(s) back into their queues\n"
    );
    let queue = PgQueue::new(db.pool.clone(), &db.tables);
    assert_eq!(queue.depth("certificate-service").await.unwrap(), 2);

    let out = ops(&[
        "dlq",
        "retry",
        &c.to_string(),
        "--schema",
        &schema,
        "--json",
    ]);
    assert_eq!(stdout(&out).trim(), format!("{{\"retried\":[\"{c}\"]}}"));
    assert_eq!(queue.depth("notification-service").await.unwrap(), 1);

    let d = dlq.put(dead("activity-log", 4)).await.unwrap();
    let out = ops(&["dlq", "discard", &d.to_string(), "--schema", &schema]);
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), format!("discarded {d}\n"))
    );

    // Unknown ids: exit 3, a message naming the id.
    for args in [
        ["dlq", "show", "dl_999999"],
        ["dlq", "discard", "999999"],
        ["dlq", "retry", "dl_999999"],
    ] {
        let out = ops(&[&args[..], &["--schema", &schema]].concat());
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert_eq!(stderr(&out), "event-ops: no dead letter dl_999999\n");
    }
    // A malformed id: exit 2.
    let out = ops(&["dlq", "show", "abc", "--schema", &schema]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`abc` is not a dead letter id"),
        "{}",
        stderr(&out)
    );

    let outbox = Outbox::new(db.tables.clone());
    let mut tx = db.pool.begin().await.unwrap();
    outbox.stage(&mut tx, &completed("enr_9", 1)).await.unwrap();
    tx.commit().await.unwrap();
    let out = ops(&["outbox", "stats", "--schema", &schema, "--json"]);
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats["pending"], 1);
    assert!(stats["oldestAgeSeconds"].as_f64().unwrap() >= 0.0);
    let out = ops(&["outbox", "stats", "--schema", &schema]);
    assert!(
        stdout(&out).starts_with("PENDING  OLDEST"),
        "{}",
        stdout(&out)
    );
    println!(
        "checked: 3 listed/filtered, 1 shown, 2 retried by type, 1 by id, 1 discarded, 3 unknown ids -> exit 3, 1 malformed -> 2, outbox pending 1"
    );
    db.drop().await;
}

#[test]
fn a_bad_or_unreachable_database_url_is_a_clear_error_not_a_panic() {
    let out = ops(&["dlq", "list", "--database-url", "not a url"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).starts_with("event-ops: the database URL does not parse"),
        "{}",
        stderr(&out)
    );

    let out = ops(&[
        "outbox",
        "stats",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/test",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("event-ops: cannot connect to the database"),
        "{}",
        stderr(&out)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_event-ops"))
        .args(["dlq", "stats"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        stderr(&out),
        "event-ops: no database: pass --database-url or set DATABASE_URL\n"
    );

    let out = ops(&["dlq", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ops(&["--help"]);
    assert!(stdout(&out).contains("3  no such dead letter"));
}
