//! Structured JSON mode: the whole event in one `application/cloudevents+json`
//! document. Decoding reads it in one serde pass, the payload straight into
//! its type; a second, slower pass names the problem only when that fails.

use super::attributes::{self, AttrValue, Incoming, Names, Slot};
use crate::decode::{self, Str, truncate};
use crate::error::{DecodeError, DecodeErrorKind as Kind, EncodeError};
use crate::{Envelope, Event};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

const NAMES: Names = Names {
    prefix: "",
    content_type: "datacontenttype",
};

impl<T: Event> Envelope<T> {
    /// Encodes the envelope as a CloudEvent in structured JSON mode, the body
    /// of an `application/cloudevents+json` message.
    ///
    /// Refuses, naming the key, a metadata entry that cannot be a
    /// CloudEvents extension (a key that is not lower-case alphanumeric, a
    /// value that is not a string, a boolean or a 32-bit integer), and
    /// everything [`to_json_vec`](Self::to_json_vec) refuses.
    pub fn to_cloudevent_json(&self) -> Result<Vec<u8>, EncodeError> {
        let mut buf = [0u8; 64];
        let attrs = attributes::outgoing(self, &mut buf)?;
        let mut out = Vec::with_capacity(320);
        let mut ser = serde_json::Serializer::new(&mut out);
        Structured {
            attrs: &attrs,
            data: &self.data,
        }
        .serialize(&mut ser)
        .map_err(EncodeError::json)?;
        Ok(out)
    }

    /// Decodes a CloudEvent in structured JSON mode into a typed envelope.
    ///
    /// Refuses, with an error naming the attribute: a missing or empty
    /// required attribute (`id`, `source`, `type`, `time`, `eventversion`,
    /// `tenantid`, `correlationid`), a `specversion` other than `1.0`, an
    /// illegal extension name or value, a `time` that is not RFC 3339, a
    /// `datacontenttype` that is not JSON, `data_base64`, another type or
    /// major version than `T`'s, and a `data` that does not match `T`
    /// (the path names the field, `data.score`).
    ///
    /// Extensions the envelope does not own, `subject` and `dataschema`
    /// become metadata entries.
    pub fn from_cloudevent_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (incoming, data) = match read::<T>(bytes) {
            Ok(read) => read,
            Err(fast) => return Err(diagnose::<T>(bytes, fast)),
        };
        let head = attributes::check::<T>(incoming, &NAMES)?;
        let Some(data) = data else {
            return Err(DecodeError::new(
                Kind::MissingField,
                "data",
                "missing required attribute `data`",
            )
            .with_context(Some(head.id()), Some(T::TYPE)));
        };
        Ok(head.into_envelope(data))
    }
}

struct Structured<'a, T> {
    attrs: &'a [(Cow<'a, str>, AttrValue<'a>)],
    data: &'a T,
}

impl<T: Serialize> Serialize for Structured<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.attrs.len() + 1))?;
        for (name, value) in self.attrs {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.serialize_entry("data", self.data)?;
        map.end()
    }
}

/// A key of the document: an attribute slot, `data`, or `data_base64`.
enum Key<'de> {
    Attr(Slot, Str<'de>),
    Data,
    DataBase64,
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Str::deserialize(deserializer).map(Key::of)
    }
}

impl<'de> Key<'de> {
    fn of(name: Str<'de>) -> Self {
        match &*name {
            "data" => Key::Data,
            "data_base64" => Key::DataBase64,
            other => Key::Attr(Slot::of(other), name),
        }
    }
}

struct DocVisitor<D> {
    marker: PhantomData<D>,
}

