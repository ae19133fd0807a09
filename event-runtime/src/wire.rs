//! Wire formats the derives apply without a `#[serde(with)]` from the user:
//! RFC 3339 date-times and `YYYY-MM-DD` dates, also inside `Option` and
//! `Vec`. Not public API; generated code names these modules.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime};

pub use time::serde::rfc3339;

time::serde::format_description!(iso_date_format, Date, "[year]-[month]-[day]");

/// `time::Date` as `YYYY-MM-DD`; `date::option` for `Option<Date>`.
pub mod date {
    pub use super::iso_date_format::{deserialize, option, serialize};
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Rfc3339(#[serde(with = "rfc3339")] OffsetDateTime);

#[derive(Serialize)]
#[serde(transparent)]
struct Rfc3339Ref<'a>(#[serde(with = "rfc3339")] &'a OffsetDateTime);

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct IsoDate(#[serde(with = "iso_date_format")] Date);

/// `Vec<OffsetDateTime>` as an array of RFC 3339 strings.
pub mod rfc3339_vec {
    use super::*;

    /// Writes each element as RFC 3339.
    pub fn serialize<S: Serializer>(value: &[OffsetDateTime], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(value.iter().map(Rfc3339Ref))
    }

    /// Reads an array of RFC 3339 strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OffsetDateTime>, D::Error> {
        let items: Vec<Rfc3339> = Vec::deserialize(d)?;
        Ok(items.into_iter().map(|v| v.0).collect())
    }
}

/// `Vec<Date>` as an array of `YYYY-MM-DD` strings.
pub mod date_vec {
    use super::*;

    /// Writes each element as `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(value: &[Date], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(value.iter().map(|v| IsoDate(*v)))
    }

    /// Reads an array of `YYYY-MM-DD` strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Date>, D::Error> {
        let items: Vec<IsoDate> = Vec::deserialize(d)?;
        Ok(items.into_iter().map(|v| v.0).collect())
    }
}

/// The check of one element of a constrained array.
pub type ElementCheck<T> = fn(&T) -> crate::validate::Check;

struct CheckedElement<T>(ElementCheck<T>, core::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> serde::de::DeserializeSeed<'de> for CheckedElement<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        let value = T::deserialize(d)?;
        (self.0)(&value).map_err(serde::de::Error::custom)?;
        Ok(value)
    }
}

struct CheckedSeq<T>(ElementCheck<T>);

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for CheckedSeq<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // As serde does: trust the size hint only so far.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(value) =
            seq.next_element_seed(CheckedElement(self.0, core::marker::PhantomData))?
        {
            out.push(value);
        }
        Ok(out)
    }
}

/// Reads a `Vec<T>`, checking each element as it is read, so that a
/// violation fails at the element's path (`tags[1]`).
pub fn checked_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    check: ElementCheck<T>,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(CheckedSeq(check))
}

struct CheckedOptionSeq<T>(ElementCheck<T>);

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for CheckedOptionSeq<T> {
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("an array or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        checked_vec(d, self.0).map(Some)
    }
}

/// [`checked_vec`] for an `Option<Vec<T>>`: `null` is `None`.
pub fn checked_option_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    check: ElementCheck<T>,
) -> Result<Option<Vec<T>>, D::Error> {
    d.deserialize_option(CheckedOptionSeq(check))
}

/// A date-time as a part of a natural idempotency key or a partition key:
/// RFC 3339 in UTC, so one instant gives one key whatever offset a producer
/// wrote it with. (`Display` would write `2026-03-27 10:30:00.0 +02:00:00`,
/// a different key for the same instant at another offset.)
pub fn key_datetime(value: &OffsetDateTime) -> String {
    let utc = value.to_offset(time::UtcOffset::UTC);
    utc.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| utc.unix_timestamp_nanos().to_string())
}
