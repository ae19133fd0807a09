//! Decoding envelopes: one serde pass on the happy path, a second, slower
//! pass that finds and names the problem only when the first one failed.

use crate::Version;
use crate::error::{DecodeError, DecodeErrorKind as Kind};
use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess,
    Visitor,
};
use serde_json::map::Entry;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A string borrowed from the input when it holds no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'de>(pub(crate) Cow<'de, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// A JSON value read in full and dropped: what the tolerant decoder skips.
///
/// serde's `IgnoredAny` skips by structure alone and lets through what is
/// not JSON: invalid UTF-8 in a string, a lone surrogate (`"\ud800"`), a
/// number out of range (`1e400`). This reads every string and number as
/// the preserving decoder does, so both modes refuse the same input; no
/// string is copied unless it holds an escape.
pub(crate) struct ValidJson;

impl<'de> Deserialize<'de> for ValidJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValidJson)
    }
}

impl<'de> Visitor<'de> for ValidJson {
    type Value = ValidJson;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self, E> {
        Ok(ValidJson)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self, E> {
        Ok(ValidJson)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self, E> {
        Ok(ValidJson)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self, E> {
        Ok(ValidJson)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self, E> {
        Ok(ValidJson)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self, E> {
        Ok(ValidJson)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self, E> {
        Ok(ValidJson)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self, D::Error> {
        ValidJson::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<ValidJson>()?.is_some() {}
        Ok(ValidJson)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        while map.next_key::<ValidJson>()?.is_some() {
            map.next_value::<ValidJson>()?;
        }
        Ok(ValidJson)
    }
}

/// A JSON value that refuses a key repeated in any object in it
/// (`duplicate key `k``), where `serde_json::Value` keeps the last one.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so `from_f64` holds every number a
        // parser gives; `Null` is what serde_json does for the others.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match object.entry(key) {
                Entry::Occupied(slot) => {
                    return Err(de::Error::custom(format_args!(
                        "duplicate key `{}`",
                        slot.key()
                    )));
                }
                Entry::Vacant(slot) => {
                    slot.insert(map.next_value::<StrictValue>()?.0);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

/// `metadata`: an object with no repeated key at any depth, or `null`.
struct StrictMetadata(Option<Map<String, Value>>);

impl<'de> Deserialize<'de> for StrictMetadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match StrictValue::deserialize(deserializer)?.0 {
            Value::Null => Ok(StrictMetadata(None)),
            Value::Object(map) => Ok(StrictMetadata(Some(map))),
            _ => Err(de::Error::custom("`metadata` must be an object or null")),
        }
    }
}

/// The envelope's keys, matched without allocating.
enum Key<'de> {
    Id,
    Type,
    Version,
    Timestamp,
    Source,
    TenantId,
    CorrelationId,
    CausationId,
    Data,
    Metadata,
    Other(Str<'de>),
}

impl<'de> Key<'de> {
    fn from_str(s: &str) -> Option<Key<'static>> {
        Some(match s {
            "id" => Key::Id,
            "type" => Key::Type,
            "version" => Key::Version,
            "timestamp" => Key::Timestamp,
            "source" => Key::Source,
            "tenantId" => Key::TenantId,
            "correlationId" => Key::CorrelationId,
            "causationId" => Key::CausationId,
            "data" => Key::Data,
            "metadata" => Key::Metadata,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an envelope field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key::from_str(v).unwrap_or(Key::Other(Str(Cow::Borrowed(v)))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key::from_str(v).unwrap_or_else(|| Key::Other(Str(Cow::Owned(v.to_owned())))))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// What to keep besides the header.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Header fields only; `data` and `metadata` are skipped unparsed.
    Header,
    /// Everything the envelope defines; unknown fields are skipped.
    Full,
    /// Everything, unknown envelope fields included.
    Preserve,
}

/// The fields of one envelope as read in one pass, before validation.
pub(crate) struct Parts<'de, D> {
    pub(crate) id: Option<Str<'de>>,
    pub(crate) ty: Option<Str<'de>>,
    pub(crate) version: Option<Str<'de>>,
    pub(crate) timestamp: Option<Str<'de>>,
    pub(crate) source: Option<Str<'de>>,
    pub(crate) tenant_id: Option<Str<'de>>,
    pub(crate) correlation_id: Option<Str<'de>>,
    pub(crate) causation_id: Option<Str<'de>>,
    pub(crate) data: Option<D>,
    pub(crate) metadata: Option<Map<String, Value>>,
    pub(crate) unknown: Map<String, Value>,
    /// The first key seen twice: a known envelope field, or in
    /// [`Mode::Preserve`] any key, since a kept field must be unambiguous.
    pub(crate) duplicate: Option<Cow<'de, str>>,
}

impl<D> Parts<'_, D> {
    /// Nothing read yet.
    pub(crate) fn empty() -> Self {
        Parts {
            id: None,
            ty: None,
            version: None,
            timestamp: None,
            source: None,
            tenant_id: None,
            correlation_id: None,
            causation_id: None,
            data: None,
            metadata: None,
            unknown: Map::new(),
            duplicate: None,
        }
    }
}

/// Fills `parts` in place: the parts are a few hundred bytes, and moving
/// them out through serde's return values was a measurable share of a
/// header decode.
struct PartsVisitor<'a, 'de, R: DataReader<'de>> {
    mode: Mode,
    reader: &'a R,
    parts: &'a mut Parts<'de, R::Data>,
}

/// How the one pass reads `data`: into a known payload type, or into the
/// payload type the `type` and `version` read so far select.
pub(crate) trait DataReader<'de> {
    /// What `data` becomes.
    type Data;

    /// Reads the value of the `data` key; `event_type` and `version` are
    /// what the pass has read of them so far.
    fn read<A: MapAccess<'de>>(
        &self,
        map: &mut A,
        event_type: Option<&Str<'de>>,
        version: Option<&Str<'de>>,
    ) -> Result<Self::Data, A::Error>;
}

/// Reads `data` as `D`.
pub(crate) struct Plain<D>(PhantomData<D>);

impl<'de, D: Deserialize<'de>> DataReader<'de> for Plain<D> {
    type Data = D;

    fn read<A: MapAccess<'de>>(
        &self,
        map: &mut A,
        _: Option<&Str<'de>>,
        _: Option<&Str<'de>>,
    ) -> Result<D, A::Error> {
        map.next_value::<D>()
    }
}

/// A string or `null`, read with one dispatch on the next byte.
struct NullableStr;

impl<'de> DeserializeSeed<'de> for NullableStr {
    type Value = Option<Str<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NullableStr {
    type Value = Option<Str<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Str(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Str(Cow::Owned(v.to_owned()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Str(Cow::Owned(v))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Stores the string in `slot` (or skips it when `skip`), or notes the
/// duplicate key and skips it.
fn read_once<'de, A: MapAccess<'de>>(
    map: &mut A,
    slot: &mut Option<Str<'de>>,
    seen: &mut bool,
    name: &'static str,
    duplicate: &mut Option<Cow<'de, str>>,
    skip: bool,
) -> Result<(), A::Error> {
    if *seen {
        duplicate.get_or_insert(Cow::Borrowed(name));
        map.next_value::<IgnoredAny>()?;
    } else if skip {
        *seen = true;
        map.next_value::<IgnoredAny>()?;
    } else {
        *seen = true;
        *slot = map.next_value_seed(NullableStr)?;
    }
    Ok(())
}

impl<'de, R: DataReader<'de>> Visitor<'de> for PartsVisitor<'_, 'de, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let parts = self.parts;
        let header = self.mode == Mode::Header;
        // One flag per known key: a key seen with `null` is still seen.
        let mut seen = [false; 10];
        let dup = &mut parts.duplicate;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let m = &mut map;
            match key {
                Key::Id => read_once(m, &mut parts.id, &mut seen[0], "id", dup, false)?,
                Key::Type => read_once(m, &mut parts.ty, &mut seen[1], "type", dup, false)?,
                Key::Version => {
                    read_once(m, &mut parts.version, &mut seen[2], "version", dup, false)?
                }
                // A header does not read the time and the source.
                Key::Timestamp => {
                    let slot = &mut parts.timestamp;
                    read_once(m, slot, &mut seen[3], "timestamp", dup, header)?
                }
                Key::Source => {
                    read_once(m, &mut parts.source, &mut seen[4], "source", dup, header)?
                }
                Key::TenantId => {
                    let slot = &mut parts.tenant_id;
                    read_once(m, slot, &mut seen[5], "tenantId", dup, false)?
                }
                Key::CorrelationId => {
                    let slot = &mut parts.correlation_id;
                    read_once(m, slot, &mut seen[6], "correlationId", dup, false)?
                }
                Key::CausationId => {
                    let slot = &mut parts.causation_id;
                    read_once(m, slot, &mut seen[7], "causationId", dup, false)?
                }
                Key::Data => {
                    if seen[8] {
                        dup.get_or_insert(Cow::Borrowed("data"));
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        seen[8] = true;
                        if header {
                            map.next_value::<IgnoredAny>()?;
                        } else {
                            let data =
                                self.reader
                                    .read(m, parts.ty.as_ref(), parts.version.as_ref())?;
                            parts.data = Some(data);
                        }
                    }
                }
                Key::Metadata => {
                    if seen[9] {
                        dup.get_or_insert(Cow::Borrowed("metadata"));
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        seen[9] = true;
                        if header {
                            map.next_value::<IgnoredAny>()?;
                        } else {
                            parts.metadata = map.next_value::<StrictMetadata>()?.0;
                        }
                    }
                }
                Key::Other(name) => {
                    if self.mode == Mode::Preserve {
                        let value = map.next_value::<StrictValue>()?.0;
                        match parts.unknown.entry(name.0) {
                            Entry::Vacant(slot) => {
                                slot.insert(value);
                            }
                            Entry::Occupied(slot) => {
                                dup.get_or_insert(Cow::Owned(slot.key().clone()));
                            }
                        }
                    } else if header {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        map.next_value::<ValidJson>()?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads the envelope in `bytes` into `parts`, in one pass.
pub(crate) fn read_parts<'de, D: Deserialize<'de>>(
    bytes: &'de [u8],
    mode: Mode,
    parts: &mut Parts<'de, D>,
) -> Result<(), serde_json::Error> {
    read_parts_with(bytes, mode, &Plain(PhantomData), parts)
}

/// [`read_parts`] of the header alone, which skips `data` and the unknown
/// fields by their structure, as the header scanner does: input that is not
/// UTF-8 in a skipped value is read with the byte-slice reader, which checks
/// only the strings it keeps. Nothing here is generic over a payload type,
/// so the second reader costs one instance in the runtime, not one per
/// event.
pub(crate) fn read_header_parts<'de>(
    bytes: &'de [u8],
    parts: &mut Parts<'de, IgnoredAny>,
) -> Result<(), serde_json::Error> {
    if std::str::from_utf8(bytes).is_ok() {
        return read_parts(bytes, Mode::Header, parts);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.deserialize_map(PartsVisitor {
        mode: Mode::Header,
        reader: &Plain(PhantomData),
        parts,
    })?;
    de.end()
}

/// [`read_parts`] with a chosen way of reading `data`.
pub(crate) fn read_parts_with<'de, R: DataReader<'de>>(
    bytes: &'de [u8],
    mode: Mode,
    reader: &R,
    parts: &mut Parts<'de, R::Data>,
) -> Result<(), serde_json::Error> {
    // One UTF-8 check of the whole input is cheaper than serde_json's check
    // of every string it borrows from a byte slice, and it leaves one reader:
    // the payload decoders are compiled for `StrRead` only, not a second
    // time for `SliceRead`. Input that is not UTF-8 is not JSON; the caller's
    // diagnosis names its position (`diagnose` reads the raw fields, which
    // checks UTF-8).
    let text = std::str::from_utf8(bytes).map_err(|e| {
        <serde_json::Error as de::Error>::custom(format_args!(
            "invalid UTF-8 at byte {}",
            e.valid_up_to()
        ))
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(PartsVisitor {
        mode,
        reader,
        parts,
    })?;
    de.end()
}

/// The header-only fast path: reads the top-level object byte by byte,
/// borrowing the header strings and skipping every other value by its
/// structure alone, so a header costs a fraction of a full decode.
///
/// It only ever accepts: on anything it does not handle (an escape in a key
/// or a header string, a non-string header value, broken structure) it
/// returns `None` and the serde path reads the input and names the problem.
/// Skipped values (`data`, `metadata`, unknown fields) are not validated as
/// JSON; the full decode does that.
///
/// Only the strings it keeps are checked to be UTF-8; the rest is compared
/// to ASCII or skipped.
pub(crate) fn scan_header<'de>(bytes: &'de [u8], parts: &mut Parts<'de, IgnoredAny>) -> bool {
    scan_header_into(bytes, parts).is_some()
}

fn scan_header_into<'de>(bytes: &'de [u8], parts: &mut Parts<'de, IgnoredAny>) -> Option<()> {
    let mut s = Scanner { bytes, pos: 0 };
    let mut seen = [false; 10];
    s.eat(b'{')?;
    if s.peek()? == b'}' {
        s.pos += 1;
    } else {
        loop {
            if s.peek()? != b'"' {
                return None;
            }
            let key = s.plain_bytes()?;
            s.eat(b':')?;
            let (index, name, slot) = match key {
                b"id" => (0, "id", Some(&mut parts.id)),
                b"type" => (1, "type", Some(&mut parts.ty)),
                b"version" => (2, "version", Some(&mut parts.version)),
                b"timestamp" => (3, "timestamp", None),
                b"source" => (4, "source", None),
                b"tenantId" => (5, "tenantId", Some(&mut parts.tenant_id)),
                b"correlationId" => (6, "correlationId", Some(&mut parts.correlation_id)),
                b"causationId" => (7, "causationId", Some(&mut parts.causation_id)),
                b"data" => (8, "data", None),
                b"metadata" => (9, "metadata", None),
                _ => {
                    s.skip_value()?;
                    (usize::MAX, "", None)
                }
            };
            if index != usize::MAX {
                if seen[index] {
                    parts.duplicate.get_or_insert(Cow::Borrowed(name));
                    s.skip_value()?;
                } else {
                    seen[index] = true;
                    match slot {
                        Some(slot) => *slot = s.nullable_plain_string()?,
                        None => s.skip_value()?,
                    }
                }
            }
            match s.peek()? {
                b',' => s.pos += 1,
                b'}' => {
                    s.pos += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    s.skip_whitespace();
    (s.pos == bytes.len()).then_some(())
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// At a `"`: the bytes up to the closing quote, if they hold no escape.
    /// Enough for a key, which is compared to the envelope's names.
    fn plain_bytes(&mut self) -> Option<&'a [u8]> {
        let start = self.pos + 1;
        let rest = self.bytes.get(start..)?;
        let len = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        Some(&rest[..len])
    }

    /// [`plain_bytes`](Self::plain_bytes) that hold no control character
    /// (JSON forbids them raw) and are UTF-8: a value that is kept.
    fn plain_string(&mut self) -> Option<&'a str> {
        let bytes = self.plain_bytes()?;
        // No short circuit, so the check compiles to vector compares.
        let control = bytes.iter().fold(false, |found, &b| found | (b < 0x20));
        if control {
            return None;
        }
        std::str::from_utf8(bytes).ok()
    }

    /// A plain string or `null`.
    fn nullable_plain_string(&mut self) -> Option<Option<Str<'a>>> {
        match self.peek()? {
            b'"' => self.plain_string().map(|s| Some(Str(Cow::Borrowed(s)))),
            b'n' if self.bytes.get(self.pos..self.pos + 4) == Some(b"null") => {
                self.pos += 4;
                Some(None)
            }
            _ => None,
        }
    }

    /// At a `"`: past the closing quote, escapes skipped.
    fn skip_string(&mut self) -> Option<()> {
        self.pos += 1;
        loop {
            let rest = self.bytes.get(self.pos..)?;
            let at = memchr::memchr2(b'"', b'\\', rest)?;
            self.pos += at;
            if rest[at] == b'"' {
                self.pos += 1;
                return Some(());
            }
            self.pos += 2;
        }
    }

    /// Past one value, nested to any depth without recursion.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                    continue;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.pos += 1;
                }
                b',' | b':' if depth > 0 => {
                    self.pos += 1;
                    continue;
                }
                b',' | b':' => return None,
                _ => {
                    let rest = &self.bytes[self.pos..];
                    let len = rest
                        .iter()
                        .position(|&b| {
                            matches!(
                                b,
                                b',' | b':'
                                    | b'}'
                                    | b']'
                                    | b'{'
                                    | b'['
                                    | b'"'
                                    | b' '
                                    | b'\n'
                                    | b'\r'
                                    | b'\t'
                            )
                        })
                        .unwrap_or(rest.len());
                    if len == 0 {
                        return None;
                    }
                    self.pos += len;
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

/// The validated header fields every decode shares.
pub(crate) struct Checked<'de> {
    pub(crate) id: Str<'de>,
    pub(crate) ty: Str<'de>,
    pub(crate) version: Version,
    pub(crate) tenant_id: Str<'de>,
    pub(crate) correlation_id: Str<'de>,
}

fn required<'a>(slot: &'a Option<Str<'_>>, name: &'static str) -> Result<&'a str, DecodeError> {
    match slot.as_deref() {
        None => Err(DecodeError::new(
            Kind::MissingField,
            name,
            format!("missing required envelope field `{name}`"),
        )),
        Some("") => Err(DecodeError::new(
            Kind::EmptyField,
            name,
            format!("required envelope field `{name}` is empty"),
        )),
        Some(s) => Ok(s),
    }
}

/// An id (`id`, `tenantId`, `correlationId`, `causationId`) is a token that
/// is compared, logged and stored as a key: any text without whitespace or
/// control characters. `"  "`, `"tenant a"` or a `"\u0000"` inside would
/// compare unequal to what an operator types, or break a log line.
fn identifier(value: &str, name: &'static str) -> Result<(), DecodeError> {
    match identifier_fault(value, &format_args!("envelope field `{name}`")) {
        None => Ok(()),
        Some(message) => Err(DecodeError::new(Kind::InvalidId, name, message)),
    }
}

/// Why `value` is no id, if it is not, naming it as `what` (``envelope
/// field `tenantId` ``); the encoders and the CloudEvents reader apply the
/// same rule.
pub(crate) fn identifier_fault(value: &str, what: &dyn std::fmt::Display) -> Option<String> {
    let (at, c) = value
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || c.is_control())?;
    Some(format!(
        "{what} holds {} at byte {at} ({:?}): an id is text without whitespace or control characters",
        if c.is_control() {
            "a control character"
        } else {
            "whitespace"
        },
        truncate(value),
    ))
}

/// Validates the fields a header decode reads; `expected` is the type and
/// version of a typed reader. Errors carry the event id and type when they
/// could be read; nothing is copied on success.
pub(crate) fn check_header<'de, D>(
    parts: &mut Parts<'de, D>,
    expected: Option<(&'static str, Version)>,
) -> Result<Checked<'de>, DecodeError> {
    let version = validate_header(parts, expected)
        .map_err(|e| e.with_context(parts.id.as_deref(), parts.ty.as_deref()))?;
    // `validate_header` saw all four present.
    match (
        parts.id.take(),
        parts.ty.take(),
        parts.tenant_id.take(),
        parts.correlation_id.take(),
    ) {
        (Some(id), Some(ty), Some(tenant_id), Some(correlation_id)) => Ok(Checked {
            id,
            ty,
            version,
            tenant_id,
            correlation_id,
        }),
        _ => Err(DecodeError::new(
            Kind::MissingField,
            "",
            "a required envelope field disappeared during validation",
        )),
    }
}

/// The header rules, in the order errors are reported: duplicates, missing
/// or empty fields, the syntax of `type` and `version`, then whether they are
/// the ones the reader expects.
fn validate_header<D>(
    parts: &Parts<'_, D>,
    expected: Option<(&'static str, Version)>,
) -> Result<Version, DecodeError> {
    if let Some(name) = &parts.duplicate {
        return Err(DecodeError::new(
            Kind::DuplicateField,
            name.as_ref(),
            format!("envelope field `{name}` appears more than once"),
        ));
    }
    identifier(required(&parts.id, "id")?, "id")?;
    let ty = required(&parts.ty, "type")?;
    let version = required(&parts.version, "version")?;
    identifier(required(&parts.tenant_id, "tenantId")?, "tenantId")?;
    identifier(
        required(&parts.correlation_id, "correlationId")?,
        "correlationId",
    )?;
    if let Some(causation_id) = parts.causation_id.as_deref() {
        identifier(causation_id, "causationId")?;
    }
    if let Err(e) = event_rules::naming::check_syntax(ty) {
        return Err(DecodeError::new(
            Kind::InvalidEventType,
            "type",
            format!("invalid event type {:?}: {e}", truncate(ty)),
        ));
    }
    let Some(version) = Version::parse_const(version) else {
        return Err(DecodeError::new(
            Kind::InvalidVersion,
            "version",
            format!(
                "invalid version {:?}: expected `MAJOR.MINOR` such as `1.0`",
                truncate(version)
            ),
        ));
    };
    if let Some((expected_type, expected_version)) = expected {
        if ty != expected_type {
            return Err(DecodeError::new(
                Kind::UnexpectedType {
                    expected: expected_type,
                },
                "type",
                format!(
                    "expected an event of type `{expected_type}`, found `{}`",
                    truncate(ty)
                ),
            ));
        }
        if !expected_version.is_compatible_with(version) {
            return Err(DecodeError::new(
                Kind::IncompatibleMajor {
                    expected: expected_version,
                    found: version,
                },
                "version",
                format!(
                    "version {version} is not readable by a reader of version {expected_version}: only {}.x is",
                    expected_version.major()
                ),
            ));
        }
    }
    Ok(version)
}

/// Validates the fields only a full decode reads: the timestamp and the
/// source. Errors carry no context; the caller adds it.
pub(crate) fn check_body<'de, D>(
    parts: &mut Parts<'de, D>,
) -> Result<(OffsetDateTime, Str<'de>), DecodeError> {
    let timestamp = parse_timestamp(required(&parts.timestamp, "timestamp")?)?;
    required(&parts.source, "source")?;
    match parts.source.take() {
        Some(source) => Ok((timestamp, source)),
        None => Err(DecodeError::new(
            Kind::MissingField,
            "source",
            "missing required envelope field `source`",
        )),
    }
}

pub(crate) fn parse_timestamp(s: &str) -> Result<OffsetDateTime, DecodeError> {
    if crate::wire::is_leap_second(s) {
        return Err(DecodeError::new(
            Kind::InvalidTimestamp,
            "timestamp",
            format!(
                "invalid timestamp {:?}: a leap second (`:60`) has no exact representation and is refused rather than moved; write the instant as `23:59:59.999Z` or the next second",
                truncate(s)
            ),
        ));
    }
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        DecodeError::new(
            Kind::InvalidTimestamp,
            "timestamp",
            format!("invalid timestamp {:?}: {e}; expected RFC 3339 with an offset, such as `2026-03-27T10:30:00.000Z`", truncate(s)),
        )
    })
}

/// Finds what made the one-pass decode fail and names it. Slow, and only run
/// on failure: each field is re-read from its own bytes.
///
/// `expected` is the type and version of a typed reader, `data` the check of
/// its payload; a header decode passes neither.
pub(crate) fn diagnose(
    bytes: &[u8],
    mode: Mode,
    expected: Option<(&'static str, Version)>,
    data: Option<DataCheck>,
    fast: serde_json::Error,
) -> DecodeError {
    let fields = match read_fields(bytes, "an event envelope object") {
        Ok(fields) => fields,
        Err(e) => return malformed(e),
    };
    let text = |key: &str| -> Option<Str<'_>> {
        let raw = fields.iter().find(|(k, _)| k == key)?.1;
        serde_json::from_str::<Str<'_>>(raw.get()).ok()
    };
    let (id, ty) = (text("id"), text("type"));
    diagnose_fields(&fields, mode, expected, data)
        .unwrap_or_else(|| DecodeError::new(Kind::Malformed, "", fast.to_string()))
        .with_context(id.as_deref(), ty.as_deref())
}

fn malformed(e: serde_json::Error) -> DecodeError {
    let message = if e.is_data() {
        "expected a JSON object holding an event envelope".to_owned()
    } else {
        format!("malformed JSON: {e}")
    };
    DecodeError::new(Kind::Malformed, "", message)
}

/// The top-level members of a JSON object, each value kept as its raw text.
pub(crate) type Fields<'de> = Vec<(Cow<'de, str>, &'de RawValue)>;

/// Reads the members of the object in `bytes` without interpreting their
/// values; `expecting` names the object in the error when it is not one.
pub(crate) fn read_fields<'de>(
    bytes: &'de [u8],
    expecting: &'static str,
) -> Result<Fields<'de>, serde_json::Error> {
    struct FieldsVisitor(&'static str);
    impl<'de> Visitor<'de> for FieldsVisitor {
        type Value = Fields<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::new();
            while let Some(key) = map.next_key::<Str<'de>>()? {
                fields.push((key.0, map.next_value::<&'de RawValue>()?));
            }
            Ok(fields)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fields = de.deserialize_map(FieldsVisitor(expecting))?;
    de.end()?;
    Ok(fields)
}

const STRING_FIELDS: [&str; 8] = [
    "id",
    "type",
    "version",
    "timestamp",
    "source",
    "tenantId",
    "correlationId",
    "causationId",
];

/// Decodes a payload from its bytes and names the path of the first problem.
pub(crate) type DataCheck = fn(&str) -> Option<DecodeError>;

/// Decodes a payload from its bytes as `T` and names the JSON path of the
/// first problem; `None` when it decodes. Used by generated routing code.
pub fn check_data<T: DeserializeOwned>(data: &str) -> Option<DecodeError> {
    let mut de = serde_json::Deserializer::from_str(data);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => return None,
        Err(e) => e,
    };
    if data == "null" {
        return Some(DecodeError::new(
            Kind::MissingField,
            "data",
            "missing required envelope field `data`",
        ));
    }
    let mut path = match error.path().to_string() {
        p if p == "." => "data".to_owned(),
        p if p.starts_with('[') => format!("data{p}"),
        p => format!("data.{p}"),
    };
    // serde quotes the offending value, which may be megabytes long.
    let message = elide_middle(strip_position(&error.into_inner().to_string()));
    name_member(&mut path, &message);
    Some(DecodeError::new(Kind::InvalidData, path, message))
}

/// serde reports a missing or repeated field at the object that holds it;
/// the path names the field itself (`data.qty`), as for every other error.
fn name_member(path: &mut String, message: &str) {
    let field = ["missing field `", "duplicate field `", "duplicate key `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.strip_suffix('`'));
    if let Some(field) = field {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(field);
    }
}

/// Reads the raw value of the top-level member `name` as `T` and names the
/// path of the first problem in it; `None` when it reads.
fn check_member<T: DeserializeOwned>(name: &str, raw: &RawValue) -> Option<DecodeError> {
    // The plain read first: it is what fails on too deep a nesting, where
    // tracking the path would take more stack than the read itself.
    let plain = serde_json::from_str::<T>(raw.get()).err()?;
    if plain.to_string().starts_with("recursion limit") {
        return Some(DecodeError::new(
            Kind::Malformed,
            name,
            format!("cannot be decoded: {}", strip_position(&plain.to_string())),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    let error = serde_path_to_error::deserialize::<_, T>(&mut de).err()?;
    let mut path = match error.path().to_string() {
        p if p == "." => name.to_owned(),
        p if p.starts_with('[') => format!("{name}{p}"),
        p => format!("{name}.{p}"),
    };
    let inner = error.into_inner();
    let message = elide_middle(strip_position(&inner.to_string()));
    name_member(&mut path, &message);
    let kind = if message.starts_with("duplicate key `") {
        Kind::DuplicateField
    } else if inner.is_data() {
        Kind::FieldType
    } else {
        Kind::Malformed
    };
    // The first pass read the whole input as JSON structure, so a syntax
    // error here is too deep a nesting, not broken JSON.
    let message = match kind {
        Kind::Malformed if message.starts_with("recursion limit") => {
            format!("cannot be decoded: {message}")
        }
        Kind::Malformed => format!("malformed JSON: {message}"),
        _ => message,
    };
    Some(DecodeError::new(kind, path, message))
}

fn diagnose_fields(
    fields: &Fields<'_>,
    mode: Mode,
    expected: Option<(&'static str, Version)>,
    data_check: Option<DataCheck>,
) -> Option<DecodeError> {
    // The one-pass decode refuses a repeated envelope field, and in
    // preserving mode any repeated key; unknown keys are otherwise skipped.
    for (i, (key, _)) in fields.iter().enumerate() {
        let checked = mode == Mode::Preserve || Key::from_str(key).is_some();
        if checked && fields[..i].iter().any(|(k, _)| k == key) {
            return Some(DecodeError::new(
                Kind::DuplicateField,
                key.as_ref(),
                format!("envelope field `{key}` appears more than once"),
            ));
        }
    }
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
    // Wrong JSON types first: the one-pass decode reads these as strings.
    for name in STRING_FIELDS {
        if let Some(raw) = get(name) {
            if serde_json::from_str::<Option<Str<'_>>>(raw.get()).is_err() {
                return Some(DecodeError::new(
                    Kind::FieldType,
                    name,
                    format!(
                        "envelope field `{name}` must be a string, found `{}`",
                        truncate(raw.get())
                    ),
                ));
            }
        }
    }
    if let Some(raw) = get("metadata") {
        if let Some(e) = check_member::<StrictMetadata>("metadata", raw) {
            return Some(if raw.get().starts_with('{') {
                e
            } else {
                DecodeError::new(
                    Kind::FieldType,
                    "metadata",
                    format!(
                        "`metadata` must be an object or null, found `{}`",
                        truncate(raw.get())
                    ),
                )
            });
        }
    }
    // Kept unknown fields are built as values, which have a depth limit and
    // refuse a repeated key; skipped ones must still be JSON.
    for (key, raw) in fields {
        if Key::from_str(key).is_none() {
            let problem = match mode {
                Mode::Preserve => check_member::<StrictValue>(key, raw),
                Mode::Full => check_member::<ValidJson>(key, raw),
                Mode::Header => None,
            };
            if problem.is_some() {
                return problem;
            }
        }
    }
    // Header and body checks, as the one-pass decode does them.
    let mut parts: Parts<'_, ()> = Parts::empty();
    let string = |name: &str| {
        get(name).and_then(|raw| {
            serde_json::from_str::<Option<Str<'_>>>(raw.get())
                .ok()
                .flatten()
        })
    };
    parts.id = string("id");
    parts.ty = string("type");
    parts.version = string("version");
    parts.timestamp = string("timestamp");
    parts.source = string("source");
    parts.tenant_id = string("tenantId");
    parts.correlation_id = string("correlationId");
    if let Err(e) = validate_header(&parts, expected) {
        return Some(e);
    }
    let data_check = data_check?;
    if let Err(e) = check_body(&mut parts) {
        return Some(e);
    }
    let Some(data) = get("data") else {
        return Some(DecodeError::new(
            Kind::MissingField,
            "data",
            "missing required envelope field `data`",
        ));
    };
    data_check(data.get())
}

/// serde_json's messages end in " at line L column C" of the `data` slice,
/// which misleads once the path names the field.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Keeps the start and the end of a long message (`invalid type: string
/// "xxx...xxx", expected u8`), dropping the middle.
fn elide_middle(message: String) -> String {
    const KEEP: usize = 120;
    if message.len() <= 2 * KEEP + 3 {
        return message;
    }
    let mut head = KEEP;
    while !message.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = message.len() - KEEP;
    while !message.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}...{}", &message[..head], &message[tail..])
}

pub(crate) fn truncate(s: &str) -> Cow<'_, str> {
    const MAX: usize = 40;
    if s.len() <= MAX {
        Cow::Borrowed(s)
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Cow::Owned(format!("{}...", &s[..end]))
    }
}
