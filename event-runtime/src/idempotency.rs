//! Idempotent consumers: idempotency keys, the processed-events store and the
//! handler that runs once per key.
//!
//! Delivery is at least once, so a consumer sees some events twice. An
//! [`IdempotentConsumer`] makes the second delivery harmless: it claims the
//! event's [`IdempotencyKey`] in a [`ProcessedStore`], runs the handler, and
//! records the key when the handler succeeds. A handler that fails records
//! nothing, so a redelivery retries it; deliveries that race see the claim
//! and do not run the handler.
//!
//! ```
//! use event_runtime::idempotency::{Handled, IdempotentConsumer, InMemoryStore};
//! use event_runtime::{Envelope, Event, Version};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize)]
//! #[serde(rename_all = "camelCase")]
//! struct EnrollmentCompleted { enrollment_id: String }
//!
//! impl Event for EnrollmentCompleted {
//!     const TYPE: &'static str = "enrollment.completed";
//!     const VERSION: Version = Version::new(1, 0);
//!     const PRODUCER: &'static str = "enrollment-service";
//! }
//!
//! let consumer = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
//! let event = Envelope::new(EnrollmentCompleted { enrollment_id: "enr_1".into() })
//!     .tenant("tenant_7f3c")
//!     .correlation("req_1")
//!     .build();
//!
//! let issue = |data: &EnrollmentCompleted| -> Result<String, std::io::Error> {
//!     Ok(format!("certificate for {}", data.enrollment_id))
//! };
//! let first = consumer.handle(&event, issue).unwrap();
//! assert!(matches!(first, Handled::Processed(ref r) if r == "certificate for enr_1"));
//! // Redelivered: skipped, with the record of the first run.
//! let second = consumer.handle(&event, issue).unwrap();
//! assert!(matches!(second, Handled::Duplicate(_)));
//! ```

use crate::error::ErrorClass;
use crate::{Envelope, Event, Header};
use core::fmt;
use hashbrown::{HashTable, hash_table};
use serde::Serialize;
use serde_json::Value;
use std::error::Error as StdError;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use time::OffsetDateTime;

/// How long processed-event records are kept by default: 30 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How long a claim holds by default before another delivery may take it
/// over: 5 minutes. A consumer that crashes mid-handler leaves its claim
/// behind; the lease is what lets the event be processed after all.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);

/// What the key of an [`IdempotencyKey`] was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeySource {
    /// The event id: the same delivery seen twice.
    EventId,
    /// [`Event::natural_key`]: the same fact published twice under
    /// different ids.
    Natural,
}

impl KeySource {
    /// `id` or `natural`, as written in [`IdempotencyKey::as_str`].
    pub const fn as_str(self) -> &'static str {
        match self {
            KeySource::EventId => "id",
            KeySource::Natural => "natural",
        }
    }
}

/// What makes two deliveries "the same event" for a consumer: a key (the
/// event id or a natural key), namespaced by the event type and scoped by
/// the tenant, so one tenant can never suppress another tenant's event by
/// reusing an id.
///
/// [`as_str`](Self::as_str) is one string that tells all four parts apart,
/// for stores with a single key column.
///
/// ```
/// use event_runtime::idempotency::{IdempotencyKey, KeySource};
/// let a = IdempotencyKey::new("tenant_a", "course.published", KeySource::EventId, "evt_1");
/// let b = IdempotencyKey::new("tenant_b", "course.published", KeySource::EventId, "evt_1");
/// assert_ne!(a, b);
/// assert_eq!(a.as_str(), "8:tenant_a/course.published/id/evt_1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey {
    // `tenant_len:tenant/type/source/key`: the tenant is length-prefixed,
    // the type and source cannot hold `/`, and the key is the rest, so the
    // string is unambiguous whatever the tenant and key hold. Shared: a
    // store keeps the key of every claim, and a clone costs no copy.
    joined: Arc<str>,
    tenant_end: usize,
    type_end: usize,
    source: KeySource,
}

