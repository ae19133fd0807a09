//! The consumer pipeline, written once for every transport.
//!
//! Each delivery goes through these steps, in this order:
//!
//! 1. **decode** against the consumer's inbound contract. A
//!    [`DecodeError`](event_runtime::DecodeError), or a known type at an
//!    unknown major, is permanent: straight to the dead letter queue. A type
//!    the consumer does not handle is acked and skipped.
//! 2. **idempotency claim** in the [`ProcessedStore`]. A key processed
//!    before is acked as a duplicate; a key another delivery holds is
//!    deferred.
//! 3. **circuit breaker**. Open: the claim is released and the delivery
//!    waits, not counted as an attempt; it is never dropped or
//!    dead-lettered because of the breaker.
//! 4. **handler**, inside the store's transaction; on success the processed
//!    record joins that transaction and both commit together. A panic
//!    rolls back, releases the claim and is re-raised.
//! 5. **classify** the error: [`Classify::class`], unknown by default.
//! 6. **retry, DLQ or ack**: by the [`RetryPolicy`]; at-most-once events are
//!    dropped instead of retried or dead-lettered.
//!
//! Every attempt counts once in `events_consumed_total`, by its outcome;
//! `event_consumer_lag_seconds` is set at step 1 for every decoded event
//! (see [`metrics_names`](crate::metrics_names)).

use crate::breaker::{Admission, BreakerState, CircuitBreaker};
use crate::classify::{Classify, class_label};
use crate::dead_letter::{
    DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, InMemoryDeadLetters,
};
use crate::metrics_names as m;
use crate::retry::RetryPolicy;
use crate::store::{InMemoryStore, ProcessedStore};
use event_runtime::idempotency::{
    Claim, DEFAULT_LEASE, DEFAULT_RETENTION, IdempotencyKey, KeySource,
};
use event_runtime::{Catalog, Delivery, ErrorClass, Header, Routed, Service, UnknownReason};
use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;

/// Handles the typed events of one consumer: `C` is a [`Catalog`] (the
/// generated `…Inbound` enum, matched exhaustively), `Tx` the transaction of
/// the consumer's [`ProcessedStore`], for writes that must commit with the
/// processed record.
pub trait Handler<C, Tx>: Send + Sync + 'static {
    /// The handler's error; its [`Classify::class`] picks the retry rule.
    type Error: Classify + Send;

    /// Handles one event.
    fn handle(&self, event: C, tx: &mut Tx)
    -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// An async closure as a [`Handler`] that does not use the transaction.
#[derive(Debug, Clone)]
pub struct FnHandler<F>(pub F);

impl<C, Tx, F, Fut, E> Handler<C, Tx> for FnHandler<F>
where
    Tx: Send,
    F: Fn(C) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Classify + Send,
{
    type Error = E;

    fn handle(&self, event: C, _tx: &mut Tx) -> impl Future<Output = Result<(), E>> + Send {
        (self.0)(event)
    }
}

/// How a consumer orders deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderingMode {
    /// Deliveries with the same partition key one after another, in order;
    /// different keys (and deliveries without a key) in parallel, at most
    /// this many at once.
    PerKey(usize),
    /// One delivery at a time, in order.
    Global,
}

/// Why a failure happened, as the pipeline classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class that picks the retry rule.
    pub class: ErrorClass,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A handler panic: unknown, retried once.
    pub fn panic(payload: &(dyn Any + Send)) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string payload".to_owned());
        Failure {
            class: ErrorClass::Unknown,
            message: format!("handler panicked: {what}"),
        }
    }
}

/// Where a delivery is in its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first delivery.
    pub number: u32,
    /// When the first attempt failed, if one did.
    pub first_failure: Option<OffsetDateTime>,
}

impl Attempt {
    /// The first attempt.
    pub const FIRST: Attempt = Attempt {
        number: 1,
        first_failure: None,
    };
}

/// Why a delivery was acked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    /// The handler ran and its record committed.
    Processed,
    /// Processed before: skipped.
    Duplicate,
    /// Not an event this consumer handles.
    Skipped,
}

/// Why a delivery was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gave {
    /// Put in the dead letter queue under this id.
    DeadLettered(DeadLetterId),
    /// At-most-once: dropped, as its contract allows.
    Dropped,
}

