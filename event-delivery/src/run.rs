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

use crate::consumer::{
    Attempt, Consumer, ConsumerStats, Failure, Handler, OrderingMode, Verdict, catch_unwind,
};
use crate::dead_letter::DeadLetters;
use crate::store::ProcessedStore;
use crate::transport::{Incoming, Subscriber};
use event_runtime::Catalog;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::JoinSet;

/// The deliveries waiting behind the one in the pipeline, for one key.
type Lane<I> = Arc<Mutex<VecDeque<I>>>;

fn lock<I>(lane: &Mutex<VecDeque<I>>) -> MutexGuard<'_, VecDeque<I>> {
    // Pushing and popping cannot leave the queue inconsistent.
    lane.lock().unwrap_or_else(|e| e.into_inner())
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
    /// Must run inside a tokio runtime: lanes are tasks.
    pub async fn run<S: Subscriber>(self, mut subscriber: S) -> ConsumerStats {
        let limit = match self.inner.ordering {
            OrderingMode::PerKey(limit) => limit,
            OrderingMode::Global => 1,
        };
        // Deliveries waiting behind their lane; bounded so a hot key cannot
        // pull the whole queue into memory.
        let max_waiting = limit.saturating_mul(4).max(16);
        // At most `limit` lanes are open at once, so the map stays small
        // whatever the keys: a fast hash over a few entries, with no
        // collision attack to defend against.
        let mut lanes: FxHashMap<Arc<str>, Lane<S::Incoming>> = FxHashMap::default();
        let waiting = Arc::new(AtomicUsize::new(0));
        let mut tasks: JoinSet<Option<Arc<str>>> = JoinSet::new();
        let mut open = true;
        let global: Arc<str> = Arc::from("");
        loop {
            let can_pull =
                open && tasks.len() < limit && waiting.load(AtomicOrdering::Acquire) < max_waiting;
            tokio::select! {
                biased;
                done = tasks.join_next(), if !tasks.is_empty() => {
                    // Lane tasks catch their panics; a join error is a
                    // cancelled runtime, and the lane ends with it.
                    let Some(Ok(Some(key))) = done else { continue };
                    // The lane task found its queue empty; a delivery may
                    // have joined it since.
                    let next = lanes.get(&key).and_then(|lane| lock(lane).pop_front());
                    match next {
                        Some(next) => {
                            waiting.fetch_sub(1, AtomicOrdering::AcqRel);
                            let lane = lanes[&key].clone();
                            tasks.spawn(self.clone().lane(Some((key, lane, waiting.clone())), next));
                        }
                        None => {
                            lanes.remove(&key);
                        }
                    }
                }
                next = self.pull(&mut subscriber), if can_pull => {
                    let Some(incoming) = next else {
                        open = false;
                        continue;
                    };
                    // Looked up by `&str`: the key is copied only when it
                    // opens a lane.
                    let key: Option<&str> = match self.inner.ordering {
                        OrderingMode::Global => Some(""),
                        OrderingMode::PerKey(_) => incoming.partition_key(),
                    };
                    match key {
                        Some(key) => match lanes.get(key) {
                            Some(lane) => {
                                waiting.fetch_add(1, AtomicOrdering::AcqRel);
                                lock(lane).push_back(incoming);
                            }
                            None => {
                                let key: Arc<str> = if key.is_empty() { global.clone() } else { Arc::from(key) };
                                let lane: Lane<S::Incoming> = Arc::default();
                                lanes.insert(key.clone(), lane.clone());
                                tasks.spawn(self.clone().lane(Some((key, lane, waiting.clone())), incoming));
                            }
                        },
                        None => {
                            tasks.spawn(self.clone().lane(None, incoming));
                        }
                    }
                }
                else => break,
            }
        }
        self.stats()
    }

    async fn pull<S: Subscriber>(&self, subscriber: &mut S) -> Option<S::Incoming> {
        if let Some(breaker) = self.breaker() {
            breaker.ready().await;
        }
        subscriber.next().await
    }

    /// Settles `first`, then the deliveries queued behind it in its lane,
    /// one after another, until the lane is empty; returns the lane's key.
    async fn lane<I: Incoming>(
        self,
        lane: Option<(Arc<str>, Lane<I>, Arc<AtomicUsize>)>,
        first: I,
    ) -> Option<Arc<str>> {
        let mut next = first;
        loop {
            // The pipeline's future is several kilobytes; a lane task is
            // spawned for most deliveries, and tokio moves a task's future
            // a few times on the way (spawn, poll, output). Boxed, only
            // the pointer moves.
            Box::pin(self.settle(next)).await;
            let Some((key, queue, waiting)) = &lane else {
                return None;
            };
            match lock(queue).pop_front() {
                Some(queued) => {
                    waiting.fetch_sub(1, AtomicOrdering::AcqRel);
                    next = queued;
                }
                None => return Some(key.clone()),
            }
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
            let verdict =
                match catch_unwind(self.process(payload, partition_key, delivery, attempt)).await {
                    Ok(verdict) => verdict,
                    Err(panic) => {
                        let failure = Failure::panic(&*panic);
                        attempt
                            .first_failure
                            .get_or_insert_with(time::OffsetDateTime::now_utc);
                        self.fail(payload, partition_key, delivery, attempt, failure)
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