impl IdempotencyKey {
    /// A key from its parts.
    pub fn new(tenant_id: &str, event_type: &str, source: KeySource, key: &str) -> Self {
        let mut digits = itoa::Buffer::new();
        let tenant_len = digits.format(tenant_id.len());
        let tenant_end = tenant_len.len() + 1 + tenant_id.len();
        let type_end = tenant_end + 1 + event_type.len();
        let joined = concat(&[
            tenant_len,
            ":",
            tenant_id,
            "/",
            event_type,
            "/",
            source.as_str(),
            "/",
            key,
        ]);
        IdempotencyKey {
            joined,
            tenant_end,
            type_end,
            source,
        }
    }

    /// The key of an envelope: its natural key when the payload has one
    /// ([`Event::natural_key`]), its event id otherwise.
    pub fn of<T: Event>(envelope: &Envelope<T>) -> Self {
        match envelope.data().natural_key() {
            Some(key) => Self::new(envelope.tenant_id(), T::TYPE, KeySource::Natural, &key),
            None => Self::new(
                envelope.tenant_id(),
                T::TYPE,
                KeySource::EventId,
                envelope.id().as_str(),
            ),
        }
    }

    /// The event-id key of a header, for a duplicate check before the
    /// payload is decoded. Events keyed by a natural key need the payload;
    /// use [`of`](Self::of) for them.
    pub fn of_header(header: &Header<'_>) -> Self {
        Self::new(
            header.tenant_id(),
            header.event_type(),
            KeySource::EventId,
            header.id(),
        )
    }

    /// The tenant the key is scoped to.
    pub fn tenant_id(&self) -> &str {
        let start = self.joined.find(':').map_or(0, |i| i + 1);
        &self.joined[start..self.tenant_end]
    }

    /// The event type the key is namespaced by.
    pub fn event_type(&self) -> &str {
        &self.joined[self.tenant_end + 1..self.type_end]
    }

    /// What the key was made from.
    pub fn source(&self) -> KeySource {
        self.source
    }

    /// The event id or natural key.
    pub fn key(&self) -> &str {
        &self.joined[self.type_end + 1 + self.source.as_str().len() + 1..]
    }

    /// All parts in one unambiguous string,
    /// `tenant_len:tenant/event.type/id|natural/key`.
    pub fn as_str(&self) -> &str {
        &self.joined
    }
}

/// `parts` as one shared string, in one allocation: a key short enough
/// (nearly all are) is put together on the stack first.
fn concat(parts: &[&str]) -> Arc<str> {
    const ON_STACK: usize = 256;
    let len: usize = parts.iter().map(|part| part.len()).sum();
    if len <= ON_STACK {
        let mut buf = [0u8; ON_STACK];
        let mut at = 0;
        for part in parts {
            buf[at..at + part.len()].copy_from_slice(part.as_bytes());
            at += part.len();
        }
        // `str`s put end to end are UTF-8; the check cannot fail.
        if let Ok(joined) = std::str::from_utf8(&buf[..len]) {
            return Arc::from(joined);
        }
    }
    Arc::from(parts.concat())
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.joined)
    }
}

/// One processed event, as a consumer recorded it: the row of the
/// processed-events table, unique on (key, consumer).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedRecord {
    /// The idempotency key, which holds the tenant and the event type.
    pub key: IdempotencyKey,
    /// The id of the event whose handling was recorded: for a natural key,
    /// the first of the ids the fact was published under.
    pub event_id: String,
    /// The consumer that processed it.
    pub consumer: String,
    /// When the handler finished.
    pub processed_at: OffsetDateTime,
    /// What the handler returned, as JSON.
    pub result: Value,
}

impl ProcessedRecord {
    /// The event type, from the key.
    pub fn event_type(&self) -> &str {
        self.key.event_type()
    }
}

/// Proof that one delivery holds the claim on a key. A store hands it out
/// with [`Claim::Acquired`] and checks it on [`complete`](ProcessedStore::complete)
/// and [`release`](ProcessedStore::release), so a delivery whose lease ran
/// out cannot record over the one that took the claim over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken(u64);

