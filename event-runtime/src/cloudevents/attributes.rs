//! The attributes both modes share: what the envelope writes, and the checks
//! on what comes in, whatever carried it.

use super::{
    CAUSATION_EXTENSION, CORRELATION_EXTENSION, DATA_CONTENT_TYPE, PARTITION_EXTENSION,
    SPEC_VERSION, TENANT_EXTENSION, VERSION_EXTENSION, is_legal_extension_name,
};
use crate::decode::{Str, truncate};
use crate::error::{DecodeError, DecodeErrorKind as Kind, EncodeError};
use crate::{Envelope, Event, EventId, Version};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Attribute names the envelope owns: a metadata key may not take one.
/// `subject` and `dataschema` are optional core attributes the envelope has
/// no field for; they travel as metadata.
const OWNED: [&str; 13] = [
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "datacontenttype",
    "data",
    "data_base64",
    VERSION_EXTENSION,
    TENANT_EXTENSION,
    CORRELATION_EXTENSION,
    CAUSATION_EXTENSION,
    PARTITION_EXTENSION,
];

/// A CloudEvents attribute value as the toolkit writes it.
#[derive(Debug)]
pub(super) enum AttrValue<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    Int(i64),
    Version(Version),
}

impl AttrValue<'_> {
    /// The canonical string form binary mode puts in a header.
    pub(super) fn to_header_string(&self) -> Cow<'_, str> {
        match self {
            AttrValue::Str(s) => Cow::Borrowed(s),
            AttrValue::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            AttrValue::Int(i) => Cow::Owned(i.to_string()),
            AttrValue::Version(v) => Cow::Owned(v.to_string()),
        }
    }
}

impl Serialize for AttrValue<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::Str(s) => serializer.serialize_str(s),
            AttrValue::Bool(b) => serializer.serialize_bool(*b),
            AttrValue::Int(i) => serializer.serialize_i64(*i),
            AttrValue::Version(v) => v.serialize(serializer),
        }
    }
}

/// The context attributes of `envelope` in the order they are written,
/// `datacontenttype` included, `data` excluded. Refuses what the JSON
/// envelope refuses ([`Envelope::check_outgoing`]) and what CloudEvents
/// cannot carry, naming it.
/// `time` is formatted into `buf`.
pub(super) fn outgoing<'a, T: Event>(
    envelope: &'a Envelope<T>,
    buf: &'a mut [u8; 64],
) -> Result<Vec<(Cow<'a, str>, AttrValue<'a>)>, EncodeError> {
    fn borrowed(s: &str) -> AttrValue<'_> {
        AttrValue::Str(Cow::Borrowed(s))
    }
    envelope.check_outgoing()?;
    let time = {
        let mut cursor = &mut buf[..];
        let len = cursor.len();
        envelope
            .timestamp
            .format_into(&mut cursor, &Rfc3339)
            .map_err(|e| EncodeError::timestamp(e.to_string()))?;
        let written = len - cursor.len();
        std::str::from_utf8(&buf[..written]).map_err(|e| EncodeError::timestamp(e.to_string()))?
    };
    let extra = envelope.metadata.as_ref().map_or(0, Map::len) + envelope.unknown.len();
    let mut attrs: Vec<(Cow<'a, str>, AttrValue<'a>)> = Vec::with_capacity(11 + extra);
    attrs.push(("specversion".into(), borrowed(SPEC_VERSION)));
    attrs.push(("id".into(), borrowed(envelope.id.as_str())));
    attrs.push(("source".into(), borrowed(&envelope.source)));
    attrs.push(("type".into(), borrowed(T::TYPE)));
    attrs.push(("time".into(), borrowed(time)));
    attrs.push(("datacontenttype".into(), borrowed(DATA_CONTENT_TYPE)));
    attrs.push((
        VERSION_EXTENSION.into(),
        AttrValue::Version(envelope.version),
    ));
    attrs.push((TENANT_EXTENSION.into(), borrowed(&envelope.tenant_id)));
    attrs.push((
        CORRELATION_EXTENSION.into(),
        borrowed(&envelope.correlation_id),
    ));
    if let Some(causation) = &envelope.causation_id {
        attrs.push((CAUSATION_EXTENSION.into(), borrowed(causation)));
    }
    if let Some(key) = envelope.data.partition_key() {
        attrs.push((PARTITION_EXTENSION.into(), AttrValue::Str(Cow::Owned(key))));
    }
    let metadata = envelope.metadata.iter().flatten();
    let unknown = envelope.unknown.iter();
    for (origin, (key, value)) in metadata
        .map(|entry| ("metadata", entry))
        .chain(unknown.map(|entry| ("unknown envelope field", entry)))
    {
        let value = extension_value(origin, key, value)?;
        if attrs.iter().any(|(name, _)| name == key) {
            return Err(EncodeError::refused(
                "metadata",
                format!(
                    "{origin} key `{key}` is written twice: as metadata and as an unknown envelope field"
                ),
            ));
        }
        attrs.push((Cow::Borrowed(key.as_str()), value));
    }
    Ok(attrs)
}

