//! The consumer's inbox: the `processed_events` table as an
//! [`event_delivery::ProcessedStore`].
//!
//! # Columns
//!
//! The brief's table as written, then what tenant-scoped keys and leases
//! add:
//!
//! | column | meaning |
//! |---|---|
//! | `event_id` | the id of the event that claimed (and processed) the key |
//! | `event_type` | its type |
//! | `consumer` | the consumer's name |
//! | `processed_at` | when the handler's transaction committed; `NULL` while the claim is in flight |
//! | `result` | what the handler returned, as JSON |
//! | `UNIQUE (event_id, consumer)` | one record per event and consumer |
//! | `idempotency_key` | [`IdempotencyKey::as_str`]: tenant, type, `id` or `natural`, key; `UNIQUE (idempotency_key, consumer)` is what claims race on, so two tenants never suppress each other's events and a natural key dedupes two ids of one fact |
//! | `tenant_id` | the tenant the key is scoped to (for queries per tenant) |
//! | `key_source` | `id` or `natural` |
//! | `claim_token` | the token of the current claim, from a sequence; completing or releasing with a stale token does nothing |
//! | `claimed_at` | when the current claim was taken |
//! | `lease_until` | until when the claim holds; after it another delivery may take it over. `NULL` once processed |
//!
//! # Exactly once in effect
//!
//! [`claim`](ProcessedStore::claim) commits the claim on its own. The
//! handler then writes through the transaction of
//! [`begin`](ProcessedStore::begin), and
//! [`complete_in`](ProcessedStore::complete_in) updates the claimed row in
//! that same transaction, checking the token. A crash before commit loses
//! both the writes and the record; the lease runs out and a redelivery
//! processes the event. A takeover racing a slow commit waits on the row
//! lock and then sees the record: the effect happens once.

use crate::{Error, Tables};
use event_delivery::ProcessedStore;
use event_runtime::ErrorClass;
use event_runtime::idempotency::{
    Claim, ClaimToken, DEFAULT_RETENTION, IdempotencyKey, KeySource, ProcessedRecord, StoreError,
};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// The PostgreSQL processed-events store.
#[derive(Debug, Clone)]
pub struct PgProcessedStore {
    pool: PgPool,
    sql: Arc<Sql>,
}

#[derive(Debug)]
struct Sql {
    claim: String,
    lookup: String,
    complete: String,
    release: String,
    purge: String,
}

fn backend(e: sqlx::Error) -> StoreError {
    let class = match &e {
        sqlx::Error::Database(_) => ErrorClass::Unknown,
        _ => ErrorClass::Transient,
    };
    StoreError::Backend {
        source: Box::new(e),
        class,
    }
}

impl PgProcessedStore {
    /// A store on the default [`Tables`].
    pub fn new(pool: PgPool) -> Self {
        Self::with_tables(pool, &Tables::default())
    }

    /// A store on `tables`.
    pub fn with_tables(pool: PgPool, tables: &Tables) -> Self {
        let t = tables.qualified_processed_events();
        let token_seq = tables.qualified_token_sequence();
        let sql = Sql {
            claim: format!(
                "INSERT INTO {t} AS p (idempotency_key, consumer, event_id, event_type, tenant_id,
                                      key_source, claim_token, claimed_at, lease_until)
                 VALUES ($1, $2, $3, $4, $5, $6, nextval('{seq}'), $7, $8)
                 ON CONFLICT (idempotency_key, consumer) DO UPDATE
                    SET claim_token = nextval('{seq}'), claimed_at = EXCLUDED.claimed_at,
                        lease_until = EXCLUDED.lease_until, event_id = EXCLUDED.event_id
                    WHERE p.processed_at IS NULL AND p.lease_until <= EXCLUDED.claimed_at
                 RETURNING claim_token",
                seq = token_seq.replace('\'', "''")
            ),
            lookup: format!(
                "SELECT event_id, processed_at, result, claimed_at FROM {t}
                 WHERE idempotency_key = $1 AND consumer = $2"
            ),
            complete: format!(
                "UPDATE {t} SET processed_at = $4, result = $5, lease_until = NULL
                 WHERE idempotency_key = $1 AND consumer = $2 AND claim_token = $3
                   AND processed_at IS NULL"
            ),
            release: format!(
                "DELETE FROM {t} WHERE idempotency_key = $1 AND consumer = $2
                   AND claim_token = $3 AND processed_at IS NULL"
            ),
            purge: format!(
                "DELETE FROM {t} WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM {t} WHERE processed_at < $1 LIMIT $2))"
            ),
        };
        PgProcessedStore {
            pool,
            sql: Arc::new(sql),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The record of `key` for `consumer`, if processed.
    pub async fn get(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<ProcessedRecord>, Error> {
        let row = sqlx::query(&self.sql.lookup)
            .bind(key.as_str())
            .bind(consumer)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|row| record(&row, consumer, key)))
    }

