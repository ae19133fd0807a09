//! Errors of decoding and encoding envelopes.

use crate::Version;
use core::fmt;

/// Whether retrying can make a failure go away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Retrying cannot help (malformed payload, unknown major, validation
    /// failure): the event goes straight to the dead letter queue.
    Permanent,
    /// A timeout, a lost connection, a 503: retry with backoff.
    Transient,
    /// Not known: retry once, then dead-letter.
    Unknown,
}

/// What was wrong with an envelope that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Not JSON, not a JSON object, or nested deeper than the decoder allows.
    Malformed,
    /// A required envelope field is missing or `null`.
    MissingField,
    /// A required envelope field is an empty string.
    EmptyField,
    /// A key appears twice in the envelope.
    DuplicateField,
    /// An envelope field has the wrong JSON type (`"id": 5`).
    FieldType,
    /// `type` is not `domain.action` in lower-case dot notation.
    InvalidEventType,
    /// `type` is a valid name, but not the one the reader expects.
    UnexpectedType {
        /// The type the reader was built for.
        expected: &'static str,
    },
    /// `version` is not `MAJOR.MINOR`.
    InvalidVersion,
    /// `version` has a major the reader was not built for.
    IncompatibleMajor {
        /// The version the reader was built for.
        expected: Version,
        /// The version on the wire.
        found: Version,
    },
    /// An id (`id`, `tenantId`, `correlationId`, `causationId`) holds
    /// whitespace or a control character.
    InvalidId,
    /// `timestamp` is not RFC 3339 with an offset.
    InvalidTimestamp,
    /// `data` does not match the payload type; the path names the field.
    InvalidData,
    /// A CloudEvents attribute that is not legal: an extension name that is
    /// not lower-case alphanumeric, an extension value of a type CloudEvents
    /// has no place for, or a data content type that is not JSON.
    InvalidAttribute,
}

/// An envelope that could not be decoded, with where and why.
///
/// Every decode error is permanent: the same bytes fail the same way, so the
/// event belongs in a dead letter queue, not a retry loop. The error keeps
/// the event id and type whenever they could be read, so the dead-lettered
/// event can be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: DecodeErrorKind,
    path: String,
    message: String,
    event_id: Option<String>,
    event_type: Option<String>,
}

impl DecodeError {
    pub(crate) fn new(
        kind: DecodeErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        DecodeError(Box::new(Inner {
            kind,
            path: path.into(),
            message: message.into(),
            event_id: None,
            event_type: None,
        }))
    }

    /// Adds the event id and type, when present; values longer than a
    /// sane id are cut, so an error never copies megabytes of input.
    pub(crate) fn with_context(mut self, event_id: Option<&str>, event_type: Option<&str>) -> Self {
        const MAX: usize = 256;
        let keep = |s: &str| {
            if s.len() <= MAX {
                s.to_owned()
            } else {
                let mut end = MAX;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}...", &s[..end])
            }
        };
        self.0.event_id = event_id.filter(|s| !s.is_empty()).map(keep);
        self.0.event_type = event_type.filter(|s| !s.is_empty()).map(keep);
        self
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }

    /// The JSON path of the offending value: `""` for the whole document,
    /// `type` for an envelope field, `data.score` or `data.items[2].sku` for
    /// the payload.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// The description of the problem, without the path.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The event id, if it could be read (cut after 256 bytes).
    pub fn event_id(&self) -> Option<&str> {
        self.0.event_id.as_deref()
    }

    /// The event type as written on the wire, if it could be read.
    pub fn event_type(&self) -> Option<&str> {
        self.0.event_type.as_deref()
    }

    /// Always [`ErrorClass::Permanent`]: the same bytes fail the same way.
    pub fn class(&self) -> ErrorClass {
        ErrorClass::Permanent
    }

    /// Always `true`; see [`class`](Self::class).
    pub fn is_permanent(&self) -> bool {
        self.class() == ErrorClass::Permanent
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        if inner.path.is_empty() {
            f.write_str(&inner.message)?;
        } else {
            write!(f, "{}: {}", inner.path, inner.message)?;
        }
        match (&inner.event_id, &inner.event_type) {
            (Some(id), Some(ty)) => write!(f, " (event {id}, type {ty})"),
            (Some(id), None) => write!(f, " (event {id})"),
            (None, Some(ty)) => write!(f, " (type {ty})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for DecodeError {}

/// An envelope that could not be encoded.
#[derive(Debug)]
pub struct EncodeError(EncodeInner);

#[derive(Debug)]
enum EncodeInner {
    EmptyField(&'static str),
    Timestamp(String),
    Json(serde_json::Error),
    Invalid(crate::ValidationError),
    Refused {
        field: &'static str,
        message: String,
    },
}

impl EncodeError {
    pub(crate) fn empty_field(field: &'static str) -> Self {
        EncodeError(EncodeInner::EmptyField(field))
    }

    pub(crate) fn timestamp(message: String) -> Self {
        EncodeError(EncodeInner::Timestamp(message))
    }

    pub(crate) fn json(error: serde_json::Error) -> Self {
        EncodeError(EncodeInner::Json(error))
    }

    pub(crate) fn invalid(error: crate::ValidationError) -> Self {
        EncodeError(EncodeInner::Invalid(error))
    }

    /// A value of `field` that the target format cannot carry, such as a
    /// metadata entry that cannot be a CloudEvents extension.
    pub(crate) fn refused(field: &'static str, message: String) -> Self {
        EncodeError(EncodeInner::Refused { field, message })
    }

    /// The payload constraint the event breaks, when that is the fault
    /// ([`Event::validate`](crate::Event::validate)).
    pub fn validation(&self) -> Option<&crate::ValidationError> {
        match &self.0 {
            EncodeInner::Invalid(error) => Some(error),
            _ => None,
        }
    }

    /// The envelope field at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match &self.0 {
            EncodeInner::EmptyField(field) => Some(field),
            EncodeInner::Timestamp(_) => Some("timestamp"),
            EncodeInner::Invalid(_) => Some("data"),
            EncodeInner::Json(_) => None,
            EncodeInner::Refused { field, .. } => Some(field),
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            EncodeInner::EmptyField(field) => write!(
                f,
                "{field}: must not be empty; every event carries a {field}"
            ),
            EncodeInner::Timestamp(message) => write!(f, "timestamp: {message}"),
            EncodeInner::Json(error) => write!(f, "{error}"),
            EncodeInner::Invalid(error) if error.path().is_empty() => {
                write!(f, "data: {}", error.message())
            }
            EncodeInner::Invalid(error) => write!(f, "data.{error}"),
            EncodeInner::Refused { field, message } => write!(f, "{field}: {message}"),
        }
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            EncodeInner::Json(error) => Some(error),
            EncodeInner::Invalid(error) => Some(error),
            _ => None,
        }
    }
}
