//! The transactional outbox: [`Outbox::stage`] writes an event in the
//! caller's transaction, [`OutboxRelay`] publishes what was committed.
//!
//! # Order and concurrency
//!
//! Ids from a `BIGSERIAL` become visible in commit order, not in id order:
//! a relay that reads "rows after the last id I saw" skips the row whose
//! transaction commits late. This relay keeps no cursor: every unpublished
//! row is eligible until it is marked, so a late row is published when it
//! commits, never skipped.
//!
//! Per-partition-key order needs two locks, both transaction-scoped
//! advisory locks on `(outbox table, partition key)`:
//!
//! - **Staging** takes the key's *stage* lock, so two transactions staging
//!   events of one entity are serialised: the second waits for the first to
//!   commit or roll back, and within a key `seq` order is commit order. A
//!   relay can never see a key's later row while an earlier one is still
//!   uncommitted.
//! - **Claiming** first takes the *relay* lock (`pg_try_advisory_xact_lock`)
//!   of each key at the head of the backlog that it can, then, in a second
//!   statement (a fresh snapshot, taken after the locks), reads the rows of
//!   those keys in `seq` order with `FOR UPDATE SKIP LOCKED`. A relay that
//!   cannot take a key's lock takes none of that key's rows, so one key is
//!   published by one relay at a time, in `seq` order, and several relays
//!   share the other keys. (Taking the lock row by row inside one scan is
//!   not enough: the lock can come free in the middle of the scan, and the
//!   scan would then claim a later row of the key while an earlier one it
//!   already passed is still unpublished.)
//!
//! Events without a partition key (unordered) take neither lock.
//!
//! # Crashes
//!
//! The relay publishes inside its claim transaction and marks the rows
//! before committing. A crash or lost connection between publish and mark
//! rolls the claim back; the rows are published again, with the same event
//! ids, and the consumer's inbox ([`PgProcessedStore`](crate::PgProcessedStore))
//! makes the effect happen once.
//!
//! # Metrics
//!
//! While it runs, the relay sets the `event_outbox_pending` and
//! `event_outbox_oldest_age_seconds` gauges from the table (see
//! [`OutboxRelay::record_backlog`]): every
//! [`stats_interval`](OutboxRelay::stats_interval) (5 s), and whenever it
//! has drained the backlog.

use crate::{Error, Tables};
use event_delivery::metrics_names::{OUTBOX_OLDEST_AGE_SECONDS, OUTBOX_PENDING};
use event_delivery::{Message, Transport};
use event_runtime::{Envelope, Event};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};
use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;

/// Writes events into the outbox table, in the caller's transaction.
#[derive(Debug, Clone)]
pub struct Outbox {
    tables: Tables,
    keyed_sql: Arc<str>,
    unkeyed_sql: Arc<str>,
    stats_sql: Arc<str>,
    notify: bool,
}

impl Outbox {
    /// An outbox in `tables`, notifying relays on every stage.
    pub fn new(tables: Tables) -> Self {
        let table = tables.qualified_outbox();
        let insert = format!(
            "INSERT INTO {table} (id, aggregatetype, aggregateid, type, major, delivery, partition_key, payload)"
        );
        // The CTEs run because the INSERT reads from them: the lock is
        // taken before `seq` is drawn.
        let keyed_sql = format!(
            "WITH l AS (SELECT pg_advisory_xact_lock(hashtext($9 || ':stage'), hashtext($3))),
                  n AS (SELECT pg_notify($11, '') WHERE $10)
             {insert} SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM l LEFT JOIN n ON true RETURNING seq"
        );
        let unkeyed_sql = format!(
            "WITH n AS (SELECT pg_notify($11, '') WHERE $10)
             {insert} SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM (SELECT 1) one LEFT JOIN n ON true
             WHERE $9::text IS NOT NULL RETURNING seq"
        );
        let stats_sql =
            format!("SELECT count(*), min(created_at) FROM {table} WHERE published_at IS NULL");
        Outbox {
            tables,
            keyed_sql: keyed_sql.into(),
            unkeyed_sql: unkeyed_sql.into(),
            stats_sql: stats_sql.into(),
            notify: true,
        }
    }

