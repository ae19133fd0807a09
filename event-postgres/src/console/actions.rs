//! What was done from this console, and how each retry went since.
//!
//! A retry hands events back to their consumer; whether the handler then
//! succeeded shows only later. Each retry is kept here with the events it
//! sent back, and its outcome is worked out again on every look: an event
//! that is back in the dead letter queue (same consumer and event id, an
//! entry newer than the retry) *failed again*; one still in the
//! consumer's queue is *waiting*; the rest were *handled*.

use event_delivery::Replay;
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use time::OffsetDateTime;

/// How many actions are remembered; older ones are forgotten.
const KEPT: usize = 50;

/// One action taken from the console.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub(crate) number: u64,
    pub(crate) at: OffsetDateTime,
    pub(crate) what: String,
    /// Whether it did what was asked.
    pub(crate) done: bool,
    pub(crate) message: String,
    /// The events a retry sent back: (consumer, event id).
    pub(crate) retried: Vec<(String, Option<String>)>,
    /// The newest dead letter id the retry took; an entry of one of its
    /// events above it came back after the retry.
    floor: DeadLetterId,
    /// (consumer, event id) seen back in the queue, kept once seen.
    failed_again: BTreeSet<(String, String)>,
}

/// How a retry went, as far as can be seen now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Outcome {
    pub(crate) retried: usize,
    pub(crate) failed_again: usize,
    /// `None` when the store cannot see its consumers' queues.
    pub(crate) waiting: Option<usize>,
    /// `None` when `waiting` is unknown.
    pub(crate) handled: Option<usize>,
    /// Retried events without a readable event id, which cannot be followed.
    pub(crate) untracked: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Log {
    next: u64,
    actions: Vec<Action>,
}

#[derive(Debug, Default)]
pub(crate) struct Actions(Mutex<Log>);

