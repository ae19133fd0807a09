//! The transactional outbox: [`Outbox::stage`] writes an event in the
//! caller's transaction ([`Outbox::stage_many`] several, in one statement),
//! [`OutboxRelay`] publishes what was committed.
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
//!   uncommitted. A batch ([`Outbox::stage_many`]) takes the stage locks of
//!   all its keys, in one order, before it draws its first `seq`, and its
//!   rows draw theirs in the batch's order.
//! - **Claiming** is one statement. It reads the head of the backlog (the
//!   oldest unpublished rows, four batches' worth), takes the *relay* lock
//!   (`pg_try_advisory_xact_lock`) of the keys found there that it can, in
//!   order of their oldest row and at most one batch's worth of keys, and
//!   only then reads the rows of those keys (and unkeyed rows) within the
//!   head, in `seq` order, with `FOR UPDATE SKIP LOCKED`, deleting (or
//!   marking) them. Each key's lock is tried once per claim, and the answer
//!   holds for all the key's rows: a relay that cannot take a key's lock
//!   takes none of that key's rows, so one key is published by one relay at
//!   a time, in `seq` order, and several relays share the other keys.
//!   (Trying the lock again at each row is not enough: the lock can come
//!   free in the middle of the scan, and the scan would then claim a later
//!   row of the key while an earlier one it already passed is still
//!   unpublished.) The statement's
//!   snapshot is older than the locks it takes, which does no harm: a row
//!   that the key's previous holder deleted or marked after the snapshot
//!   is found deleted or re-checked when the row lock is taken (`READ
//!   COMMITTED`), and skipped; a row staged after the snapshot is left for
//!   the next batch, and since staging orders a key's rows by commit, no
//!   earlier row of the key can be among those left.
//!
//! Events without a partition key (unordered) take neither lock.
//!
//! # Crashes
//!
//! The claim deletes (or marks) the rows inside the relay's transaction;
//! the relay publishes them and commits only once every publish has been
//! confirmed. A crash or lost connection before the commit rolls the claim
//! back; the rows are published again, with the same event ids, and the
//! consumer's inbox ([`PgProcessedStore`](crate::PgProcessedStore)) makes
//! the effect happen once.
//!
//! # Locks held
//!
//! A staging transaction holds one advisory lock per distinct partition key
//! it staged until it ends; a relay batch holds at most one per row of its
//! batch. PostgreSQL keeps these in its shared lock table
//! (`max_locks_per_transaction` x `max_connections` entries), so a
//! transaction staging tens of thousands of distinct keys needs that
//! setting raised.
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
    /// `"schema"."outbox"`, the name the advisory locks are keyed on.
    table: Arc<str>,
    channel: Arc<str>,
    keyed_sql: Arc<str>,
    unkeyed_sql: Arc<str>,
    batch_sql: Arc<str>,
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
        // One statement for a whole batch. `l` takes the stage lock of every
        // distinct key, in one order (by lock key) so that two batches
        // sharing keys cannot deadlock each other; it is an aggregate, so
        // every lock is held before the join yields its first row, and so
        // before any `seq` is drawn. The rows are inserted, and draw their
        // `seq`, in the order of the batch. `aggregatetype` and
        // `aggregateid` are derived as `stage` derives them.
        let batch_sql = format!(
            "WITH e AS (
                 SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::text[], $5::text[], $6::text[])
                     WITH ORDINALITY AS e(id, type, major, delivery, partition_key, payload, ord)),
              l AS MATERIALIZED (
                 SELECT count(pg_advisory_xact_lock(hashtext($7 || ':stage'), h)) AS locked
                 FROM (SELECT DISTINCT hashtext(partition_key) AS h FROM e
                       WHERE partition_key IS NOT NULL ORDER BY h) k),
              n AS (SELECT pg_notify($9, '') WHERE $8)
             {insert}
             SELECT e.id, split_part(e.type, '.', 1), COALESCE(e.partition_key, e.id), e.type,
                    e.major, e.delivery, e.partition_key, e.payload
             FROM e CROSS JOIN l LEFT JOIN n ON true
             ORDER BY e.ord
             RETURNING seq"
        );
        let stats_sql =
            format!("SELECT count(*), min(created_at) FROM {table} WHERE published_at IS NULL");
        Outbox {
            channel: tables.outbox_channel().into(),
            tables,
            table: table.into(),
            keyed_sql: keyed_sql.into(),
            unkeyed_sql: unkeyed_sql.into(),
            batch_sql: batch_sql.into(),
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
    /// only if the transaction commits. Returns the row's `seq`. One
    /// statement, prepared once per connection.
    ///
    /// Events with a partition key wait here while another open transaction
    /// has staged an event of the same key (see the module docs).
    pub async fn stage<E: Event>(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope<E>,
    ) -> Result<i64, Error> {
        let payload = encode(envelope)?;
        let major = major_of(envelope)?;
        let id = envelope.id().as_str();
        let partition_key = envelope.partition_key();
        let event_type = envelope.event_type();
        let (sql, aggregate_id) = match &partition_key {
            Some(key) => (&*self.keyed_sql, key.as_str()),
            None => (&*self.unkeyed_sql, id),
        };
        let row = sqlx::query(sql)
            .bind(id)
            .bind(aggregate_type(event_type))
            .bind(aggregate_id)
            .bind(event_type)
            .bind(major)
            .bind(E::DELIVERY.as_str())
            .bind(partition_key.as_deref())
            .bind(payload)
            .bind(&*self.table)
            .bind(self.notify)
            .bind(&*self.channel)
            .fetch_one(&mut *tx)
            .await?;
        Ok(row.get(0))
    }

    /// Stages every event of `envelopes` in the caller's transaction, in one
    /// statement: all are published if and only if the transaction commits.
    /// Returns their `seq`s, in the order of `envelopes`, which is also the
    /// order a relay publishes a key's events in.
    ///
    /// The same as calling [`stage`](Self::stage) for each in turn, with one
    /// round trip instead of one per event. For events of several types in
    /// one transaction, push them into an [`OutboxBatch`] and call
    /// [`stage_batch`](Self::stage_batch).
    pub async fn stage_many<'a, E: Event + 'a>(
        &self,
        tx: &mut PgConnection,
        envelopes: impl IntoIterator<Item = &'a Envelope<E>>,
    ) -> Result<Vec<i64>, Error> {
        let envelopes = envelopes.into_iter();
        let mut batch = OutboxBatch::with_capacity(envelopes.size_hint().0);
        for envelope in envelopes {
            batch.push(envelope)?;
        }
        self.stage_batch(tx, &batch).await
    }

    /// Stages the events of `batch` in the caller's transaction, in one
    /// statement, as [`stage_many`](Self::stage_many) does. The batch is
    /// left as it was: [`clear`](OutboxBatch::clear) it to reuse its
    /// buffers. An empty batch stages nothing and sends nothing.
    pub async fn stage_batch(
        &self,
        tx: &mut PgConnection,
        batch: &OutboxBatch,
    ) -> Result<Vec<i64>, Error> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let seqs = sqlx::query_scalar(&self.batch_sql)
            .bind(&batch.ids)
            .bind(&batch.types)
            .bind(&batch.majors)
            .bind(&batch.deliveries)
            .bind(&batch.partition_keys)
            .bind(&batch.payloads)
            .bind(&*self.table)
            .bind(self.notify)
            .bind(&*self.channel)
            .fetch_all(&mut *tx)
            .await?;
        Ok(seqs)
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

/// Events encoded for [`Outbox::stage_batch`], of any types, in the order
/// they will be staged. Encoding happens in [`push`](Self::push), so a bad
/// event is refused there, before anything is sent.
#[derive(Debug, Clone, Default)]
pub struct OutboxBatch {
    ids: Vec<String>,
    types: Vec<&'static str>,
    majors: Vec<i32>,
    deliveries: Vec<&'static str>,
    partition_keys: Vec<Option<String>>,
    payloads: Vec<String>,
}

impl OutboxBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `events`.
    pub fn with_capacity(events: usize) -> Self {
        OutboxBatch {
            ids: Vec::with_capacity(events),
            types: Vec::with_capacity(events),
            majors: Vec::with_capacity(events),
            deliveries: Vec::with_capacity(events),
            partition_keys: Vec::with_capacity(events),
            payloads: Vec::with_capacity(events),
        }
    }

    /// Encodes `envelope` and appends it. On an error the batch is left as
    /// it was.
    pub fn push<E: Event>(&mut self, envelope: &Envelope<E>) -> Result<&mut Self, Error> {
        let payload = encode(envelope)?;
        let major = major_of(envelope)?;
        self.ids.push(envelope.id().as_str().to_owned());
        self.types.push(envelope.event_type());
        self.majors.push(major);
        self.deliveries.push(E::DELIVERY.as_str());
        self.partition_keys.push(envelope.partition_key());
        self.payloads.push(payload);
        Ok(self)
    }

    /// How many events the batch holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.types.clear();
        self.majors.clear();
        self.deliveries.clear();
        self.partition_keys.clear();
        self.payloads.clear();
    }
}

