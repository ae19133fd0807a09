//! Wire formats the derives apply without a `#[serde(with)]` from the user:
//! RFC 3339 date-times and `YYYY-MM-DD` dates, also inside `Option` and
//! `Vec`. Not public API; generated code names these modules.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime};

/// `OffsetDateTime` as RFC 3339; `rfc3339::option` for
/// `Option<OffsetDateTime>`. A leap second (`23:59:60`) is refused: `time`
/// would read it as `23:59:59.999999999`, a different instant written back.
pub mod rfc3339 {
    use super::*;

    /// Writes RFC 3339.
    pub fn serialize<S: Serializer>(value: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(value, s)
    }

    /// Reads RFC 3339 with an offset; refuses a leap second.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = crate::decode::Str::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    pub(crate) fn parse(text: &str) -> Result<OffsetDateTime, String> {
        if is_leap_second(text) {
            return Err(format!(
                "a leap second ({text:?}) has no exact representation and is refused rather than moved"
            ));
        }
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map_err(|e| e.to_string())
    }

    /// `Option<OffsetDateTime>` as RFC 3339 or `null`.
    pub mod option {
        use super::*;

        /// Writes RFC 3339 or `null`.
        pub fn serialize<S: Serializer>(
            value: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            time::serde::rfc3339::option::serialize(value, s)
        }

        /// Reads RFC 3339 or `null`; refuses a leap second.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            match Option::<crate::decode::Str<'de>>::deserialize(d)? {
                None => Ok(None),
                Some(text) => parse(&text).map(Some).map_err(serde::de::Error::custom),
            }
        }
    }

    /// An `Option<OffsetDateTime>` that may be missing but not `null`
    /// (`#[event(non_null)]`): RFC 3339, or a missing field.
    pub mod present {
        use super::*;

        /// Writes RFC 3339; a `None` is skipped by the field, never written.
        pub fn serialize<S: Serializer>(
            value: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            option::serialize(value, s)
        }

        /// Reads RFC 3339 and refuses `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            option::deserialize(NonNull(d))
        }
    }

    /// `Option<Option<OffsetDateTime>>`: missing (the outer `None`, never
    /// written), `null` (`Some(None)`) or RFC 3339.
    pub mod double_option {
        use super::*;

        /// Writes RFC 3339 or `null`.
        pub fn serialize<S: Serializer>(
            value: &Option<Option<OffsetDateTime>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(inner) => super::option::serialize(inner, s),
                None => s.serialize_none(),
            }
        }

        /// Reads RFC 3339 or `null`, which is `Some(None)`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
            super::option::deserialize(d).map(Some)
        }
    }
}

/// Whether an RFC 3339 date-time names a leap second: `60` in the seconds
/// place (`2016-12-31T23:59:60Z`).
pub fn is_leap_second(text: &str) -> bool {
    text.as_bytes().get(16) == Some(&b':') && text.get(17..19) == Some("60")
}

time::serde::format_description!(iso_date_format, Date, "[year]-[month]-[day]");

/// `time::Date` as `YYYY-MM-DD`; `date::option` for `Option<Date>`,
/// `date::double_option` for `Option<Option<Date>>`.
pub mod date {
    pub use super::iso_date_format::{deserialize, option, serialize};

    /// An `Option<Date>` that may be missing but not `null`
    /// (`#[event(non_null)]`).
    pub mod present {
        use super::super::*;

        /// Writes `YYYY-MM-DD`; a `None` is skipped by the field.
        pub fn serialize<S: Serializer>(value: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
            iso_date_format::option::serialize(value, s)
        }

        /// Reads `YYYY-MM-DD` and refuses `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
            iso_date_format::option::deserialize(NonNull(d))
        }
    }

    /// `Option<Option<Date>>`: missing, `null` (`Some(None)`) or a date.
    pub mod double_option {
        use super::super::*;

        /// Writes `YYYY-MM-DD` or `null`.
        pub fn serialize<S: Serializer>(
            value: &Option<Option<Date>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(inner) => iso_date_format::option::serialize(inner, s),
                None => s.serialize_none(),
            }
        }

        /// Reads `YYYY-MM-DD` or `null`, which is `Some(None)`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Option<Date>>, D::Error> {
            iso_date_format::option::deserialize(d).map(Some)
        }
    }
}

/// An `Option<Option<T>>` field: `null` is `Some(None)`, so that a present
/// `null` and a missing field (`None`, through `#[serde(default)]`) stay
/// apart and are written back as they were read.
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An `Option<T>` field whose `T` reads `null` itself (`()`): present is
/// `Some`, whatever the value.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// An `#[event(required)]` `Option<T>` field: `null` is `None`, and, read
/// through `deserialize_with`, a missing field is an error rather than
/// `None`.
pub fn required_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// Floating-point field shapes written with [`float`].
pub trait Floats {
    /// Writes the value, a whole number as an integer.
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

/// The largest magnitude below which every whole `f64` is exact.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl Floats for f64 {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = *self;
        if v.fract() == 0.0 && v.abs() <= EXACT && !(v == 0.0 && v.is_sign_negative()) {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

impl Floats for f32 {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        f64::from(*self).write(s)
    }
}

struct Whole<'a, T: ?Sized>(&'a T);

