//! Validated event type names.

use core::fmt;
use std::borrow::Cow;

pub use event_rules::naming::SyntaxError as EventTypeError;

/// An event type name, `domain.action` in lower-case dot notation
/// (`enrollment.completed`).
///
/// The runtime checks the syntax only: names from other producers are read as
/// they come. Whether the action is a past-tense fact is checked where a
/// contract is written, by the derive and the codegen.
///
/// ```
/// use event_runtime::EventType;
/// let t = EventType::parse("course.published").unwrap();
/// assert_eq!(t.domain(), "course");
/// assert_eq!(t.action(), "published");
/// assert!(EventType::parse("CoursePublished").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventType(Cow<'static, str>);

impl EventType {
    /// Validates `name`.
    pub fn parse(name: impl Into<Cow<'static, str>>) -> Result<Self, EventTypeError> {
        let name = name.into();
        event_rules::naming::check_syntax(&name)?;
        Ok(EventType(name))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the dot.
    pub fn domain(&self) -> &str {
        self.0.split_once('.').map_or("", |(d, _)| d)
    }

    /// The part after the dot.
    pub fn action(&self) -> &str {
        self.0.split_once('.').map_or("", |(_, a)| a)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EventType {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for EventType {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for EventType {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
