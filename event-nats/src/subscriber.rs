//! Consuming a durable pull consumer through the `event-delivery` pipeline.

use crate::error::NatsError;
use crate::headers;
use crate::topology::Topology;
use async_nats::jetstream::consumer::{PullConsumer, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::{self, Context};
use event_delivery::metrics_names::{CONSUMED, PENDING};
use event_delivery::{
    Attempt, Consumer, ConsumerStats, DeadLetters, Failure, Handler, Incoming, ProcessedStore,
    Subscriber, Verdict,
};
use event_runtime::{Catalog, Delivery, ErrorClass};
use futures_util::{FutureExt, StreamExt};
use std::collections::HashSet;
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
    /// The event subjects handed to the pipeline; `None`: all the filter
    /// delivers. Others (a covering filter's, before nats-server 2.10)
    /// are acked unhandled.
    handles: Option<HashSet<String>>,
    skipped: u64,
    stream_prefix: String,
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
        let mut deployed = config.filter_subjects.clone();
        if !config.filter_subject.is_empty() {
            deployed.push(config.filter_subject.clone());
        }
        let handles = match topology.handled_subjects(service) {
            Some(handles) => Some(handles),
            None if deployed.is_empty() || deployed.iter().any(|f| f.contains(['*', '>'])) => {
                return Err(NatsError::new(
                    format!("binding to consumer {stream_name}/{service}"),
                    format!(
                        "it filters on {deployed:?} and the topology does not list `{service}`, so which of those subjects it consumes is unknown: bind with the topology ensure used"
                    ),
                ));
            }
            None => None,
        };
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
            handles,
            skipped: 0,
            stream_prefix: topology.subject_scheme().prefix().to_owned(),
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
    /// consumer was deleted. A delivery on a subject the service does not
    /// consume (a covering filter delivers them, before nats-server 2.10)
    /// is acked here without reaching the pipeline, and counted as
    /// `skipped` in `events_consumed_total`.
    pub async fn next_message(&mut self) -> Option<NatsIncoming> {
        loop {
            let (incoming, event) = tokio::select! {
                m = self.events.next() => (m?, true),
                m = self.retries.next() => (m?, false),
            };
            let subject = incoming.message.subject.as_str();
            if !event || self.handles.as_ref().is_none_or(|h| h.contains(subject)) {
                return Some(incoming);
            }
            let event_type = self.type_of(subject);
            metrics::counter!(CONSUMED, "consumer" => self.name.clone(), "type" => event_type, "outcome" => "skipped")
                .increment(1);
            self.skipped += 1;
            incoming.ack().await;
        }
    }

    /// The event type of an event subject (`<prefix>.<type>.v<major>`);
    /// `unknown` for any other subject.
    fn type_of(&self, subject: &str) -> String {
        subject
            .strip_prefix(self.stream_prefix.as_str())
            .and_then(|s| s.strip_prefix('.'))
            .and_then(|s| s.rsplit_once(".v"))
            .filter(|(t, major)| {
                !t.starts_with('_')
                    && !major.is_empty()
                    && major.bytes().all(|b| b.is_ascii_digit())
            })
            .map_or_else(|| "unknown".to_owned(), |(t, _)| t.to_owned())
    }

    /// Deliveries acked without reaching the pipeline so far: subjects of
    /// a covering filter the service does not consume.
    pub fn skipped(&self) -> u64 {
        self.skipped
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
    /// | term (dead-lettered, at-most-once dropped) | `term` |
    /// | defer, nak | `nak` with the delay |
    ///
    /// JetStream delivers a message at most `max_deliver` times (the
    /// consumer's). The handler runs on all deliveries but the last; on
    /// the one before the last, a failure is dead-lettered whatever
    /// attempts the retry policy has left
    /// ([`Consumer::process_last`]). The last delivery only comes when no
    /// earlier one settled the message (a handler that crashed its
    /// process or outlived the ack wait, a lost nak, deferrals): it runs
    /// no handler and dead-letters the message, with that reason, counted
    /// as `dead_lettered`, so JetStream never drops a message outside the
    /// dead letter queue. With `max_deliver` 1 there is no spare delivery
    /// and the one delivery is the last attempt.
    ///
    /// A delivery on a subject the service does not consume (a covering
    /// filter, before nats-server 2.10) is acked without reaching the
    /// pipeline and counted as `skipped`, in `events_consumed_total` and
    /// in the returned stats.
    ///
    /// While a handler runs longer than half the ack wait, an in-progress
    /// ack is sent every half ack wait, so JetStream does not deliver the
    /// message to another instance meanwhile. Every
    /// [`pending_interval`](Self::pending_interval) the consumer's
    /// `event_consumer_pending` gauge is set from the server, by a task
    /// of its own, so handlers that hold every slot do not stop it; so is
    /// the consumer's `event_dead_letters` gauge, from its dead letter
    /// queue, every
    /// [`dead_letter_depth_every`](event_delivery::ConsumerBuilder::dead_letter_depth_every),
    /// and its processed-events store is purged of the records older than
    /// its [`retention`](event_delivery::ConsumerBuilder::retention).
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
        let _housekeeping = consumer.housekeeping();
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
        let mut stats = consumer.stats();
        stats.skipped += self.skipped;
        stats
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

/// Runs `work`, sending an in-progress ack every `heartbeat` while it
/// runs.
async fn with_progress<F: Future>(
    incoming: &NatsIncoming,
    heartbeat: Duration,
    work: F,
) -> F::Output {
    let mut work = std::pin::pin!(work);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    loop {
        tokio::select! {
            biased;
            out = &mut work => return out,
            _ = ticks.tick() => incoming.progress().await,
        }
    }
}

/// How often the last delivery tries to write its dead letter before it
/// leaves the message unsettled.
const LAST_DELIVERY_TRIES: u32 = 5;

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
    let payload = incoming.payload();
    let key = incoming.partition_key();
    let delivery = incoming.delivery();
    if max_deliver >= 2 && attempt.number >= max_deliver {
        // JetStream's last delivery: no earlier one settled the message,
        // and none follows this one. Dead-letter it rather than run a
        // handler that may crash again and lose it.
        let failure = Failure {
            class: ErrorClass::Unknown,
            message: format!(
                "JetStream delivered it {} times (the consumer's max_deliver) and no delivery settled it: a handler that crashed its process or outlived the ack wait, a lost nak, or deferrals",
                attempt.number
            ),
        };
        let mut backoff = Duration::from_millis(500);
        for _ in 0..LAST_DELIVERY_TRIES {
            let verdict = with_progress(
                &incoming,
                heartbeat,
                consumer.fail_last(payload, key, delivery, attempt, failure.clone()),
            )
            .await;
            if let Verdict::Term(_) | Verdict::Ack(_) = verdict {
                return incoming.term().await;
            }
            // The dead letter store failed; a nak now would drop the
            // message (no delivery follows), so hold it and try again.
            with_progress(&incoming, heartbeat, tokio::time::sleep(backoff)).await;
            backoff *= 2;
        }
        // Left unsettled: the message stays in the stream, and JetStream
        // announces it on `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES`.
        return;
    }
    // The last delivery that runs the handler (the one before the spare).
    let last = attempt.number.saturating_add(1) >= max_deliver;
    let verdict = {
        let work = AssertUnwindSafe(async {
            if last {
                consumer.process_last(payload, key, delivery, attempt).await
            } else {
                consumer.process(payload, key, delivery, attempt).await
            }
        })
        .catch_unwind();
        match with_progress(&incoming, heartbeat, work).await {
            Ok(verdict) => verdict,
            Err(panic) => {
                let failure = Failure::panic(&*panic);
                if last {
                    consumer
                        .fail_last(payload, key, delivery, attempt, failure)
                        .await
                } else {
                    consumer
                        .fail(payload, key, delivery, attempt, failure)
                        .await
                }
            }
        }
    };
    match verdict {
        Verdict::Ack(_) => incoming.ack().await,
        Verdict::Term(_) => incoming.term().await,
        Verdict::Retry { after, .. } => incoming.nak(after).await,
        Verdict::Defer(delay) | Verdict::Nak(delay) => incoming.nak(delay).await,
    }
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