/// What the pipeline decided for one attempt; the transport adapter maps it
/// onto its broker's verbs.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Settled: ack.
    Ack(Acked),
    /// Settled by giving up: term.
    Term(Gave),
    /// Failed; try again (attempt + 1) after the delay.
    Retry {
        /// How long to wait.
        after: Duration,
        /// What failed.
        failure: Failure,
        /// When it failed.
        failed_at: OffsetDateTime,
    },
    /// Not tried (breaker open, key held by another delivery): try the same
    /// attempt again after the delay.
    Defer(Duration),
    /// Could not be settled (the dead letter storage failed): the transport
    /// delivers it again after the delay.
    Nak(Duration),
}

/// Counts of settled deliveries of one consumer.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) processed: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) naked: AtomicU64,
    pub(crate) retries: AtomicU64,
}

/// What a consumer did with its deliveries so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Handled, record committed.
    pub processed: u64,
    /// Acked as duplicates.
    pub duplicates: u64,
    /// Acked without handling: types the consumer does not handle.
    pub skipped: u64,
    /// Put in the dead letter queue.
    pub dead_lettered: u64,
    /// At-most-once events that failed and were dropped.
    pub dropped: u64,
    /// Handed back to the transport unsettled.
    pub naked: u64,
    /// Retries scheduled.
    pub retries: u64,
}

impl ConsumerStats {
    /// Deliveries settled one way or another.
    pub fn settled(&self) -> u64 {
        self.processed + self.duplicates + self.skipped + self.dead_lettered + self.dropped
    }
}

pub(crate) struct Inner<C, H, St, D> {
    pub(crate) name: &'static str,
    handler: H,
    store: St,
    dead_letters: D,
    retry: RetryPolicy,
    breaker: Option<CircuitBreaker>,
    pub(crate) ordering: OrderingMode,
    lease: Duration,
    pub(crate) depth_every: Duration,
    retention: Duration,
    purge_every: Duration,
    pub(crate) counters: Counters,
    /// The hot path's metric handles, per event type; registered at the
    /// first delivery, with the recorder installed then.
    metrics: OnceLock<Box<[TypeMetrics]>>,
    catalog: PhantomData<fn() -> C>,
}

/// The metrics every delivery of one event type records, as handles: the
/// key (name and labels) is built once instead of per delivery.
struct TypeMetrics {
    event_type: &'static str,
    processed: metrics::Counter,
    duplicate: metrics::Counter,
    handle_seconds: metrics::Histogram,
    lag_seconds: metrics::Gauge,
}

/// One consumer: its contract `C`, handler, processed-events store, dead
/// letters, retry policy, breaker and ordering. Cheap to clone; clones share
/// everything.
pub struct Consumer<C, H, St = InMemoryStore, D = InMemoryDeadLetters> {
    pub(crate) inner: Arc<Inner<C, H, St, D>>,
}

impl<C, H, St, D> Clone for Consumer<C, H, St, D> {
    fn clone(&self) -> Self {
        Consumer {
            inner: self.inner.clone(),
        }
    }
}

/// Builds a [`Consumer`]; start with [`consumer`].
#[derive(Debug)]
pub struct ConsumerBuilder<St, D> {
    name: &'static str,
    store: St,
    dead_letters: D,
    retry: RetryPolicy,
    breaker: Option<CircuitBreaker>,
    ordering: OrderingMode,
    lease: Duration,
    depth_every: Duration,
    retention: Duration,
    purge_every: Duration,
}