impl<T: Floats + ?Sized> Serialize for Whole<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.write(s)
    }
}

impl<T: Floats> Floats for Option<T> {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => s.serialize_some(&Whole(v)),
            None => s.serialize_none(),
        }
    }
}

impl<T: Floats> Floats for Vec<T> {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Whole))
    }
}

/// Writes a float field (`f64`, in an `Option` or a `Vec`), a whole number
/// as an integer: a payload that said `39652351` in a `number` field reads
/// back as `39652351`, not `39652351.0`. Within ±2^53 every whole `f64` is
/// exact, so the number is the same; beyond, and for `-0.0`, it stays a
/// float.
pub fn float<T: Floats, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    value.write(s)
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

/// A decoded field value checked by `check`, the check's error as the
/// deserializer's own (`custom`), so that the decode path names the field.
/// The derive's per-field decoders are one call to this: the reading and
/// the checking are written once here, not once per field.
#[doc(hidden)]
pub fn checked<T, E: serde::de::Error>(
    read: Result<T, E>,
    check: fn(&T) -> crate::validate::Check,
) -> Result<T, E> {
    let value = read?;
    match check(&value) {
        Ok(()) => Ok(value),
        Err(e) => Err(E::custom(e)),
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

/// The version tag that starts a composite natural key.
pub const COMPOSITE_KEY_VERSION: &str = "v2";

/// A natural key of several `#[event(key)]` fields, in one string that no
/// other list of parts gives: `v2` then, per part, `|`, its length in bytes,
/// `:` and the part (`["a:b", "c"]` is `v2|3:a:b|1:c`, `["a", "b:c"]` is
/// `v2|1:a|3:b:c`).
///
/// Version 1 joined the parts with `:`, so `["a:b", "c"]` and `["a", "b:c"]`
/// were one key and the second event was dropped as a duplicate. The `v2`
/// tag keeps a key of the new format from being read as an old one: an old
/// key starts with the first part's text, never with `v2|` and a length.
pub fn composite_key(parts: &[String]) -> String {
    use core::fmt::Write as _;
    let len = parts.iter().map(|p| p.len() + 8).sum::<usize>() + 2;
    let mut key = String::with_capacity(len);
    key.push_str(COMPOSITE_KEY_VERSION);
    for part in parts {
        // Writing to a String cannot fail.
        let _ = write!(key, "|{}:", part.len());
        key.push_str(part);
    }
    key
}

pub mod members;

/// The deserializer a derived struct reads through: a JSON object only.
///
/// serde's derived `Deserialize` for a struct also accepts an array, its
/// fields by position (`["enr_1", "usr_1"]`). An event payload is an object
/// with named fields; an array is a malformed payload, refused as
/// `invalid type: sequence, expected struct X`.
pub struct ObjectOnly<D>(pub D);

/// The visitor of [`ObjectOnly`]: the struct's own, with sequences refused
/// and the members read through [`CheckedMap`].
struct NoSeq<V>(V);

impl<'de, V: serde::de::Visitor<'de>> serde::de::Visitor<'de> for NoSeq<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(CheckedMap(map))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<V::Value, A::Error> {
        Err(serde::de::Error::invalid_type(
            serde::de::Unexpected::Seq,
            &self,
        ))
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(NoSeq(v))
    }

    fn deserialize_map<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(NoSeq(v))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, NoSeq(v))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct enum identifier ignored_any
    }
}

/// The members of a derived struct. serde skips an unknown member with
/// `IgnoredAny`, which does not check that it is JSON (invalid UTF-8, a
/// lone surrogate, `1e400` pass); here a skipped value is read in full, as
/// the preserving decoder reads it, so both decoders refuse the same bytes.
struct CheckedMap<A>(A);

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for CheckedMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(CheckedSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct CheckedSeed<S>(S);

impl<'de, S: serde::de::DeserializeSeed<'de>> serde::de::DeserializeSeed<'de> for CheckedSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(CheckedSkip(d))
    }
}

/// A member's deserializer: every request goes to the real one, except a
/// skip, which reads the value in full first.
struct CheckedSkip<D>(D);

macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for CheckedSkip<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16
        deserialize_i32 deserialize_i64 deserialize_i128 deserialize_u8
        deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, v)
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, v)
    }

    fn deserialize_tuple<V: serde::de::Visitor<'de>>(
        self,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, v)
    }

    fn deserialize_tuple_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, v)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, v)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, v)
    }

    fn deserialize_ignored_any<V: serde::de::Visitor<'de>>(
        self,
        v: V,
    ) -> Result<V::Value, D::Error> {
        crate::decode::ValidJson::deserialize(self.0)?;
        v.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A `serde_json::Value` field of a derived struct: a key repeated in any
/// object in it is refused (`duplicate key `k``), where `Value` keeps the
/// last one.
pub fn strict_value<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    crate::decode::StrictValue::deserialize(d).map(|v| v.0)
}

