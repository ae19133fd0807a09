//! A schema of its own per test, the test event, and transports that record.
#![allow(dead_code)]

use event_delivery::{Message, ProcessedStore, Transport};
use event_postgres::{PgProcessedStore, Tables, migrate, quote_ident};
use event_runtime::idempotency::{Claim, IdempotencyKey};
use event_runtime::{Envelope, Event, OffsetDateTime};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Fired when a user completes a course.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service",
    ordering = "per-entity"
)]
pub struct EnrollmentCompleted {
    #[event(partition)]
    pub enrollment_id: String,
    pub seq: u32,
}

pub fn completed(key: &str, seq: u32) -> Envelope<EnrollmentCompleted> {
    completed_for("tenant_a", key, seq)
}

pub fn completed_for(tenant: &str, key: &str, seq: u32) -> Envelope<EnrollmentCompleted> {
    Envelope::new(EnrollmentCompleted {
        enrollment_id: key.to_owned(),
        seq,
    })
    .tenant(tenant)
    .correlation("req_test")
    .build()
}

pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A pool whose connections carry `application_name`, so a test can find
/// and kill exactly them.
pub async fn pool_named(application_name: &str, max: u32) -> PgPool {
    let options = PgConnectOptions::from_str(&database_url())
        .expect("DATABASE_URL parses")
        .application_name(application_name);
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .expect("PostgreSQL answers at DATABASE_URL (see event-postgres/README.md)")
}

/// One test's schema, migrated; [`drop`](Self::drop) removes it.
pub struct TestDb {
    pub pool: PgPool,
    pub tables: Tables,
    pub name: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("evpg_{:016x}", fastrand::u64(..));
        Self::with_tables(Tables::new(name.clone()).unwrap()).await
    }

    pub async fn with_tables(tables: Tables) -> Self {
        let name = format!("test-{:016x}", fastrand::u64(..));
        let pool = pool_named(&name, 20).await;
        migrate(&pool, &tables).await.expect("migrations run");
        sqlx::query(&format!(
            "CREATE TABLE {}.effects (seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL, \
             enrollment_id TEXT NOT NULL, n INTEGER NOT NULL, consumer TEXT NOT NULL)",
            quote_ident(tables.schema())
        ))
        .execute(&pool)
        .await
        .unwrap();
        TestDb { pool, tables, name }
    }

    pub fn effects(&self) -> String {
        format!("{}.effects", quote_ident(self.tables.schema()))
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
            .get(0)
    }

    pub async fn drop(self) {
        sqlx::query(&format!(
            "DROP SCHEMA {} CASCADE",
            quote_ident(self.tables.schema())
        ))
        .execute(&self.pool)
        .await
        .unwrap();
        self.pool.close().await;
    }
}

/// Records every message it is sent.
#[derive(Clone, Default)]
pub struct Recording {
    pub sent: Arc<Mutex<Vec<Message>>>,
}

impl Recording {
    pub fn messages(&self) -> Vec<Message> {
        self.sent.lock().unwrap().clone()
    }
}

#[derive(Debug)]
pub struct Never;
impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}
impl std::error::Error for Never {}

impl Transport for Recording {
    type Error = Never;
    async fn send(&self, message: Message) -> Result<(), Never> {
        self.sent.lock().unwrap().push(message);
        Ok(())
    }
}

/// What one consumer run of a message did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    InFlight,
}

/// The consumer side of the tests: decode, claim, write the effect and the
/// record in one transaction, commit.
pub async fn consume(
    store: &PgProcessedStore,
    effects: &str,
    consumer: &str,
    payload: &[u8],
    now: OffsetDateTime,
) -> Outcome {
    let envelope = Envelope::<EnrollmentCompleted>::from_json_slice(payload).unwrap();
    let key = IdempotencyKey::of(&envelope);
    let token = match store
        .claim(
            consumer,
            &key,
            envelope.id().as_str(),
            now,
            Duration::from_secs(60),
        )
        .await
        .unwrap()
    {
        Claim::Acquired(token) => token,
        Claim::Processed(_) => return Outcome::Duplicate,
        Claim::InFlight { .. } => return Outcome::InFlight,
    };
    let mut tx = store.begin().await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO {effects} (event_id, enrollment_id, n, consumer) VALUES ($1, $2, $3, $4)"
    ))
    .bind(envelope.id().as_str())
    .bind(&envelope.data().enrollment_id)
    .bind(envelope.data().seq as i32)
    .bind(consumer)
    .execute(&mut *tx)
    .await
    .unwrap();
    store
        .complete_in(
            &mut tx,
            consumer,
            &key,
            token,
            now,
            serde_json::json!({"ok": true}),
        )
        .await
        .unwrap();
    store.commit(tx).await.unwrap();
    Outcome::Applied
}

/// Per key, the sequence numbers in the order given; panics naming the key
/// whose order broke.
pub fn assert_per_key_order<'a>(items: impl IntoIterator<Item = (&'a str, u32)>) -> usize {
    let mut last: std::collections::HashMap<&str, u32> = Default::default();
    for (key, n) in items {
        if let Some(prev) = last.insert(key, n) {
            assert!(n > prev, "key {key}: {n} came after {prev}");
        }
    }
    last.len()
}

pub fn decode(message: &Message) -> Envelope<EnrollmentCompleted> {
    Envelope::<EnrollmentCompleted>::from_json_slice(&message.payload).unwrap()
}