/// The background work of a running consumer
/// ([`Consumer::housekeeping`]): stops when dropped.
#[derive(Debug)]
pub struct Housekeeping {
    stop: tokio::sync::watch::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Housekeeping {
    /// Stops the background work and waits until it has.
    pub async fn stopped(self) {
        let Housekeeping { stop, task } = self;
        drop(stop);
        let _ = task.await;
    }
}

/// How often a running consumer purges its store of the records older than
/// its retention, by default.
pub const DEFAULT_PURGE_EVERY: Duration = Duration::from_secs(60 * 60);

/// How often a running consumer reads its dead letter queue's depth into
/// the `event_dead_letters` gauge by default.
pub const DEFAULT_DEPTH_SAMPLE: Duration = Duration::from_secs(30);

/// The consumer of service `S`, with an in-memory store and dead letter
/// queue, the brief's retry policy, no breaker, and per-key ordering 16
/// wide.
///
/// ```
/// use event_delivery::{consumer, CircuitBreaker, HandlerError, RetryPolicy};
/// use event_runtime::{catalog, Event, Service};
///
/// #[derive(Debug, Clone, Event)]
/// #[event(type = "course.published", version = "1.0", producer = "course-service")]
/// struct CoursePublished { course_id: String }
///
/// catalog! { enum SearchInbound { CoursePublished(CoursePublished) } }
///
/// struct SearchService;
/// impl Service for SearchService { const NAME: &'static str = "search-service"; }
///
/// let search = consumer::<SearchService>()
///     .retry(RetryPolicy::default())
///     .circuit_breaker(CircuitBreaker::default())
///     .handle(|event: SearchInbound| async move {
///         match event {
///             SearchInbound::CoursePublished(e) => {
///                 let _ = &e.data().course_id;
///                 Ok::<(), HandlerError>(())
///             }
///         }
///     });
/// assert_eq!(search.name(), "search-service");
/// ```
pub fn consumer<S: Service>() -> ConsumerBuilder<InMemoryStore, InMemoryDeadLetters> {
    ConsumerBuilder::named(S::NAME)
}

impl ConsumerBuilder<InMemoryStore, InMemoryDeadLetters> {
    /// A consumer by name, for code without a [`Service`] type.
    pub fn named(name: &'static str) -> Self {
        ConsumerBuilder {
            name,
            store: InMemoryStore::new(),
            dead_letters: InMemoryDeadLetters::new(),
            retry: RetryPolicy::default(),
            breaker: None,
            ordering: OrderingMode::PerKey(16),
            lease: DEFAULT_LEASE,
            depth_every: DEFAULT_DEPTH_SAMPLE,
            retention: DEFAULT_RETENTION,
            purge_every: DEFAULT_PURGE_EVERY,
        }
    }
}

impl<St: ProcessedStore, D: DeadLetters> ConsumerBuilder<St, D> {
    /// The processed-events store.
    pub fn store<St2: ProcessedStore>(self, store: St2) -> ConsumerBuilder<St2, D> {
        ConsumerBuilder {
            name: self.name,
            store,
            dead_letters: self.dead_letters,
            retry: self.retry,
            breaker: self.breaker,
            ordering: self.ordering,
            lease: self.lease,
            depth_every: self.depth_every,
            retention: self.retention,
            purge_every: self.purge_every,
        }
    }

    /// The dead letter queue.
    pub fn dead_letters<D2: DeadLetters>(self, dead_letters: D2) -> ConsumerBuilder<St, D2> {
        ConsumerBuilder {
            name: self.name,
            store: self.store,
            dead_letters,
            retry: self.retry,
            breaker: self.breaker,
            ordering: self.ordering,
            lease: self.lease,
            depth_every: self.depth_every,
            retention: self.retention,
            purge_every: self.purge_every,
        }
    }

    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A circuit breaker, for a consumer that calls out.
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// Per-key ordering, at most `limit` keys at once.
    pub fn ordering_concurrency(mut self, limit: usize) -> Self {
        self.ordering = OrderingMode::PerKey(limit.max(1));
        self
    }

    /// One delivery at a time, in order.
    pub fn global_order(mut self) -> Self {
        self.ordering = OrderingMode::Global;
        self
    }

    /// How long an idempotency claim holds. Default 5 min.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How often, while it runs, the consumer reads the depth of its dead
    /// letter queue per event type into the `event_dead_letters` gauge.
    /// The consumer sets the gauge itself when it adds or retries an entry;
    /// the reading also catches what another process did (an operator's
    /// retry or discard with `event-ops`). Default
    /// [`DEFAULT_DEPTH_SAMPLE`], at least 10 ms.
    pub fn dead_letter_depth_every(mut self, every: Duration) -> Self {
        self.depth_every = every.max(Duration::from_millis(10));
        self
    }

    /// How long the processed-events records are kept: a running consumer
    /// deletes the older ones from its store every
    /// [`purge_every`](Self::purge_every). Default the brief's 30 days
    /// ([`DEFAULT_RETENTION`]). A duplicate delivered after its record is
    /// purged is handled again, so the retention must outlast every
    /// redelivery and replay.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How often a running consumer purges its store
    /// ([`ProcessedStore::purge_older_than`]). Default
    /// [`DEFAULT_PURGE_EVERY`], at least 10 ms.
    pub fn purge_every(mut self, every: Duration) -> Self {
        self.purge_every = every.max(Duration::from_millis(10));
        self
    }

    /// Finishes with an async closure over the inbound enum.
    pub fn handle<C, F, Fut, E>(self, handler: F) -> Consumer<C, FnHandler<F>, St, D>
    where
        C: Catalog + Send + 'static,
        F: Fn(C) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send,
        E: Classify + Send,
    {
        self.handler(FnHandler(handler))
    }

