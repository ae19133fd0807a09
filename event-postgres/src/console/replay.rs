//! What the console needs beyond [`DeadLetters`]: putting an entry back
//! into its consumer's queue, once.

use crate::{PgDeadLetters, PgQueue, Tables};
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters};
use sqlx::{PgPool, Row};
use std::future::Future;
use std::sync::Arc;

/// A dead letter store whose entries can be sent back to their consumer.
///
/// [`retry`](Self::retry) and [`retry_all`](Self::retry_all) must take an
/// entry out and redeliver it as one step that only one caller can win:
/// two operators who press *Retry* on the same entry at the same moment
/// get one redelivery, and the second is told the entry is gone. A store
/// whose removal is atomic (a `DELETE … RETURNING`, a JetStream message
/// delete that reports whether it deleted) takes first and redelivers
/// after, putting the entry back if the redelivery fails.
pub trait Replay: DeadLetters {
    /// Takes entry `id` out and redelivers its original bytes to its
    /// consumer as a first delivery; `None` if the entry was not there
    /// (never stored, or already retried or discarded).
    fn retry(
        &self,
        id: DeadLetterId,
    ) -> impl Future<Output = Result<Option<DeadLetter>, DeadLetterError>> + Send;

    /// The same for every entry that passes `filter`, oldest first;
    /// returns what was redelivered.
    fn retry_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, DeadLetterError>> + Send;

    /// How many of the events `event_ids` still wait in `consumer`'s queue
    /// (not yet handled, or in a retry delay); `None` when the transport
    /// cannot tell. The console uses it to say how a retry went.
    fn waiting(
        &self,
        consumer: &str,
        event_ids: &[String],
    ) -> impl Future<Output = Result<Option<usize>, DeadLetterError>> + Send {
        let _ = (consumer, event_ids);
        async { Ok(None) }
    }
}

/// The PostgreSQL dead letters with the queue they are replayed into:
/// a retry is [`PgDeadLetters::retry`], the `DELETE … RETURNING` and the
/// enqueue in one transaction, so of two concurrent retries of one entry
/// exactly one finds the row.
#[derive(Debug, Clone)]
pub struct PgReplay {
    dead_letters: PgDeadLetters,
    queue: PgQueue,
    pool: PgPool,
    waiting_sql: Arc<str>,
}

impl PgReplay {
    /// The dead letters and the queue of `tables`.
    pub fn new(pool: PgPool, tables: &Tables) -> Self {
        PgReplay {
            dead_letters: PgDeadLetters::new(pool.clone(), tables),
            queue: PgQueue::new(pool.clone(), tables),
            waiting_sql: format!(
                "SELECT count(*) FROM {} WHERE consumer = $1 AND event_id = ANY($2)",
                tables.qualified_queue()
            )
            .into(),
            pool,
        }
    }
}

fn storage(e: impl std::error::Error + Send + Sync + 'static) -> DeadLetterError {
    DeadLetterError(Box::new(e))
}

impl DeadLetters for PgReplay {
    async fn put(&self, entry: DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
        self.dead_letters.put(entry).await
    }

    async fn list(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
        self.dead_letters.list(filter).await
    }

    async fn get(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        self.dead_letters.get(id).await
    }

    async fn take(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        self.dead_letters.take(id).await
    }

    async fn take_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        self.dead_letters.take_all(filter).await
    }

    async fn discard(&self, id: DeadLetterId) -> Result<bool, DeadLetterError> {
        self.dead_letters.discard(id).await
    }

    async fn depth(&self, filter: &DeadLetterFilter) -> Result<usize, DeadLetterError> {
        self.dead_letters.depth(filter).await
    }
}

impl Replay for PgReplay {
    async fn retry(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        self.dead_letters
            .retry(id, &self.queue)
            .await
            .map_err(storage)
    }

    async fn retry_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        self.dead_letters
            .retry_all(filter, &self.queue)
            .await
            .map_err(storage)
    }

    async fn waiting(
        &self,
        consumer: &str,
        event_ids: &[String],
    ) -> Result<Option<usize>, DeadLetterError> {
        if event_ids.is_empty() {
            return Ok(Some(0));
        }
        let row = sqlx::query(&self.waiting_sql)
            .bind(consumer)
            .bind(event_ids)
            .fetch_one(&self.pool)
            .await
            .map_err(storage)?;
        Ok(Some(row.get::<i64, _>(0).max(0) as usize))
    }
}