/// The envelope's JSON as the `payload` column's text.
fn encode<E: Event>(envelope: &Envelope<E>) -> Result<String, Error> {
    let payload = envelope.to_json_vec().map_err(Error::Encode)?;
    // The envelope encoder writes JSON, which is UTF-8.
    String::from_utf8(payload).map_err(|e| {
        Error::Config(format!(
            "the encoded envelope of event `{}` is not UTF-8: {e}",
            envelope.id().as_str()
        ))
    })
}

/// The `major` column is an `INTEGER`.
fn major_of<E: Event>(envelope: &Envelope<E>) -> Result<i32, Error> {
    let major = envelope.version().major();
    i32::try_from(major).map_err(|_| {
        Error::Config(format!(
            "event `{}` has the major version {major}, larger than the outbox's INTEGER column holds",
            envelope.id().as_str()
        ))
    })
}

/// The type's domain, `enrollment` for `enrollment.completed`: what the
/// batch statement computes as `split_part(type, '.', 1)`.
fn aggregate_type(event_type: &str) -> &str {
    event_type.split('.').next().unwrap_or(event_type)
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
    /// `"schema"."outbox"`, the name the relay locks are keyed on.
    table: Arc<str>,
    claim_sql: Arc<str>,
}

/// The head of the backlog a claim looks at, in batches.
const HEAD_BATCHES: i64 = 4;

