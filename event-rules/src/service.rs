//! Service names: the producer and consumers of an event, `domain-service`
//! style, lower-case kebab case (`enrollment-service`, `activity-log`).
//!
//! A service name becomes a Rust type name in the generated routing and a
//! file name (`<service>.json`) in the AsyncAPI output, so the rule is
//! deliberately narrow: lower-case ASCII letters and digits, words joined by
//! single hyphens. Nothing in it can be a path separator, a `..`, a drive
//! letter or a control character.

/// Longest accepted service name, in bytes: a DNS label's limit, so a name
/// fits a host name, a queue name and a file name alike.
pub const MAX_LEN: usize = 63;

/// Why a string is not a valid service name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceNameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_LEN`] bytes.
    TooLong(usize),
    /// The name does not start with a lower-case letter.
    BadStart(char),
    /// A character other than `a-z`, `0-9` and `-`.
    InvalidCharacter(char),
    /// Two hyphens in a row, or a hyphen at the end.
    BadHyphen,
}

impl core::fmt::Display for ServiceNameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ServiceNameError::Empty => f.write_str("service name is empty"),
            ServiceNameError::TooLong(n) => {
                write!(f, "service name is {n} bytes long, more than {MAX_LEN}")
            }
            ServiceNameError::BadStart(c) => {
                write!(
                    f,
                    "service name must start with a lower-case letter; found {c:?}"
                )
            }
            ServiceNameError::InvalidCharacter(c) => write!(
                f,
                "service name may only hold lower-case letters, digits and `-`; found {c:?}"
            ),
            ServiceNameError::BadHyphen => f.write_str(
                "service name must join its words with single hyphens, not start or end with one",
            ),
        }
    }
}

impl std::error::Error for ServiceNameError {}

/// Checks that `name` is a service name: lower-case ASCII letters and
/// digits, words joined by single hyphens, starting with a letter, at most
/// [`MAX_LEN`] bytes.
///
/// ```
/// use event_rules::service::{check_service_name, ServiceNameError};
/// assert!(check_service_name("enrollment-service").is_ok());
/// assert!(check_service_name("activity-log").is_ok());
/// assert_eq!(check_service_name("Shop Service"), Err(ServiceNameError::BadStart('S')));
/// assert_eq!(check_service_name("../../PWNED"), Err(ServiceNameError::BadStart('.')));
/// assert_eq!(check_service_name("shop_service"), Err(ServiceNameError::InvalidCharacter('_')));
/// ```
pub fn check_service_name(name: &str) -> Result<(), ServiceNameError> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(ServiceNameError::Empty),
        Some(c) if !c.is_ascii_lowercase() => return Err(ServiceNameError::BadStart(c)),
        Some(_) => {}
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(ServiceNameError::InvalidCharacter(c));
    }
    if name.len() > MAX_LEN {
        return Err(ServiceNameError::TooLong(name.len()));
    }
    if name.ends_with('-') || name.contains("--") {
        return Err(ServiceNameError::BadHyphen);
    }
    Ok(())
}

/// A valid service name close to `name`, for a hint: its ASCII words, lower
/// case, joined by hyphens (`Shop Service` -> `shop-service`,
/// `../../PWNED` -> `pwned`). `None` when `name` holds no ASCII letter to
/// build one from.
///
/// ```
/// use event_rules::service::suggest_service_name;
/// assert_eq!(suggest_service_name("Shop Service").as_deref(), Some("shop-service"));
/// assert_eq!(suggest_service_name("shop_service").as_deref(), Some("shop-service"));
/// assert_eq!(suggest_service_name("ShopService").as_deref(), Some("shop-service"));
/// assert_eq!(suggest_service_name("/etc/passwd").as_deref(), Some("etc-passwd"));
/// assert_eq!(suggest_service_name("../"), None);
/// ```
pub fn suggest_service_name(name: &str) -> Option<String> {
    use heck::ToKebabCase;
    let words: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let kebab = words.to_kebab_case();
    // A name must start with a letter: drop leading digits and hyphens.
    let start = kebab.find(|c: char| c.is_ascii_lowercase())?;
    let mut out = kebab[start..].to_string();
    if out.len() > MAX_LEN {
        out.truncate(MAX_LEN);
        while out.ends_with('-') {
            out.pop();
        }
    }
    check_service_name(&out).is_ok().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_catalog_names() {
        for name in [
            "enrollment-service",
            "activity-log",
            "search",
            "s3-archiver",
        ] {
            assert_eq!(check_service_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refuses_what_could_be_a_path() {
        for (name, err) in [
            ("", ServiceNameError::Empty),
            ("../../../../PWNED", ServiceNameError::BadStart('.')),
            ("/etc/passwd", ServiceNameError::BadStart('/')),
            ("shop/../x", ServiceNameError::InvalidCharacter('/')),
            ("shop\\x", ServiceNameError::InvalidCharacter('\\')),
            ("c:", ServiceNameError::InvalidCharacter(':')),
            ("shop\0", ServiceNameError::InvalidCharacter('\0')),
            ("shop.json", ServiceNameError::InvalidCharacter('.')),
            ("shop-", ServiceNameError::BadHyphen),
            ("shop--service", ServiceNameError::BadHyphen),
            ("-shop", ServiceNameError::BadStart('-')),
            ("1shop", ServiceNameError::BadStart('1')),
            ("shöp", ServiceNameError::InvalidCharacter('ö')),
        ] {
            assert_eq!(check_service_name(name), Err(err), "{name:?}");
        }
        let long = "a".repeat(MAX_LEN + 1);
        assert_eq!(
            check_service_name(&long),
            Err(ServiceNameError::TooLong(MAX_LEN + 1))
        );
        assert_eq!(check_service_name(&"a".repeat(MAX_LEN)), Ok(()));
    }

    #[test]
    fn suggestions_are_valid_names() {
        assert_eq!(
            suggest_service_name("../../../../PWNED").as_deref(),
            Some("pwned")
        );
        assert_eq!(
            suggest_service_name("Shop  Service").as_deref(),
            Some("shop-service")
        );
        assert_eq!(suggest_service_name("42-shop").as_deref(), Some("shop"));
        assert_eq!(suggest_service_name("日本"), None);
        let long = suggest_service_name(&"ab ".repeat(40)).unwrap();
        assert!(check_service_name(&long).is_ok(), "{long}");
    }
}