    /// Finishes with a [`Handler`], which may write through the store's
    /// transaction.
    pub fn handler<C, H>(self, handler: H) -> Consumer<C, H, St, D>
    where
        C: Catalog + Send + 'static,
        H: Handler<C, St::Tx>,
    {
        if let Some(breaker) = &self.breaker {
            metrics::gauge!(m::BREAKER_STATE, "consumer" => self.name).set(breaker.state().gauge());
        }
        Consumer {
            inner: Arc::new(Inner {
                name: self.name,
                handler,
                store: self.store,
                dead_letters: self.dead_letters,
                retry: self.retry,
                breaker: self.breaker,
                ordering: self.ordering,
                lease: self.lease,
                depth_every: self.depth_every,
                retention: self.retention,
                purge_every: self.purge_every,
                counters: Counters::default(),
                metrics: OnceLock::new(),
                catalog: PhantomData,
            }),
        }
    }
}

/// Polls `future` where it is pinned, catching a panic of any poll. The
/// future is not moved: the pipeline's futures are large, and a move is a
/// copy of all of it.
pub(crate) fn catch_unwind<F: Future>(
    mut future: Pin<&mut F>,
) -> impl Future<Output = Result<F::Output, Box<dyn Any + Send>>> + '_ {
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(out)) => std::task::Poll::Ready(Ok(out)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(panic) => std::task::Poll::Ready(Err(panic)),
        }
    })
}

