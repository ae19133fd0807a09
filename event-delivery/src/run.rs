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
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::task::JoinSet;

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
        let mut lanes: HashMap<Arc<str>, VecDeque<S::Incoming>> = HashMap::new();
        let mut waiting = 0usize;
        let mut tasks: JoinSet<Option<Arc<str>>> = JoinSet::new();
        let mut open = true;
        let global: Arc<str> = Arc::from("");
        loop {
            let can_pull = open && tasks.len() < limit && waiting < max_waiting;
            tokio::select! {
                biased;
                done = tasks.join_next(), if !tasks.is_empty() => {
                    // Lane tasks catch their panics; a join error is a
                    // cancelled runtime, and the lane ends with it.
                    let Some(Ok(Some(key))) = done else { continue };
                    match lanes.get_mut(&key).and_then(VecDeque::pop_front) {
                        Some(next) => {
                            waiting -= 1;
                            tasks.spawn(self.clone().lane(Some(key), next));
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
                    let key: Option<Arc<str>> = match self.inner.ordering {
                        OrderingMode::Global => Some(global.clone()),
                        OrderingMode::PerKey(_) => incoming.partition_key().map(Arc::from),
                    };
                    match key {
                        Some(key) => match lanes.get_mut(&key) {
                            Some(queue) => {
                                queue.push_back(incoming);
                                waiting += 1;
                            }
                            None => {
                                lanes.insert(key.clone(), VecDeque::new());
                                tasks.spawn(self.clone().lane(Some(key), incoming));
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

    /// Settles one delivery: runs the pipeline until it acks, gives up or
    /// hands the delivery back, sleeping out retries and deferrals.
    async fn lane<I: Incoming>(self, key: Option<Arc<str>>, incoming: I) -> Option<Arc<str>> {
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
                Verdict::Ack(_) => {
                    incoming.ack().await;
                    return key;
                }
                Verdict::Term(_) => {
                    incoming.term().await;
                    return key;
                }
                Verdict::Nak(delay) => {
                    incoming.nak(delay).await;
                    return key;
                }
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
