//! The durable queue: the brief's queue pattern, one consumer per message.
//!
//! - [`PgQueue::enqueue`] writes in the caller's transaction;
//!   [`PgQueue::to`] is a [`Transport`] that enqueues one row per consumer,
//!   so the outbox relay can publish into the queue.
//! - [`PgQueue::subscribe`] is a [`Subscriber`]: each claim takes the
//!   oldest due row with `FOR UPDATE SKIP LOCKED`, counts the attempt and
//!   hides the row for the visibility timeout by moving its `run_at`. A
//!   consumer that dies mid-handler leaves the row to reappear when the
//!   timeout runs out.
//! - The verbs: `ack` deletes the row, `nak(delay)` sets
//!   `run_at = now() + delay` (the retry policy's delay), `term` deletes it
//!   (the pipeline has put it into [`PgDeadLetters`](crate::PgDeadLetters)
//!   first). Each verb checks the attempt it claimed, so a consumer whose
//!   visibility timeout ran out cannot settle the next claim's delivery.
//! - The consumer's backlog, its rows due and not claimed, is the
//!   `event_consumer_pending` gauge: [`PgQueue::record_pending`] reads it,
//!   and a [`PgSubscriber`] does every [`PgSubscriber::pending_interval`]
//!   (5 s) while it runs.

use crate::{Error, Tables, delivery_from_str};
use event_delivery::metrics_names::PENDING;
use event_delivery::{Incoming, Message, Subscriber, Transport};
use event_runtime::Delivery;
use sqlx::{PgConnection, PgPool, Row};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The queue table.
#[derive(Debug, Clone)]
pub struct PgQueue {
    pool: PgPool,
    sql: Arc<QueueSql>,
}

#[derive(Debug)]
struct QueueSql {
    enqueue: String,
    claim: String,
    ack: String,
    nak: String,
    depth: String,
    pending: String,
}

/// How often a [`PgSubscriber`] samples its pending count by default.
pub const DEFAULT_PENDING_INTERVAL: Duration = Duration::from_secs(5);

