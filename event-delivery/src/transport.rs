//! What a transport implements: [`Transport`] to publish, [`Subscriber`] and
//! [`Incoming`] to consume. The consumer pipeline does the rest, the same
//! for every transport.

use event_runtime::Delivery;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// One encoded event as a transport carries it: the bytes and the headers
/// a broker routes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The event type (topic or subject routing).
    pub event_type: &'static str,
    /// The major version (topics per major).
    pub major: u32,
    /// The event id (broker-side deduplication: JetStream's `Nats-Msg-Id`).
    pub id: String,
    /// The partition key of events ordered per entity.
    pub partition_key: Option<Arc<str>>,
    /// The delivery guarantee of the event's contract.
    pub delivery: Delivery,
    /// The encoded envelope.
    pub payload: Arc<[u8]>,
}

/// Publishes encoded events, asynchronously: a broker client, an outbox
/// insert, the in-process [`Bus`](crate::Bus). A transport that cannot take
/// a message now waits (backpressure); it never drops one silently.
pub trait Transport: Send + Sync {
    /// The transport's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends one message.
    fn send(&self, message: Message) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// One delivery of a message to a consumer, with the verbs that settle it.
///
/// | pipeline verdict | in-process bus | JetStream | PostgreSQL queue |
/// |---|---|---|---|
/// | [`ack`](Self::ack): handled, duplicate, skipped | done | `ack` | commit the delete |
/// | [`term`](Self::term): dead-lettered, or dropped (at-most-once) | done | `term` | moved to `dead_letters` |
/// | [`nak`](Self::nak): not settled (shutdown, DLQ storage down) | queued again after the delay | `nak` with delay | rescheduled |
pub trait Incoming: Send + 'static {
    /// The encoded envelope.
    fn payload(&self) -> &[u8];

    /// The partition key the message was published with.
    fn partition_key(&self) -> Option<&str>;

    /// The delivery guarantee the message was published with.
    fn delivery(&self) -> Delivery;

    /// How many times the transport delivered this message, this time
    /// included (1 for the first delivery).
    fn attempt(&self) -> u32;

    /// Settled: handled (or a duplicate); never deliver it again.
    fn ack(self) -> impl Future<Output = ()> + Send;

    /// Not settled: deliver it again after `delay`.
    fn nak(self, delay: Duration) -> impl Future<Output = ()> + Send;

    /// Settled by giving up: dead-lettered or dropped; never deliver it
    /// again.
    fn term(self) -> impl Future<Output = ()> + Send;
}

/// The stream of deliveries of one consumer.
pub trait Subscriber: Send + 'static {
    /// One delivery.
    type Incoming: Incoming;

    /// The next delivery; `None` once the subscription is closed and
    /// drained.
    fn next(&mut self) -> impl Future<Output = Option<Self::Incoming>> + Send;
}