impl<C, H, St, D> Consumer<C, H, St, D>
where
    C: Catalog + Send + 'static,
    H: Handler<C, St::Tx>,
    St: ProcessedStore,
    D: DeadLetters,
{
    /// The consumer's name.
    pub fn name(&self) -> &'static str {
        self.inner.name
    }

    /// The consumer's dead letter queue.
    pub fn dead_letter_queue(&self) -> &D {
        &self.inner.dead_letters
    }

    /// The consumer's processed-events store.
    pub fn store(&self) -> &St {
        &self.inner.store
    }

    /// The consumer's breaker, if it has one.
    pub fn breaker(&self) -> Option<&CircuitBreaker> {
        self.inner.breaker.as_ref()
    }

    /// The consumer's ordering.
    pub fn ordering(&self) -> OrderingMode {
        self.inner.ordering
    }

    /// The contracts the consumer decodes: what a transport subscribes to.
    pub fn event_types(&self) -> Vec<&'static str> {
        let mut types: Vec<&'static str> = Vec::new();
        for (t, _) in C::contracts() {
            if !types.contains(t) {
                types.push(t);
            }
        }
        types
    }

    /// Reads the depth of the consumer's dead letter queue per event type
    /// (and `unknown`: entries of no type of its contract) into the
    /// `event_dead_letters` gauge. A failed read leaves the gauge as it
    /// was. [`Consumer::run`] calls it every
    /// [`dead_letter_depth_every`](ConsumerBuilder::dead_letter_depth_every);
    /// a transport with its own run loop calls
    /// [`sample_dead_letter_depth`](Self::sample_dead_letter_depth).
    pub async fn record_dead_letter_depth(&self) {
        let inner = &*self.inner;
        let Some(depths) = depths(&inner.dead_letters, inner.name, &self.event_types()).await
        else {
            return;
        };
        for (t, n) in depths {
            metrics::gauge!(m::DLQ_DEPTH, "consumer" => inner.name, "type" => t).set(n as f64);
        }
    }

    /// Calls [`record_dead_letter_depth`](Self::record_dead_letter_depth)
    /// at once and then every
    /// [`dead_letter_depth_every`](ConsumerBuilder::dead_letter_depth_every)
    /// until `stop` resolves.
    pub async fn sample_dead_letter_depth(&self, stop: impl Future<Output = ()>) {
        let mut stop = pin!(stop);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = self.record_dead_letter_depth() => {}
            }
            tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = tokio::time::sleep(self.inner.depth_every) => {}
            }
        }
    }

    /// Purges the store of the records older than the consumer's
    /// [`retention`](ConsumerBuilder::retention) every
    /// [`purge_every`](ConsumerBuilder::purge_every), the first time one
    /// period after the start, until `stop` resolves. [`Consumer::run`]
    /// runs it; a transport with its own run loop runs it beside it. A
    /// failed purge is tried again at the next period.
    pub async fn purge_expired(&self, stop: impl Future<Output = ()>) {
        let mut stop = pin!(stop);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = tokio::time::sleep(self.inner.purge_every) => {}
            }
            // A retention too long to subtract from now keeps everything.
            let cutoff = time::Duration::try_from(self.inner.retention)
                .ok()
                .and_then(|retention| OffsetDateTime::now_utc().checked_sub(retention));
            let Some(cutoff) = cutoff else { continue };
            tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = self.inner.store.purge_older_than(cutoff) => {}
            }
        }
    }

    /// Starts the consumer's background work on the current runtime, for
    /// as long as it runs: the dead letter depth reading
    /// ([`sample_dead_letter_depth`](Self::sample_dead_letter_depth)) and
    /// the store's retention purge ([`purge_expired`](Self::purge_expired)).
    /// [`Consumer::run`] starts it; a transport with its own run loop
    /// starts it beside that loop. It stops when the returned handle is
    /// dropped, or [`stopped`](Housekeeping::stopped).
    pub fn housekeeping(&self) -> Housekeeping {
        let (stop, stopping) = tokio::sync::watch::channel(());
        let consumer = self.clone();
        let task = tokio::spawn(async move {
            let until = |mut stopping: tokio::sync::watch::Receiver<()>| async move {
                // Ends when the handle (the only sender) is dropped.
                while stopping.changed().await.is_ok() {}
            };
            tokio::join!(
                consumer.sample_dead_letter_depth(until(stopping.clone())),
                consumer.purge_expired(until(stopping)),
            );
        });
        Housekeeping { stop, task }
    }

    /// What the consumer did so far.
    pub fn stats(&self) -> ConsumerStats {
        let c = &self.inner.counters;
        let load = |a: &AtomicU64| a.load(AtomicOrdering::Relaxed);
        ConsumerStats {
            processed: load(&c.processed),
            duplicates: load(&c.duplicates),
            skipped: load(&c.skipped),
            dead_lettered: load(&c.dead_lettered),
            dropped: load(&c.dropped),
            naked: load(&c.naked),
            retries: load(&c.retries),
        }
    }

    fn consumed(&self, event_type: &'static str, outcome: &'static str) {
        metrics::counter!(m::CONSUMED, "consumer" => self.inner.name, "type" => event_type, "outcome" => outcome)
            .increment(1);
    }

    /// The handles of `event_type`, one of the consumer's contracts.
    fn type_metrics(&self, event_type: &'static str) -> Option<&TypeMetrics> {
        let name = self.inner.name;
        self.inner
            .metrics
            .get_or_init(|| {
                self.event_types()
                    .into_iter()
                    .map(|t| TypeMetrics {
                        event_type: t,
                        processed: metrics::counter!(m::CONSUMED, "consumer" => name, "type" => t, "outcome" => "processed"),
                        duplicate: metrics::counter!(m::CONSUMED, "consumer" => name, "type" => t, "outcome" => "duplicate"),
                        handle_seconds: metrics::histogram!(m::HANDLE_SECONDS, "consumer" => name, "type" => t),
                        lag_seconds: metrics::gauge!(m::LAG_SECONDS, "consumer" => name, "type" => t),
                    })
                    .collect()
            })
            .iter()
            .find(|h| h.event_type == event_type)
    }

    fn breaker_gauge(&self) {
        if let Some(breaker) = &self.inner.breaker {
            metrics::gauge!(m::BREAKER_STATE, "consumer" => self.inner.name)
                .set(breaker.state().gauge());
        }
    }

    fn abandon_probe(&self, probe: bool) {
        if let (true, Some(breaker)) = (probe, &self.inner.breaker) {
            breaker.abandon_probe();
        }
    }

    fn breaker_record(&self, success: bool, probe: bool) {
        if let Some(breaker) = &self.inner.breaker {
            breaker.record(success, probe);
            self.breaker_gauge();
        }
    }

    /// Runs one attempt of one delivery through the pipeline (see the
    /// module docs for the order) and says what the transport should do.
    ///
    /// # Panics
    ///
    /// Re-raises a panic of the handler, after rolling its transaction back
    /// and releasing its claim; [`run`](Self::run) turns it into an
    /// unknown failure with [`fail`](Self::fail).
    pub async fn process(
        &self,
        payload: &[u8],
        partition_key: Option<&str>,
        delivery: Delivery,
        attempt: Attempt,
    ) -> Verdict {
        self.run_attempt(payload, partition_key, delivery, attempt, false)
            .await
    }

    /// [`process`](Self::process) for the last attempt the transport will
    /// make: a failure is dead-lettered (or, at-most-once, dropped) even
    /// when the retry policy has attempts left, since no redelivery would
    /// follow a retry. A broker that stops delivering after a fixed count
    /// (JetStream's `max_deliver`) calls it on the last delivery it
    /// runs the handler on.
    ///
    /// # Panics
    ///
    /// As [`process`](Self::process); turn the panic into a failure with
    /// [`fail_last`](Self::fail_last).
    pub async fn process_last(
        &self,
        payload: &[u8],
        partition_key: Option<&str>,
        delivery: Delivery,
        attempt: Attempt,
    ) -> Verdict {
        self.run_attempt(payload, partition_key, delivery, attempt, true)
            .await
    }

    async fn run_attempt(
        &self,
        payload: &[u8],
        partition_key: Option<&str>,
        delivery: Delivery,
        attempt: Attempt,
        last: bool,
    ) -> Verdict {
        let inner = &*self.inner;
        // 1. Decode.
        let event = match C::decode(payload) {
            Ok(Routed::Known(event)) => event,
            Ok(Routed::Unknown(unknown)) => {
                if let UnknownReason::UnknownType = unknown.reason() {
                    inner.counters.skipped.fetch_add(1, AtomicOrdering::Relaxed);
                    self.consumed("unknown", "skipped");
                    return Verdict::Ack(Acked::Skipped);
                }
                let failure = Failure {
                    class: ErrorClass::Permanent,
                    message: format!(
                        "{} {}: {}",
                        unknown.event_type(),
                        unknown.version(),
                        unknown.reason()
                    ),
                };
                return self
                    .fail_boxed(payload, partition_key, delivery, attempt, failure, last)
                    .await;
            }
            Err(error) => {
                let failure = Failure {
                    class: ErrorClass::Permanent,
                    message: error.to_string(),
                };
                return self
                    .fail_boxed(payload, partition_key, delivery, attempt, failure, last)
                    .await;
            }
        };
        let event_type = event.event_type();
        let handles = self.type_metrics(event_type);
        let read_at = std::time::Instant::now();
        let wall = crate::clock::unix_nanos_at(read_at);
        // Behind by the time since the event happened.
        let lag = crate::clock::seconds_since(wall, event.timestamp());
        match handles {
            Some(h) => h.lag_seconds.set(lag),
            None => metrics::gauge!(m::LAG_SECONDS, "consumer" => inner.name, "type" => event_type)
                .set(lag),
        }
        // 2. Idempotency claim.
        let built;
        let key = if St::USES_KEY {
            built = event.idempotency_key();
            &built
        } else {
            placeholder_key()
        };
        // A store that records nothing (`USES_KEY` false) is given the
        // times at hand, not read for it.
        let now = if St::USES_KEY {
            crate::clock::wall_at(read_at)
        } else {
            OffsetDateTime::UNIX_EPOCH
        };
        let claim = inner
            .store
            .claim(inner.name, key, event.event_id().as_str(), now, inner.lease)
            .await;
        let token = match claim {
            Ok(Claim::Acquired(token)) => token,
            Ok(Claim::Processed(_)) => {
                inner
                    .counters
                    .duplicates
                    .fetch_add(1, AtomicOrdering::Relaxed);
                match handles {
                    Some(h) => h.duplicate.increment(1),
                    None => self.consumed(event_type, "duplicate"),
                }
                return Verdict::Ack(Acked::Duplicate);
            }
            Ok(Claim::InFlight { .. }) => return Verdict::Defer(Duration::from_secs(1)),
            Err(error) => {
                let failure = Failure {
                    class: error.class(),
                    message: error.to_string(),
                };
                return self
                    .fail_boxed(payload, partition_key, delivery, attempt, failure, last)
                    .await;
            }
        };
        // 3. Circuit breaker.
        let probe = match inner.breaker.as_ref().map(CircuitBreaker::admit) {
            None | Some(Admission::Pass) => false,
            Some(Admission::Probe) => {
                self.breaker_gauge();
                true
            }
            Some(Admission::Wait(until)) => {
                let _ = inner.store.release(inner.name, key, token).await;
                let wait = until
                    .map(|t| t.saturating_duration_since(tokio::time::Instant::now()))
                    .unwrap_or(Duration::from_millis(100));
                self.breaker_gauge();
                return Verdict::Defer(wait);
            }
        };
        // 4. Handler, in the store's transaction.
        // With a store that records nothing, nothing ran since the first
        // reading: it is the handler's start.
        let started = if St::USES_KEY {
            std::time::Instant::now()
        } else {
            read_at
        };
        let mut tx = match inner.store.begin().await {
            Ok(tx) => tx,
            Err(error) => {
                let _ = inner.store.release(inner.name, key, token).await;
                self.abandon_probe(probe);
                let failure = Failure {
                    class: error.class(),
                    message: error.to_string(),
                };
                return self
                    .fail_boxed(payload, partition_key, delivery, attempt, failure, last)
                    .await;
            }
        };
        let outcome = catch_unwind(pin!(inner.handler.handle(event, &mut tx))).await;
        let ended = std::time::Instant::now();
        let elapsed = ended.saturating_duration_since(started).as_secs_f64();
        match handles {
            Some(h) => h.handle_seconds.record(elapsed),
            None => metrics::histogram!(m::HANDLE_SECONDS, "consumer" => inner.name, "type" => event_type)
                .record(elapsed),
        }
        let error = match outcome {
            Err(panic) => {
                let _ = inner.store.rollback(tx).await;
                let _ = inner.store.release(inner.name, key, token).await;
                self.breaker_record(false, probe);
                std::panic::resume_unwind(panic);
            }
            Ok(Ok(())) => {
                let done = if St::USES_KEY {
                    crate::clock::wall_at(ended)
                } else {
                    OffsetDateTime::UNIX_EPOCH
                };
                let recorded = match inner
                    .store
                    .complete_in(
                        &mut tx,
                        inner.name,
                        key,
                        token,
                        done,
                        serde_json::Value::Null,
                    )
                    .await
                {
                    Ok(()) => inner.store.commit(tx).await,
                    Err(e) => {
                        let _ = inner.store.rollback(tx).await;
                        Err(e)
                    }
                };
                match recorded {
                    Ok(()) => {
                        self.breaker_record(true, probe);
                        inner
                            .counters
                            .processed
                            .fetch_add(1, AtomicOrdering::Relaxed);
                        match handles {
                            Some(h) => h.processed.increment(1),
                            None => self.consumed(event_type, "processed"),
                        }
                        return Verdict::Ack(Acked::Processed);
                    }
                    Err(error) => {
                        let _ = inner.store.release(inner.name, key, token).await;
                        self.abandon_probe(probe);
                        Failure {
                            class: error.class(),
                            message: error.to_string(),
                        }
                    }
                }
            }
            Ok(Err(error)) => {
                let _ = inner.store.rollback(tx).await;
                let _ = inner.store.release(inner.name, key, token).await;
                let class = error.class();
                if class == ErrorClass::Permanent {
                    // The event's fault, not the dependency's.
                    self.abandon_probe(probe);
                } else {
                    self.breaker_record(false, probe);
                }
                Failure {
                    class,
                    message: error.to_string(),
                }
            }
        };
        // 5 and 6. Classify, then retry or dead-letter.
        self.fail_boxed(payload, partition_key, delivery, attempt, error, last)
            .await
    }

    /// [`fail`](Self::fail) (or, `last`, [`fail_last`](Self::fail_last))
    /// on the heap: the failure path is the cold one,
    /// and inline its state would make every attempt's future larger.
    pub(crate) fn fail_boxed<'a>(
        &'a self,
        payload: &'a [u8],
        partition_key: Option<&'a str>,
        delivery: Delivery,
        attempt: Attempt,
        failure: Failure,
        last: bool,
    ) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'a>> {
        Box::pin(self.fail_attempt(payload, partition_key, delivery, attempt, failure, last))
    }

    /// Steps 5 and 6 for a failed attempt: drop (at-most-once), retry after
    /// the policy's delay, or put in the dead letter queue.
    pub async fn fail(
        &self,
        payload: &[u8],
        partition_key: Option<&str>,
        delivery: Delivery,
        attempt: Attempt,
        failure: Failure,
    ) -> Verdict {
        self.fail_attempt(payload, partition_key, delivery, attempt, failure, false)
            .await
    }

    /// [`fail`](Self::fail) for the last attempt the transport will make:
    /// dead-letter (or, at-most-once, drop) without consulting the retry
    /// policy, counted as `dead_lettered` (or `skipped`) like any other
    /// dead letter, with the `event_dead_letters` gauge set after.
    pub async fn fail_last(
        &self,
        payload: &[u8],
        partition_key: Option<&str>,
        delivery: Delivery,
        attempt: Attempt,
        failure: Failure,
    ) -> Verdict {
        self.fail_attempt(payload, partition_key, delivery, attempt, failure, true)
            .await
    }

    async fn fail_attempt(
        &self,
        payload: &[u8],
        partition_key: Option<&str>,
        delivery: Delivery,
        attempt: Attempt,
        failure: Failure,
        last: bool,
    ) -> Verdict {
        let inner = &*self.inner;
        let now = OffsetDateTime::now_utc();
        let header = Header::from_json_slice(payload).ok();
        let event_type = C::contracts()
            .iter()
            .map(|(t, _)| *t)
            .find(|t| header.as_ref().is_some_and(|h| h.event_type() == *t))
            .unwrap_or("unknown");
        if delivery == Delivery::AtMostOnce {
            inner.counters.dropped.fetch_add(1, AtomicOrdering::Relaxed);
            self.consumed(event_type, "skipped");
            return Verdict::Term(Gave::Dropped);
        }
        let retry = if last {
            None
        } else {
            inner.retry.next_delay(failure.class, attempt.number)
        };
        if let Some(after) = retry {
            inner.counters.retries.fetch_add(1, AtomicOrdering::Relaxed);
            self.consumed(event_type, "retried");
            metrics::counter!(m::RETRIES, "consumer" => inner.name, "type" => event_type, "class" => class_label(failure.class))
                .increment(1);
            return Verdict::Retry {
                after,
                failure,
                failed_at: now,
            };
        }
        let entry = DeadLetter {
            id: DeadLetterId(0),
            payload: payload.into(),
            partition_key: partition_key.map(str::to_owned),
            event_id: header.as_ref().map(|h| h.id().to_owned()),
            event_type: header.as_ref().map(|h| h.event_type().to_owned()),
            version: header.as_ref().map(|h| h.version()),
            tenant_id: header.as_ref().map(|h| h.tenant_id().to_owned()),
            consumer: inner.name.to_owned(),
            error: failure.message,
            class: failure.class,
            attempts: attempt.number,
            first_failure: attempt.first_failure.unwrap_or(now),
            last_failure: now,
        };
        match inner.dead_letters.put(entry).await {
            Ok(id) => {
                inner
                    .counters
                    .dead_lettered
                    .fetch_add(1, AtomicOrdering::Relaxed);
                self.consumed(event_type, "dead_lettered");
                record_depth(
                    &inner.dead_letters,
                    inner.name,
                    &self.event_types(),
                    event_type,
                )
                .await;
                Verdict::Term(Gave::DeadLettered(id))
            }
            Err(_) => {
                inner.counters.naked.fetch_add(1, AtomicOrdering::Relaxed);
                Verdict::Nak(Duration::from_secs(5))
            }
        }
    }

    /// The breaker's state, if the consumer has one.
    pub fn breaker_state(&self) -> Option<BreakerState> {
        self.inner.breaker.as_ref().map(CircuitBreaker::state)
    }
}