/// A metadata entry as an extension value, or the reason it cannot be one.
fn extension_value<'a>(
    origin: &str,
    key: &str,
    value: &'a Value,
) -> Result<AttrValue<'a>, EncodeError> {
    let refuse = |why: String| Err(EncodeError::refused("metadata", why));
    if !is_legal_extension_name(key) {
        let lower: String = key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let hint = if lower.is_empty() {
            String::new()
        } else {
            format!(" (rename it `{lower}`)")
        };
        return refuse(format!(
            "{origin} key `{}` cannot be a CloudEvents extension: extension names are lower-case ASCII letters and digits only{hint}",
            truncate(key)
        ));
    }
    if OWNED.contains(&key) {
        return refuse(format!(
            "{origin} key `{key}` is a CloudEvents attribute the envelope writes itself"
        ));
    }
    let plain = |kind: &str| {
        refuse(format!(
            "{origin} `{key}` is {kind}; a CloudEvents extension holds a string, a boolean or a 32-bit integer"
        ))
    };
    match value {
        Value::String(s) => Ok(AttrValue::Str(Cow::Borrowed(s))),
        Value::Bool(b) => Ok(AttrValue::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(AttrValue::Int(i)),
            _ => plain(&format!("the number {n}, not a 32-bit integer")),
        },
        Value::Null => plain("null"),
        Value::Array(_) => plain("an array"),
        Value::Object(_) => plain("an object"),
    }
}

/// The attributes of an incoming event, as read, before validation.
#[derive(Default)]
pub(super) struct Incoming<'a> {
    pub(super) specversion: Option<Str<'a>>,
    pub(super) id: Option<Str<'a>>,
    pub(super) source: Option<Str<'a>>,
    pub(super) ty: Option<Str<'a>>,
    pub(super) time: Option<Str<'a>>,
    pub(super) datacontenttype: Option<Str<'a>>,
    pub(super) version: Option<Str<'a>>,
    pub(super) tenant_id: Option<Str<'a>>,
    pub(super) correlation_id: Option<Str<'a>>,
    pub(super) causation_id: Option<Str<'a>>,
    /// `time`, parsed by [`check`].
    pub(super) timestamp: Option<OffsetDateTime>,
    /// Extensions the envelope does not own, and `subject` / `dataschema`.
    pub(super) extensions: Map<String, Value>,
    /// Where the first attribute seen twice is (`tenantid`, `ce-tenantid`).
    pub(super) duplicate: Option<String>,
    /// The first extension that is not legal, already described.
    pub(super) illegal: Option<DecodeError>,
}

/// Which slot an attribute name fills.
pub(super) enum Slot {
    SpecVersion,
    Id,
    Source,
    Type,
    Time,
    DataContentType,
    Version,
    Tenant,
    Correlation,
    Causation,
    /// Derived from the payload; read and checked as a string, not kept.
    Partition,
    /// Any other attribute: an extension, kept as metadata.
    Extension,
}

