//! The asynchronous processed-events store, so a database can back it.
//!
//! The protocol is the one of
//! [`event_runtime::idempotency::ProcessedStore`]: claim, then complete or
//! release. What is new is the transaction: [`begin`](ProcessedStore::begin)
//! opens one, the handler writes through it
//! ([`Handler::handle`](crate::Handler::handle) receives `&mut Tx`),
//! [`complete_in`](ProcessedStore::complete_in) records the key in the same
//! transaction, and [`commit`](ProcessedStore::commit) makes both durable at
//! once: the exactly-once effect. A PostgreSQL store sets `Tx` to
//! `sqlx::Transaction<'static, Postgres>`.

use event_runtime::idempotency::{self as rt, Claim, ClaimToken, IdempotencyKey, StoreError};
use serde_json::Value;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;

/// Where a consumer records the events it processed, asynchronously, with
/// the handler's writes in the same transaction where the store has
/// transactions.
pub trait ProcessedStore: Send + Sync + 'static {
    /// The transaction a handler writes through and the record joins.
    type Tx: Send;

    /// Whether the store reads the [`IdempotencyKey`] and the times it is
    /// given. A store that records nothing ([`NoStore`]) says `false`, and
    /// the pipeline then passes one placeholder key instead of building
    /// each event's, and the Unix epoch instead of reading the clock for
    /// the claim and the record.
    const USES_KEY: bool = true;

    /// Claims `key` for `consumer` on behalf of `event_id`.
    fn claim(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        event_id: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Opens the transaction of one handler run.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;

    /// Records the claimed key as processed, inside `tx`.
    fn complete_in(
        &self,
        tx: &mut Self::Tx,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
        now: OffsetDateTime,
        result: Value,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Commits the handler's writes and the record together.
    fn commit(&self, tx: Self::Tx) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Drops the handler's writes.
    fn rollback(&self, tx: Self::Tx) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Drops the claim so a redelivery processes the key.
    fn release(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the records processed before `cutoff`, of every consumer;
    /// claims in flight stay. Returns how many. A running consumer calls it
    /// every [`purge_every`](crate::ConsumerBuilder::purge_every) with its
    /// [`retention`](crate::ConsumerBuilder::retention) (the brief's 30
    /// days by default). The default does nothing: for a store that keeps
    /// nothing, or one purged by a job of its own (the PostgreSQL inbox's
    /// `run_retention`, which one process runs for every consumer of the
    /// table).
    fn purge_older_than(
        &self,
        cutoff: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = cutoff;
        async { Ok(0) }
    }
}

/// The transaction of a [`SyncStore`]: the record waits in it until
/// [`commit`](ProcessedStore::commit).
#[derive(Debug, Default)]
pub struct PendingRecords {
    // A handler run records one key; the first is kept inline so that the
    // common transaction allocates no list.
    first: Option<Pending>,
    more: Vec<Pending>,
}

type Pending = (Arc<str>, IdempotencyKey, ClaimToken, OffsetDateTime, Value);

/// Any synchronous [`rt::ProcessedStore`] as an asynchronous one, its
/// transaction a buffer of records applied at commit.
#[derive(Debug)]
pub struct SyncStore<S> {
    inner: Arc<S>,
    /// The name of the first consumer that recorded through the store (a
    /// store usually has one), shared by its pending records instead of a
    /// copy per record.
    consumer: Arc<OnceLock<Arc<str>>>,
}

impl<S> Clone for SyncStore<S> {
    fn clone(&self) -> Self {
        SyncStore {
            inner: self.inner.clone(),
            consumer: self.consumer.clone(),
        }
    }
}

impl<S> SyncStore<S> {
    /// Wraps `store`.
    pub fn wrap(store: S) -> Self {
        SyncStore {
            inner: Arc::new(store),
            consumer: Arc::default(),
        }
    }

    /// `consumer` as a shared string: the one kept for the first consumer
    /// when it is that one, a new one otherwise.
    fn consumer_name(&self, consumer: &str) -> Arc<str> {
        let first = self.consumer.get_or_init(|| Arc::from(consumer));
        if **first == *consumer {
            first.clone()
        } else {
            Arc::from(consumer)
        }
    }

    /// The synchronous store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

/// The in-memory store of the runtime, asynchronous.
pub type InMemoryStore = SyncStore<rt::InMemoryStore>;

impl SyncStore<rt::InMemoryStore> {
    /// An empty in-memory store.
    pub fn new() -> Self {
        Self::wrap(rt::InMemoryStore::new())
    }
}

impl Default for SyncStore<rt::InMemoryStore> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: rt::ProcessedStore + 'static> ProcessedStore for SyncStore<S> {
    type Tx = PendingRecords;

    async fn claim(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        event_id: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        self.inner.claim(consumer, key, event_id, now, lease)
    }

    async fn begin(&self) -> Result<PendingRecords, StoreError> {
        Ok(PendingRecords::default())
    }

    async fn complete_in(
        &self,
        tx: &mut PendingRecords,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
        now: OffsetDateTime,
        result: Value,
    ) -> Result<(), StoreError> {
        let record = (
            self.consumer_name(consumer),
            key.clone(),
            token,
            now,
            result,
        );
        match tx.first {
            None => tx.first = Some(record),
            Some(_) => tx.more.push(record),
        }
        Ok(())
    }

    async fn commit(&self, tx: PendingRecords) -> Result<(), StoreError> {
        for (consumer, key, token, now, result) in tx.first.into_iter().chain(tx.more) {
            self.inner.complete(&consumer, &key, token, now, result)?;
        }
        Ok(())
    }

    async fn rollback(&self, _tx: PendingRecords) -> Result<(), StoreError> {
        Ok(())
    }

    async fn release(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> Result<(), StoreError> {
        self.inner.release(consumer, key, token)
    }

    async fn purge_older_than(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        self.inner.purge_older_than(cutoff).map(|n| n as u64)
    }
}

/// A store that records nothing: for at-most-once consumers, or where the
/// handler itself is idempotent.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoStore;

impl ProcessedStore for NoStore {
    type Tx = ();
    const USES_KEY: bool = false;

    async fn claim(
        &self,
        _: &str,
        _: &IdempotencyKey,
        _: &str,
        _: OffsetDateTime,
        _: Duration,
    ) -> Result<Claim, StoreError> {
        Ok(Claim::Acquired(ClaimToken::new(0)))
    }
    async fn begin(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn complete_in(
        &self,
        _: &mut (),
        _: &str,
        _: &IdempotencyKey,
        _: ClaimToken,
        _: OffsetDateTime,
        _: Value,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    async fn commit(&self, _: ()) -> Result<(), StoreError> {
        Ok(())
    }
    async fn rollback(&self, _: ()) -> Result<(), StoreError> {
        Ok(())
    }
    async fn release(&self, _: &str, _: &IdempotencyKey, _: ClaimToken) -> Result<(), StoreError> {
        Ok(())
    }
}
