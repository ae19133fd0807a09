//! Typed event delivery: consumers that survive failure, and the in-process
//! bus as the embedded default.
//!
//! One [`Consumer`] pipeline serves every transport. Each delivery goes
//! through, in this order:
//!
//! 1. **decode** against the consumer's contract (a permanent error goes to
//!    the dead letter queue with the `DecodeError`);
//! 2. **idempotency claim** (duplicates are acked and skipped);
//! 3. **circuit breaker** (open: the delivery waits, queued; never dropped
//!    or dead-lettered for it);
//! 4. **handler**, in the store's transaction with the processed record;
//! 5. **classify** the outcome ([`Classify`], unknown by default);
//! 6. **retry, DLQ or ack** ([`RetryPolicy`]; at-most-once events skip
//!    retry and the DLQ).
//!
//! A transport implements [`Transport`] (publish) and [`Subscriber`] /
//! [`Incoming`] (consume: bytes, attempt count, ack / nak(delay) / term);
//! [`Consumer::run`] does the rest, ordering included (see [`run`]).
#![warn(missing_docs)]

mod breaker;
mod bus;
mod classify;
mod clock;
mod consumer;
mod dead_letter;
pub mod metrics_names;
mod publish;
mod replay;
mod retry;
pub mod run;
mod store;
pub mod summary;
mod transport;

pub use breaker::{Admission, BreakerState, CircuitBreaker};
pub use bus::{Bus, BusDelivery, BusError, DEFAULT_CAPACITY, ShutdownReport};
pub use classify::{Classify, HandlerError};
pub use consumer::{
    Acked, Attempt, Consumer, ConsumerBuilder, ConsumerStats, DEFAULT_DEPTH_SAMPLE,
    DEFAULT_PURGE_EVERY, Failure, FnHandler, Gave, Handler, Housekeeping, OrderingMode, Verdict,
    consumer,
};
pub use dead_letter::{
    DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters, InMemoryDeadLetters,
};
pub use publish::PublishAsync;
pub use replay::Replay;
pub use retry::RetryPolicy;
pub use store::{InMemoryStore, NoStore, PendingRecords, ProcessedStore, SyncStore};
pub use transport::{Incoming, Message, Subscriber, Transport};

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
