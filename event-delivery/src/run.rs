//! The loop that feeds a [`Subscriber`]'s deliveries through a
//! [`Consumer`]'s pipeline, in order per key.
//!
//! Deliveries with the same partition key form a lane: one of them is in
//! the pipeline at a time, the rest wait behind it in arrival order. A
//! delivery that is retried keeps its lane for the retry delay, so **a
//! retry for key K holds back every later event of K** until it is
//! settled. Lanes of different keys (and deliveries without a key) run in
//! parallel, at most [`OrderingMode::PerKey`]'s limit at once; a lane
//! waiting out a retry delay counts towards it. [`OrderingMode::Global`]
//! is one lane of width one.
//!
//! While the consumer's circuit breaker is open the loop takes no new
//! deliveries: they stay with the transport (in the bus's bounded queue,
//! which then pushes back on publishers).
//!
//! # How
//!
//! A pool of at most `limit` worker tasks, started as they are needed and
//! kept until the subscription ends. One worker at a time holds the
//! subscriber and pulls. A delivery whose key has an open lane joins that
//! lane's queue, and the worker pulls again. Any other delivery is run by
//! the worker that pulled it, at once: when its pipeline finishes without
//! waiting (a handler that did not wait on I/O, a duplicate, a decode
//! error), the worker keeps the subscriber and pulls the next one, so such
//! a delivery costs no lock, no lane and no wake-up. When the pipeline
//! waits, the worker opens the delivery's lane before it pulls anything
//! else (so a later delivery of the same key joins it), hands the
//! subscriber to an idle worker (or asks for a new one, up to `limit`), and
//! settles the lane: that delivery, then the ones that joined its queue,
//! one after another. It closes the lane when the queue is empty, under the
//! same lock that a puller takes to join it, so a delivery never joins a
//! lane that is closing.
//!
//! So keys run in parallel while their handlers wait (on a database, a
//! broker, a retry delay); a handler that computes without waiting holds
//! its consumer's worker as long as it runs, as any task does on tokio.
//!
//! Lanes are told apart by a 64-bit hash of the key. Two keys with the same
//! hash share a lane: both stay in order, they just do not run in parallel
//! with each other.

use crate::consumer::catch_unwind;
use crate::consumer::{Attempt, Consumer, ConsumerStats, Failure, Handler, OrderingMode, Verdict};
use crate::dead_letter::DeadLetters;
use crate::store::ProcessedStore;
use crate::transport::{Incoming, Subscriber};
use event_runtime::Catalog;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::collections::VecDeque;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// What the workers of one [`Consumer::run`] share.
struct Pool<S: Subscriber> {
    lanes: Mutex<Lanes<S, S::Incoming>>,
    /// How many lanes are open. Changed under the lock; read without it by
    /// the worker that holds the subscriber, which is the only one that
    /// opens lanes: when it reads 0, no delivery it pulls can have a lane
    /// to join.
    open: AtomicUsize,
    /// Deliveries waiting behind their lanes. Changed under the lock; read
    /// without it before each pull.
    waiting: AtomicUsize,
    /// Notified when the subscriber is put back, or closed.
    source_back: Notify,
    /// Notified when a delivery leaves a full set of lane queues.
    room: Notify,
    /// Notified when a worker asks for another worker.
    grow: Notify,
    limit: usize,
    /// Deliveries waiting behind their lanes, at most; bounded so a hot key
    /// cannot pull the whole queue into memory.
    max_waiting: usize,
    /// Per-key lanes, or every delivery in the one lane of its worker.
    per_key: bool,
}

/// Where the subscriber is: pulled by one worker at a time.
enum Source<S> {
    Here(S),
    Out,
    /// It said it is closed and drained.
    Closed,
}

/// The open lanes, the subscriber, and the pool's counts.
struct Lanes<S, I> {
    source: Source<S>,
    /// Workers waiting for the subscriber.
    idle: usize,
    /// Lane (key hash) -> the deliveries waiting behind the one in the
    /// pipeline.
    open: FxHashMap<u64, VecDeque<I>>,
    /// Workers started or asked for.
    workers: usize,
    /// Workers that settle a lane (or a delivery without one) that waits.
    busy: usize,
    /// Workers asked for and not yet started.
    wanted: usize,
}

fn lock<S, I>(lanes: &Mutex<Lanes<S, I>>) -> MutexGuard<'_, Lanes<S, I>> {
    // Every change is a few field updates that cannot fail half-way.
    lanes.lock().unwrap_or_else(|e| e.into_inner())
}

/// Polls `future` once where the caller is polled: its output, or `None`
/// with its waker registered, so that awaiting it afterwards is correct.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Option<F::Output> {
    match std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

