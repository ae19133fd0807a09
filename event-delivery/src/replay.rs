//! Sending dead letters back to their consumer, once: what an operator's
//! retry needs beyond [`DeadLetters`].

use crate::{DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters};
use std::future::Future;

/// A dead letter store whose entries can be sent back to their consumer.
///
/// [`replay`](Self::replay) and [`replay_all`](Self::replay_all) must take an
/// entry out and redeliver it as one step that only one caller can win:
/// two operators who press *Retry* on the same entry at the same moment
/// get one redelivery, and the second is told the entry is gone. A store
/// whose removal is atomic (a `DELETE … RETURNING`, a JetStream message
/// delete that reports whether it deleted) takes first and redelivers
/// after, putting the entry back if the redelivery fails.
pub trait Replay: DeadLetters {
    /// Takes entry `id` out and redelivers its original bytes to its
    /// consumer as a first delivery; `None` if the entry was not there
    /// (never stored, or already retried or discarded).
    fn replay(
        &self,
        id: DeadLetterId,
    ) -> impl Future<Output = Result<Option<DeadLetter>, DeadLetterError>> + Send;

    /// The same for every entry that passes `filter`, oldest first;
    /// returns what was redelivered.
    fn replay_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, DeadLetterError>> + Send;

    /// How many of the events `event_ids` still wait in `consumer`'s queue
    /// (not yet handled, or in a retry delay); `None` when the transport
    /// cannot tell. An operator's console uses it to say how a retry went.
    fn waiting(
        &self,
        consumer: &str,
        event_ids: &[String],
    ) -> impl Future<Output = Result<Option<usize>, DeadLetterError>> + Send {
        let _ = (consumer, event_ids);
        async { Ok(None) }
    }
}