/// The key passed to a store that does not use it
/// ([`ProcessedStore::USES_KEY`]), built once.
fn placeholder_key() -> &'static IdempotencyKey {
    static KEY: OnceLock<IdempotencyKey> = OnceLock::new();
    KEY.get_or_init(|| IdempotencyKey::new("", "", KeySource::EventId, ""))
}

/// The `type` label of a dead letter of `event_type` at a consumer of
/// these `types`: the type when it is one of them, else `unknown` (the
/// pipeline dead-letters other types only when their header is unreadable).
pub(crate) fn dead_letter_type(types: &[&'static str], event_type: Option<&str>) -> &'static str {
    event_type
        .and_then(|t| types.iter().copied().find(|c| *c == t))
        .unwrap_or("unknown")
}

/// Sets the `event_dead_letters` gauge of `consumer` and `event_type` from
/// the queue, after an entry of that type was added or taken. `unknown` is
/// what is left of the consumer's entries beside its `types`.
pub(crate) async fn record_depth<D: DeadLetters>(
    dead_letters: &D,
    consumer: &'static str,
    types: &[&'static str],
    event_type: &'static str,
) {
    let depth = if event_type == "unknown" {
        match depths(dead_letters, consumer, types).await {
            Some(depths) => depths.last().map_or(0, |(_, n)| *n),
            None => return,
        }
    } else {
        let of = DeadLetterFilter::all()
            .consumer(consumer)
            .event_type(event_type);
        match dead_letters.depth(&of).await {
            Ok(n) => n,
            Err(_) => return,
        }
    };
    metrics::gauge!(m::DLQ_DEPTH, "consumer" => consumer, "type" => event_type).set(depth as f64);
}

/// The depth of `consumer`'s dead letters per type of `types`, then
/// `unknown` (the rest of its entries), last; `None` when a read failed.
async fn depths<D: DeadLetters>(
    dead_letters: &D,
    consumer: &'static str,
    types: &[&'static str],
) -> Option<Vec<(&'static str, usize)>> {
    let of = DeadLetterFilter::all().consumer(consumer);
    let all = dead_letters.depth(&of).await.ok()?;
    let mut depths = Vec::with_capacity(types.len() + 1);
    for t in types {
        depths.push((
            *t,
            dead_letters.depth(&of.clone().event_type(*t)).await.ok()?,
        ));
    }
    let known: usize = depths.iter().map(|(_, n)| n).sum();
    depths.push(("unknown", all.saturating_sub(known)));
    Some(depths)
}
