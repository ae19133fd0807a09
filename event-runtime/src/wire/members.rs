//! The members of a derived struct, read by the `Deserialize` impl that
//! `#[derive(Event)]` and `#[derive(EventData)]` write.
//!
//! Per struct the derive writes one visitor with one `visit_map`: a slot per
//! field, a `match` on the field's index, and the struct built from the
//! slots. Everything else is here, generic over the field's type and the
//! deserializer, so it is compiled once per field type rather than once per
//! struct: the key lookup ([`Fields`], [`Keep`]), the duplicate and missing
//! field errors ([`member`], [`take`], [`take_read`]), and how a value is
//! read ([`Read`]: serde's own reading, the runtime's date and strict
//! formats, JSON Schema integers, a field's checks). The messages are
//! serde's own (`duplicate field `x``, `missing field `x``, `invalid
//! type: ..., expected struct X`), and so are the rules: an unknown member
//! is skipped (or kept by an `unknown` field), a missing `Option` without a
//! default is `None`, a struct is never read from an array
//! ([`ObjectOnly`](super::ObjectOnly)).
//!
//! Not public API; generated code names these items.

use core::fmt;
use core::marker::PhantomData;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

use crate::validate::Check;

/// How one member's value is read: `T::deserialize`, or a reading of the
/// runtime's (a date format, a checked value, ...), or of the user's
/// (`#[serde(with)]`), for any deserializer.
pub trait Read<'de, T> {
    /// Reads the value from `d`.
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error>;
}

struct Seed<R, T>(R, PhantomData<T>);

impl<'de, T, R: Read<'de, T>> DeserializeSeed<'de> for Seed<R, T> {
    type Value = T;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        self.0.read(d)
    }
}

/// Reads the value of the member `name` into its slot with `read`; a
/// member that is there twice is refused, as serde refuses it, before its
/// second value is read.
#[inline]
pub fn member<'de, A: MapAccess<'de>, T, R: Read<'de, T>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
    read: R,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value_seed(Seed(read, PhantomData))?);
    Ok(())
}

/// Skips the value of a member the struct does not name.
#[inline]
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<de::IgnoredAny>().map(|_| ())
}

/// Keeps the value of a member the struct does not name in its `unknown`
/// field; a name repeated keeps its last value, as `Map` does.
pub fn keep<'de, A: MapAccess<'de>>(
    map: &mut A,
    unknown: &mut Map<String, Value>,
    name: String,
) -> Result<(), A::Error> {
    let value = map.next_value::<Value>()?;
    unknown.insert(name, value);
    Ok(())
}

/// The value of a member read by `T::deserialize`: a missing one is what
/// `T` makes of nothing, as in serde's derive: `None` for a type that reads
/// an `Option`, `missing field `name`` for the others.
#[inline]
pub fn take<'de, E: de::Error, T: Deserialize<'de>>(
    slot: Option<T>,
    name: &'static str,
) -> Result<T, E> {
    match slot {
        Some(value) => Ok(value),
        None => T::deserialize(Missing(name, PhantomData)),
    }
}

/// The value of a member read by another [`Read`] than `T::deserialize`
/// (serde's `deserialize_with`): a missing one is `missing field `name``.
#[inline]
pub fn take_read<E: de::Error, T>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    match slot {
        Some(value) => Ok(value),
        None => Err(E::missing_field(name)),
    }
}

/// What a missing member is read from: `None` for an `Option`, an error for
/// anything else (serde's `MissingFieldDeserializer`).
struct Missing<E>(&'static str, PhantomData<E>);

impl<'de, E: de::Error> Deserializer<'de> for Missing<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, E> {
        Err(E::missing_field(self.0))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        v.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The key of a member: the index of the field it names in the wire names
/// given, or their count for a name the struct does not have (skipped).
/// Read as serde's derive reads a field identifier: a string, bytes, or
/// the field's index as an integer. Members mostly come in the order of the
/// fields, so the field after the last one found is tried first.
pub struct Fields {
    names: &'static [&'static str],
    next: usize,
}

impl Fields {
    /// The keys of a struct whose fields have the wire names `names`.
    pub const fn new(names: &'static [&'static str]) -> Fields {
        Fields { names, next: 0 }
    }

    #[inline]
    fn find(&mut self, key: &[u8]) -> Option<usize> {
        let i = match self.names.get(self.next) {
            Some(name) if name.as_bytes() == key => self.next,
            _ => self.names.iter().position(|name| name.as_bytes() == key)?,
        };
        self.next = i + 1;
        Some(i)
    }
}