/// The claim: one statement (see the module docs). `$1` is the table's
/// qualified name (the lock key), `$2` the head's length, `$3` the batch
/// size, which also bounds the keys locked.
///
/// `OFFSET 0` keeps the lock call above the sort, where `LIMIT` stops it;
/// without it the planner moves the call into the aggregate and locks every
/// key of the head. `locked` is a materialized CTE, so each key's lock is
/// tried once and the answer holds for every row of the key that `claimed`
/// reads (the plan reads it as a hashed subplan, built whole before the
/// first row). The claimed rows are found again by primary key, not by a join the
/// planner could turn into a scan of the table.
fn claim_sql(table: &str, mode: RelayMode) -> String {
    let claim = format!(
        "WITH head AS MATERIALIZED (
             SELECT seq, partition_key FROM {table} WHERE published_at IS NULL
             ORDER BY seq LIMIT $2),
          locked AS MATERIALIZED (
             SELECT k FROM (
                 SELECT partition_key AS k, min(seq) AS first FROM head
                 WHERE partition_key IS NOT NULL
                 GROUP BY partition_key ORDER BY first OFFSET 0) keys
             WHERE pg_try_advisory_xact_lock(hashtext($1 || ':relay'), hashtext(k))
             LIMIT $3),
          claimed AS MATERIALIZED (
             SELECT seq FROM {table}
             WHERE published_at IS NULL AND seq <= (SELECT max(seq) FROM head)
               AND (partition_key IS NULL OR partition_key IN (SELECT k FROM locked))
             ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED)"
    );
    let done = match mode {
        RelayMode::Delete => format!("DELETE FROM {table}"),
        RelayMode::Mark => format!("UPDATE {table} SET published_at = now()"),
    };
    format!(
        "{claim}
         {done} WHERE seq = ANY(ARRAY(SELECT seq FROM claimed))
         RETURNING seq, id, type, major, delivery, partition_key, payload"
    )
}

impl<X: Transport> OutboxRelay<X> {
    /// A relay on the default [`Tables`], batches of 500, polling every
    /// second when no notification comes, deleting published rows.
    pub fn new(pool: PgPool, transport: X) -> Self {
        let tables = Tables::default();
        let table = tables.qualified_outbox();
        OutboxRelay {
            pool,
            transport,
            claim_sql: claim_sql(&table, RelayMode::Delete).into(),
            table: table.into(),
            tables,
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
        let table = tables.qualified_outbox();
        self.claim_sql = claim_sql(&table, self.mode).into();
        self.table = table.into();
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
        self.claim_sql = claim_sql(&self.table, mode).into();
        self
    }

    /// The transport.
    pub fn transport(&self) -> &X {
        &self.transport
    }

    /// Claims one batch, publishes it in `seq` order and commits, which
    /// deletes (or marks) what was published. Returns how many rows it
    /// published.
    pub async fn run_once(&self) -> Result<usize, RelayError> {
        let mut tx = self.pool.begin().await?;
        let mut rows = sqlx::query(&self.claim_sql)
            .bind(&*self.table)
            .bind(self.batch_size.saturating_mul(HEAD_BATCHES))
            .bind(self.batch_size)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        // RETURNING yields the rows in no promised order.
        let mut seqs = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            seqs.push((row.try_get::<i64, _>(0)?, i));
        }
        seqs.sort_unstable();
        for &(_, i) in &seqs {
            let message = message_of(&rows[i])?;
            self.transport
                .send(message)
                .await
                .map_err(|e| RelayError::Transport(Box::new(e)))?;
        }
        rows.clear();
        // Only now, every publish confirmed, does the delete (or mark)
        // take effect.
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
    // Borrowed from the row: one allocation each for the id, the key and
    // the payload, none for the type and delivery names.
    let id: &str = row.try_get(1)?;
    let event_type: &str = row.try_get(2)?;
    let major: i32 = row.try_get(3)?;
    let delivery: &str = row.try_get(4)?;
    let partition_key: Option<&str> = row.try_get(5)?;
    let payload: &str = row.try_get(6)?;
    let delivery = crate::delivery_from_str(delivery).ok_or_else(|| {
        RelayError::Row(format!(
            "event `{id}` has the unknown delivery `{delivery}`"
        ))
    })?;
    let major = u32::try_from(major)
        .map_err(|_| RelayError::Row(format!("event `{id}` has the negative major {major}")))?;
    Ok(Message {
        event_type: intern(event_type),
        major,
        id: id.to_owned(),
        partition_key: partition_key.map(Arc::from),
        delivery,
        payload: Arc::from(payload.as_bytes()),
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
