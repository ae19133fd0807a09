//! Event type names: `domain.action`, lower case, dot notation.

/// Why a string is not a syntactically valid event type name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxError {
    /// The name is empty.
    Empty,
    /// The name has no `.` between domain and action.
    MissingDot,
    /// The name has more than one `.`.
    TooManySegments,
    /// A segment is empty (`.published`, `course.`).
    EmptySegment,
    /// A character other than `a-z`, `0-9` and `_`, or a segment that does not
    /// start with a letter.
    InvalidCharacter(char),
}

impl core::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SyntaxError::Empty => f.write_str("event type name is empty"),
            SyntaxError::MissingDot => {
                f.write_str("event type name must be `domain.action` in dot notation")
            }
            SyntaxError::TooManySegments => {
                f.write_str("event type name must have exactly two segments, `domain.action`")
            }
            SyntaxError::EmptySegment => f.write_str("event type name has an empty segment"),
            SyntaxError::InvalidCharacter(c) => write!(
                f,
                "event type name may only hold lower-case letters, digits and `_`, each segment starting with a letter; found {c:?}"
            ),
        }
    }
}

impl std::error::Error for SyntaxError {}

/// Checks that `name` is `domain.action`: two non-empty segments of
/// lower-case ASCII letters, digits and `_`, each starting with a letter.
///
/// This is the syntax only; whether the action is a past-tense fact is a
/// separate, stricter rule that build-time tools apply to the types they own.
///
/// ```
/// use event_rules::naming::{check_syntax, SyntaxError};
/// assert!(check_syntax("enrollment.completed").is_ok());
/// assert_eq!(check_syntax("Enrollment.Completed"), Err(SyntaxError::InvalidCharacter('E')));
/// assert_eq!(check_syntax("enrollment"), Err(SyntaxError::MissingDot));
/// ```
pub fn check_syntax(name: &str) -> Result<(), SyntaxError> {
    if name.is_empty() {
        return Err(SyntaxError::Empty);
    }
    let mut segments = 0;
    for segment in name.split('.') {
        segments += 1;
        let mut chars = segment.chars();
        match chars.next() {
            None => return Err(SyntaxError::EmptySegment),
            Some(c) if !c.is_ascii_lowercase() => return Err(SyntaxError::InvalidCharacter(c)),
            Some(_) => {}
        }
        if let Some(c) =
            chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(SyntaxError::InvalidCharacter(c));
        }
    }
    match segments {
        1 => Err(SyntaxError::MissingDot),
        2 => Ok(()),
        _ => Err(SyntaxError::TooManySegments),
    }
}
