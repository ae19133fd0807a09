//! Consuming a durable pull consumer through the `event-delivery` pipeline.

use crate::error::NatsError;
use crate::headers;
use crate::topology::Topology;
use async_nats::jetstream::consumer::{PullConsumer, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::{self, Context};
use event_delivery::metrics_names::PENDING;
use event_delivery::{
    Attempt, Consumer, ConsumerStats, DeadLetter, DeadLetterId, DeadLetters, Failure, Handler,
    Incoming, ProcessedStore, Subscriber, Verdict,
};
use event_runtime::{Catalog, Delivery, Header};
use futures_util::{FutureExt, StreamExt};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::task::Poll;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::task::JoinSet;

/// How often [`NatsSubscriber::run`] samples the pending count by default.
pub const DEFAULT_PENDING_INTERVAL: Duration = Duration::from_secs(10);

/// One delivery from JetStream.
#[derive(Debug)]
pub struct NatsIncoming {
    message: jetstream::Message,
    attempt: u32,
}

impl NatsIncoming {
    fn new(message: jetstream::Message) -> Self {
        let attempt = message
            .info()
            .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX).max(1))
            .unwrap_or(1);
        NatsIncoming { message, attempt }
    }

    /// The message as the client received it.
    pub fn message(&self) -> &jetstream::Message {
        &self.message
    }

    /// Tells JetStream the handler is still working: the ack wait starts
    /// again.
    pub async fn progress(&self) {
        let _ = self.message.ack_with(AckKind::Progress).await;
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.message
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str())
    }
}

impl Incoming for NatsIncoming {
    fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    fn partition_key(&self) -> Option<&str> {
        self.header(headers::PARTITION_KEY)
    }

    fn delivery(&self) -> Delivery {
        headers::delivery_from(self.header(headers::DELIVERY))
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn ack(self) {
        // A lost ack is a redelivery, which the idempotency claim turns into
        // a duplicate.
        let _ = self.message.ack().await;
    }

    async fn nak(self, delay: Duration) {
        let _ = self.message.ack_with(AckKind::Nak(Some(delay))).await;
    }

    async fn term(self) {
        let _ = self.message.ack_with(AckKind::Term).await;
    }
}

/// The deliveries of one consumer service's durable pull consumer.
/// Instances of the service each open one on the same durable consumer and
/// compete for its messages.
pub struct NatsSubscriber {
    events: Feed,
    retries: Feed,
    stream: jetstream::stream::Stream,
    name: String,
    ack_wait: Duration,
    max_deliver: u32,
    concurrency: usize,
    pending_interval: Duration,
}

impl std::fmt::Debug for NatsSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSubscriber")
            .field("name", &self.name)
            .field("ack_wait", &self.ack_wait)
            .field("max_deliver", &self.max_deliver)
            .finish_non_exhaustive()
    }
}

impl NatsSubscriber {
    /// Binds to the durable consumer of `service` that
    /// [`Topology::ensure`] created.
    pub async fn new(js: &Context, topology: &Topology, service: &str) -> Result<Self, NatsError> {
        let stream_name = topology.subject_scheme().stream();
        let stream = js
            .get_stream(&stream_name)
            .await
            .map_err(|e| NatsError::new(format!("reading stream {stream_name}"), e))?;
        let bind = |durable: String| {
            let stream = &stream;
            let stream_name = &stream_name;
            async move {
                stream
                    .get_consumer::<pull::Config>(&durable)
                    .await
                    .map_err(|e| {
                        NatsError::new(
                            format!(
                                "binding to consumer {stream_name}/{durable} (run Topology::ensure first)"
                            ),
                            e,
                        )
                    })
            }
        };
        let consumer: PullConsumer = bind(service.to_owned()).await?;
        let retries: PullConsumer = bind(Topology::retry_durable(service)).await?;
        let config = &consumer.cached_info().config;
        let ack_wait = config.ack_wait;
        let max_deliver = u32::try_from(config.max_deliver).unwrap_or(u32::MAX);
        Ok(NatsSubscriber {
            events: Feed {
                consumer,
                messages: None,
                batch: 16,
            },
            retries: Feed {
                consumer: retries,
                messages: None,
                batch: 16,
            },
            stream,
            name: service.to_owned(),
            ack_wait,
            max_deliver,
            concurrency: 16,
            pending_interval: DEFAULT_PENDING_INTERVAL,
        })
    }