    /// Deletes the records processed before `cutoff`, `batch` rows per
    /// statement so no long lock is held; returns how many. Claims in
    /// flight stay.
    pub async fn purge_older_than(&self, cutoff: OffsetDateTime, batch: i64) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let done = sqlx::query(&self.sql.purge)
                .bind(cutoff)
                .bind(batch.max(1))
                .execute(&self.pool)
                .await?
                .rows_affected();
            total += done;
            if done == 0 {
                return Ok(total);
            }
        }
    }

    /// The retention job: every `every`, purges the records older than
    /// `retention` (the brief's 30 days: [`DEFAULT_RETENTION`]) in batches
    /// of 1,000, until `shutdown` completes. Returns how many it deleted.
    pub async fn run_retention(
        &self,
        retention: Option<Duration>,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> u64 {
        let retention = retention.unwrap_or(DEFAULT_RETENTION);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut total = 0;
        loop {
            let cutoff = OffsetDateTime::now_utc() - retention;
            if let Ok(n) = self.purge_older_than(cutoff, 1_000).await {
                total += n;
            }
            tokio::select! {
                biased;
                _ = &mut shutdown => return total,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

fn record(row: &PgRow, consumer: &str, key: &IdempotencyKey) -> Option<ProcessedRecord> {
    let processed_at: Option<OffsetDateTime> = row.get(1);
    Some(ProcessedRecord {
        key: key.clone(),
        event_id: row.get(0),
        consumer: consumer.to_owned(),
        processed_at: processed_at?,
        result: row.get::<Option<Value>, _>(2).unwrap_or(Value::Null),
    })
}

fn token_of(value: i64) -> ClaimToken {
    ClaimToken::new(value as u64)
}

impl ProcessedStore for PgProcessedStore {
    type Tx = Transaction<'static, Postgres>;

    async fn claim(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        event_id: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let lease_until = now + lease;
        let source = match key.source() {
            KeySource::EventId => "id",
            KeySource::Natural => "natural",
        };
        // A claim that loses the race with a concurrent first insert sees
        // the winner's row on the next read; try a few times.
        for _ in 0..3 {
            let claimed = sqlx::query(&self.sql.claim)
                .bind(key.as_str())
                .bind(consumer)
                .bind(event_id)
                .bind(key.event_type())
                .bind(key.tenant_id())
                .bind(source)
                .bind(now)
                .bind(lease_until)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            if let Some(row) = claimed {
                return Ok(Claim::Acquired(token_of(row.get(0))));
            }
            let row = sqlx::query(&self.sql.lookup)
                .bind(key.as_str())
                .bind(consumer)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            let Some(row) = row else { continue };
            if let Some(record) = record(&row, consumer, key) {
                return Ok(Claim::Processed(record));
            }
            return Ok(Claim::InFlight {
                claimed_at: row.get(3),
            });
        }
        Err(StoreError::Backend {
            source: format!("the claim on `{key}` for `{consumer}` kept changing under it").into(),
            class: ErrorClass::Transient,
        })
    }

    async fn begin(&self) -> Result<Self::Tx, StoreError> {
        self.pool.begin().await.map_err(backend)
    }

    async fn complete_in(
        &self,
        tx: &mut Self::Tx,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
        now: OffsetDateTime,
        result: Value,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(&self.sql.complete)
            .bind(key.as_str())
            .bind(consumer)
            .bind(token.get() as i64)
            .bind(now)
            .bind(result)
            .execute(&mut **tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if updated == 1 {
            Ok(())
        } else {
            Err(StoreError::ClaimLost {
                key: key.clone(),
                consumer: consumer.to_owned(),
            })
        }
    }

    async fn commit(&self, tx: Self::Tx) -> Result<(), StoreError> {
        tx.commit().await.map_err(backend)
    }

    async fn rollback(&self, tx: Self::Tx) -> Result<(), StoreError> {
        tx.rollback().await.map_err(backend)
    }

    async fn release(
        &self,
        consumer: &str,
        key: &IdempotencyKey,
        token: ClaimToken,
    ) -> Result<(), StoreError> {
        sqlx::query(&self.sql.release)
            .bind(key.as_str())
            .bind(consumer)
            .bind(token.get() as i64)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
