//! The runtime of typed event contracts.
//!
//! An event is a contract: a payload type with a name (`domain.action`), a
//! `MAJOR.MINOR` version and a producer ([`Event`]). It travels in an
//! [`Envelope`] that carries its id, time, source, tenant and correlation id.
//! Readers are tolerant across minor versions and strict about everything
//! else; every refusal is a [`DecodeError`] that names the JSON path and is
//! permanent, so the event can be dead-lettered with its reason.
#![warn(missing_docs)]

pub mod cloudevents;
mod decode;
mod envelope;
mod error;
mod event;
mod event_type;
pub mod export;
mod id;
pub mod idempotency;
mod routing;
pub mod validate;
mod version;
#[doc(hidden)]
pub mod wire;

pub use envelope::{Complete, Envelope, EnvelopeBuilder, Header, state};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, ErrorClass};
pub use event::{
    ConstraintInfo, ConsumerInfo, Contract, Delivery, Event, EventData, FieldInfo, Ordering,
};
pub use validate::ValidationError;

/// `#[derive(Event)]`, `#[derive(EventData)]`, `#[derive(OpenEnum)]`: see
/// the `#[event(...)]` grammar in `event-derive/ATTRIBUTES.md`.
///
/// ```
/// use event_runtime::{Envelope, Event, OffsetDateTime, Uuid, Version};
///
/// /// Fired when a user completes all content in a course.
/// #[derive(Debug, Clone, PartialEq, Event)]
/// #[event(type = "enrollment.completed", version = "1.1", producer = "enrollment-service",
///         ordering = "per-entity")]
/// pub struct EnrollmentCompleted {
///     #[event(key, partition)]
///     pub enrollment_id: Uuid,
///     pub completed_at: OffsetDateTime,
///     #[event(maximum = 100)]
///     pub score: u8,
///     #[event(since = "1.1")]
///     pub total_duration: Option<u32>,
/// }
///
/// let json = br#"{"id":"evt_1","type":"enrollment.completed","version":"1.0",
///   "timestamp":"2026-03-27T10:30:00Z","source":"enrollment-service",
///   "tenantId":"t_1","correlationId":"req_1",
///   "data":{"enrollmentId":"6f1c1c52-4f6e-4b8e-9a39-1f5c2d8e7a10",
///           "completedAt":"2026-03-27T10:30:00Z","score":85}}"#;
/// let env = Envelope::<EnrollmentCompleted>::from_json_slice(json).unwrap();
/// assert_eq!(env.data().total_duration, None);
/// assert_eq!(EnrollmentCompleted::VERSION, Version::new(1, 1));
/// assert_eq!(env.partition_key().as_deref(), Some("6f1c1c52-4f6e-4b8e-9a39-1f5c2d8e7a10"));
/// ```
pub use event_derive::{Event, EventData, OpenEnum};
pub use event_type::{EventType, EventTypeError};
pub use id::{EventId, ID_PREFIX};
pub use routing::{
    Catalog, OutboundMessage, ProducedBy, PublishError, Publisher, RouteContract, Routed, Service,
    Transport, UnknownEvent, UnknownReason,
};
pub use version::{ParseVersionError, Version};

pub use serde_json::{Map, Value};
pub use time::OffsetDateTime;
pub use uuid::Uuid;

/// Re-exports for generated code. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use ::core;
    pub use ::serde;
    pub use ::serde_json;
    pub use ::std;
    pub use ::time;
    pub use ::uuid;

    pub use crate::decode::check_data;
    pub use crate::routing::{RouteTable, with_data};
    pub use crate::validate;
    pub use crate::wire;
}

/// The examples of the workspace README, compiled and run as doctests so
/// they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