impl Slot {
    pub(super) fn of(name: &str) -> Slot {
        match name {
            "specversion" => Slot::SpecVersion,
            "id" => Slot::Id,
            "source" => Slot::Source,
            "type" => Slot::Type,
            "time" => Slot::Time,
            "datacontenttype" => Slot::DataContentType,
            VERSION_EXTENSION => Slot::Version,
            TENANT_EXTENSION => Slot::Tenant,
            CORRELATION_EXTENSION => Slot::Correlation,
            CAUSATION_EXTENSION => Slot::Causation,
            PARTITION_EXTENSION => Slot::Partition,
            _ => Slot::Extension,
        }
    }
}

impl<'a> Incoming<'a> {
    /// The string slot of a known attribute; `None` for `partitionkey` and
    /// extensions.
    pub(super) fn slot(&mut self, slot: &Slot) -> Option<&mut Option<Str<'a>>> {
        Some(match slot {
            Slot::SpecVersion => &mut self.specversion,
            Slot::Id => &mut self.id,
            Slot::Source => &mut self.source,
            Slot::Type => &mut self.ty,
            Slot::Time => &mut self.time,
            Slot::DataContentType => &mut self.datacontenttype,
            Slot::Version => &mut self.version,
            Slot::Tenant => &mut self.tenant_id,
            Slot::Correlation => &mut self.correlation_id,
            Slot::Causation => &mut self.causation_id,
            Slot::Partition | Slot::Extension => return None,
        })
    }

    /// Notes the attribute at `path` as seen twice, if it is the first.
    pub(super) fn duplicate(&mut self, path: &str) {
        if self.duplicate.is_none() {
            self.duplicate = Some(path.to_owned());
        }
    }

    /// Keeps an extension as metadata, or notes why it is not legal.
    /// `path` is where the extension was found (`tenantId`, `ce-foo`).
    pub(super) fn extension(&mut self, name: &str, path: &str, value: Value) {
        if self.illegal.is_some() {
            return;
        }
        if !is_legal_extension_name(name) {
            self.illegal = Some(DecodeError::new(
                Kind::InvalidAttribute,
                path,
                format!(
                    "`{}` is not a legal CloudEvents attribute name: names are lower-case ASCII letters and digits only",
                    truncate(name)
                ),
            ));
            return;
        }
        let kind = match &value {
            // JSON `null` is an absent attribute.
            Value::Null => return,
            Value::String(_) | Value::Bool(_) => None,
            Value::Number(n) if n.is_i64() || n.is_u64() => None,
            Value::Number(_) => Some("a fractional number"),
            Value::Array(_) => Some("an array"),
            Value::Object(_) => Some("an object"),
        };
        if let Some(kind) = kind {
            self.illegal = Some(DecodeError::new(
                Kind::InvalidAttribute,
                path,
                format!(
                    "extension `{name}` is {kind}; a CloudEvents extension holds a string, a boolean or an integer"
                ),
            ));
            return;
        }
        if self.extensions.contains_key(name) {
            self.duplicate(path);
        } else {
            self.extensions.insert(name.to_owned(), value);
        }
    }
}

/// Where the attributes were read from, for error paths.
pub(super) struct Names {
    /// Put before an attribute name: `""` in structured mode, `ce-` or
    /// `ce_` in binary mode.
    pub(super) prefix: &'static str,
    /// Where `datacontenttype` lives: itself, or the `content-type` header.
    pub(super) content_type: &'static str,
}

impl Names {
    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// Everything of the envelope but its payload, validated.
pub(super) struct Head {
    id: EventId,
    version: Version,
    timestamp: OffsetDateTime,
    source: String,
    tenant_id: String,
    correlation_id: String,
    causation_id: Option<String>,
    metadata: Option<Map<String, Value>>,
}

impl Head {
    pub(super) fn id(&self) -> &str {
        self.id.as_str()
    }