impl<'de, D: Deserialize<'de>> Visitor<'de> for DocVisitor<D> {
    type Value = (Incoming<'de>, Option<D>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudEvent in structured JSON mode")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut incoming = Incoming::default();
        let mut data: Option<D> = None;
        let mut seen_data = false;
        let mut seen = [false; 11];
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key {
                Key::Data => {
                    if seen_data {
                        incoming.duplicate("data");
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        seen_data = true;
                        data = map.next_value::<Option<D>>()?;
                    }
                }
                Key::DataBase64 => {
                    map.next_value::<IgnoredAny>()?;
                    if incoming.illegal.is_none() {
                        incoming.illegal = Some(DecodeError::new(
                            Kind::InvalidAttribute,
                            "data_base64",
                            "binary data (`data_base64`) cannot be read as a typed JSON payload; expected `data`",
                        ));
                    }
                }
                Key::Attr(Slot::Extension, name) => {
                    let value: Value = map.next_value()?;
                    incoming.extension(&name, &name, value);
                }
                Key::Attr(Slot::Partition, name) => {
                    // Derived from the payload; a string when present.
                    let index = 10;
                    if seen[index] {
                        incoming.duplicate(&name);
                    }
                    seen[index] = true;
                    map.next_value::<Option<Str<'de>>>()?;
                }
                Key::Attr(slot, name) => {
                    let index = slot_index(&slot);
                    let value = map.next_value::<Option<Str<'de>>>()?;
                    if seen[index] {
                        incoming.duplicate(&name);
                    } else {
                        seen[index] = true;
                        if let Some(target) = incoming.slot(&slot) {
                            *target = value;
                        }
                    }
                }
            }
        }
        Ok((incoming, data))
    }
}

fn slot_index(slot: &Slot) -> usize {
    match slot {
        Slot::SpecVersion => 0,
        Slot::Id => 1,
        Slot::Source => 2,
        Slot::Type => 3,
        Slot::Time => 4,
        Slot::DataContentType => 5,
        Slot::Version => 6,
        Slot::Tenant => 7,
        Slot::Correlation => 8,
        Slot::Causation => 9,
        Slot::Partition | Slot::Extension => 10,
    }
}

type Read<'de, D> = (Incoming<'de>, Option<D>);

fn read<'de, D: Deserialize<'de>>(bytes: &'de [u8]) -> Result<Read<'de, D>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = de.deserialize_map(DocVisitor {
        marker: PhantomData,
    })?;
    de.end()?;
    Ok(read)
}

/// The string attributes: the one-pass decode reads these as strings.
const STRING_ATTRIBUTES: [&str; 11] = [
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "datacontenttype",
    super::VERSION_EXTENSION,
    super::TENANT_EXTENSION,
    super::CORRELATION_EXTENSION,
    super::CAUSATION_EXTENSION,
    super::PARTITION_EXTENSION,
];

/// Finds what made the one-pass decode fail and names it. Slow, and only
/// run on failure.
fn diagnose<T: Event>(bytes: &[u8], fast: serde_json::Error) -> DecodeError {
    let fields = match decode::read_fields(bytes, "a CloudEvent in structured JSON mode") {
        Ok(fields) => fields,
        Err(e) if e.is_data() => {
            return DecodeError::new(
                Kind::Malformed,
                "",
                "expected a JSON object holding a CloudEvent",
            );
        }
        Err(e) => return DecodeError::new(Kind::Malformed, "", format!("malformed JSON: {e}")),
    };
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
    let text = |key: &str| get(key).and_then(|raw| serde_json::from_str::<Str<'_>>(raw.get()).ok());
    let (id, ty) = (text("id"), text("type"));
    let context = |e: DecodeError| e.with_context(id.as_deref(), ty.as_deref());
    for name in STRING_ATTRIBUTES {
        if let Some(raw) = get(name) {
            if serde_json::from_str::<Option<Str<'_>>>(raw.get()).is_err() {
                return context(DecodeError::new(
                    Kind::FieldType,
                    name,
                    format!(
                        "attribute `{name}` must be a string, found `{}`",
                        truncate(raw.get())
                    ),
                ));
            }
        }
    }
    // The attributes are well typed now: read them again without the
    // payload and report their problems first, as the happy path does.
    match read::<IgnoredAny>(bytes) {
        Ok((incoming, _)) => {
            if let Err(e) = attributes::check::<T>(incoming, &NAMES) {
                return e;
            }
        }
        Err(e) => {
            // An extension nested deeper than the decoder builds.
            return context(DecodeError::new(
                Kind::Malformed,
                "",
                format!("cannot be decoded: {e}"),
            ));
        }
    }
    let data = get("data").map(RawValue::get).unwrap_or("null");
    let error = decode::check_data::<T>(data)
        .unwrap_or_else(|| DecodeError::new(Kind::Malformed, "", fast.to_string()));
    context(error)
}
