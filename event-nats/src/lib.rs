//! NATS JetStream as a transport for typed events: pub/sub fan-out past one
//! machine, with the broker topology derived from the catalog.
//!
//! - [`Subjects`]: one subject per event type and major,
//!   `events.enrollment.completed.v1`.
//! - [`NatsTransport`]: the `event-delivery` [`Transport`](event_delivery::Transport);
//!   the envelope as structured JSON, `Nats-Msg-Id` = the event id, so a
//!   duplicate publish inside the stream's duplicate window is stored once.
//!   At-least-once waits for the stream's PubAck and retries on timeout;
//!   at-most-once is a core publish.
//! - [`Topology`]: the event stream, one durable pull consumer per consumer
//!   service filtering on the subjects it consumes, one DLQ stream per
//!   consumer service; [`Topology::plan`] says what [`Topology::ensure`]
//!   would create, and `ensure` reports a deployed config that differs
//!   instead of overwriting it. Before nats-server 2.10, which `ensure`
//!   reads from the connection ([`Filtering`]), a consumer of several
//!   types filters on one wildcard covering them and the subscriber acks
//!   the rest unhandled.
//! - [`NatsSubscriber`]: the `event-delivery` [`Subscriber`](event_delivery::Subscriber),
//!   and [`NatsSubscriber::run`], which maps the pipeline's verdicts onto
//!   JetStream's verbs (ack, nak with the policy's delay, term), keeps
//!   long handlers alive with in-progress acks, and keeps JetStream's
//!   last delivery of a message to dead-letter it when no earlier one
//!   settled it.
//! - [`NatsDeadLetters`]: the DLQ stream as the pipeline's
//!   [`DeadLetters`](event_delivery::DeadLetters); a retry is a
//!   compare-and-set publish on the entry's own subject, so concurrent
//!   retries of one entry publish it once.
#![warn(missing_docs)]

mod dead_letter;
mod error;
pub mod headers;
mod replay;
mod subject;
mod subscriber;
mod topology;
mod transport;

pub use dead_letter::NatsDeadLetters;
pub use error::NatsError;
pub use subject::Subjects;
pub use subscriber::{DEFAULT_PENDING_INTERVAL, NatsIncoming, NatsSubscriber};
pub use topology::{ConsumerPlan, Drift, EnsureReport, Filtering, Plan, StreamPlan, Topology};
pub use transport::NatsTransport;

pub use async_nats;

/// Connects to a NATS server (`127.0.0.1:4222`, `nats://host:port`) and
/// returns its JetStream context.
pub async fn connect(url: &str) -> Result<async_nats::jetstream::Context, NatsError> {
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(url)
        .await
        .map_err(|e| NatsError::new(format!("connecting to {url}"), e))?;
    Ok(async_nats::jetstream::new(client))
}
