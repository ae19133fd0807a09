//! The `dead_letters` table as the pipeline's [`DeadLetters`], and the
//! replay into the durable queue that operators run.
//!
//! Replaying ([`PgDeadLetters::retry`], [`PgDeadLetters::retry_all`])
//! moves the entry back into the consumer's queue in one transaction: the
//! original bytes, unchanged, as a new first delivery, so the consumer
//! decodes them again against its current (typed) contract. Either the
//! entry is in the queue or it is still a dead letter, never both or
//! neither.

use crate::{Error, PgQueue, Tables};
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters};
use event_runtime::{ErrorClass, Version};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use std::sync::Arc;

const COLUMNS: &str = "id, consumer, payload, partition_key, event_id, event_type, version, \
                       tenant_id, error, class, attempts, first_failure, last_failure";

/// The PostgreSQL dead letter queue.
#[derive(Debug, Clone)]
pub struct PgDeadLetters {
    pool: PgPool,
    table: Arc<str>,
}

/// A class as stored in the `class` column.
pub fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Permanent => "permanent",
        ErrorClass::Transient => "transient",
        ErrorClass::Unknown => "unknown",
    }
}

fn class_of(name: &str) -> ErrorClass {
    match name {
        "permanent" => ErrorClass::Permanent,
        "transient" => ErrorClass::Transient,
        _ => ErrorClass::Unknown,
    }
}

fn storage(e: sqlx::Error) -> DeadLetterError {
    DeadLetterError(Box::new(e))
}

fn entry(row: &PgRow) -> Result<DeadLetter, sqlx::Error> {
    let payload: Vec<u8> = row.try_get(2)?;
    let version: Option<String> = row.try_get(6)?;
    let class: String = row.try_get(9)?;
    let attempts: i32 = row.try_get(10)?;
    Ok(DeadLetter {
        id: DeadLetterId(row.try_get::<i64, _>(0)? as u64),
        consumer: row.try_get(1)?,
        payload: payload.into(),
        partition_key: row.try_get(3)?,
        event_id: row.try_get(4)?,
        event_type: row.try_get(5)?,
        version: version.and_then(|v| v.parse::<Version>().ok()),
        tenant_id: row.try_get(7)?,
        error: row.try_get(8)?,
        class: class_of(&class),
        attempts: attempts.max(0) as u32,
        first_failure: row.try_get(11)?,
        last_failure: row.try_get(12)?,
    })
}

impl PgDeadLetters {
    /// The dead letters of `tables`.
    pub fn new(pool: PgPool, tables: &Tables) -> Self {
        PgDeadLetters {
            pool,
            table: tables.qualified_dead_letters().into(),
        }
    }

    const FILTER: &'static str =
        "($1::text IS NULL OR consumer = $1) AND ($2::text IS NULL OR event_type = $2)";

    /// Depth per (consumer, event type), largest first.
    pub async fn stats(&self) -> Result<Vec<(String, Option<String>, i64)>, Error> {
        let rows = sqlx::query(&format!(
            "SELECT consumer, event_type, count(*) FROM {} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
            self.table
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// Moves entry `id` back into its consumer's queue; `None` if there is
    /// no such entry.
    pub async fn retry(
        &self,
        id: DeadLetterId,
        queue: &PgQueue,
    ) -> Result<Option<DeadLetter>, Error> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "DELETE FROM {} WHERE id = $1 RETURNING {COLUMNS}",
            self.table
        ))
        .bind(id.0 as i64)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let e = entry(&row)?;
        queue
            .enqueue_raw(
                &mut tx,
                &e.consumer,
                e.event_id.as_deref(),
                e.event_type.as_deref(),
                e.partition_key.as_deref(),
                &e.payload,
            )
            .await?;
        tx.commit().await?;
        Ok(Some(e))
    }

