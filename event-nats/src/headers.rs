//! The headers a message carries next to the envelope. The envelope itself
//! is the payload, as the structured JSON the runtime encodes (`id`, `type`,
//! `version`, ... `data`); the headers repeat what the broker and the
//! subscriber route by, so neither parses the payload.

use event_runtime::Delivery;

/// The event id: JetStream deduplicates on it inside the stream's
/// duplicate window.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// The partition key of events ordered per entity.
pub const PARTITION_KEY: &str = "Event-Partition-Key";
/// The delivery guarantee: `at-most-once`, `at-least-once`,
/// `exactly-once-effect`.
pub const DELIVERY: &str = "Event-Delivery";
/// On a dead letter: the consumer service that gave up.
pub const DLQ_CONSUMER: &str = "Event-Dlq-Consumer";
/// On a dead letter: the error message.
pub const DLQ_ERROR: &str = "Event-Dlq-Error";
/// On a dead letter: the error class (`transient`, `permanent`, `unknown`).
pub const DLQ_CLASS: &str = "Event-Dlq-Class";
/// On a dead letter: the attempts made.
pub const DLQ_ATTEMPTS: &str = "Event-Dlq-Attempts";
/// On a dead letter: the first failure, RFC 3339.
pub const DLQ_FIRST_FAILURE: &str = "Event-Dlq-First-Failure";
/// On a dead letter: the last failure, RFC 3339.
pub const DLQ_LAST_FAILURE: &str = "Event-Dlq-Last-Failure";

pub(crate) fn delivery_from(value: Option<&str>) -> Delivery {
    match value {
        Some("at-most-once") => Delivery::AtMostOnce,
        Some("exactly-once-effect") => Delivery::ExactlyOnceEffect,
        _ => Delivery::AtLeastOnce,
    }
}