impl<C, H, St, D> Consumer<C, H, St, D>
where
    C: Catalog + Send + 'static,
    H: Handler<C, St::Tx>,
    St: ProcessedStore,
    D: DeadLetters,
{
    /// Consumes `subscriber` until it is closed and drained, and every
    /// delivery taken from it is settled; returns what the consumer did.
    /// Must run inside a tokio runtime: lanes are settled by worker tasks.
    pub async fn run<S: Subscriber>(self, subscriber: S) -> ConsumerStats {
        let (limit, per_key) = match self.inner.ordering {
            OrderingMode::PerKey(limit) => (limit.max(1), true),
            OrderingMode::Global => (1, false),
        };
        let pool = Arc::new(Pool {
            source_back: Notify::new(),
            lanes: Mutex::new(Lanes {
                source: Source::Here(subscriber),
                idle: 0,
                open: FxHashMap::default(),
                workers: 1,
                busy: 0,
                wanted: 0,
            }),
            open: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            room: Notify::new(),
            grow: Notify::new(),
            limit,
            max_waiting: limit.saturating_mul(4).max(16),
            per_key,
        });
        // The dead letter depth, read every so often so that what another
        // process did to the queue shows, and the store's retention purge.
        let housekeeping = self.housekeeping();
        let mut workers = JoinSet::new();
        workers.spawn(self.clone().worker(pool.clone()));
        loop {
            tokio::select! {
                biased;
                joined = workers.join_next() => match joined {
                    None => break,
                    // A worker panics only in the subscriber or the
                    // breaker, outside any lane: the subscription is
                    // broken, as a panic of the loop itself would be.
                    Some(Err(error)) if error.is_panic() => {
                        std::panic::resume_unwind(error.into_panic())
                    }
                    Some(_) => {}
                },
                _ = pool.grow.notified() => {
                    let wanted = std::mem::take(&mut lock(&pool.lanes).wanted);
                    for _ in 0..wanted {
                        workers.spawn(self.clone().worker(pool.clone()));
                    }
                }
            }
        }
        housekeeping.stopped().await;
        self.stats()
    }

    /// One worker: pulls and runs deliveries while they finish without
    /// waiting; settles the lane of one that waits, then pulls again, until
    /// the subscriber is drained.
    async fn worker<S: Subscriber>(self, pool: Arc<Pool<S>>) {
        let mut held = None;
        while let Some((subscriber, lane, first)) = self.take(&pool, held.take()).await {
            // The handler's panics are caught in the pipeline; this catches
            // a transport verb (ack, nak, term) that panics, so the lane
            // goes on. The delivery is then the transport's to deliver again
            // (JetStream's ack wait, the queue's lease).
            let settle = pin!(self.settle(first));
            let mut settle = pin!(catch_unwind(settle));
            if poll_once(settle.as_mut()).await.is_some() {
                held = Some(subscriber);
                continue;
            }
            self.hand_on(&pool, subscriber, lane);
            let _ = settle.await;
            let mut next = match self.next_in_lane(&pool, lane) {
                Some(next) => next,
                None => continue,
            };
            loop {
                let _ = catch_unwind(pin!(self.settle(next))).await;
                match self.next_in_lane(&pool, lane) {
                    Some(queued) => next = queued,
                    None => break,
                }
            }
        }
    }

    /// The delivery in the pipeline waits: opens its lane, so that later
    /// deliveries of its key join it, and puts the subscriber back for
    /// another worker (waking an idle one, or asking for a new one while
    /// every worker is busy and the limit allows).
    fn hand_on<S: Subscriber>(&self, pool: &Pool<S>, subscriber: S, lane: Option<u64>) {
        let mut lanes = lock(&pool.lanes);
        if let Some(lane) = lane {
            lanes.open.insert(lane, VecDeque::new());
            pool.open.fetch_add(1, AtomicOrdering::SeqCst);
        }
        lanes.busy += 1;
        let grow = lanes.busy == lanes.workers && lanes.workers < pool.limit;
        if grow {
            lanes.workers += 1;
            lanes.wanted += 1;
        }
        lanes.source = Source::Here(subscriber);
        let idle = lanes.idle > 0;
        drop(lanes);
        if idle {
            pool.source_back.notify_one();
        }
        if grow {
            pool.grow.notify_one();
        }
    }

    /// The next delivery of the lane the worker settles; `None` when its
    /// queue is empty, and then the lane is closed and the worker no longer
    /// busy.
    fn next_in_lane<S: Subscriber>(
        &self,
        pool: &Pool<S>,
        lane: Option<u64>,
    ) -> Option<S::Incoming> {
        let mut lanes = lock(&pool.lanes);
        let queued = match lane {
            Some(lane) => {
                let queued = lanes.open.get_mut(&lane).and_then(VecDeque::pop_front);
                if queued.is_none() {
                    lanes.open.remove(&lane);
                    pool.open.fetch_sub(1, AtomicOrdering::SeqCst);
                }
                queued
            }
            None => None,
        };
        let Some(queued) = queued else {
            lanes.busy -= 1;
            return None;
        };
        let was_full = pool.waiting.fetch_sub(1, AtomicOrdering::SeqCst) >= pool.max_waiting;
        drop(lanes);
        if was_full {
            pool.room.notify_waiters();
        }
        Some(queued)
    }

    /// Pulls until a delivery has no open lane to join, and returns it with
    /// the subscriber (`held`, or taken from the pool) and its lane;
    /// deliveries of open lanes join their queues on the way. `None` once
    /// the subscriber is drained.
    async fn take<S: Subscriber>(
        &self,
        pool: &Pool<S>,
        held: Option<S>,
    ) -> Option<(S, Option<u64>, S::Incoming)> {
        let mut subscriber = match held {
            Some(subscriber) => subscriber,
            None => Self::subscriber(pool).await?,
        };
        loop {
            while pool.waiting.load(AtomicOrdering::SeqCst) >= pool.max_waiting {
                let room = pool.room.notified();
                tokio::pin!(room);
                room.as_mut().enable();
                if pool.waiting.load(AtomicOrdering::SeqCst) < pool.max_waiting {
                    break;
                }
                room.await;
            }
            if let Some(breaker) = self.breaker() {
                breaker.ready().await;
            }
            let Some(incoming) = subscriber.next().await else {
                lock(&pool.lanes).source = Source::Closed;
                pool.source_back.notify_waiters();
                return None;
            };
            let lane = match incoming.partition_key() {
                Some(key) if pool.per_key => Some(FxBuildHasher.hash_one(key)),
                _ => None,
            };
            // Only the holder of the subscriber opens lanes, so none can
            // open between this read and the return below.
            if let Some(lane) = lane.filter(|_| pool.open.load(AtomicOrdering::SeqCst) > 0) {
                let mut lanes = lock(&pool.lanes);
                if let Some(queue) = lanes.open.get_mut(&lane) {
                    queue.push_back(incoming);
                    pool.waiting.fetch_add(1, AtomicOrdering::SeqCst);
                    continue;
                }
            }
            return Some((subscriber, lane, incoming));
        }
    }

    /// Takes the subscriber, waiting while another worker pulls; `None`
    /// once it is closed.
    async fn subscriber<S: Subscriber>(pool: &Pool<S>) -> Option<S> {
        let take = |lanes: &mut Lanes<S, S::Incoming>| match std::mem::replace(
            &mut lanes.source,
            Source::Out,
        ) {
            Source::Here(subscriber) => Some(Some(subscriber)),
            Source::Out => None,
            Source::Closed => {
                lanes.source = Source::Closed;
                Some(None)
            }
        };
        loop {
            if let Some(taken) = take(&mut lock(&pool.lanes)) {
                return taken;
            }
            let back = pool.source_back.notified();
            tokio::pin!(back);
            back.as_mut().enable();
            {
                let mut lanes = lock(&pool.lanes);
                if let Some(taken) = take(&mut lanes) {
                    return taken;
                }
                lanes.idle += 1;
            }
            back.await;
            lock(&pool.lanes).idle -= 1;
        }
    }

    /// Settles one delivery: runs the pipeline until it acks, gives up or
    /// hands the delivery back, sleeping out retries and deferrals.
    async fn settle<I: Incoming>(&self, incoming: I) {
        let mut attempt = Attempt {
            number: incoming.attempt(),
            first_failure: None,
        };
        loop {
            let payload = incoming.payload();
            let partition_key = incoming.partition_key();
            let delivery = incoming.delivery();
            let verdict = match catch_unwind(pin!(self.process(
                payload,
                partition_key,
                delivery,
                attempt
            )))
            .await
            {
                Ok(verdict) => verdict,
                Err(panic) => {
                    let failure = Failure::panic(&*panic);
                    attempt
                        .first_failure
                        .get_or_insert_with(time::OffsetDateTime::now_utc);
                    self.fail_boxed(payload, partition_key, delivery, attempt, failure, false)
                        .await
                }
            };
            match verdict {
                Verdict::Ack(_) => return incoming.ack().await,
                Verdict::Term(_) => return incoming.term().await,
                Verdict::Nak(delay) => return incoming.nak(delay).await,
                Verdict::Retry {
                    after, failed_at, ..
                } => {
                    attempt.first_failure.get_or_insert(failed_at);
                    tokio::time::sleep(after).await;
                    attempt.number += 1;
                }
                Verdict::Defer(delay) => match self.breaker() {
                    Some(breaker) if !delay.is_zero() => {
                        tokio::select! {
                            _ = breaker.ready() => {}
                            _ = tokio::time::sleep(delay) => {}
                        }
                    }
                    _ => tokio::time::sleep(delay).await,
                },
            }
        }
    }
}