/// [`strict_value`] for an `Option<Value>`: a missing member or `null` is
/// `None`.
pub fn strict_option_value<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    match crate::decode::StrictValue::deserialize(d)?.0 {
        serde_json::Value::Null => Ok(None),
        value => Ok(Some(value)),
    }
}

/// [`strict_value`] for an `#[event(non_null)]` `Option<Value>`: a present
/// `null` is `Some(Value::Null)`, kept and written back; only a missing
/// member is `None`.
pub fn strict_present_value<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    crate::decode::StrictValue::deserialize(d).map(|v| Some(v.0))
}

/// [`strict_value`] for a `Map<String, Value>` field.
pub fn strict_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error> {
    match crate::decode::StrictValue::deserialize(d)?.0 {
        serde_json::Value::Object(map) => Ok(map),
        other => Err(serde::de::Error::invalid_type(
            unexpected(&other),
            &"a JSON object",
        )),
    }
}

fn unexpected(value: &serde_json::Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match value {
        serde_json::Value::Null => Unexpected::Unit,
        serde_json::Value::Bool(b) => Unexpected::Bool(*b),
        serde_json::Value::Number(_) => Unexpected::Other("number"),
        serde_json::Value::String(s) => Unexpected::Str(s),
        serde_json::Value::Array(_) => Unexpected::Seq,
        serde_json::Value::Object(_) => Unexpected::Map,
    }
}

/// One alternative of an untagged union: the variant's name and how it
/// reads a value.
pub type Alternative<T> = (
    &'static str,
    fn(&serde_json::Value) -> Result<T, serde_json::Error>,
);

thread_local! {
    /// How many unions up the stack are reading their alternatives
    /// exactly ([`exact`]).
    static EXACT_READS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// How many unions up the stack are reading their alternatives, in
    /// either pass ([`in_union`]).
    static UNION_READS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// How many unions this thread has read in their tolerant pass
    /// ([`tolerant_reads`]).
    static TOLERANT_READS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many untagged unions this thread has read only in their tolerant
/// pass ([`union`]): a value no alternative read exactly, which one read
/// keeping an unknown enum value or member. Compare it before and after a
/// decode to tell whether the value was read as the schema says or as a
/// newer version of it.
pub fn tolerant_reads() -> u64 {
    TOLERANT_READS.with(std::cell::Cell::get)
}

/// Whether the value being read is an alternative of a union read exactly:
/// then an open enum refuses a value it does not list instead of keeping
/// it ([`union`]). Generated and derived code asks only on its tolerant
/// path, so a known value costs nothing.
#[doc(hidden)]
pub fn exact() -> bool {
    EXACT_READS.with(|depth| depth.get() > 0)
}

/// Whether the value being read is an alternative of a union, in either
/// pass: then an open enum of one value refuses every other value, exact
/// or tolerant, as a `const` does ([`union`]).
#[doc(hidden)]
pub fn in_union() -> bool {
    UNION_READS.with(|depth| depth.get() > 0)
}

/// Marks the reads on this thread as alternatives of a union while it
/// lives; a panic that unwinds through a read unmarks them too.
struct InUnion;

impl InUnion {
    fn new() -> InUnion {
        UNION_READS.with(|depth| depth.set(depth.get() + 1));
        InUnion
    }
}

impl Drop for InUnion {
    fn drop(&mut self) {
        UNION_READS.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// The check of a closed object's `unknown` field (`#[event(unknown,
/// closed)]`): empty, or a read that is not exact. In every read, the
/// check is [`validate::closed`](crate::validate::closed).
#[doc(hidden)]
pub fn closed<M: UnknownNames + ?Sized>(unknown: &M) -> Result<(), String> {
    if !exact() {
        return Ok(());
    }
    crate::validate::closed(unknown, None).map_err(|e| e.to_string())
}

/// [`closed`] for an object whose schema allows some members beside its
/// fields (`#[event(unknown, closed = "Self::__allowed")]`): those that
/// match its `patternProperties`. In a read that is exact, the `unknown`
/// field holds only members `allowed` accepts.
#[doc(hidden)]
pub fn closed_except<M: UnknownNames + ?Sized>(
    unknown: &M,
    allowed: fn(&str) -> bool,
) -> Result<(), String> {
    if !exact() {
        return Ok(());
    }
    crate::validate::closed(unknown, Some(allowed)).map_err(|e| e.to_string())
}

/// The maps an `unknown` field may be: the first name of a property it
/// holds that `pick` accepts.
#[doc(hidden)]
pub trait UnknownNames {
    fn find_name(&self, pick: &dyn Fn(&str) -> bool) -> Option<&str>;
}

impl UnknownNames for serde_json::Map<String, serde_json::Value> {
    fn find_name(&self, pick: &dyn Fn(&str) -> bool) -> Option<&str> {
        self.keys().map(String::as_str).find(|k| pick(k))
    }
}

impl<V> UnknownNames for std::collections::BTreeMap<String, V> {
    fn find_name(&self, pick: &dyn Fn(&str) -> bool) -> Option<&str> {
        self.keys().map(String::as_str).find(|k| pick(k))
    }
}

impl<V, S> UnknownNames for std::collections::HashMap<String, V, S> {
    fn find_name(&self, pick: &dyn Fn(&str) -> bool) -> Option<&str> {
        self.keys().map(String::as_str).find(|k| pick(k))
    }
}

/// Marks the reads on this thread as exact while it lives; a panic that
/// unwinds through a read unmarks them too.
struct Exactly;

impl Exactly {
    fn new() -> Exactly {
        EXACT_READS.with(|depth| depth.set(depth.get() + 1));
        Exactly
    }
}

impl Drop for Exactly {
    fn drop(&mut self) {
        EXACT_READS.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// What one alternative of an untagged union names at its top, for the
/// tolerant pass of [`union_named`]: the properties of the object it reads
/// (for a union of objects, those of any of its alternatives), and for
/// each property whose value is an `enum` of strings in every alternative
/// that names it, the values listed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Names {
    pub properties: &'static [&'static str],
    pub values: &'static [(&'static str, &'static [&'static str])],
}

