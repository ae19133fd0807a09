//! PostgreSQL for typed event delivery: the transactional outbox and its
//! relay, the `processed_events` inbox, and their migrations.
//!
//! - [`migrate`] creates the tables ([`Tables`] names them).
//! - [`Outbox::stage`] writes an event in the caller's transaction;
//!   [`OutboxRelay`] publishes what was staged to any
//!   [`Transport`](event_delivery::Transport).
//! - [`PgProcessedStore`] is the consumer's idempotency store: the handler's
//!   writes and the processed record commit in one transaction.
//! - [`PgQueue`] is the durable queue (a [`Transport`](event_delivery::Transport)
//!   and a [`Subscriber`](event_delivery::Subscriber)); [`PgDeadLetters`]
//!   is the `dead_letters` table as the pipeline's
//!   [`DeadLetters`](event_delivery::DeadLetters).
//! - [`console`] (feature `console`, on by default) is the dead letter
//!   console that `event-ops console` serves.

#[cfg(feature = "console")]
pub mod console;
mod dead_letters;
mod inbox;
mod outbox;
mod queue;
mod schema;

pub use dead_letters::{PgDeadLetters, class_name};
pub use inbox::PgProcessedStore;
pub use outbox::{
    DEFAULT_STATS_INTERVAL, Outbox, OutboxBacklog, OutboxBatch, OutboxRelay, OutboxStats,
    RelayMode, RelayReport,
};
pub use queue::{DEFAULT_PENDING_INTERVAL, PgIncoming, PgQueue, PgSubscriber, QueueTransport};
pub use schema::{MAX_IDENTIFIER_LEN, Tables, migrate, quote_ident};

use event_runtime::Delivery;
use std::fmt;

/// A delivery guarantee from its name (`at-least-once`).
pub fn delivery_from_str(name: &str) -> Option<Delivery> {
    match name {
        "at-most-once" => Some(Delivery::AtMostOnce),
        "at-least-once" => Some(Delivery::AtLeastOnce),
        "exactly-once-effect" => Some(Delivery::ExactlyOnceEffect),
        _ => None,
    }
}

/// A failure of this crate.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A name or setting was refused; the message says which and why.
    Config(String),
    /// The database failed or refused a statement.
    Database(sqlx::Error),
    /// The envelope could not be encoded.
    Encode(event_runtime::EncodeError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(message) => f.write_str(message),
            Error::Database(e) => write!(f, "database: {e}"),
            Error::Encode(e) => write!(f, "encoding the envelope: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(_) => None,
            Error::Database(e) => Some(e),
            Error::Encode(e) => Some(e),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(e)
    }
}