    /// Moves every entry that passes `filter` back into its consumer's
    /// queue, oldest first, in one transaction.
    pub async fn retry_all(
        &self,
        filter: &DeadLetterFilter,
        queue: &PgQueue,
    ) -> Result<Vec<DeadLetter>, Error> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&format!(
            "DELETE FROM {} WHERE {} RETURNING {COLUMNS}",
            self.table,
            Self::FILTER
        ))
        .bind(filter.consumer.as_deref())
        .bind(filter.event_type.as_deref())
        .fetch_all(&mut *tx)
        .await?;
        let mut entries = rows.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.id);
        for e in &entries {
            queue
                .enqueue_raw(
                    &mut tx,
                    &e.consumer,
                    e.event_id.as_deref(),
                    e.event_type.as_deref(),
                    e.partition_key.as_deref(),
                    &e.payload,
                )
                .await?;
        }
        tx.commit().await?;
        Ok(entries)
    }
}

impl DeadLetters for PgDeadLetters {
    async fn put(&self, entry: DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
        let row = sqlx::query(&format!(
            "INSERT INTO {} (consumer, payload, partition_key, event_id, event_type, version,
                             tenant_id, error, class, attempts, first_failure, last_failure)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            self.table
        ))
        .bind(&entry.consumer)
        .bind(&*entry.payload)
        .bind(entry.partition_key.as_deref())
        .bind(entry.event_id.as_deref())
        .bind(entry.event_type.as_deref())
        .bind(entry.version.map(|v| v.to_string()))
        .bind(entry.tenant_id.as_deref())
        .bind(&entry.error)
        .bind(class_name(entry.class))
        .bind(entry.attempts.min(i32::MAX as u32) as i32)
        .bind(entry.first_failure)
        .bind(entry.last_failure)
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        Ok(DeadLetterId(row.get::<i64, _>(0) as u64))
    }

    async fn list(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {} WHERE {} ORDER BY id",
            self.table,
            Self::FILTER
        ))
        .bind(filter.consumer.as_deref())
        .bind(filter.event_type.as_deref())
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        rows.iter()
            .map(entry)
            .collect::<Result<_, _>>()
            .map_err(storage)
    }

    async fn get(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {} WHERE id = $1",
            self.table
        ))
        .bind(id.0 as i64)
        .fetch_optional(&self.pool)
        .await
        .map_err(storage)?;
        row.as_ref().map(entry).transpose().map_err(storage)
    }

    async fn take(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        let row = sqlx::query(&format!(
            "DELETE FROM {} WHERE id = $1 RETURNING {COLUMNS}",
            self.table
        ))
        .bind(id.0 as i64)
        .fetch_optional(&self.pool)
        .await
        .map_err(storage)?;
        row.as_ref().map(entry).transpose().map_err(storage)
    }

    async fn take_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let rows = sqlx::query(&format!(
            "DELETE FROM {} WHERE {} RETURNING {COLUMNS}",
            self.table,
            Self::FILTER
        ))
        .bind(filter.consumer.as_deref())
        .bind(filter.event_type.as_deref())
        .fetch_all(&self.pool)
        .await
        .map_err(storage)?;
        let mut entries = rows
            .iter()
            .map(entry)
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        entries.sort_by_key(|e| e.id);
        Ok(entries)
    }

    async fn discard(&self, id: DeadLetterId) -> Result<bool, DeadLetterError> {
        let done = sqlx::query(&format!("DELETE FROM {} WHERE id = $1", self.table))
            .bind(id.0 as i64)
            .execute(&self.pool)
            .await
            .map_err(storage)?;
        Ok(done.rows_affected() == 1)
    }

    async fn depth(&self, filter: &DeadLetterFilter) -> Result<usize, DeadLetterError> {
        let row = sqlx::query(&format!(
            "SELECT count(*) FROM {} WHERE {}",
            self.table,
            Self::FILTER
        ))
        .bind(filter.consumer.as_deref())
        .bind(filter.event_type.as_deref())
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        Ok(row.get::<i64, _>(0) as usize)
    }
}
