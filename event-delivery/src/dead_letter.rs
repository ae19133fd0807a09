//! The dead letter queue: what a consumer could not handle, kept for
//! operators to inspect, retry and discard.
//!
//! An entry keeps the original bytes unchanged. Retrying hands them back to
//! the consumer's pipeline as a new first delivery, so they are decoded
//! again against the consumer's current contract: an event dead-lettered by
//! a bug is handled once the fix is deployed.

use event_runtime::{ErrorClass, Version};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// The id of a dead letter in its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeadLetterId(pub u64);

impl fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dl_{}", self.0)
    }
}

/// One event a consumer gave up on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Its id in the queue.
    pub id: DeadLetterId,
    /// The envelope exactly as delivered.
    pub payload: Arc<[u8]>,
    /// The partition key it was delivered with.
    pub partition_key: Option<String>,
    /// The event id, when the envelope had a readable one.
    pub event_id: Option<String>,
    /// The event type, when readable.
    pub event_type: Option<String>,
    /// The version, when readable.
    pub version: Option<Version>,
    /// The tenant, when readable.
    pub tenant_id: Option<String>,
    /// The consumer that gave up.
    pub consumer: String,
    /// The last error.
    pub error: String,
    /// The class of the last error.
    pub class: ErrorClass,
    /// How many attempts were made.
    pub attempts: u32,
    /// When the first attempt failed.
    pub first_failure: OffsetDateTime,
    /// When the last attempt failed.
    pub last_failure: OffsetDateTime,
}

/// Which dead letters an operation looks at: all, or those of one consumer
/// and / or one event type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterFilter {
    /// Only this consumer's.
    pub consumer: Option<String>,
    /// Only this event type's.
    pub event_type: Option<String>,
}

impl DeadLetterFilter {
    /// Every dead letter.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only `consumer`'s.
    pub fn consumer(mut self, consumer: impl Into<String>) -> Self {
        self.consumer = Some(consumer.into());
        self
    }

    /// Only events of `event_type`.
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    /// Whether `entry` passes.
    pub fn matches(&self, entry: &DeadLetter) -> bool {
        self.consumer.as_ref().is_none_or(|c| *c == entry.consumer)
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| entry.event_type.as_deref() == Some(t.as_str()))
    }
}

/// A failure of the dead letter storage.
#[derive(Debug)]
pub struct DeadLetterError(pub Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for DeadLetterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dead letter storage failed: {}", self.0)
    }
}

impl std::error::Error for DeadLetterError {}

/// Where dead letters are kept. Retrying is [`take`](Self::take) (or
/// [`take_all`](Self::take_all)) followed by a redelivery to the consumer,
/// which the transport does ([`Bus::retry_dead_letter`](crate::Bus::retry_dead_letter)).
pub trait DeadLetters: Send + Sync + 'static {
    /// Stores `entry`; its `id` is chosen by the store and returned.
    fn put(
        &self,
        entry: DeadLetter,
    ) -> impl Future<Output = Result<DeadLetterId, DeadLetterError>> + Send;

    /// The entries that pass `filter`, oldest first.
    fn list(
        &self,
        filter: &DeadLetterFilter,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, DeadLetterError>> + Send;

    /// One entry.
    fn get(
        &self,
        id: DeadLetterId,
    ) -> impl Future<Output = Result<Option<DeadLetter>, DeadLetterError>> + Send;

    /// Removes one entry and returns it, for a retry.
    fn take(
        &self,
        id: DeadLetterId,
    ) -> impl Future<Output = Result<Option<DeadLetter>, DeadLetterError>> + Send;

    /// Removes every entry that passes `filter` and returns them, oldest
    /// first, for a bulk retry.
    fn take_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, DeadLetterError>> + Send;

    /// Deletes one entry for good; whether it was there.
    fn discard(
        &self,
        id: DeadLetterId,
    ) -> impl Future<Output = Result<bool, DeadLetterError>> + Send;

    /// How many entries pass `filter`.
    fn depth(
        &self,
        filter: &DeadLetterFilter,
    ) -> impl Future<Output = Result<usize, DeadLetterError>> + Send;
}

/// Dead letters in memory, shared by clones.
#[derive(Debug, Clone, Default)]
pub struct InMemoryDeadLetters {
    inner: Arc<Mutex<(u64, BTreeMap<DeadLetterId, DeadLetter>)>>,
}

impl InMemoryDeadLetters {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, BTreeMap<DeadLetterId, DeadLetter>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl DeadLetters for InMemoryDeadLetters {
    async fn put(&self, mut entry: DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
        let mut guard = self.lock();
        guard.0 += 1;
        let id = DeadLetterId(guard.0);
        entry.id = id;
        guard.1.insert(id, entry);
        Ok(id)
    }

    async fn list(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
        Ok(self
            .lock()
            .1
            .values()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect())
    }

    async fn get(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        Ok(self.lock().1.get(&id).cloned())
    }

    async fn take(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        Ok(self.lock().1.remove(&id))
    }

    async fn take_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let mut guard = self.lock();
        let ids: Vec<_> = guard
            .1
            .values()
            .filter(|e| filter.matches(e))
            .map(|e| e.id)
            .collect();
        Ok(ids
            .into_iter()
            .filter_map(|id| guard.1.remove(&id))
            .collect())
    }

    async fn discard(&self, id: DeadLetterId) -> Result<bool, DeadLetterError> {
        Ok(self.lock().1.remove(&id).is_some())
    }

    async fn depth(&self, filter: &DeadLetterFilter) -> Result<usize, DeadLetterError> {
        Ok(self.lock().1.values().filter(|e| filter.matches(e)).count())
    }
}
