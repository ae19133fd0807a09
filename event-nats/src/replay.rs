//! [`Replay`] on a DLQ stream: a compare-and-set publish on the entry's
//! own retry subject, then the delete.

use crate::NatsDeadLetters;
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, Replay};

/// A replay is [`NatsDeadLetters::retry`]: the entry's bytes are published
/// on its own retry subject expecting it empty, so of concurrent replays of
/// one entry the stream stores one, and the entry is deleted only after
/// the stream acked it. Nothing is taken out before the publish is stored,
/// so a failed publish leaves the entry where it was, under its id.
impl Replay for NatsDeadLetters {
    async fn replay(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        self.retry_entry(id).await
    }

    async fn replay_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        self.retry_all(filter).await
    }
}
