//! What a handler's failure says about retrying.

use event_runtime::ErrorClass;
use std::fmt;

/// A handler error that knows its [`ErrorClass`]. An error that does not
/// say is [`ErrorClass::Unknown`]: retried once, then dead-lettered.
pub trait Classify: fmt::Display {
    /// Whether retrying may help.
    fn class(&self) -> ErrorClass {
        ErrorClass::Unknown
    }
}

/// A ready-made handler error: a message and its class.
///
/// ```
/// use event_delivery::{Classify, HandlerError};
/// use event_runtime::ErrorClass;
/// let e = HandlerError::transient("certificate renderer answered 503");
/// assert_eq!(e.class(), ErrorClass::Transient);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    class: ErrorClass,
    message: String,
}

impl HandlerError {
    /// A timeout, a lost connection, a 503: retried with backoff.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Transient, message)
    }

    /// Bad data, a failed validation, a missing entity: never retried.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Permanent, message)
    }

    /// Not known: retried once.
    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Unknown, message)
    }

    /// An error of `class`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        HandlerError {
            class,
            message: message.into(),
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HandlerError {}

impl Classify for HandlerError {
    fn class(&self) -> ErrorClass {
        self.class
    }
}

impl Classify for std::convert::Infallible {}

impl Classify for std::io::Error {
    /// Timeouts, refused and reset connections are transient; the rest is
    /// unknown.
    fn class(&self) -> ErrorClass {
        use std::io::ErrorKind::*;
        match self.kind() {
            TimedOut | ConnectionRefused | ConnectionReset | ConnectionAborted | Interrupted
            | WouldBlock => ErrorClass::Transient,
            _ => ErrorClass::Unknown,
        }
    }
}

/// `ErrorClass` as a metric label.
pub(crate) fn class_label(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Permanent => "permanent",
        ErrorClass::Transient => "transient",
        ErrorClass::Unknown => "unknown",
    }
}