    /// Whether staging sends a `NOTIFY` (on by default). Without it relays
    /// find rows by polling only.
    pub fn notify(mut self, notify: bool) -> Self {
        self.notify = notify;
        self
    }

    /// The tables this outbox writes to.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// Stages `envelope` in the caller's transaction: it is published if and
    /// only if the transaction commits. Returns the row's `seq`.
    ///
    /// Events with a partition key wait here while another open transaction
    /// has staged an event of the same key (see the module docs).
    pub async fn stage<E: Event>(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope<E>,
    ) -> Result<i64, Error> {
        let payload = envelope.to_json_vec().map_err(Error::Encode)?;
        // The envelope encoder writes JSON, which is UTF-8.
        let payload = String::from_utf8(payload)
            .map_err(|e| Error::Config(format!("the encoded envelope is not UTF-8: {e}")))?;
        let id = envelope.id().as_str();
        let partition_key = envelope.partition_key();
        let event_type = envelope.event_type();
        let aggregate_type = event_type.split('.').next().unwrap_or(event_type);
        let (sql, aggregate_id) = match &partition_key {
            Some(key) => (&*self.keyed_sql, key.as_str()),
            None => (&*self.unkeyed_sql, id),
        };
        let row = sqlx::query(sql)
            .bind(id)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(event_type)
            .bind(envelope.version().major() as i32)
            .bind(E::DELIVERY.as_str())
            .bind(partition_key.as_deref())
            .bind(payload)
            .bind(self.tables.qualified_outbox())
            .bind(self.notify)
            .bind(self.tables.outbox_channel())
            .fetch_one(&mut *tx)
            .await?;
        Ok(row.get(0))
    }

    /// How many rows wait to be published, and when the oldest was staged.
    pub async fn stats(&self, pool: &PgPool) -> Result<OutboxStats, Error> {
        let row = sqlx::query(&self.stats_sql).fetch_one(pool).await?;
        Ok(OutboxStats {
            pending: row.get::<i64, _>(0),
            oldest: row.get(1),
        })
    }
}

/// The outbox's backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxStats {
    /// Rows not yet published.
    pub pending: i64,
    /// When the oldest of them was staged.
    pub oldest: Option<OffsetDateTime>,
}

/// The outbox's backlog as the relay's gauges report it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutboxBacklog {
    /// Rows not yet published.
    pub pending: u64,
    /// The database's `now()` minus the oldest of them's `created_at`; zero
    /// when there is none.
    pub oldest_age: Duration,
}

/// How often [`OutboxRelay::run`] samples the backlog by default.
pub const DEFAULT_STATS_INTERVAL: Duration = Duration::from_secs(5);

/// What the relay does with a published row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelayMode {
    /// Deletes it: the table holds only the backlog.
    #[default]
    Delete,
    /// Sets `published_at`: the table keeps a history (purge it yourself).
    Mark,
}

/// What a relay did before it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Rows published and marked (committed).
    pub published: u64,
    /// Batches committed.
    pub batches: u64,
    /// Batches that failed (database or transport) and were rolled back, to
    /// be published again.
    pub failures: u64,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// A failure of one relay batch.
#[derive(Debug)]
pub enum RelayError {
    /// The database failed; the batch was rolled back.
    Database(sqlx::Error),
    /// The transport refused a message; the batch was rolled back.
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// A row could not be turned into a message.
    Row(String),
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RelayError::Database(e) => write!(f, "database: {e}"),
            RelayError::Transport(e) => write!(f, "transport: {e}"),
            RelayError::Row(e) => write!(f, "outbox row: {e}"),
        }
    }
}

impl std::error::Error for RelayError {}

impl From<sqlx::Error> for RelayError {
    fn from(e: sqlx::Error) -> Self {
        RelayError::Database(e)
    }
}

/// Publishes the committed outbox rows to a [`Transport`]. Any number of
/// relays may run on one table (see the module docs for why no row is
/// published twice in normal operation and each key stays in order).
pub struct OutboxRelay<X> {
    pool: PgPool,
    transport: X,
    tables: Tables,
    batch_size: i64,
    poll_interval: Duration,
    max_backoff: Duration,
    mode: RelayMode,
    stats_interval: Duration,
}