impl ClaimToken {
    /// A token with the value a store chose (a counter, a random number, a
    /// database sequence).
    pub const fn new(value: u64) -> Self {
        ClaimToken(value)
    }

    /// The value, for a store to keep.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The answer of [`ProcessedStore::claim`].
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The caller holds the key and runs the handler, then completes or
    /// releases the claim with the token.
    Acquired(ClaimToken),
    /// The key was processed already; the handler must not run.
    Processed(ProcessedRecord),
    /// Another delivery holds the key, claimed at this time, and its lease
    /// has not run out. The caller should redeliver later.
    InFlight {
        /// When the other delivery claimed the key.
        claimed_at: OffsetDateTime,
    },
}

/// A failure of a [`ProcessedStore`].
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The claim was not held by this token any more: its lease ran out and
    /// another delivery took it over, or it was released.
    ClaimLost {
        /// The key whose claim was lost.
        key: IdempotencyKey,
        /// The consumer that had claimed it.
        consumer: String,
    },
    /// The storage itself failed (a lost connection, a full disk).
    Backend {
        /// What failed and why.
        source: Box<dyn StdError + Send + Sync>,
        /// Whether retrying may help.
        class: ErrorClass,
    },
}

impl StoreError {
    /// Whether retrying may help: a lost claim is permanent for this
    /// delivery (the delivery that took it over records it), a backend
    /// failure says for itself.
    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::ClaimLost { .. } => ErrorClass::Permanent,
            StoreError::Backend { class, .. } => *class,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::ClaimLost { key, consumer } => write!(
                f,
                "consumer `{consumer}` lost its claim on `{key}`: the lease ran out and another delivery took it over"
            ),
            StoreError::Backend { source, .. } => {
                write!(f, "processed-events store failed: {source}")
            }
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            StoreError::ClaimLost { .. } => None,
            StoreError::Backend { source, .. } => Some(&**source),
        }
    }
}