impl<'de> DeserializeSeed<'de> for &mut Fields {
    type Value = usize;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for &mut Fields {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<usize, E> {
        Ok(usize::try_from(v)
            .ok()
            .filter(|i| *i < self.names.len())
            .unwrap_or(self.names.len()))
    }

    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        Ok(self.find(v.as_bytes()).unwrap_or(self.names.len()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<usize, E> {
        Ok(self.find(v).unwrap_or(self.names.len()))
    }
}

/// The key of a member of a struct with an `unknown` field: a field's
/// index, or the name, which the `unknown` field keeps.
pub enum Key {
    Field(usize),
    Unknown(String),
}

/// [`Fields`] for a struct with an `unknown` field (serde's `flatten`):
/// the name of a member the struct does not have is kept.
pub struct Keep(Fields);

impl Keep {
    /// The keys of a struct whose fields have the wire names `names`.
    pub const fn new(names: &'static [&'static str]) -> Keep {
        Keep(Fields::new(names))
    }

    fn key(&mut self, v: &str) -> Key {
        match self.0.find(v.as_bytes()) {
            Some(i) => Key::Field(i),
            None => Key::Unknown(v.to_owned()),
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Keep {
    type Value = Key;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for &mut Keep {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(self.key(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        match self.0.find(v.as_bytes()) {
            Some(i) => Ok(Key::Field(i)),
            None => Ok(Key::Unknown(v)),
        }
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
        match core::str::from_utf8(v) {
            Ok(text) => Ok(self.key(text)),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &"a string")),
        }
    }
}

/// `T::deserialize`: serde's own reading of the field's type.
#[derive(Clone, Copy)]
pub struct Plain;

impl<'de, T: Deserialize<'de>> Read<'de, T> for Plain {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

/// Reads through [`super::Integer`]: JSON Schema's integers
/// (`#[event(integer)]`).
#[derive(Clone, Copy)]
pub struct Integer<R>(pub R);

impl<'de, T, R: Read<'de, T>> Read<'de, T> for Integer<R> {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        self.0.read(super::Integer(d))
    }
}

/// Reads through [`super::NonNull`]: an `Option` that refuses a present
/// `null` (`#[event(non_null)]`).
#[derive(Clone, Copy)]
pub struct NonNull<R>(pub R);

impl<'de, T, R: Read<'de, T>> Read<'de, T> for NonNull<R> {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        self.0.read(super::NonNull(d))
    }
}

/// [`super::double_option`]: an `Option<Option<T>>` whose `null` is
/// `Some(None)`.
#[derive(Clone, Copy)]
pub struct DoubleOption;

impl<'de, T: Deserialize<'de>> Read<'de, Option<Option<T>>> for DoubleOption {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<Option<Option<T>>, D::Error> {
        super::double_option(d)
    }
}

/// [`super::present`]: an `Option<T>` that is `Some` whenever the member
/// is there.
#[derive(Clone, Copy)]
pub struct Present;

impl<'de, T: Deserialize<'de>> Read<'de, Option<T>> for Present {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        super::present(d)
    }
}

/// [`super::required_option`]: an `#[event(required)]` `Option<T>`.
#[derive(Clone, Copy)]
pub struct RequiredOption;

impl<'de, T: Deserialize<'de>> Read<'de, Option<T>> for RequiredOption {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        super::required_option(d)
    }
}

/// Reads with `R`, then checks the value with the field's check; a
/// violation is the deserializer's own error (`custom`), so that the decode
/// path names the field ([`super::checked`]).
pub struct Checked<R, T>(pub R, pub fn(&T) -> Check);

impl<'de, T, R: Read<'de, T>> Read<'de, T> for Checked<R, T> {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        super::checked(self.0.read(d), self.1)
    }
}

/// [`Checked`] for an `Option<T>`: the check applies to a `Some`.
pub struct CheckedSome<R, T>(pub R, pub fn(&T) -> Check);

impl<'de, T, R: Read<'de, Option<T>>> Read<'de, Option<T>> for CheckedSome<R, T> {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        let value = self.0.read(d)?;
        if let Some(inner) = &value {
            (self.1)(inner).map_err(de::Error::custom)?;
        }
        Ok(value)
    }
}

/// An array whose elements are checked as each is read
/// ([`super::checked_vec`]), in a `Vec<T>` or an `Option<Vec<T>>`.
pub struct Elements<T>(pub super::ElementCheck<T>);

impl<'de, T: Deserialize<'de>> Read<'de, Vec<T>> for Elements<T> {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        super::checked_vec(d, self.0)
    }
}

impl<'de, T: Deserialize<'de>> Read<'de, Option<Vec<T>>> for Elements<T> {
    #[inline]
    fn read<D: Deserializer<'de>>(self, d: D) -> Result<Option<Vec<T>>, D::Error> {
        super::checked_option_vec(d, self.0)
    }
}

macro_rules! reads {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $path:path;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name;

        impl<'de> Read<'de, $ty> for $name {
            #[inline]
            fn read<D: Deserializer<'de>>(self, d: D) -> Result<$ty, D::Error> {
                $path(d)
            }
        }
    )*};
}

reads! {
    /// [`super::rfc3339`].
    Rfc3339: OffsetDateTime = super::rfc3339::deserialize;
    /// [`super::rfc3339::option`].
    Rfc3339Option: Option<OffsetDateTime> = super::rfc3339::option::deserialize;
    /// [`super::rfc3339::present`].
    Rfc3339Present: Option<OffsetDateTime> = super::rfc3339::present::deserialize;
    /// [`super::rfc3339::double_option`].
    Rfc3339DoubleOption: Option<Option<OffsetDateTime>> = super::rfc3339::double_option::deserialize;
    /// [`super::rfc3339_vec`].
    Rfc3339Vec: Vec<OffsetDateTime> = super::rfc3339_vec::deserialize;
    /// [`super::date`].
    IsoDate: Date = super::date::deserialize;
    /// [`super::date::option`].
    IsoDateOption: Option<Date> = super::date::option::deserialize;
    /// [`super::date::present`].
    IsoDatePresent: Option<Date> = super::date::present::deserialize;
    /// [`super::date::double_option`].
    IsoDateDoubleOption: Option<Option<Date>> = super::date::double_option::deserialize;
    /// [`super::date_vec`].
    IsoDateVec: Vec<Date> = super::date_vec::deserialize;
    /// [`super::strict_value`].
    StrictValue: Value = super::strict_value;
    /// [`super::strict_option_value`].
    StrictOptionValue: Option<Value> = super::strict_option_value;
    /// [`super::strict_present_value`].
    StrictPresentValue: Option<Value> = super::strict_present_value;
    /// [`super::strict_map`].
    StrictMap: Map<String, Value> = super::strict_map;
}
