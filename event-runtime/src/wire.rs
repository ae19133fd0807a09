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