    /// How many deliveries [`run`](Self::run) handles at once (default 16).
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit.max(1);
        self.events.batch = self.concurrency;
        self.retries.batch = self.concurrency;
        self
    }

    /// How often [`run`](Self::run) sets the `event_consumer_pending` gauge
    /// from the server (default [`DEFAULT_PENDING_INTERVAL`]).
    pub fn pending_interval(mut self, interval: Duration) -> Self {
        self.pending_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// The consumer service.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next delivery, of an event or of a retried dead letter;
    /// reconnects the pull after an error. `None` only once a durable
    /// consumer was deleted.
    pub async fn next_message(&mut self) -> Option<NatsIncoming> {
        tokio::select! {
            m = self.events.next() => m,
            m = self.retries.next() => m,
        }
    }

    /// Reads the consumer's `num_pending` from the server (messages of its
    /// subjects not yet delivered to it) and sets the
    /// `event_consumer_pending` gauge of the consumer to it; returns it.
    pub async fn record_pending(&self) -> Result<u64, NatsError> {
        record_pending(&self.events.consumer, &self.name).await
    }

    /// Reads the consumer's lag from the server: the pending count, which
    /// it sets as the `event_consumer_pending` gauge, and how long ago the
    /// oldest message not yet acknowledged was stored (zero when caught
    /// up). The per-type `event_consumer_lag_seconds` gauge is the
    /// pipeline's, set from the event timestamps as it decodes them.
    pub async fn record_lag(&mut self) -> Result<(u64, Duration), NatsError> {
        let info = self
            .events
            .consumer
            .info()
            .await
            .map_err(|e| NatsError::new(format!("reading consumer {}", self.name), e))?
            .clone();
        let mut oldest: Option<OffsetDateTime> = None;
        if info.num_pending + info.num_ack_pending as u64 > 0 {
            let from = info.ack_floor.stream_sequence + 1;
            let mut filters = info.config.filter_subjects.clone();
            if !info.config.filter_subject.is_empty() {
                filters.push(info.config.filter_subject.clone());
            }
            for subject in &filters {
                if let Ok(m) = self
                    .stream
                    .raw_message_builder()
                    .sequence(from)
                    .next_by_subject(subject.clone())
                    .send()
                    .await
                {
                    oldest = Some(oldest.map_or(m.time, |o| o.min(m.time)));
                }
            }
        }
        let age = oldest
            .map(|t| {
                let d = OffsetDateTime::now_utc() - t;
                Duration::try_from(d).unwrap_or_default()
            })
            .unwrap_or_default();
        metrics::gauge!(PENDING, "consumer" => self.name.clone()).set(info.num_pending as f64);
        Ok((info.num_pending, age))
    }

    /// Consumes until `shutdown` completes, then stops pulling and settles
    /// what it holds; returns what the consumer did. Maps the pipeline's
    /// verdicts onto JetStream's verbs:
    ///
    /// | verdict | JetStream |
    /// |---|---|
    /// | ack (handled, duplicate, skipped) | `ack` |
    /// | retry after a delay | `nak` with the delay; the next delivery is the next attempt |
    /// | retry at `max_deliver` | put in the dead letter queue, then `term` |
    /// | term (dead-lettered, at-most-once dropped) | `term` |
    /// | defer, nak | `nak` with the delay |
    ///
    /// While a handler runs longer than half the ack wait, an in-progress
    /// ack is sent every half ack wait, so JetStream does not deliver the
    /// message to another instance meanwhile. Every
    /// [`pending_interval`](Self::pending_interval) the consumer's
    /// `event_consumer_pending` gauge is set from the server, by a task
    /// of its own, so handlers that hold every slot do not stop it.
    pub async fn run<C, H, St, D>(
        mut self,
        consumer: Consumer<C, H, St, D>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> ConsumerStats
    where
        C: Catalog + Send + 'static,
        H: Handler<C, St::Tx>,
        St: ProcessedStore,
        D: DeadLetters,
    {
        let mut tasks = JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let heartbeat = (self.ack_wait / 2).max(Duration::from_millis(100));
        let (_sampling, stop) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(sample_pending(
            self.events.consumer.clone(),
            self.name.clone(),
            self.pending_interval,
            stop,
        ));
        loop {
            let can_pull = tasks.len() < self.concurrency;
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                next = self.next_message(), if can_pull => {
                    let Some(incoming) = next else { break };
                    // Most deliveries settle without waiting (decode, an
                    // in-memory claim, a handler that does not block, an
                    // ack queued on the connection): run them here, and
                    // give only those still pending a task of their own,
                    // which saves a spawn and a wake-up per message.
                    let mut work = Box::pin(settle(
                        consumer.clone(),
                        incoming,
                        heartbeat,
                        self.max_deliver,
                    ));
                    // A panic outside the handler (a dead letter store,
                    // say) ends this delivery only, as it would end its
                    // task: the message is not settled and JetStream
                    // delivers it again after the ack wait.
                    let settled = std::future::poll_fn(|cx| {
                        let poll = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            work.as_mut().poll(cx)
                        }));
                        Poll::Ready(!matches!(poll, Ok(Poll::Pending)))
                    })
                    .await;
                    if !settled {
                        tasks.spawn(work);
                    }
                }
            }
        }
        while tasks.join_next().await.is_some() {}
        consumer.stats()
    }
}

async fn record_pending(consumer: &PullConsumer, name: &str) -> Result<u64, NatsError> {
    let info = consumer
        .get_info()
        .await
        .map_err(|e| NatsError::new(format!("reading consumer {name}"), e))?;
    metrics::gauge!(PENDING, "consumer" => name.to_owned()).set(info.num_pending as f64);
    Ok(info.num_pending)
}