/// What one pass over the alternatives found.
enum Pick<T> {
    One(T),
    /// Two alternatives of a `oneOf` read the value (the message).
    Two(String),
    /// None did; why each refused.
    None(Vec<String>),
}

fn pick<T>(
    keyword: &str,
    value: &serde_json::Value,
    alternatives: &[Alternative<T>],
    names: Option<&[Names]>,
) -> Pick<T> {
    let exclusive = keyword == "oneOf";
    let mut found: Option<(&str, T)> = None;
    let mut refused = Vec::new();
    for (i, (name, read)) in alternatives.iter().enumerate() {
        match read(value) {
            Ok(v) => {
                if let Some(why) = names.and_then(|n| claimed(i, value, alternatives, n)) {
                    refused.push(format!("`{name}`: {why}"));
                    continue;
                }
                if !exclusive {
                    return Pick::One(v);
                }
                if let Some((first, _)) = &found {
                    return Pick::Two(format!(
                        "the value matches more than one alternative of `{keyword}` (`{first}` and `{name}`); exactly one must match"
                    ));
                }
                found = Some((name, v));
            }
            Err(e) => refused.push(format!("`{name}`: {e}")),
        }
    }
    match found {
        Some((_, v)) => Pick::One(v),
        None => Pick::None(refused),
    }
}

/// Why alternative `i`, which read `value` only tolerantly, must not take
/// it: a property it does not name, or a value its `enum` does not list,
/// is one another alternative names. What it kept as unknown is then what
/// makes the value another alternative, not what a newer version of this
/// one would add.
fn claimed<T>(
    i: usize,
    value: &serde_json::Value,
    alternatives: &[Alternative<T>],
    names: &[Names],
) -> Option<String> {
    let object = value.as_object()?;
    let own = names.get(i)?;
    let others = || {
        names
            .iter()
            .zip(alternatives)
            .enumerate()
            .filter(move |(j, _)| *j != i)
            .map(|(_, (n, (name, _)))| (n, *name))
    };
    for (key, member) in object {
        if !own.properties.contains(&key.as_str()) {
            if let Some((_, other)) = others().find(|(n, _)| n.properties.contains(&key.as_str())) {
                return Some(format!(
                    "read only tolerantly, it would keep property `{key}` as unknown, which `{other}` names"
                ));
            }
            continue;
        }
        let Some(text) = member.as_str() else {
            continue;
        };
        let Some((_, listed)) = own.values.iter().find(|(p, _)| *p == key) else {
            continue;
        };
        if listed.contains(&text) {
            continue;
        }
        let lists = |n: &Names| n.values.iter().any(|(p, l)| *p == key && l.contains(&text));
        if let Some((_, other)) = others().find(|(n, _)| lists(n)) {
            return Some(format!(
                "read only tolerantly, it would keep `{key}: {text:?}` as a value its `enum` does not list, which `{other}` lists"
            ));
        }
    }
    None
}

/// Reads an untagged union (`oneOf` / `anyOf` without a discriminator)
/// from its value: every alternative is tried as the same schema would be
/// read as a struct field (a `date-time` as RFC 3339, a struct with its
/// constraints). `anyOf` takes the first alternative that reads the value;
/// `oneOf` takes the one that does and refuses a value that two read, as
/// JSON Schema says (`oneOf` is valid when exactly one alternative is).
///
/// The alternatives are read exactly first: an open enum inside them
/// refuses a value it does not list, as JSON Schema's `enum` does, so that
/// `{"action": "opened"}` matches the alternative whose `action` lists
/// `opened` and not every other one whose open enum would keep it. Only
/// when no alternative reads the value exactly is it read tolerantly
/// (unknown enum values kept, closed objects keeping unknown members),
/// with the same rules; a union inside an exact read stays exact. In both
/// passes an open enum of one value refuses every other value, as the
/// `const` it is ([`in_union`]).
pub fn union<T>(
    keyword: &str,
    value: &serde_json::Value,
    alternatives: &[Alternative<T>],
) -> Result<T, String> {
    read_union(keyword, value, alternatives, None)
}