/// Where a consumer records the events it processed.
///
/// The protocol is claim, then complete or release:
///
/// 1. [`claim`](Self::claim) atomically takes the (key, consumer) pair, or
///    reports that it was processed or is held by another delivery. A
///    claim whose lease ran out may be taken over.
/// 2. After the handler succeeds, [`complete`](Self::complete) turns the
///    claim into a [`ProcessedRecord`]; after it fails,
///    [`release`](Self::release) drops the claim so a redelivery retries.
///
/// A SQL store maps this onto one table with a unique (key, consumer)
/// constraint: `claim` is an `INSERT ... ON CONFLICT DO NOTHING` (or an
/// update of a row whose lease ran out) storing the token and `claimed_at`,
/// `complete` an `UPDATE ... WHERE token = $token` setting `processed_at`
/// and `result`, `release` a `DELETE ... WHERE token = $token`.
///
/// Times are passed in, so the caller's clock is the one clock, and tests
/// can move it.
pub trait ProcessedStore: Send + Sync {
    /// Claims `key` for `consumer`, on behalf of the event `event_id`.
    fn claim(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        event_id: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Claim, StoreError>;

    /// Records the claimed key as processed at `now` with `result`.
    /// Fails with [`StoreError::ClaimLost`] if `token` no longer holds it.
    fn complete(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
        now: OffsetDateTime,
        result: Value,
    ) -> Result<(), StoreError>;

    /// Drops the claim so a later delivery can process the key. Releasing a
    /// claim that `token` no longer holds does nothing.
    fn release(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> Result<(), StoreError>;

    /// The record of `key` for `consumer`, if it was processed.
    fn get(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<ProcessedRecord>, StoreError>;

    /// Deletes the records processed before `cutoff`, for every consumer;
    /// returns how many. Claims in flight are not records and stay.
    fn purge_older_than(&self, cutoff: OffsetDateTime) -> Result<usize, StoreError>;
}

impl<S: ProcessedStore + ?Sized> ProcessedStore for Arc<S> {
    fn claim(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        event_id: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        (**self).claim(consumer, key, event_id, now, lease)
    }

    fn complete(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
        now: OffsetDateTime,
        result: Value,
    ) -> Result<(), StoreError> {
        (**self).complete(consumer, key, token, now, result)
    }

    fn release(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> Result<(), StoreError> {
        (**self).release(consumer, key, token)
    }

    fn get(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<ProcessedRecord>, StoreError> {
        (**self).get(consumer, key)
    }

    fn purge_older_than(&self, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
        (**self).purge_older_than(cutoff)
    }
}

/// A row of the in-memory store: a claim in flight or a processed record.
/// The key and the consumer are the map's keys, not repeated here; so is
/// the event id when it is the key's (`None`), as it is for every key made
/// from the event id.
#[derive(Debug)]
enum Slot {
    Claimed {
        token: ClaimToken,
        event_id: Option<Box<str>>,
        claimed_at: OffsetDateTime,
        lease: Duration,
    },
    Processed {
        event_id: Option<Box<str>>,
        processed_at: OffsetDateTime,
        result: Value,
    },
}

/// The event id a slot keeps for `event_id` under `key`.
fn slot_event_id(key: &IdempotencyKey, event_id: &str) -> Option<Box<str>> {
    (key.key() != event_id).then(|| event_id.into())
}

/// The event id of a slot under `key`.
fn event_id_of(key: &IdempotencyKey, event_id: &Option<Box<str>>) -> String {
    event_id.as_deref().unwrap_or(key.key()).to_owned()
}

impl Slot {
    fn record(&self, consumer: &str, key: &IdempotencyKey) -> Option<ProcessedRecord> {
        match self {
            Slot::Processed {
                event_id,
                processed_at,
                result,
            } => Some(ProcessedRecord {
                key: key.clone(),
                event_id: event_id_of(key, event_id),
                consumer: consumer.to_owned(),
                processed_at: *processed_at,
                result: result.clone(),
            }),
            Slot::Claimed { .. } => None,
        }
    }
}

/// The store's hasher: seeded per store, so keys chosen to collide cannot
/// be computed ahead, and a fraction of SipHash's cost on keys of 50 to 100
/// bytes; it is hashbrown's default.
type Hasher = foldhash::fast::RandomState;

/// One (consumer, key) pair: the row of the processed-events table.
#[derive(Debug)]
struct Row {
    /// [`row_hash`] of the key's hash and the consumer: it picks the
    /// bucket, and is kept for when the table grows.
    hash: u64,
    /// An index into [`Shard::consumers`].
    consumer: usize,
    /// The key's shared string: the row keeps it without a copy.
    key: Arc<str>,
    slot: Slot,
}

/// The rows whose hash falls in one shard, and the names of the consumers
/// they belong to (a few per store), so a row holds an index, not a name.
#[derive(Debug, Default)]
struct Shard {
    rows: HashTable<Row>,
    consumers: Vec<Box<str>>,
}

impl Shard {
    fn consumer(&self, consumer: &str) -> Option<usize> {
        self.consumers.iter().position(|c| **c == *consumer)
    }

    fn row(&mut self, key_hash: u64, consumer: usize, key: &str) -> Option<&mut Row> {
        self.rows.find_mut(row_hash(key_hash, consumer), |row| {
            row.consumer == consumer && *row.key == *key
        })
    }
}

/// The hash of a row: the key's, mixed with the consumer's index in the
/// shard, so that the rows of one key for several consumers of a shared
/// store fall in different buckets. The consumer's name is compared (to
/// find its index), not hashed.
fn row_hash(key_hash: u64, consumer: usize) -> u64 {
    key_hash ^ (consumer as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A shard on its own cache lines, so that threads locking neighbouring
/// shards do not invalidate each other's.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(Mutex<Shard>);

const SHARDS: usize = 16;

/// The embedded processed-events store: in memory, thread-safe, gone when
/// the process ends. For tests, single-process consumers and as the
/// reference the durable stores are checked against.
///
/// Keys are spread over shards, each behind its own lock, so threads
/// handling different events rarely wait for each other.
#[derive(Debug)]
pub struct InMemoryStore {
    shards: Box<[Padded]>,
    hasher: Hasher,
    next_token: AtomicU64,
}

impl Default for InMemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        InMemoryStore {
            shards: (0..SHARDS).map(|_| Padded::default()).collect(),
            hasher: Hasher::default(),
            next_token: AtomicU64::new(1),
        }
    }

    /// How many records and claims the store holds.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(&shard.0).rows.len())
            .sum()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of the key, and its shard, locked: a key's rows for every
    /// consumer are in one shard.
    fn shard(&self, key: &IdempotencyKey) -> (u64, MutexGuard<'_, Shard>) {
        let hash = self.hasher.hash_one(key.as_str());
        // Bits the table leaves alone (it takes the low ones for the
        // bucket and the top seven for its tags); the modulo keeps the
        // index below SHARDS.
        let index = ((hash >> 32) % SHARDS as u64) as usize;
        (hash, lock(&self.shards[index].0))
    }
}

/// A panic while holding the lock cannot leave a shard half-written (every
/// change is one insert, remove or slot write), so a poisoned lock is still
/// good.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn expired(claimed_at: OffsetDateTime, lease: Duration, now: OffsetDateTime) -> bool {
    now - claimed_at >= lease
}

impl ProcessedStore for InMemoryStore {
    fn claim(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        event_id: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let (hash, mut shard) = self.shard(key);
        let shard = &mut *shard;
        let index = match shard.consumer(consumer) {
            Some(index) => index,
            None => {
                shard.consumers.push(consumer.into());
                shard.consumers.len() - 1
            }
        };
        let fresh = || {
            let token = ClaimToken(self.next_token.fetch_add(1, AtomicOrdering::Relaxed));
            let slot = Slot::Claimed {
                token,
                event_id: slot_event_id(key, event_id),
                claimed_at: now,
                lease,
            };
            (token, slot)
        };
        let hash = row_hash(hash, index);
        let entry = shard.rows.entry(
            hash,
            |row| row.consumer == index && *row.key == *key.as_str(),
            |row| row.hash,
        );
        let slot = match entry {
            hash_table::Entry::Vacant(vacant) => {
                let (token, slot) = fresh();
                vacant.insert(Row {
                    hash,
                    consumer: index,
                    key: key.joined.clone(),
                    slot,
                });
                return Ok(Claim::Acquired(token));
            }
            hash_table::Entry::Occupied(occupied) => &mut occupied.into_mut().slot,
        };
        match slot {
            Slot::Processed {
                event_id,
                processed_at,
                result,
            } => Ok(Claim::Processed(ProcessedRecord {
                key: key.clone(),
                event_id: event_id_of(key, event_id),
                consumer: consumer.to_owned(),
                processed_at: *processed_at,
                result: result.clone(),
            })),
            Slot::Claimed {
                claimed_at, lease, ..
            } if !expired(*claimed_at, *lease, now) => Ok(Claim::InFlight {
                claimed_at: *claimed_at,
            }),
            slot => {
                // The lease ran out: the holder crashed or hangs. Take over;
                // its token no longer completes.
                let (token, fresh) = fresh();
                *slot = fresh;
                Ok(Claim::Acquired(token))
            }
        }
    }

    fn complete(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
        now: OffsetDateTime,
        result: Value,
    ) -> Result<(), StoreError> {
        let (hash, mut shard) = self.shard(key);
        let row = match shard.consumer(consumer) {
            Some(index) => shard.row(hash, index, key.as_str()),
            None => None,
        };
        let Some(Row { slot, .. }) = row else {
            return Err(claim_lost(consumer, key));
        };
        match slot {
            Slot::Claimed {
                token: held,
                event_id,
                ..
            } if *held == token => {
                *slot = Slot::Processed {
                    event_id: event_id.take(),
                    processed_at: now,
                    result,
                };
                Ok(())
            }
            _ => Err(claim_lost(consumer, key)),
        }
    }

    fn release(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> Result<(), StoreError> {
        let (hash, mut shard) = self.shard(key);
        let shard = &mut *shard;
        let Some(index) = shard.consumer(consumer) else {
            return Ok(());
        };
        let entry = shard.rows.find_entry(row_hash(hash, index), |row| {
            row.consumer == index && *row.key == *key.as_str()
        });
        if let Ok(row) = entry {
            if matches!(row.get().slot, Slot::Claimed { token: held, .. } if held == token) {
                row.remove();
            }
        }
        Ok(())
    }

    fn get(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<ProcessedRecord>, StoreError> {
        let (hash, mut shard) = self.shard(key);
        let row = match shard.consumer(consumer) {
            Some(index) => shard.row(hash, index, key.as_str()),
            None => None,
        };
        Ok(row.and_then(|row| row.slot.record(consumer, key)))
    }

    fn purge_older_than(&self, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
        let mut purged = 0;
        for shard in self.shards.iter() {
            let mut shard = lock(&shard.0);
            let before = shard.rows.len();
            shard.rows.retain(|row| {
                !matches!(row.slot, Slot::Processed { processed_at, .. } if processed_at < cutoff)
            });
            purged += before - shard.rows.len();
        }
        Ok(purged)
    }
}

fn claim_lost(consumer: &str, key: &IdempotencyKey) -> StoreError {
    StoreError::ClaimLost {
        key: key.clone(),
        consumer: consumer.to_owned(),
    }
}

/// Releases a claim when dropped armed: while a handler unwinds from a
/// panic. [`disarm`](Self::disarm) hands the claim back to the normal path.
struct ReleaseOnUnwind<'a, S: ProcessedStore> {
    store: &'a S,
    consumer: &'a str,
    key: &'a IdempotencyKey,
    token: Option<ClaimToken>,
}

impl<S: ProcessedStore> ReleaseOnUnwind<'_, S> {
    fn disarm(mut self) {
        self.token = None;
    }
}

impl<S: ProcessedStore> Drop for ReleaseOnUnwind<'_, S> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            // A failed release leaves the claim to its lease; a second
            // panic here would abort, so the error is dropped.
            let _ = self.store.release(self.consumer, self.key, token);
        }
    }
}

/// What [`IdempotentConsumer::handle`] did with a delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled<R> {
    /// The handler ran, succeeded and was recorded; here is what it
    /// returned.
    Processed(R),
    /// The key was processed before: the handler did not run. The record
    /// says when, under which event id and with what result.
    Duplicate(ProcessedRecord),
    /// Another delivery of the same key is being handled right now: the
    /// handler did not run. Redeliver later (nack with a delay); if that
    /// delivery fails, this one will run.
    InFlight {
        /// When the other delivery claimed the key.
        claimed_at: OffsetDateTime,
    },
}