/// Sets the pending gauge every `interval` until `stop` resolves (its
/// sender is dropped when the run ends). A failed read (the server is
/// away) keeps the last value.
async fn sample_pending(
    consumer: PullConsumer,
    name: String,
    interval: Duration,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let _ = record_pending(&consumer, &name).await;
        tokio::select! {
            biased;
            _ = &mut stop => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// Runs one delivery through the pipeline and settles it.
async fn settle<C, H, St, D>(
    consumer: Consumer<C, H, St, D>,
    incoming: NatsIncoming,
    heartbeat: Duration,
    max_deliver: u32,
) where
    C: Catalog + Send + 'static,
    H: Handler<C, St::Tx>,
    St: ProcessedStore,
    D: DeadLetters,
{
    let attempt = Attempt {
        number: incoming.attempt(),
        first_failure: None,
    };
    let verdict = {
        let payload = incoming.payload();
        let key = incoming.partition_key();
        let delivery = incoming.delivery();
        let work =
            AssertUnwindSafe(consumer.process(payload, key, delivery, attempt)).catch_unwind();
        let mut work = std::pin::pin!(work);
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        let outcome = loop {
            tokio::select! {
                biased;
                outcome = &mut work => break outcome,
                _ = ticks.tick() => incoming.progress().await,
            }
        };
        match outcome {
            Ok(verdict) => verdict,
            Err(panic) => {
                consumer
                    .fail(payload, key, delivery, attempt, Failure::panic(&*panic))
                    .await
            }
        }
    };
    match verdict {
        Verdict::Ack(_) => incoming.ack().await,
        Verdict::Term(_) => incoming.term().await,
        Verdict::Retry { failure, .. } if attempt.number >= max_deliver => {
            // JetStream would not deliver it again: dead-letter it now.
            match dead_letter(&consumer, &incoming, attempt, failure).await {
                Ok(_) => incoming.term().await,
                Err(_) => incoming.nak(Duration::from_secs(5)).await,
            }
        }
        Verdict::Retry { after, .. } => incoming.nak(after).await,
        Verdict::Defer(delay) | Verdict::Nak(delay) => incoming.nak(delay).await,
    }
}

async fn dead_letter<C, H, St, D>(
    consumer: &Consumer<C, H, St, D>,
    incoming: &NatsIncoming,
    attempt: Attempt,
    failure: Failure,
) -> Result<DeadLetterId, event_delivery::DeadLetterError>
where
    C: Catalog + Send + 'static,
    H: Handler<C, St::Tx>,
    St: ProcessedStore,
    D: DeadLetters,
{
    let now = OffsetDateTime::now_utc();
    let header = Header::from_json_slice(incoming.payload()).ok();
    consumer
        .dead_letter_queue()
        .put(DeadLetter {
            id: DeadLetterId(0),
            payload: incoming.payload().into(),
            partition_key: incoming.partition_key().map(str::to_owned),
            event_id: header.as_ref().map(|h| h.id().to_owned()),
            event_type: header.as_ref().map(|h| h.event_type().to_owned()),
            version: header.as_ref().map(|h| h.version()),
            tenant_id: header.as_ref().map(|h| h.tenant_id().to_owned()),
            consumer: consumer.name().to_owned(),
            error: failure.message,
            class: failure.class,
            attempts: attempt.number,
            first_failure: attempt.first_failure.unwrap_or(now),
            last_failure: now,
        })
        .await
}

impl Subscriber for NatsSubscriber {
    type Incoming = NatsIncoming;

    async fn next(&mut self) -> Option<NatsIncoming> {
        self.next_message().await
    }
}

/// One durable pull consumer and its open pull.
struct Feed {
    consumer: PullConsumer,
    messages: Option<pull::Stream>,
    batch: usize,
}

impl Feed {
    /// Cancel-safe: a message taken from the pull is returned, never
    /// dropped by a losing `select!` branch, since the pull stream keeps it
    /// until polled again.
    async fn next(&mut self) -> Option<NatsIncoming> {
        let mut backoff = Duration::from_millis(50);
        loop {
            if self.messages.is_none() {
                // The batch is what one instance holds unacknowledged beyond
                // its handlers: on a stop, JetStream delivers those again
                // after the ack wait, so it stays small.
                match self
                    .consumer
                    .stream()
                    .max_messages_per_batch(self.batch)
                    .messages()
                    .await
                {
                    Ok(m) => self.messages = Some(m),
                    Err(_) => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                        continue;
                    }
                }
            }
            let messages = self.messages.as_mut()?;
            match messages.next().await {
                Some(Ok(message)) => return Some(NatsIncoming::new(message)),
                Some(Err(e)) => {
                    if matches!(e.kind(), pull::MessagesErrorKind::ConsumerDeleted) {
                        return None;
                    }
                    // Missed heartbeats (a server restart, a lost
                    // connection): open a new pull once the client is back.
                    self.messages = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                None => self.messages = None,
            }
        }
    }
}
