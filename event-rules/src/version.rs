//! `MAJOR.MINOR` version syntax.

/// Parses `MAJOR.MINOR`: two decimal numbers without sign or leading zeros,
/// joined by one `.`, with a major of at least 1.
///
/// ```
/// use event_rules::version::parse_version;
/// assert_eq!(parse_version("1.1"), Some((1, 1)));
/// assert_eq!(parse_version("2.10"), Some((2, 10)));
/// assert_eq!(parse_version("1"), None);
/// assert_eq!(parse_version("1.0.0"), None);
/// assert_eq!(parse_version("0.1"), None);
/// assert_eq!(parse_version("01.0"), None);
/// ```
pub fn parse_version(s: &str) -> Option<(u32, u32)> {
    let (major, minor) = s.split_once('.')?;
    let number = |part: &str| -> Option<u32> {
        if part.is_empty()
            || !part.bytes().all(|b| b.is_ascii_digit())
            || (part.len() > 1 && part.starts_with('0'))
        {
            return None;
        }
        part.parse().ok()
    };
    let major = number(major)?;
    let minor = number(minor)?;
    (major >= 1).then_some((major, minor))
}