/// [`union`], told what each alternative names at its top
/// (`names[i]` for `alternatives[i]`). Then the tolerant pass does not let
/// an alternative take a value by keeping as unknown a property that
/// another alternative names, or a value of a property's `enum` that
/// another alternative lists: `{"action": "opened", "issue": {..}}` that
/// the issue alternative refuses (a required member missing) is not read
/// as the alternative that names neither `issue` nor `opened`. What no
/// alternative names (a member a newer version added) is still kept.
pub fn union_named<T>(
    keyword: &str,
    value: &serde_json::Value,
    alternatives: &[Alternative<T>],
    names: &[Names],
) -> Result<T, String> {
    read_union(keyword, value, alternatives, Some(names))
}

fn read_union<T>(
    keyword: &str,
    value: &serde_json::Value,
    alternatives: &[Alternative<T>],
    names: Option<&[Names]>,
) -> Result<T, String> {
    let nested = exact();
    let _in_union = InUnion::new();
    let exactly = {
        let _exact = Exactly::new();
        pick(keyword, value, alternatives, None)
    };
    let refused = match exactly {
        Pick::One(v) => return Ok(v),
        Pick::Two(message) => return Err(message),
        Pick::None(refused) if nested => refused,
        Pick::None(_) => match pick(keyword, value, alternatives, names) {
            Pick::One(v) => {
                TOLERANT_READS.with(|n| n.set(n.get() + 1));
                return Ok(v);
            }
            Pick::Two(message) => return Err(message),
            Pick::None(refused) => refused,
        },
    };
    Err(format!(
        "the value matches no alternative of `{keyword}` ({})",
        closest(value, refused, names)
    ))
}

/// How many alternatives' reasons a refusal lists, at most, when it can
/// tell which are the closest.
const LISTED: usize = 3;

/// The reasons of a refusal, one per alternative: every one for a small
/// union; for a larger one told what its alternatives name, those of the
/// [`LISTED`] alternatives that name the most of the value's members
/// (a member named counts one, a value its `enum` lists one more), in the
/// union's order, and how many more refused it. A catalog's root `oneOf`
/// of every event refuses a payload with the reasons of the events it
/// resembles, not of all of them.
fn closest(value: &serde_json::Value, refused: Vec<String>, names: Option<&[Names]>) -> String {
    let (Some(names), Some(object)) = (names, value.as_object()) else {
        return refused.join("; ");
    };
    if refused.len() <= LISTED + 1 || names.len() != refused.len() {
        return refused.join("; ");
    }
    let score = |n: &Names| -> usize {
        object
            .iter()
            .map(|(key, member)| {
                if !n.properties.contains(&key.as_str()) {
                    return 0;
                }
                let listed = member.as_str().is_some_and(|text| {
                    n.values
                        .iter()
                        .any(|(p, values)| *p == key && values.contains(&text))
                });
                1 + usize::from(listed)
            })
            .sum()
    };
    let mut ranked: Vec<(usize, usize)> = names.iter().map(score).enumerate().collect();
    // Highest score first; among equals, the union's order.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut shown: Vec<usize> = ranked.iter().take(LISTED).map(|(i, _)| *i).collect();
    shown.sort_unstable();
    let mut listed: Vec<&str> = shown.iter().map(|i| refused[*i].as_str()).collect();
    let more = format!(
        "and {} more alternatives, which name fewer of its members",
        refused.len() - shown.len()
    );
    listed.push(&more);
    listed.join("; ")
}

/// A deserializer that reads an integer as JSON Schema's `integer` does:
/// a number with no fractional part is one, written `1` or `1.0` (or
/// `1e2`). A whole `f64` within ±2^53, where every integer is exact, is
/// handed to the visitor as that integer; anything else (`1.5`, `1e300`)
/// reaches the visitor as read, and an integer's visitor refuses it. It
/// reaches into `Option`s, arrays and map values, so it reads any shape of
/// integers. Generated code wraps the reads of its `integer` fields, union
/// variants and newtypes in it (`#[event(integer)]`); a plain integer is
/// read as without it, by the same visitor.
pub struct Integer<D>(pub D);

/// Reads `T` through [`Integer`], for `#[serde(deserialize_with)]` and the
/// reads of generated code.
pub fn integer<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(Integer(d))
}

struct IntegerVisitor<V>(V);

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: serde::de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, V: serde::de::Visitor<'de>> serde::de::Visitor<'de> for IntegerVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_i128(i128), visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_u128(u128), visit_char(char), visit_str(&str), visit_borrowed_str(&'de str),
        visit_string(String), visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    }

    fn visit_f32<E: serde::de::Error>(self, v: f32) -> Result<V::Value, E> {
        self.visit_f64(f64::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<V::Value, E> {
        if v.fract() == 0.0 && v.abs() <= EXACT {
            if v >= 0.0 {
                self.0.visit_u64(v as u64)
            } else {
                self.0.visit_i64(v as i64)
            }
        } else {
            self.0.visit_f64(v)
        }
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Integer(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Integer(d))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(IntegerSeq(seq))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(IntegerMap(map))
    }

    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, e: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(e)
    }
}

/// The elements of an array, each read through [`Integer`].
struct IntegerSeq<A>(A);

