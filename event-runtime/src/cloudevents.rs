//! CloudEvents 1.0: the envelope in structured JSON mode
//! (`application/cloudevents+json`) and in binary mode headers for Kafka,
//! HTTP and NATS.
//!
//! The mapping, attribute by attribute (`docs/cloudevents.md` has the full
//! table and the reasons):
//!
//! | envelope | CloudEvents |
//! |---|---|
//! | `id` | `id` |
//! | `type` | `type` (`enrollment.completed`) |
//! | `source` (the producer service) | `source`, as is: a service name is a relative URI-reference |
//! | `timestamp` | `time`, RFC 3339, offset kept |
//! | `version` | extension `eventversion` (`1.0`) |
//! | `tenantId` | extension `tenantid` |
//! | `correlationId` | extension `correlationid` |
//! | `causationId` | extension `causationid` |
//! | partition key of the payload | extension `partitionkey` (and the Kafka record key) |
//! | `data` | `data`, with `datacontenttype` `application/json` |
//! | `metadata` entries | one extension each, or refused |
//!
//! A metadata entry becomes an extension only if its key is a legal
//! extension name (lower-case ASCII letters and digits) and its value a
//! string, a boolean or a 32-bit integer; anything else is refused with an
//! error naming the key, never dropped. On the way in, every extension the
//! envelope does not own becomes a metadata entry.
//!
//! ```
//! use event_runtime::cloudevents::Binding;
//! use event_runtime::{Envelope, Event, Version};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! #[serde(rename_all = "camelCase")]
//! struct CoursePublished { course_id: String }
//!
//! impl Event for CoursePublished {
//!     const TYPE: &'static str = "course.published";
//!     const VERSION: Version = Version::new(1, 0);
//!     const PRODUCER: &'static str = "course-service";
//! }
//!
//! let env = Envelope::new(CoursePublished { course_id: "c_1".into() })
//!     .tenant("tenant_7f3c")
//!     .correlation("req_xyz789")
//!     .build();
//!
//! // Structured mode: one JSON document.
//! let json = env.to_cloudevent_json().unwrap();
//! let read = Envelope::<CoursePublished>::from_cloudevent_json(&json).unwrap();
//! assert_eq!(read, env);
//!
//! // Binary mode: attributes in headers, the payload as the body.
//! let message = env.to_binary(Binding::Http).unwrap();
//! assert!(message.headers.contains(&("ce-tenantid".to_owned(), "tenant_7f3c".to_owned())));
//! let read = Envelope::<CoursePublished>::from_binary(
//!     Binding::Http,
//!     message.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
//!     &message.body,
//! )
//! .unwrap();
//! assert_eq!(read, env);
//! ```

mod attributes;
mod binary;
mod structured;

pub use binary::{BinaryMessage, Binding, CONTENT_TYPE_HEADER};

/// The media type of a CloudEvent in structured JSON mode.
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json";

/// The `specversion` this module reads and writes.
pub const SPEC_VERSION: &str = "1.0";

/// The `datacontenttype` of the payloads it writes.
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// The extension that carries the event version (`MAJOR.MINOR`).
pub const VERSION_EXTENSION: &str = "eventversion";

/// The extension that carries the tenant id.
pub const TENANT_EXTENSION: &str = "tenantid";

/// The extension that carries the correlation id.
pub const CORRELATION_EXTENSION: &str = "correlationid";

/// The extension that carries the causation id.
pub const CAUSATION_EXTENSION: &str = "causationid";

/// The extension that carries the partition key (the CloudEvents
/// Partitioning extension); written when the payload names one.
pub const PARTITION_EXTENSION: &str = "partitionkey";

/// Whether `name` is a legal CloudEvents attribute name: one or more
/// lower-case ASCII letters or digits.
///
/// ```
/// use event_runtime::cloudevents::is_legal_extension_name;
/// assert!(is_legal_extension_name("tenantid"));
/// assert!(!is_legal_extension_name("tenantId"));
/// assert!(!is_legal_extension_name("tenant_id"));
/// assert!(!is_legal_extension_name(""));
/// ```
pub fn is_legal_extension_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}