impl<R> Handled<R> {
    /// Whether the handler ran on this delivery.
    pub fn ran(&self) -> bool {
        matches!(self, Handled::Processed(_))
    }
}

/// Why [`IdempotentConsumer::handle`] failed.
#[derive(Debug)]
pub enum ConsumeError<E> {
    /// The handler failed. Nothing was recorded and the claim was released,
    /// so a redelivery runs the handler again.
    Handler(E),
    /// The store failed. Before the handler ran, the handler did not run;
    /// after (the record could not be written), it did, and a redelivery
    /// may run it again: handlers that must never run twice write their
    /// effect and the record in one transaction of a durable store.
    Store(StoreError),
}

impl<E: fmt::Display> fmt::Display for ConsumeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsumeError::Handler(e) => write!(f, "handler failed: {e}"),
            ConsumeError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl<E: StdError + 'static> StdError for ConsumeError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            ConsumeError::Handler(e) => Some(e),
            ConsumeError::Store(e) => Some(e),
        }
    }
}

/// A consumer that runs its handler once per (tenant, event type, key).
///
/// ```
/// use event_runtime::idempotency::{IdempotentConsumer, InMemoryStore};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// // One store shared by every consumer of the process.
/// let store = Arc::new(InMemoryStore::new());
/// let certificates = IdempotentConsumer::new("certificate-service", Arc::clone(&store))
///     .lease(Duration::from_secs(60))
///     .retention(Duration::from_secs(7 * 24 * 3600));
/// assert_eq!(certificates.name(), "certificate-service");
/// assert_eq!(certificates.purge().unwrap(), 0);
/// ```
#[derive(Debug)]
pub struct IdempotentConsumer<S> {
    name: String,
    store: S,
    lease: Duration,
    retention: Duration,
}