impl<'de, A: serde::de::SeqAccess<'de>> serde::de::SeqAccess<'de> for IntegerSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(IntegerSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// The values of a map, each read through [`Integer`]; the keys as read.
struct IntegerMap<A>(A);

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for IntegerMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(IntegerSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct IntegerSeed<S>(S);

impl<'de, S: serde::de::DeserializeSeed<'de>> serde::de::DeserializeSeed<'de> for IntegerSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Integer(d))
    }
}

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
                self.0.$method(IntegerVisitor(v))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Integer<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any, deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32,
        deserialize_i64, deserialize_i128, deserialize_u8, deserialize_u16, deserialize_u32,
        deserialize_u64, deserialize_u128, deserialize_f32, deserialize_f64, deserialize_char,
        deserialize_str, deserialize_string, deserialize_bytes, deserialize_byte_buf,
        deserialize_option, deserialize_unit, deserialize_seq, deserialize_map,
        deserialize_identifier, deserialize_ignored_any,
    }

    fn deserialize_unit_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, IntegerVisitor(v))
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, IntegerVisitor(v))
    }

    fn deserialize_tuple<V: serde::de::Visitor<'de>>(
        self,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, IntegerVisitor(v))
    }

    fn deserialize_tuple_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_tuple_struct(name, len, IntegerVisitor(v))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, IntegerVisitor(v))
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, IntegerVisitor(v))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A deserializer that reads an `Option<T>` as a `T` that is there: a
/// present `null` reaches `T`, which refuses it unless it reads `null`
/// itself. Every other read is passed through unchanged. Generated code
/// reads the optional fields of a shared definition whose schema does not
/// allow `null` through it (`#[event(non_null)]`): a missing field is
/// `None`, a `null` is refused, as the schema says, rather than read as
/// missing and written back as missing.
pub struct NonNull<D>(pub D);

macro_rules! pass_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for NonNull<D> {
    type Error = D::Error;

    pass_deserialize! {
        deserialize_any, deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32,
        deserialize_i64, deserialize_i128, deserialize_u8, deserialize_u16, deserialize_u32,
        deserialize_u64, deserialize_u128, deserialize_f32, deserialize_f64, deserialize_char,
        deserialize_str, deserialize_string, deserialize_bytes, deserialize_byte_buf,
        deserialize_unit, deserialize_seq, deserialize_map, deserialize_identifier,
        deserialize_ignored_any,
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        v.visit_some(self.0)
    }

    fn deserialize_unit_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, v)
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, v)
    }

    fn deserialize_tuple<V: serde::de::Visitor<'de>>(
        self,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, v)
    }

    fn deserialize_tuple_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, v)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, v)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, v)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

#[cfg(test)]
mod non_null_tests {
    use super::NonNull;
    use serde::Deserialize;

    fn read<T: for<'de> Deserialize<'de>>(text: &str) -> Result<Option<T>, String> {
        let mut d = serde_json::Deserializer::from_str(text);
        Option::<T>::deserialize(NonNull(&mut d)).map_err(|e| e.to_string())
    }

    #[test]
    fn a_null_reaches_the_type_and_a_value_is_some() {
        assert_eq!(read::<String>("\"a\""), Ok(Some("a".to_owned())));
        let refused = read::<String>("null").unwrap_err();
        assert!(
            refused.contains("invalid type: null, expected a string"),
            "{refused}"
        );
        assert!(read::<u8>("null").is_err());
        // A type that reads `null` itself still does.
        assert_eq!(read::<()>("null"), Ok(Some(())));
        assert_eq!(
            read::<serde_json::Value>("null"),
            Ok(Some(serde_json::Value::Null))
        );
    }

    #[test]
    fn dates_refuse_null_and_read_a_value() {
        let mut d = serde_json::Deserializer::from_str("null");
        assert!(super::rfc3339::present::deserialize(&mut d).is_err());
        let mut d = serde_json::Deserializer::from_str("\"2026-12-02T10:00:00Z\"");
        assert!(
            super::rfc3339::present::deserialize(&mut d)
                .unwrap()
                .is_some()
        );
        let mut d = serde_json::Deserializer::from_str("null");
        assert!(super::date::present::deserialize(&mut d).is_err());
        let mut d = serde_json::Deserializer::from_str("\"2026-12-02\"");
        assert!(super::date::present::deserialize(&mut d).unwrap().is_some());
    }
}

#[cfg(test)]
mod integer_tests {
    use super::integer;
    use serde::de::DeserializeOwned;

    fn read<T: DeserializeOwned>(text: &str) -> Result<T, String> {
        let mut d = serde_json::Deserializer::from_str(text);
        integer(&mut d).map_err(|e| e.to_string())
    }