impl<X: Transport> OutboxRelay<X> {
    /// A relay on the default [`Tables`], batches of 500, polling every
    /// second when no notification comes, deleting published rows.
    pub fn new(pool: PgPool, transport: X) -> Self {
        OutboxRelay {
            pool,
            transport,
            tables: Tables::default(),
            batch_size: 500,
            poll_interval: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            mode: RelayMode::Delete,
            stats_interval: DEFAULT_STATS_INTERVAL,
        }
    }

    /// How often [`run`](Self::run) sets the backlog gauges while it relays
    /// (default [`DEFAULT_STATS_INTERVAL`]); it also does once it has
    /// drained the backlog.
    pub fn stats_interval(mut self, interval: Duration) -> Self {
        self.stats_interval = interval;
        self
    }

    /// Reads the backlog from the table and sets the `event_outbox_pending`
    /// and `event_outbox_oldest_age_seconds` gauges to it. The age is taken
    /// on the database's clock, the one that wrote `created_at`.
    pub async fn record_backlog(&self) -> Result<OutboxBacklog, Error> {
        let table = self.tables.qualified_outbox();
        let row = sqlx::query(&format!(
            "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
             FROM {table} WHERE published_at IS NULL"
        ))
        .fetch_one(&self.pool)
        .await?;
        let pending = u64::try_from(row.get::<i64, _>(0)).unwrap_or(0);
        let age: f64 = row.get::<f64, _>(1).max(0.0);
        metrics::gauge!(OUTBOX_PENDING).set(pending as f64);
        metrics::gauge!(OUTBOX_OLDEST_AGE_SECONDS).set(age);
        Ok(OutboxBacklog {
            pending,
            oldest_age: Duration::try_from_secs_f64(age).unwrap_or_default(),
        })
    }

    /// The tables to read.
    pub fn tables(mut self, tables: Tables) -> Self {
        self.tables = tables;
        self
    }

