//! [`Replay`] on PostgreSQL: the dead letters and the queue they go back
//! into.

use crate::{PgDeadLetters, PgQueue, Tables};
use event_delivery::{
    DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters, Replay,
};
use sqlx::{PgPool, Row};
use std::sync::Arc;

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
    async fn replay(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        self.dead_letters
            .retry(id, &self.queue)
            .await
            .map_err(storage)
    }

    async fn replay_all(
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
