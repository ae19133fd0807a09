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
//! kept until the subscription ends, so that a delivery costs a queue push
//! and a map entry rather than a task. A worker without a lane takes the
//! subscriber (one at a time) and pulls: a delivery whose key has an open
//! lane joins that lane's queue, and the worker pulls again; any other
//! delivery opens a lane that the worker owns. The owner settles the
//! lane's deliveries one after another and closes the lane when its queue
//! is empty, under the same lock that a puller takes to join it, so a
//! delivery never joins a lane that is closing.
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
use std::collections::hash_map::Entry;
use std::hash::BuildHasher;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// What the workers of one [`Consumer::run`] share.
struct Pool<S: Subscriber> {
    lanes: Mutex<Lanes<S, S::Incoming>>,
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
    waiting: usize,
    /// Workers started or asked for.
    workers: usize,
    /// Workers that own a lane.
    busy: usize,
    /// Workers asked for and not yet started.
    wanted: usize,
}

fn lock<S, I>(lanes: &Mutex<Lanes<S, I>>) -> MutexGuard<'_, Lanes<S, I>> {
    // Every change is a few field updates that cannot fail half-way.
    lanes.lock().unwrap_or_else(|e| e.into_inner())
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
                waiting: 0,
                workers: 1,
                busy: 0,
                wanted: 0,
            }),
            room: Notify::new(),
            grow: Notify::new(),
            limit,
            max_waiting: limit.saturating_mul(4).max(16),
            per_key,
        });
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
        self.stats()
    }

    /// One worker: takes a lane, settles it, takes the next, until the
    /// subscriber is drained.
    async fn worker<S: Subscriber>(self, pool: Arc<Pool<S>>) {
        while let Some((lane, first)) = self.take(&pool).await {
            let mut next = first;
            loop {
                // The handler's panics are caught in the pipeline; this
                // catches a transport verb (ack, nak, term) that panics, so
                // the lane goes on. The delivery is then the transport's to
                // deliver again (JetStream's ack wait, the queue's lease).
                let _ = catch_unwind(pin!(self.settle(next))).await;
                let mut lanes = lock(&pool.lanes);
                let queued = match lane {
                    Some(lane) => {
                        let queued = lanes.open.get_mut(&lane).and_then(VecDeque::pop_front);
                        if queued.is_none() {
                            lanes.open.remove(&lane);
                        }
                        queued
                    }
                    None => None,
                };
                let Some(queued) = queued else {
                    lanes.busy -= 1;
                    break;
                };
                let was_full = lanes.waiting >= pool.max_waiting;
                lanes.waiting -= 1;
                drop(lanes);
                if was_full {
                    pool.room.notify_waiters();
                }
                next = queued;
            }
        }
    }

    /// Pulls until a delivery opens a lane, which the calling worker then
    /// owns; deliveries of open lanes join their queues on the way. `None`
    /// once the subscriber is drained.
    async fn take<S: Subscriber>(&self, pool: &Pool<S>) -> Option<(Option<u64>, S::Incoming)> {
        let mut subscriber = Self::subscriber(pool).await?;
        loop {
            while lock(&pool.lanes).waiting >= pool.max_waiting {
                let room = pool.room.notified();
                tokio::pin!(room);
                room.as_mut().enable();
                if lock(&pool.lanes).waiting < pool.max_waiting {
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
            let mut lanes = lock(&pool.lanes);
            let lanes = &mut *lanes;
            if let Some(lane) = lane {
                match lanes.open.entry(lane) {
                    Entry::Occupied(mut queue) => {
                        queue.get_mut().push_back(incoming);
                        lanes.waiting += 1;
                        continue;
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(VecDeque::new());
                    }
                }
            }
            lanes.busy += 1;
            // Every worker has a lane now: one more may pull meanwhile.
            let grow = lanes.busy == lanes.workers && lanes.workers < pool.limit;
            if grow {
                lanes.workers += 1;
                lanes.wanted += 1;
            }
            lanes.source = Source::Here(subscriber);
            let idle = lanes.idle > 0;
            if idle {
                pool.source_back.notify_one();
            }
            if grow {
                pool.grow.notify_one();
            }
            return Some((lane, incoming));
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
