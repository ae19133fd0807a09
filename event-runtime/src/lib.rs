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
mod id;
pub mod idempotency;
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
pub use event_derive::{Event, EventData, OpenEnum};
pub use event_type::{EventType, EventTypeError};
pub use id::{EventId, ID_PREFIX};
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

    pub use crate::validate;
    pub use crate::wire;
}