    #[test]
    fn a_whole_number_with_a_fraction_is_an_integer_and_no_other_is() {
        assert_eq!(read::<i64>("3.0"), Ok(3));
        assert_eq!(read::<i64>("-3.0"), Ok(-3));
        assert_eq!(read::<i64>("7"), Ok(7));
        assert_eq!(read::<u8>("255.0"), Ok(255));
        // The integer type's own range still applies.
        assert!(read::<u8>("256.0").is_err());
        assert!(read::<u8>("-1.0").is_err());
        assert!(read::<i64>("3.5").is_err());
        assert!(read::<i64>("1e300").is_err());
        // Within 2^53 every whole `f64` is the integer written; beyond, a
        // decimal may have been rounded to it, and is refused.
        assert_eq!(read::<u64>("9007199254740992.0"), Ok(9_007_199_254_740_992));
        assert!(read::<u64>("9007199254740994.0").is_err());
        assert_eq!(read::<Option<Vec<i32>>>("[1, 2.0]"), Ok(Some(vec![1, 2])));
        assert_eq!(read::<Option<i32>>("null"), Ok(None));
        // Read without it, an integer is serde's.
        assert!(serde_json::from_str::<i64>("3.0").is_err());
    }
}

#[cfg(test)]
mod union_tests {
    use super::{Alternative, Names, closed, exact, in_union, tolerant_reads, union, union_named};
    use serde_json::{Map, Value, json};

    /// An object alternative as generated code reads one: `action` an open
    /// enum of the values listed, the other members named and required, the rest kept
    /// as unknown and refused by a closed object in an exact read.
    fn object(
        value: &Value,
        actions: &[&str],
        members: &[&str],
    ) -> Result<(String, Map<String, Value>), serde_json::Error> {
        use serde::de::Error;
        let object = value
            .as_object()
            .ok_or_else(|| serde_json::Error::custom("not an object"))?;
        let action = object
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| serde_json::Error::missing_field("action"))?;
        // What the derived open enum does: exact reads refuse an unlisted
        // value, and an enum of one value refuses it in any union read.
        let refuse = if actions.len() == 1 {
            in_union()
        } else {
            exact()
        };
        if let Some(missing) = members.iter().find(|m| !object.contains_key(**m)) {
            return Err(serde_json::Error::custom(format!(
                "missing field `{missing}`"
            )));
        }
        if !actions.contains(&action) && refuse {
            return Err(serde_json::Error::unknown_variant(action, &[]));
        }
        let unknown: Map<String, Value> = object
            .iter()
            .filter(|(k, _)| *k != "action" && !members.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        closed(&unknown).map_err(serde_json::Error::custom)?;
        Ok((action.to_string(), unknown))
    }

    #[derive(Debug, PartialEq)]
    enum Hook {
        Opened(String, Map<String, Value>),
        Revoked(String, Map<String, Value>),
        Edited(String, Map<String, Value>),
    }

    const ALTERNATIVES: &[Alternative<Hook>] = &[
        ("Opened", |v| {
            object(v, &["opened"], &["issue"]).map(|(a, u)| Hook::Opened(a, u))
        }),
        ("Revoked", |v| {
            object(v, &["revoked"], &["sender"]).map(|(a, u)| Hook::Revoked(a, u))
        }),
        ("Edited", |v| {
            object(v, &["edited", "renamed"], &["label"]).map(|(a, u)| Hook::Edited(a, u))
        }),
    ];

    const NAMES: &[Names] = &[
        Names {
            properties: &["action", "issue"],
            values: &[("action", &["opened"])],
        },
        Names {
            properties: &["action", "sender"],
            values: &[("action", &["revoked"])],
        },
        Names {
            properties: &["action", "label"],
            values: &[("action", &["edited", "renamed"])],
        },
    ];

    fn read(value: Value) -> Result<Hook, String> {
        union_named("oneOf", &value, ALTERNATIVES, NAMES)
    }

    #[test]
    fn an_enum_of_one_value_never_keeps_another_in_a_union() {
        // An action no alternative lists, with a member `Revoked` does not
        // name: once `Revoked` kept both; its `action` is a `const`.
        let err = union(
            "oneOf",
            &json!({"action": "created", "sender": 1, "check_run": {}}),
            &ALTERNATIVES[..2],
        )
        .unwrap_err();
        assert!(err.contains("matches no alternative of `oneOf`"), "{err}");
        assert!(
            err.contains("`Revoked`: unknown variant `created`"),
            "{err}"
        );
        // A multi-valued enum still keeps a value no alternative lists,
        // with a member no alternative names: a newer version of it.
        let before = tolerant_reads();
        let hook = read(json!({"action": "relabelled", "label": 1, "color": "red"})).unwrap();
        assert_eq!(tolerant_reads(), before + 1);
        assert!(
            matches!(&hook, Hook::Edited(a, u) if a == "relabelled" && u.contains_key("color"))
        );
        // Outside a union the enum of one value stays open.
        assert!(!in_union());
        assert_eq!(
            object(&json!({"action": "created"}), &["revoked"], &[])
                .unwrap()
                .0,
            "created"
        );
    }

