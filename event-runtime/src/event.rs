//! The `Event` trait: what a type must say to be an event contract.

use crate::Version;
use crate::validate::ValidationError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An event contract: a payload type with its name, version and producer.
///
/// `#[derive(Event)]` writes this impl from `#[event(...)]` attributes and
/// checks the contract at compile time. A hand-written impl needs only the
/// three constants; the rest has defaults:
///
/// ```
/// use event_runtime::{Event, Version};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Serialize, Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct CoursePublished {
///     course_id: String,
/// }
///
/// impl Event for CoursePublished {
///     const TYPE: &'static str = "course.published";
///     const VERSION: Version = Version::new(1, 0);
///     const PRODUCER: &'static str = "course-service";
///
///     fn partition_key(&self) -> Option<String> {
///         Some(self.course_id.clone())
///     }
/// }
/// ```
pub trait Event: Serialize + DeserializeOwned {
    /// The type name, `domain.action` (`enrollment.completed`).
    const TYPE: &'static str;
    /// The schema version this type was written for. Decoding accepts any
    /// minor of its major.
    const VERSION: Version;
    /// The one service that publishes this event.
    const PRODUCER: &'static str;
    /// The delivery guarantee the contract promises.
    const DELIVERY: Delivery = Delivery::AtLeastOnce;
    /// The ordering the consumers may rely on.
    const ORDERING: Ordering = Ordering::Unordered;

    /// The static description of the contract: fields, docs, consumers.
    /// Derived impls fill it in; hand-written ones may leave the default,
    /// which describes no fields.
    fn contract() -> &'static Contract {
        &Contract::EMPTY
    }

    /// A natural idempotency key built from the payload, for facts that may
    /// be published twice under different ids (the enrollment id of
    /// `enrollment.completed`). `None`, the default, keys by the event id.
    fn natural_key(&self) -> Option<String> {
        None
    }

    /// The id of the entity this event is about, for transports that route
    /// one entity to one partition. `None` for unordered events.
    fn partition_key(&self) -> Option<String> {
        None
    }

    /// Checks the payload against the constraints of its contract
    /// (`#[event(minimum = 0, max_length = 200, ...)]`), so a producer finds
    /// out before publishing; [`Envelope::to_json_writer`](crate::Envelope::to_json_writer)
    /// refuses an invalid payload. Decoding checks the same constraints.
    /// `Ok(())`, the default, for a contract without constraints.
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
}

/// A part of a payload: a nested object or a shared definition, written by
/// `#[derive(EventData)]`. It has fields and constraints like an event, but
/// no name, version or producer of its own.
pub trait EventData: Serialize + DeserializeOwned {
    /// The fields, in declaration order.
    fn fields() -> &'static [FieldInfo];

    /// Checks the constraints of the fields; paths are relative to this
    /// object (`sku`, `tags[1]`).
    fn validate(&self) -> Result<(), ValidationError>;
}

/// How many times a consumer may see one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Zero or one time: logs, analytics.
    AtMostOnce,
    /// One or more times, to idempotent consumers: the default for business
    /// events.
    AtLeastOnce,
    /// At least once, with a transactional outbox on the producer and
    /// idempotent consumers, so the effect happens once: money.
    ExactlyOnceEffect,
}

impl Delivery {
    /// The name used in attributes and schemas (`at-least-once`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Delivery::AtMostOnce => "at-most-once",
            Delivery::AtLeastOnce => "at-least-once",
            Delivery::ExactlyOnceEffect => "exactly-once-effect",
        }
    }
}

/// What order consumers may rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ordering {
    /// Any consumer, any order.
    Unordered,
    /// Events about one entity arrive in order; the partition key names it.
    PerEntity,
    /// One partition, one consumer. Rare; avoid.
    Global,
}

impl Ordering {
    /// The name used in attributes and schemas (`per-entity`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Ordering::Unordered => "unordered",
            Ordering::PerEntity => "per-entity",
            Ordering::Global => "global",
        }
    }
}

/// The static description of an event contract, readable without parsing
/// Rust: for catalogs, compatibility checks and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contract {
    /// The doc comment of the event type.
    pub doc: &'static str,
    /// The payload fields, in declaration order.
    pub fields: &'static [FieldInfo],
    /// The services that consume the event and why.
    pub consumers: &'static [ConsumerInfo],
    /// Wire names of the fields that make the natural idempotency key, in
    /// order; empty when the event id is the key.
    pub key_fields: &'static [&'static str],
    /// Wire name of the partition key field, if any.
    pub partition_field: Option<&'static str>,
    /// How often at least one event is published, as written (`"30m"`):
    /// `x-event.expectedEvery`, which the silence alert watches.
    pub expected_every: Option<&'static str>,
}

impl Contract {
    /// A contract that describes nothing beyond the `Event` constants.
    pub const EMPTY: Contract = Contract {
        doc: "",
        fields: &[],
        consumers: &[],
        key_fields: &[],
        partition_field: None,
        expected_every: None,
    };
}

/// One payload field of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The Rust field name (`total_duration`).
    pub name: &'static str,
    /// The name on the wire (`totalDuration`).
    pub wire_name: &'static str,
    /// The Rust type as written (`Option<u32>`).
    pub rust_type: &'static str,
    /// Whether a reader accepts the field missing or `null`.
    pub optional: bool,
    /// The minor version that added the field; `None` when it is as old as
    /// the major.
    pub since: Option<Version>,
    /// The field's doc comment.
    pub doc: &'static str,
    /// Whether the field is `#[deprecated]`.
    pub deprecated: bool,
    /// The constraints on the field's value, as JSON Schema keywords.
    pub constraints: &'static [ConstraintInfo],
}

/// One constraint of a field, as its JSON Schema keyword and the value as
/// written in the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstraintInfo {
    /// The JSON Schema keyword: `minimum`, `exclusiveMaximum`, `maxLength`,
    /// `pattern`, `minItems`, `const`, ...
    pub keyword: &'static str,
    /// The bound or value as written: `0`, `99.5`, `^[a-z]+$`.
    pub value: &'static str,
}

/// A consumer of an event and the reason it consumes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// The consuming service.
    pub service: &'static str,
    /// Why it consumes the event.
    pub reason: &'static str,
}
