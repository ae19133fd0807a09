//! `MAJOR.MINOR` event versions.

use core::fmt;
use core::str::FromStr;

/// The version of an event type's schema, `MAJOR.MINOR`, starting at `1.0`.
///
/// A minor bump only adds optional fields, so readers accept any minor of the
/// major they were built for; a different major is a different contract.
///
/// ```
/// use event_runtime::Version;
/// let v: Version = "1.2".parse().unwrap();
/// assert_eq!(v, Version::new(1, 2));
/// assert!(v.is_compatible_with(Version::new(1, 0)));
/// assert!(!v.is_compatible_with(Version::new(2, 0)));
/// assert!("1.2.3".parse::<Version>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    major: u32,
    minor: u32,
}

impl Version {
    /// `MAJOR.MINOR`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Version { major, minor }
    }

    /// The major version: readers refuse any other.
    pub const fn major(self) -> u32 {
        self.major
    }

    /// The minor version: readers accept any.
    pub const fn minor(self) -> u32 {
        self.minor
    }

    /// Whether a reader built for `self` reads events of `other`: same major.
    pub const fn is_compatible_with(self, other: Version) -> bool {
        self.major == other.major
    }

    /// Parses `MAJOR.MINOR` in a const context, for versions written in code.
    ///
    /// Returns `None` unless `s` is two decimal numbers without sign or leading
    /// zeros, joined by one `.`, with a major of at least 1.
    pub const fn parse_const(s: &str) -> Option<Version> {
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut major: u64 = 0;
        let mut minor: u64 = 0;
        let mut part = 0;
        let mut digits = 0;
        let mut leading_zero = false;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'.' {
                if part == 1 || digits == 0 {
                    return None;
                }
                part = 1;
                digits = 0;
                leading_zero = false;
            } else if b.is_ascii_digit() {
                if leading_zero {
                    return None;
                }
                if digits == 0 && b == b'0' {
                    leading_zero = true;
                }
                digits += 1;
                let d = (b - b'0') as u64;
                if part == 0 {
                    major = major * 10 + d;
                    if major > u32::MAX as u64 {
                        return None;
                    }
                } else {
                    minor = minor * 10 + d;
                    if minor > u32::MAX as u64 {
                        return None;
                    }
                }
            } else {
                return None;
            }
            i += 1;
        }
        if part != 1 || digits == 0 || major == 0 {
            return None;
        }
        Some(Version::new(major as u32, minor as u32))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` keeps width and alignment working, as `write!` did.
        let mut buf = [0u8; 21];
        f.pad(self.format_into(&mut buf))
    }
}

/// A string that is not `MAJOR.MINOR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseVersionError {
    input: String,
}

impl fmt::Display for ParseVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid version {:?}: expected `MAJOR.MINOR` such as `1.0`",
            self.input
        )
    }
}

impl std::error::Error for ParseVersionError {}

impl FromStr for Version {
    type Err = ParseVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse_const(s).ok_or_else(|| ParseVersionError {
            input: s.to_owned(),
        })
    }
}

impl Version {
    /// `MAJOR.MINOR` written into `buf` without the formatting machinery:
    /// every encoded envelope writes one.
    fn format_into(self, buf: &mut [u8; 21]) -> &str {
        let (mut major, mut minor) = (itoa::Buffer::new(), itoa::Buffer::new());
        let major = major.format(self.major).as_bytes();
        let minor = minor.format(self.minor).as_bytes();
        let dot = major.len();
        let end = dot + 1 + minor.len();
        buf[..dot].copy_from_slice(major);
        buf[dot] = b'.';
        buf[dot + 1..end].copy_from_slice(minor);
        // Digits and a dot: always UTF-8.
        std::str::from_utf8(&buf[..end]).unwrap_or_default()
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 21];
        serializer.serialize_str(self.format_into(&mut buf))
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = crate::decode::Str::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let a: Version = "1.9".parse().unwrap();
        let b: Version = "1.10".parse().unwrap();
        assert!(a < b);
        assert!(b < "2.0".parse().unwrap());
        assert_eq!(b.to_string(), "1.10");
    }

    #[test]
    fn serializes_as_its_display() {
        for v in [
            Version::new(1, 0),
            Version::new(12, 345),
            Version::new(u32::MAX, u32::MAX),
        ] {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{v}\""));
        }
    }

    #[test]
    fn refuses_what_is_not_major_minor() {
        for bad in [
            "",
            "1",
            "1.",
            ".1",
            "1.0.0",
            "v1.0",
            "0.1",
            "01.0",
            "1.01",
            "1,0",
            "-1.0",
            "1.-0",
            " 1.0",
            "99999999999.0",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad:?} was accepted");
        }
        assert_eq!("1.0".parse::<Version>().unwrap(), Version::new(1, 0));
        assert_eq!("10.0".parse::<Version>().unwrap(), Version::new(10, 0));
    }
}
