//! [`Replay`] on a DLQ stream: take the entry, then republish it.

use crate::NatsDeadLetters;
use crate::error::NatsError;
use event_delivery::{
    DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters, Replay,
};

/// Why a republish failed, and what became of the entries it left.
#[derive(Debug)]
struct Restored {
    republished: usize,
    restored: usize,
    lost: usize,
    cause: DeadLetterError,
}

impl std::fmt::Display for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} republished, then {}; {} put back into the DLQ stream as new entries",
            self.republished, self.cause, self.restored
        )?;
        if self.lost > 0 {
            write!(f, ", {} could not be put back", self.lost)?;
        }
        Ok(())
    }
}

impl std::error::Error for Restored {}

/// A replay is [`take`](DeadLetters::take) (whose JetStream delete only
/// one caller wins, so of two concurrent retries one gets the entry) and
/// a publish on the service's retry subject. An entry whose publish fails
/// is put back, under a new id, rather than lost.
impl Replay for NatsDeadLetters {
    async fn replay(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        let Some(entry) = self.take(id).await? else {
            return Ok(None);
        };
        match self.republish(&entry).await {
            Ok(()) => Ok(Some(entry)),
            Err(cause) => Err(self.restore(0, &[entry], cause).await),
        }
    }

    async fn replay_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let entries = self.take_all(filter).await?;
        for (i, entry) in entries.iter().enumerate() {
            if let Err(cause) = self.republish(entry).await {
                return Err(self.restore(i, &entries[i..], cause).await);
            }
        }
        Ok(entries)
    }
}

impl NatsDeadLetters {
    async fn restore(
        &self,
        republished: usize,
        left: &[DeadLetter],
        cause: DeadLetterError,
    ) -> DeadLetterError {
        let mut restored = 0;
        for entry in left {
            if self.put(entry.clone()).await.is_ok() {
                restored += 1;
            }
        }
        DeadLetterError(Box::new(NatsError::new(
            "retrying dead letters".to_owned(),
            Restored {
                republished,
                restored,
                lost: left.len() - restored,
                cause,
            },
        )))
    }
}