    /// A refusal by a union of many alternatives lists the reasons of the
    /// ones that name the most of the value's members, and counts the rest.
    #[test]
    fn a_large_union_refuses_with_the_reasons_of_its_closest_alternatives() {
        fn alternative(value: &Value, member: &'static str) -> Result<Hook, serde_json::Error> {
            object(value, &["opened"], &[member]).map(|(a, u)| Hook::Opened(a, u))
        }
        const MANY: &[Alternative<Hook>] = &[
            ("A", |v| alternative(v, "a")),
            ("B", |v| alternative(v, "b")),
            ("C", |v| alternative(v, "c")),
            ("D", |v| alternative(v, "d")),
            ("E", |v| alternative(v, "e")),
            ("F", |v| alternative(v, "f")),
        ];
        const fn names(member: &'static [&'static str]) -> Names {
            Names {
                properties: member,
                values: &[],
            }
        }
        const MANY_NAMES: &[Names] = &[
            names(&["action", "a"]),
            names(&["action", "b", "x", "y"]),
            names(&["action", "c"]),
            names(&["action", "d", "x"]),
            names(&["action", "e"]),
            names(&["action", "f", "x", "y", "z"]),
        ];
        // `F` names four of the members, `B` three, `D` two, the others one.
        let value = json!({"action": "opened", "x": 1, "y": 2, "z": 3});
        let err = union_named("anyOf", &value, MANY, MANY_NAMES).unwrap_err();
        assert_eq!(
            err,
            "the value matches no alternative of `anyOf` (`B`: missing field `b`; \
             `D`: missing field `d`; `F`: missing field `f`; and 3 more alternatives, \
             which name fewer of its members)"
        );
        // A union of four lists every reason.
        let err = union_named("anyOf", &value, &MANY[..4], &MANY_NAMES[..4]).unwrap_err();
        for name in ["A", "B", "C", "D"] {
            assert!(err.contains(&format!("`{name}`: missing field")), "{err}");
        }
    }

    #[test]
    fn a_tolerant_read_keeps_no_member_another_alternative_names() {
        // `Opened` refuses nothing here but the closed object: exact pass
        // fails, tolerant pass keeps `sender`, which `Revoked` names.
        let err = read(json!({"action": "opened", "issue": 1, "sender": 2})).unwrap_err();
        assert!(
            err.contains("`Opened`: read only tolerantly, it would keep property `sender` as unknown, which `Revoked` names"),
            "{err}"
        );
        // A member no alternative names: a newer minor of `Opened`, read.
        let hook = read(json!({"action": "opened", "issue": 1, "pinned": true})).unwrap();
        assert!(matches!(&hook, Hook::Opened(_, u) if u.contains_key("pinned")));
        // Without the names, the same value is read as `Opened`.
        let hook = union(
            "oneOf",
            &json!({"action": "opened", "issue": 1, "sender": 2}),
            &ALTERNATIVES[..2],
        )
        .unwrap();
        assert!(matches!(hook, Hook::Opened(..)));
    }

    #[test]
    fn a_tolerant_read_keeps_no_enum_value_another_alternative_lists() {
        const TWO: &[Alternative<Hook>] = &[
            ("Edited", |v| {
                object(v, &["edited", "renamed"], &["label"]).map(|(a, u)| Hook::Edited(a, u))
            }),
            ("Opened", |v| {
                object(v, &["opened", "reopened"], &["issue"]).map(|(a, u)| Hook::Opened(a, u))
            }),
        ];
        const TWO_NAMES: &[Names] = &[
            Names {
                properties: &["action", "label"],
                values: &[("action", &["edited", "renamed"])],
            },
            Names {
                properties: &["action", "issue"],
                values: &[("action", &["opened", "reopened"])],
            },
        ];
        // `Opened` refuses it (no `issue`); `Edited` would keep `opened`,
        // which `Opened` lists.
        let err = union_named(
            "oneOf",
            &json!({"action": "opened", "label": 1}),
            TWO,
            TWO_NAMES,
        )
        .unwrap_err();
        assert!(
            err.contains("`Edited`: read only tolerantly, it would keep `action: \"opened\"` as a value its `enum` does not list, which `Opened` lists"),
            "{err}"
        );
        assert!(union("oneOf", &json!({"action": "opened", "label": 1}), TWO).is_ok());
        // `anyOf` keeps the same rule.
        assert!(
            union_named(
                "anyOf",
                &json!({"action": "opened", "label": 1}),
                TWO,
                TWO_NAMES
            )
            .is_err()
        );
    }

    /// A closed object whose schema allows members by `patternProperties`
    /// refuses, in an exact read, only the members its patterns do not
    /// match; outside one it refuses none.
    #[test]
    fn a_closed_object_allows_what_its_patterns_match() {
        use super::{Exactly, closed_except};
        let allowed: fn(&str) -> bool = |name| name.starts_with("x_");
        let unknown: Map<String, Value> = [("x_a".to_string(), json!(1))].into_iter().collect();
        let mut stray = unknown.clone();
        stray.insert("y".to_string(), json!(2));
        assert_eq!(closed_except(&stray, allowed), Ok(()));
        let _exact = Exactly::new();
        assert_eq!(closed_except(&unknown, allowed), Ok(()));
        assert_eq!(
            closed_except(&stray, allowed),
            Err("y: is not a property the schema names or its `patternProperties` match, and the object is closed (`additionalProperties: false`)".to_string())
        );
        assert!(closed(&unknown).is_err());
    }
}