    /// Rows claimed per batch (at least 1).
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.clamp(1, i64::MAX as usize) as i64;
        self
    }

    /// How long to wait for a notification before polling anyway.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The longest wait between retries after failures (doubling from
    /// 50 ms).
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// Delete or mark published rows.
    pub fn mode(mut self, mode: RelayMode) -> Self {
        self.mode = mode;
        self
    }

    /// The transport.
    pub fn transport(&self) -> &X {
        &self.transport
    }

    /// Claims one batch, publishes it in `seq` order, marks it and commits.
    /// Returns how many rows it published.
    pub async fn run_once(&self) -> Result<usize, RelayError> {
        let table = self.tables.qualified_outbox();
        // Step 1: the keys at the head of the backlog whose relay lock this
        // transaction can take. Step 2, a new statement and so a new
        // snapshot taken after the locks: the rows of those keys (and
        // unkeyed rows). Every row another relay published under a key's
        // lock is visible as gone by then, so each key's rows here are the
        // oldest it has left, in order.
        let keys = format!(
            "SELECT k FROM (SELECT DISTINCT partition_key AS k FROM
                 (SELECT partition_key FROM {table} WHERE published_at IS NULL
                  ORDER BY seq LIMIT $2) head WHERE partition_key IS NOT NULL) c
             WHERE pg_try_advisory_xact_lock(hashtext($1 || ':relay'), hashtext(k))"
        );
        let claim = format!(
            "SELECT seq, id, type, major, delivery, partition_key, payload FROM {table}
             WHERE published_at IS NULL AND (partition_key IS NULL OR partition_key = ANY($1))
             ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED"
        );
        let mark = match self.mode {
            RelayMode::Delete => format!("DELETE FROM {table} WHERE seq = ANY($1)"),
            RelayMode::Mark => {
                format!("UPDATE {table} SET published_at = now() WHERE seq = ANY($1)")
            }
        };
        let mut tx = self.pool.begin().await?;
        let locked: Vec<String> = sqlx::query_scalar(&keys)
            .bind(&table)
            .bind(self.batch_size.saturating_mul(4))
            .fetch_all(&mut *tx)
            .await?;
        let rows = sqlx::query(&claim)
            .bind(&locked)
            .bind(self.batch_size)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let mut seqs = Vec::with_capacity(rows.len());
        for row in &rows {
            seqs.push(row.get::<i64, _>(0));
            let message = message_of(row)?;
            self.transport
                .send(message)
                .await
                .map_err(|e| RelayError::Transport(Box::new(e)))?;
        }
        sqlx::query(&mark).bind(&seqs).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(seqs.len())
    }

    /// Runs until `shutdown` completes: batches back to back while rows are
    /// waiting, then waits for a `NOTIFY` or the poll interval. A failed
    /// batch is rolled back and retried with backoff (the pool reconnects).
    /// A batch in flight when `shutdown` fires is finished first.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> RelayReport {
        let mut shutdown = pin!(shutdown);
        let mut report = RelayReport::default();
        let mut listener: Option<PgListener> = None;
        let mut consecutive_failures = 0u32;
        let channel = self.tables.outbox_channel();
        let mut sampled: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => return report,
                _ = std::future::ready(()) => {}
            }
            // A failed read keeps the last values; a lost connection shows
            // in the batches' failures.
            if sampled.is_none_or(|at| at.elapsed() >= self.stats_interval) {
                let _ = self.record_backlog().await;
                sampled = Some(tokio::time::Instant::now());
            }
            match self.run_once().await {
                Ok(n) => {
                    consecutive_failures = 0;
                    if n > 0 {
                        report.published += n as u64;
                        report.batches += 1;
                    }
                    if n as i64 == self.batch_size {
                        continue;
                    }
                    if n > 0 {
                        // Drained: the gauges go down now, not at the
                        // next interval.
                        let _ = self.record_backlog().await;
                        sampled = Some(tokio::time::Instant::now());
                    }
                }
                Err(e) => {
                    report.failures += 1;
                    report.last_error = Some(e.to_string());
                    consecutive_failures = consecutive_failures.saturating_add(1);
                    // The listener's connection may be gone too.
                    listener = None;
                    let delay = Duration::from_millis(50)
                        .saturating_mul(1 << consecutive_failures.min(16))
                        .min(self.max_backoff);
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => return report,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    continue;
                }
            }
            if listener.is_none() {
                listener = listen(&self.pool, &channel).await;
                if listener.is_some() {
                    // Rows staged while no one listened: look once more.
                    continue;
                }
            }
            let lost = match listener.as_mut() {
                Some(l) => {
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => return report,
                        received = l.recv() => received.is_err(),
                        _ = tokio::time::sleep(self.poll_interval) => false,
                    }
                }
                None => {
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => return report,
                        _ = tokio::time::sleep(self.poll_interval) => false,
                    }
                }
            };
            if lost {
                listener = None;
            }
        }
    }
}

async fn listen(pool: &PgPool, channel: &str) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen(channel).await.ok()?;
    Some(listener)
}

fn message_of(row: &sqlx::postgres::PgRow) -> Result<Message, RelayError> {
    let id: String = row.try_get(1)?;
    let event_type: String = row.try_get(2)?;
    let major: i32 = row.try_get(3)?;
    let delivery: String = row.try_get(4)?;
    let partition_key: Option<String> = row.try_get(5)?;
    let payload: String = row.try_get(6)?;
    let delivery = crate::delivery_from_str(&delivery).ok_or_else(|| {
        RelayError::Row(format!(
            "event `{id}` has the unknown delivery `{delivery}`"
        ))
    })?;
    let major = u32::try_from(major)
        .map_err(|_| RelayError::Row(format!("event `{id}` has the negative major {major}")))?;
    Ok(Message {
        event_type: intern(&event_type),
        major,
        id,
        partition_key: partition_key.map(Arc::from),
        delivery,
        payload: Arc::from(payload.into_bytes()),
    })
}

/// `Message::event_type` is `&'static str`, as the typed publisher gives it.
/// Rows read back carry a `String`; each distinct type name is leaked once.
/// A catalog has a bounded set of type names, so this memory is bounded.
fn intern(name: &str) -> &'static str {
    static TYPES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let types = TYPES.get_or_init(Default::default);
    let mut types = types.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = types.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    types.insert(leaked);
    leaked
}