impl<S: ProcessedStore> IdempotentConsumer<S> {
    /// A consumer named `name` (the key of its records, shared by all its
    /// instances) recording in `store`, with the default lease and
    /// retention ([`DEFAULT_LEASE`], [`DEFAULT_RETENTION`]).
    pub fn new(name: impl Into<String>, store: S) -> Self {
        IdempotentConsumer {
            name: name.into(),
            store,
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
        }
    }

    /// How long a claim holds before another delivery may take it over.
    /// Longer than the slowest handler run, shorter than the redelivery
    /// delay you can afford after a crash.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long records are kept by [`purge`](Self::purge).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Runs `handler` on the envelope's payload unless its
    /// [`IdempotencyKey`] was processed by this consumer, or is being
    /// processed by another delivery right now.
    ///
    /// A handler that returns `Ok` is recorded with its result as JSON, and
    /// never runs again for this key while the record is kept. A handler
    /// that returns `Err` records nothing: the claim is released and the
    /// error returned, so a redelivery retries. A handler that panics
    /// records nothing either: the claim is released while the panic
    /// unwinds, and the panic continues to the caller.
    pub fn handle<T, R, E>(
        &self,
        envelope: &Envelope<T>,
        handler: impl FnOnce(&T) -> Result<R, E>,
    ) -> Result<Handled<R>, ConsumeError<E>>
    where
        T: Event,
        R: Serialize,
    {
        let key = IdempotencyKey::of(envelope);
        let claimed_at = OffsetDateTime::now_utc();
        let token = match self
            .store
            .claim(
                &self.name,
                &key,
                envelope.id().as_str(),
                claimed_at,
                self.lease,
            )
            .map_err(ConsumeError::Store)?
        {
            Claim::Acquired(token) => token,
            Claim::Processed(record) => return Ok(Handled::Duplicate(record)),
            Claim::InFlight { claimed_at } => return Ok(Handled::InFlight { claimed_at }),
        };
        // Released if the handler panics: the panic unwinds through the
        // guard, which drops the claim so a redelivery runs the handler
        // again instead of waiting out the lease, and the panic goes on.
        let guard = ReleaseOnUnwind {
            store: &self.store,
            consumer: &self.name,
            key: &key,
            token: Some(token),
        };
        let outcome = handler(envelope.data());
        guard.disarm();
        match outcome {
            Ok(output) => {
                let result = serde_json::to_value(&output).unwrap_or_else(|e| {
                    Value::String(format!("result could not be written as JSON: {e}"))
                });
                self.store
                    .complete(&self.name, &key, token, OffsetDateTime::now_utc(), result)
                    .map_err(ConsumeError::Store)?;
                Ok(Handled::Processed(output))
            }
            Err(error) => {
                // If the release fails too, the lease frees the key later;
                // the handler's error is the one to report.
                let _ = self.store.release(&self.name, &key, token);
                Err(ConsumeError::Handler(error))
            }
        }
    }

    /// Whether this consumer processed `key`: for a duplicate check on a
    /// [`Header`] before the payload is decoded
    /// ([`IdempotencyKey::of_header`]).
    pub fn is_processed(&self, key: &IdempotencyKey) -> Result<bool, StoreError> {
        Ok(self.store.get(&self.name, key)?.is_some())
    }

    /// Deletes the records older than the retention window (every
    /// consumer's: the window is the store's policy); returns how many.
    pub fn purge(&self) -> Result<usize, StoreError> {
        // A retention too long to subtract from now keeps everything.
        let cutoff = time::Duration::try_from(self.retention)
            .ok()
            .and_then(|retention| OffsetDateTime::now_utc().checked_sub(retention));
        match cutoff {
            Some(cutoff) => self.store.purge_older_than(cutoff),
            None => Ok(0),
        }
    }
}