impl PgQueue {
    /// The queue in `tables`.
    pub fn new(pool: PgPool, tables: &Tables) -> Self {
        let q = tables.qualified_queue();
        let sql = QueueSql {
            enqueue: format!(
                "INSERT INTO {q} (consumer, event_id, type, delivery, partition_key, payload)
                 VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            claim: format!(
                "UPDATE {q} SET run_at = now() + $2 * interval '1 millisecond', attempts = attempts + 1
                 WHERE seq = (SELECT seq FROM {q} WHERE consumer = $1 AND run_at <= now()
                              ORDER BY run_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING seq, attempts, payload, partition_key, delivery"
            ),
            ack: format!("DELETE FROM {q} WHERE seq = $1 AND attempts = $2"),
            nak: format!(
                "UPDATE {q} SET run_at = now() + $3 * interval '1 millisecond'
                 WHERE seq = $1 AND attempts = $2"
            ),
            depth: format!("SELECT count(*) FROM {q} WHERE consumer = $1"),
            pending: format!("SELECT count(*) FROM {q} WHERE consumer = $1 AND run_at <= now()"),
        };
        PgQueue {
            pool,
            sql: Arc::new(sql),
        }
    }

    /// Enqueues `message` for `consumer` in the caller's transaction.
    pub async fn enqueue(
        &self,
        tx: &mut PgConnection,
        consumer: &str,
        message: &Message,
    ) -> Result<(), Error> {
        sqlx::query(&self.sql.enqueue)
            .bind(consumer)
            .bind(&message.id)
            .bind(message.event_type)
            .bind(message.delivery.as_str())
            .bind(message.partition_key.as_deref())
            .bind(&*message.payload)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Enqueues raw bytes (a dead letter's payload) for `consumer`.
    pub(crate) async fn enqueue_raw(
        &self,
        tx: &mut PgConnection,
        consumer: &str,
        event_id: Option<&str>,
        event_type: Option<&str>,
        partition_key: Option<&str>,
        payload: &[u8],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&self.sql.enqueue)
            .bind(consumer)
            .bind(event_id)
            .bind(event_type)
            .bind(Delivery::AtLeastOnce.as_str())
            .bind(partition_key)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// How many messages wait for `consumer` (due or not).
    pub async fn depth(&self, consumer: &str) -> Result<i64, Error> {
        Ok(sqlx::query(&self.sql.depth)
            .bind(consumer)
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    /// How many messages are ready for `consumer`: due, and not claimed by
    /// a delivery in flight (a claim hides its row until the visibility
    /// timeout), nor waiting out a retry delay.
    pub async fn pending(&self, consumer: &str) -> Result<i64, Error> {
        Ok(sqlx::query(&self.sql.pending)
            .bind(consumer)
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    /// Reads [`pending`](Self::pending) and sets the `event_consumer_pending`
    /// gauge of `consumer` to it; returns it.
    pub async fn record_pending(&self, consumer: &str) -> Result<i64, Error> {
        let pending = self.pending(consumer).await?;
        metrics::gauge!(PENDING, "consumer" => consumer.to_owned()).set(pending as f64);
        Ok(pending)
    }

    /// A [`Transport`] that enqueues each message once for every consumer
    /// in `consumers`, in one transaction.
    pub fn to(&self, consumers: impl IntoIterator<Item = impl Into<String>>) -> QueueTransport {
        QueueTransport {
            queue: self.clone(),
            consumers: consumers.into_iter().map(Into::into).collect(),
        }
    }

    /// `consumer`'s deliveries: a claim hides a message for `visibility`;
    /// when nothing is due it polls every `poll`. The stream ends once
    /// `shutdown` completes. While it runs, it sets the consumer's
    /// `event_consumer_pending` gauge every
    /// [`pending_interval`](PgSubscriber::pending_interval).
    pub fn subscribe(
        &self,
        consumer: impl Into<String>,
        visibility: Duration,
        poll: Duration,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> PgSubscriber {
        PgSubscriber {
            start: Some(Claimer {
                queue: self.clone(),
                consumer: consumer.into(),
                visibility,
                poll,
                pending_interval: DEFAULT_PENDING_INTERVAL,
                shutdown: Box::pin(shutdown),
            }),
            claimed: None,
        }
    }

    /// Claims the next due message of `consumer`, if any.
    pub async fn claim(
        &self,
        consumer: &str,
        visibility: Duration,
    ) -> Result<Option<PgIncoming>, Error> {
        let row = sqlx::query(&self.sql.claim)
            .bind(consumer)
            .bind(visibility.as_millis().min(i64::MAX as u128) as i64)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let delivery: String = row.get(4);
        Ok(Some(PgIncoming {
            queue: self.clone(),
            seq: row.get(0),
            attempts: row.get(1),
            payload: row.get(2),
            partition_key: row.get(3),
            delivery: delivery_from_str(&delivery).unwrap_or(Delivery::AtLeastOnce),
        }))
    }
}

/// The queue as a [`Transport`]: see [`PgQueue::to`].
#[derive(Debug, Clone)]
pub struct QueueTransport {
    queue: PgQueue,
    consumers: Vec<String>,
}

impl Transport for QueueTransport {
    type Error = Error;

    async fn send(&self, message: Message) -> Result<(), Error> {
        let mut tx = self.queue.pool.begin().await?;
        for consumer in &self.consumers {
            self.queue.enqueue(&mut tx, consumer, &message).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// One consumer's stream of queue deliveries.
///
/// [`next`](Subscriber::next) is cancel-safe, as the pipeline's loop needs
/// (it drops a pending `next` whenever a lane finishes): claims run in a
/// task of their own and wait in a one-slot channel, so a claimed row is
/// never dropped with a cancelled future. At most one claimed row waits
/// there; if the subscriber itself is dropped, that row reappears after the
/// visibility timeout.
pub struct PgSubscriber {
    start: Option<Claimer>,
    claimed: Option<tokio::sync::mpsc::Receiver<PgIncoming>>,
}

struct Claimer {
    queue: PgQueue,
    consumer: String,
    visibility: Duration,
    poll: Duration,
    pending_interval: Duration,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl PgSubscriber {
    /// How often the pending count is sampled while the subscriber runs
    /// (default [`DEFAULT_PENDING_INTERVAL`]); set it before the first
    /// delivery is taken.
    pub fn pending_interval(mut self, interval: Duration) -> Self {
        if let Some(claimer) = &mut self.start {
            claimer.pending_interval = interval.max(Duration::from_millis(10));
        }
        self
    }
}

/// Samples the consumer's pending count until `stop` resolves (its sender
/// is dropped with the claimer); in a task of its own, so a claimer waiting
/// for room in its slot (the pipeline is busy: the backlog grows) does not
/// stop the sampling.
async fn sample_pending(
    queue: PgQueue,
    consumer: String,
    interval: Duration,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        // A failed read keeps the last value; the claimer backs off on the
        // same lost connection.
        let _ = queue.record_pending(&consumer).await;
        tokio::select! {
            biased;
            _ = &mut stop => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

impl Claimer {
    async fn run(mut self, slot: tokio::sync::mpsc::Sender<PgIncoming>) {
        let (_sampling, stop) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(sample_pending(
            self.queue.clone(),
            self.consumer.clone(),
            self.pending_interval,
            stop,
        ));
        let mut failures = 0u32;
        loop {
            // Wait for room first, so a claimed row never waits long.
            let permit = tokio::select! {
                biased;
                _ = &mut self.shutdown => return,
                permit = slot.reserve() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            let wait = match self.queue.claim(&self.consumer, self.visibility).await {
                Ok(Some(incoming)) => {
                    failures = 0;
                    permit.send(incoming);
                    continue;
                }
                Ok(None) => {
                    failures = 0;
                    self.poll
                }
                // Lost connection: back off, the pool reconnects.
                Err(_) => {
                    failures = failures.saturating_add(1);
                    Duration::from_millis(50)
                        .saturating_mul(1 << failures.min(8))
                        .min(Duration::from_secs(10))
                }
            };
            drop(permit);
            tokio::select! {
                biased;
                _ = &mut self.shutdown => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

impl Subscriber for PgSubscriber {
    type Incoming = PgIncoming;

    async fn next(&mut self) -> Option<PgIncoming> {
        if let Some(claimer) = self.start.take() {
            let (slot, claimed) = tokio::sync::mpsc::channel(1);
            tokio::spawn(claimer.run(slot));
            self.claimed = Some(claimed);
        }
        self.claimed.as_mut()?.recv().await
    }
}

/// One claimed queue message.
#[derive(Debug)]
pub struct PgIncoming {
    queue: PgQueue,
    seq: i64,
    attempts: i32,
    payload: Vec<u8>,
    partition_key: Option<String>,
    delivery: Delivery,
}

impl PgIncoming {
    async fn settle(&self, sql: &str, delay: Option<Duration>) {
        let mut query = sqlx::query(sql).bind(self.seq).bind(self.attempts);
        if let Some(delay) = delay {
            query = query.bind(delay.as_millis().min(i64::MAX as u128) as i64);
        }
        // A failed settle leaves the row claimed: it reappears after the
        // visibility timeout and is delivered again, never lost.
        let _ = query.execute(&self.queue.pool).await;
    }
}

impl Incoming for PgIncoming {
    fn payload(&self) -> &[u8] {
        &self.payload
    }

    fn partition_key(&self) -> Option<&str> {
        self.partition_key.as_deref()
    }

    fn delivery(&self) -> Delivery {
        self.delivery
    }

    fn attempt(&self) -> u32 {
        self.attempts.max(1) as u32
    }

    async fn ack(self) {
        self.settle(&self.queue.sql.ack, None).await;
    }

    async fn nak(self, delay: Duration) {
        self.settle(&self.queue.sql.nak, Some(delay)).await;
    }

    async fn term(self) {
        self.settle(&self.queue.sql.ack, None).await;
    }
}