impl Actions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an action; returns its number.
    pub(crate) fn record(
        &self,
        what: String,
        done: bool,
        message: String,
        retried: &[DeadLetter],
    ) -> u64 {
        let mut log = self.lock();
        log.next += 1;
        let number = log.next;
        log.actions.push(Action {
            number,
            at: OffsetDateTime::now_utc(),
            what,
            done,
            message,
            retried: retried
                .iter()
                .map(|e| (e.consumer.clone(), e.event_id.clone()))
                .collect(),
            floor: retried
                .iter()
                .map(|e| e.id)
                .max()
                .unwrap_or(DeadLetterId(0)),
            failed_again: BTreeSet::new(),
        });
        if log.actions.len() > KEPT {
            log.actions.remove(0);
        }
        number
    }

    pub(crate) fn get(&self, number: u64) -> Option<Action> {
        self.lock()
            .actions
            .iter()
            .find(|a| a.number == number)
            .cloned()
    }

    /// The remembered actions, newest first.
    pub(crate) fn recent(&self) -> Vec<Action> {
        self.lock().actions.iter().rev().cloned().collect()
    }

    /// The outcome of retry `number` given `current`, every entry now in
    /// the dead letter queue.
    pub(crate) async fn outcome<R: Replay>(
        &self,
        number: u64,
        current: &[DeadLetter],
        store: &R,
    ) -> Result<Option<Outcome>, DeadLetterError> {
        let Some(action) = self.get(number) else {
            return Ok(None);
        };
        if action.retried.is_empty() {
            return Ok(None);
        }
        let back: BTreeSet<(String, String)> = current
            .iter()
            .filter(|e| e.id > action.floor)
            .filter_map(|e| Some((e.consumer.clone(), e.event_id.clone()?)))
            .filter(|key| {
                action
                    .retried
                    .iter()
                    .any(|(c, id)| *c == key.0 && id.as_deref() == Some(key.1.as_str()))
            })
            .collect();
        let failed_again = {
            let mut log = self.lock();
            match log.actions.iter_mut().find(|a| a.number == number) {
                Some(a) => {
                    a.failed_again.extend(back);
                    a.failed_again.clone()
                }
                None => back,
            }
        };
        let mut pending: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut untracked = 0;
        for (consumer, id) in &action.retried {
            match id {
                Some(id) if !failed_again.contains(&(consumer.clone(), id.clone())) => {
                    pending.entry(consumer).or_default().push(id.clone())
                }
                Some(_) => {}
                None => untracked += 1,
            }
        }
        let mut waiting = Some(0);
        for (consumer, ids) in &pending {
            waiting = match (waiting, store.waiting(consumer, ids).await?) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        let retried = action.retried.len();
        let failed_again = failed_again.len().min(retried);
        Ok(Some(Outcome {
            retried,
            failed_again,
            waiting,
            handled: waiting.map(|w| retried.saturating_sub(failed_again + w + untracked)),
            untracked,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_delivery::{DeadLetterFilter, DeadLetters, InMemoryDeadLetters};
    use event_runtime::ErrorClass;

    /// Dead letters in memory whose "queue" is a list of waiting event ids.
    #[derive(Default)]
    struct Memory {
        dead: InMemoryDeadLetters,
        queue: Mutex<Vec<String>>,
    }

    impl DeadLetters for Memory {
        async fn put(&self, e: DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
            self.dead.put(e).await
        }
        async fn list(&self, f: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
            self.dead.list(f).await
        }
        async fn get(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
            self.dead.get(id).await
        }
        async fn take(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
            self.dead.take(id).await
        }
        async fn take_all(&self, f: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
            self.dead.take_all(f).await
        }
        async fn discard(&self, id: DeadLetterId) -> Result<bool, DeadLetterError> {
            self.dead.discard(id).await
        }
        async fn depth(&self, f: &DeadLetterFilter) -> Result<usize, DeadLetterError> {
            self.dead.depth(f).await
        }
    }

    impl Replay for Memory {
        async fn replay(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
            let taken = self.dead.take(id).await?;
            if let Some(e) = &taken {
                self.queue.lock().unwrap().extend(e.event_id.clone());
            }
            Ok(taken)
        }
        async fn replay_all(
            &self,
            f: &DeadLetterFilter,
        ) -> Result<Vec<DeadLetter>, DeadLetterError> {
            let taken = self.dead.take_all(f).await?;
            let mut queue = self.queue.lock().unwrap();
            queue.extend(taken.iter().filter_map(|e| e.event_id.clone()));
            Ok(taken)
        }
        async fn waiting(
            &self,
            _consumer: &str,
            ids: &[String],
        ) -> Result<Option<usize>, DeadLetterError> {
            let queue = self.queue.lock().unwrap();
            Ok(Some(ids.iter().filter(|id| queue.contains(id)).count()))
        }
    }

    fn entry(consumer: &str, event_id: Option<&str>) -> DeadLetter {
        let now = OffsetDateTime::now_utc();
        DeadLetter {
            id: DeadLetterId(0),
            payload: b"{}".to_vec().into(),
            partition_key: None,
            event_id: event_id.map(Into::into),
            event_type: Some("enrollment.completed".into()),
            version: None,
            tenant_id: None,
            consumer: consumer.into(),
            error: "boom".into(),
            class: ErrorClass::Permanent,
            attempts: 1,
            first_failure: now,
            last_failure: now,
        }
    }

    #[tokio::test]
    async fn a_retry_counts_handled_waiting_failed_again_and_untracked() {
        let store = Memory::default();
        for id in [Some("evt_1"), Some("evt_2"), None] {
            store.put(entry("certificates", id)).await.unwrap();
        }
        let taken = store.replay_all(&DeadLetterFilter::all()).await.unwrap();
        let actions = Actions::default();
        let n = actions.record("retry all".into(), true, "Retried 3.".into(), &taken);
        let outcome = |current: Vec<DeadLetter>| {
            let (actions, store) = (&actions, &store);
            async move { actions.outcome(n, &current, store).await.unwrap().unwrap() }
        };
        let o = outcome(store.list(&DeadLetterFilter::all()).await.unwrap()).await;
        assert_eq!(
            (o.retried, o.waiting, o.handled, o.failed_again, o.untracked),
            (3, Some(2), Some(0), 0, 1)
        );

        // evt_1 is handled; evt_2 fails again and comes back; an entry of
        // another consumer with evt_1's id is not this retry's.
        store.queue.lock().unwrap().clear();
        let back = store
            .put(entry("certificates", Some("evt_2")))
            .await
            .unwrap();
        store
            .put(entry("notifications", Some("evt_1")))
            .await
            .unwrap();
        let o = outcome(store.list(&DeadLetterFilter::all()).await.unwrap()).await;
        assert_eq!(
            (o.retried, o.waiting, o.handled, o.failed_again, o.untracked),
            (3, Some(0), Some(1), 1, 1)
        );

        // Discarding the entry that came back does not turn it into a
        // success: a failure once seen is kept.
        assert!(store.discard(back).await.unwrap());
        let o = outcome(store.list(&DeadLetterFilter::all()).await.unwrap()).await;
        assert_eq!((o.handled, o.failed_again), (Some(1), 1));
        // An action that retried nothing has no outcome.
        let m = actions.record("discard dl_9".into(), true, "Discarded.".into(), &[]);
        assert!(actions.outcome(m, &[], &store).await.unwrap().is_none());
    }
}