    pub(super) fn into_envelope<T>(self, data: T) -> Envelope<T> {
        Envelope {
            id: self.id,
            version: self.version,
            timestamp: self.timestamp,
            source: self.source,
            tenant_id: self.tenant_id,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            data,
            metadata: self.metadata,
            unknown: Map::new(),
        }
    }
}

/// Validates what was read for a reader of `T`. Errors carry the event id
/// and type when they could be read.
pub(super) fn check<T: Event>(
    mut incoming: Incoming<'_>,
    names: &Names,
) -> Result<Head, DecodeError> {
    let version = validate::<T>(&mut incoming, names)
        .map_err(|e| e.with_context(incoming.id.as_deref(), incoming.ty.as_deref()))?;
    let timestamp = incoming.timestamp.take();
    // `validate` saw every required attribute present.
    let (Some(id), Some(source), Some(tenant_id), Some(correlation_id), Some(timestamp)) = (
        incoming.id,
        incoming.source,
        incoming.tenant_id,
        incoming.correlation_id,
        timestamp,
    ) else {
        return Err(DecodeError::new(
            Kind::MissingField,
            "",
            "a required attribute disappeared during validation",
        ));
    };
    Ok(Head {
        id: EventId::from_wire(id.0.into_owned()),
        version,
        timestamp,
        source: source.0.into_owned(),
        tenant_id: tenant_id.0.into_owned(),
        correlation_id: correlation_id.0.into_owned(),
        causation_id: incoming.causation_id.map(|s| s.0.into_owned()),
        metadata: (!incoming.extensions.is_empty()).then_some(incoming.extensions),
    })
}

/// The rules, in the order errors are reported. Reads `incoming` without
/// copying; leaves the parsed time in `incoming.timestamp`.
fn validate<T: Event>(incoming: &mut Incoming<'_>, names: &Names) -> Result<Version, DecodeError> {
    if let Some(name) = &incoming.duplicate {
        return Err(DecodeError::new(
            Kind::DuplicateField,
            name.clone(),
            format!("attribute `{name}` appears more than once"),
        ));
    }
    let required = |slot: &Option<Str<'_>>, name: &str| -> Result<(), DecodeError> {
        match slot.as_deref() {
            Some(s) if !s.is_empty() => Ok(()),
            None => {
                let path = names.path(name);
                Err(DecodeError::new(
                    Kind::MissingField,
                    path.clone(),
                    format!("missing required attribute `{path}`"),
                ))
            }
            Some(_) => {
                let path = names.path(name);
                Err(DecodeError::new(
                    Kind::EmptyField,
                    path.clone(),
                    format!("required attribute `{path}` is empty"),
                ))
            }
        }
    };
    required(&incoming.specversion, "specversion")?;
    required(&incoming.id, "id")?;
    required(&incoming.source, "source")?;
    required(&incoming.ty, "type")?;
    required(&incoming.time, "time")?;
    required(&incoming.version, VERSION_EXTENSION)?;
    required(&incoming.tenant_id, TENANT_EXTENSION)?;
    required(&incoming.correlation_id, CORRELATION_EXTENSION)?;
    let (Some(specversion), Some(ty), Some(time), Some(version)) = (
        incoming.specversion.as_deref(),
        incoming.ty.as_deref(),
        incoming.time.as_deref(),
        incoming.version.as_deref(),
    ) else {
        return Err(DecodeError::new(
            Kind::MissingField,
            "",
            "a required attribute disappeared during validation",
        ));
    };
    if specversion != SPEC_VERSION {
        let path = names.path("specversion");
        return Err(DecodeError::new(
            Kind::InvalidVersion,
            path.clone(),
            format!(
                "unsupported CloudEvents {path} {:?}: only {SPEC_VERSION:?} is read",
                truncate(specversion)
            ),
        ));
    }
    if let Some(e) = incoming.illegal.take() {
        return Err(e);
    }
    if let Some(causation) = &incoming.causation_id {
        if causation.is_empty() {
            let path = names.path(CAUSATION_EXTENSION);
            return Err(DecodeError::new(
                Kind::EmptyField,
                path.clone(),
                format!("attribute `{path}` is empty; leave it out when there is no cause"),
            ));
        }
    }
    // The ids the JSON envelope's reader refuses are refused here too, so
    // an event read from one binding can be written to any other.
    for (slot, name) in [
        (&incoming.id, "id"),
        (&incoming.tenant_id, TENANT_EXTENSION),
        (&incoming.correlation_id, CORRELATION_EXTENSION),
        (&incoming.causation_id, CAUSATION_EXTENSION),
    ] {
        if let Some(value) = slot.as_deref() {
            let path = names.path(name);
            if let Some(message) =
                crate::decode::identifier_fault(value, &format_args!("attribute `{path}`"))
            {
                return Err(DecodeError::new(Kind::InvalidId, path, message));
            }
        }
    }
    if let Err(e) = event_rules::naming::check_syntax(ty) {
        return Err(DecodeError::new(
            Kind::InvalidEventType,
            names.path("type"),
            format!("invalid event type {:?}: {e}", truncate(ty)),
        ));
    }
    let Some(version) = Version::parse_const(version) else {
        return Err(DecodeError::new(
            Kind::InvalidVersion,
            names.path(VERSION_EXTENSION),
            format!(
                "invalid event version {:?}: expected `MAJOR.MINOR` such as `1.0`",
                truncate(version)
            ),
        ));
    };
    if ty != T::TYPE {
        return Err(DecodeError::new(
            Kind::UnexpectedType { expected: T::TYPE },
            names.path("type"),
            format!(
                "expected an event of type `{}`, found `{}`",
                T::TYPE,
                truncate(ty)
            ),
        ));
    }
    if !T::VERSION.is_compatible_with(version) {
        return Err(DecodeError::new(
            Kind::IncompatibleMajor {
                expected: T::VERSION,
                found: version,
            },
            names.path(VERSION_EXTENSION),
            format!(
                "version {version} is not readable by a reader of version {}: only {}.x is",
                T::VERSION,
                T::VERSION.major()
            ),
        ));
    }
    let timestamp = OffsetDateTime::parse(time, &Rfc3339).map_err(|e| {
        DecodeError::new(
            Kind::InvalidTimestamp,
            names.path("time"),
            format!(
                "invalid time {:?}: {e}; expected RFC 3339 with an offset, such as `2026-03-27T10:30:00.000Z`",
                truncate(time)
            ),
        )
    })?;
    if let Some(content_type) = &incoming.datacontenttype {
        if !is_json(content_type) {
            return Err(DecodeError::new(
                Kind::InvalidAttribute,
                names.content_type,
                format!(
                    "data content type {:?} is not JSON; a typed payload is read from `application/json` or `application/*+json`",
                    truncate(content_type)
                ),
            ));
        }
    }
    incoming.timestamp = Some(timestamp);
    Ok(version)
}

/// Whether a media type says JSON: `application/json`, `text/json` or
/// `application/<anything>+json`, with or without parameters, in any case.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let Some((top, sub)) = essence.split_once('/') else {
        return false;
    };
    let json_suffix = sub.len() > 5 && sub.is_char_boundary(sub.len() - 5) && {
        sub[sub.len() - 5..].eq_ignore_ascii_case("+json")
    };
    (top.eq_ignore_ascii_case("application") && (sub.eq_ignore_ascii_case("json") || json_suffix))
        || (top.eq_ignore_ascii_case("text") && sub.eq_ignore_ascii_case("json"))
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn recognises_json_media_types() {
        for yes in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/vnd.acme.enrollment+json",
            "text/json",
        ] {
            assert!(is_json(yes), "{yes} refused");
        }
        for no in [
            "",
            "text/plain",
            "application/xml",
            "application/jsonx",
            "json",
            "application/octet-stream",
        ] {
            assert!(!is_json(no), "{no} accepted");
        }
    }
}
