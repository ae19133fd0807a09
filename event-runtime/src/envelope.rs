//! The envelope every event travels in.

use crate::decode::{self, Mode, Str};
use crate::error::{DecodeError, EncodeError};
use crate::{Event, EventId, Version};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::marker::PhantomData;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An event in its envelope: the payload `data` with the id, type, version,
/// time, source, tenant and correlation id every event carries.
///
/// An envelope is immutable: consumers read it through accessors and never
/// change what they received. Producers make one with [`Envelope::new`] or
/// [`Envelope::caused_by`]; consumers with [`Envelope::from_json_slice`].
///
/// ```
/// use event_runtime::{Envelope, Event, Version};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct CoursePublished { course_id: String }
///
/// impl Event for CoursePublished {
///     const TYPE: &'static str = "course.published";
///     const VERSION: Version = Version::new(1, 0);
///     const PRODUCER: &'static str = "course-service";
/// }
///
/// let env = Envelope::new(CoursePublished { course_id: "c_1".into() })
///     .tenant("tenant_7f3c")
///     .correlation("req_xyz789")
///     .build();
/// let bytes = env.to_json_vec().unwrap();
///
/// let read: Envelope<CoursePublished> = Envelope::from_json_slice(&bytes).unwrap();
/// assert_eq!(read.data().course_id, "c_1");
/// assert_eq!(read.source(), "course-service");
/// assert_eq!(read.id(), env.id());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<T> {
    pub(crate) id: EventId,
    pub(crate) version: Version,
    pub(crate) timestamp: OffsetDateTime,
    pub(crate) source: String,
    pub(crate) tenant_id: String,
    pub(crate) correlation_id: String,
    pub(crate) causation_id: Option<String>,
    pub(crate) data: T,
    pub(crate) metadata: Option<Map<String, Value>>,
    pub(crate) unknown: Map<String, Value>,
}

/// Builder states: whether the tenant and the correlation id are set.
pub mod state {
    /// The tenant id is not set yet.
    #[derive(Debug)]
    pub struct NoTenant;
    /// The tenant id is set.
    #[derive(Debug)]
    pub struct Tenant(pub(crate) String);
    /// The correlation id is not set yet.
    #[derive(Debug)]
    pub struct NoCorrelation;
    /// The correlation id is set.
    #[derive(Debug)]
    pub struct Correlation(pub(crate) String);
}

use state::{Correlation, NoCorrelation, NoTenant, Tenant};

/// An envelope under construction. [`build`](EnvelopeBuilder::build) is
/// only there once the tenant and the correlation id are set: an event
/// without them does not compile.
#[derive(Debug)]
#[must_use = "an envelope builder does nothing until `.build()`"]
pub struct EnvelopeBuilder<T, Tn = NoTenant, Co = NoCorrelation> {
    data: T,
    tenant: Tn,
    correlation: Co,
    id: Option<EventId>,
    timestamp: Option<OffsetDateTime>,
    source: Option<String>,
    causation_id: Option<String>,
    metadata: Option<Map<String, Value>>,
}

/// The builder states [`EnvelopeBuilder::build`] accepts.
#[diagnostic::on_unimplemented(
    message = "an event envelope needs a tenant id and a correlation id",
    label = "`.build()` is called before both are set",
    note = "call `.tenant(..)` and `.correlation(..)` first, or start from `Envelope::caused_by(&parent, data)`, which carries both over"
)]
pub trait Complete: sealed::Sealed {
    #[doc(hidden)]
    fn take_ids(&mut self) -> (String, String);
}

mod sealed {
    pub trait Sealed {}
}

impl<T> sealed::Sealed for EnvelopeBuilder<T, Tenant, Correlation> {}
impl<T> Complete for EnvelopeBuilder<T, Tenant, Correlation> {
    fn take_ids(&mut self) -> (String, String) {
        (
            std::mem::take(&mut self.tenant.0),
            std::mem::take(&mut self.correlation.0),
        )
    }
}

impl<T: Event> Envelope<T> {
    /// Starts an envelope around `data`. The id, the timestamp (now, UTC),
    /// the type, the version and the source (the event's producer) are
    /// filled in; the tenant and the correlation id must be given.
    #[allow(
        clippy::new_ret_no_self,
        reason = "the builder is how `new` makes an envelope: it cannot exist before its tenant and correlation id"
    )]
    pub fn new(data: T) -> EnvelopeBuilder<T> {
        EnvelopeBuilder {
            data,
            tenant: NoTenant,
            correlation: NoCorrelation,
            id: None,
            timestamp: None,
            source: None,
            causation_id: None,
            metadata: None,
        }
    }

    /// Starts an envelope for an event caused by `parent`: same tenant, same
    /// correlation id, and `parent`'s id as the causation id.
    pub fn caused_by<P>(parent: &Envelope<P>, data: T) -> EnvelopeBuilder<T, Tenant, Correlation> {
        EnvelopeBuilder {
            data,
            tenant: Tenant(parent.tenant_id.clone()),
            correlation: Correlation(parent.correlation_id.clone()),
            id: None,
            timestamp: None,
            source: None,
            causation_id: Some(parent.id.as_str().to_owned()),
            metadata: None,
        }
    }
}

impl<T, Co> EnvelopeBuilder<T, NoTenant, Co> {
    /// The tenant the event belongs to.
    pub fn tenant(self, tenant_id: impl Into<String>) -> EnvelopeBuilder<T, Tenant, Co> {
        EnvelopeBuilder {
            data: self.data,
            tenant: Tenant(tenant_id.into()),
            correlation: self.correlation,
            id: self.id,
            timestamp: self.timestamp,
            source: self.source,
            causation_id: self.causation_id,
            metadata: self.metadata,
        }
    }
}

impl<T, Tn> EnvelopeBuilder<T, Tn, NoCorrelation> {
    /// The id that traces the request across services.
    pub fn correlation(
        self,
        correlation_id: impl Into<String>,
    ) -> EnvelopeBuilder<T, Tn, Correlation> {
        EnvelopeBuilder {
            data: self.data,
            tenant: self.tenant,
            correlation: Correlation(correlation_id.into()),
            id: self.id,
            timestamp: self.timestamp,
            source: self.source,
            causation_id: self.causation_id,
            metadata: self.metadata,
        }
    }
}

impl<T, Tn, Co> EnvelopeBuilder<T, Tn, Co> {
    /// Replaces the generated id, for events whose id is made elsewhere (an
    /// outbox row, a replay).
    pub fn id(mut self, id: EventId) -> Self {
        self.id = Some(id);
        self
    }

    /// Replaces the current time.
    pub fn timestamp(mut self, timestamp: OffsetDateTime) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Replaces the source, by default the event's producer.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The id of the event that caused this one.
    pub fn causation(mut self, causation_id: impl Into<String>) -> Self {
        self.causation_id = Some(causation_id.into());
        self
    }

    /// Free-form metadata (`triggeredBy`, `userAgent`).
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

impl<T: Event, Tn, Co> EnvelopeBuilder<T, Tn, Co> {
    /// The envelope.
    pub fn build(mut self) -> Envelope<T>
    where
        Self: Complete,
    {
        let (tenant_id, correlation_id) = self.take_ids();
        Envelope {
            id: self.id.unwrap_or_else(EventId::generate),
            version: T::VERSION,
            timestamp: self.timestamp.unwrap_or_else(OffsetDateTime::now_utc),
            source: self.source.unwrap_or_else(|| T::PRODUCER.to_owned()),
            tenant_id,
            correlation_id,
            causation_id: self.causation_id,
            data: self.data,
            metadata: self.metadata,
            unknown: Map::new(),
        }
    }
}

impl<T> Envelope<T> {
    /// The event id.
    pub fn id(&self) -> &EventId {
        &self.id
    }

    /// The version on the wire: for a decoded envelope, any minor of the
    /// reader's major.
    pub fn version(&self) -> Version {
        self.version
    }

    /// When the event happened, with the offset it was written with.
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }

    /// The service that published the event.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The tenant the event belongs to.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The id that traces the request across services.
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The id of the event that caused this one, if any.
    pub fn causation_id(&self) -> Option<&str> {
        self.causation_id.as_deref()
    }

    /// The payload.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The free-form metadata, if any.
    pub fn metadata(&self) -> Option<&Map<String, Value>> {
        self.metadata.as_ref()
    }

    /// Envelope fields this version of the runtime does not know, kept by
    /// [`from_json_slice_preserving`](Envelope::from_json_slice_preserving)
    /// and written back on encode. Empty otherwise.
    pub fn unknown_fields(&self) -> &Map<String, Value> {
        &self.unknown
    }

    /// The payload, consuming the envelope.
    pub fn into_data(self) -> T {
        self.data
    }
}

impl<T: Event> Envelope<T> {
    /// The event type, `T::TYPE`: a typed decode refuses any other.
    pub fn event_type(&self) -> &'static str {
        T::TYPE
    }

    /// The partition key the payload names, if the event is ordered per
    /// entity.
    pub fn partition_key(&self) -> Option<String> {
        self.data.partition_key()
    }

    /// Decodes an envelope of `T`, tolerantly: unknown fields are ignored,
    /// any minor of `T`'s major is accepted. Everything else that is wrong
    /// is refused with an error naming the JSON path.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes, Mode::Full)
    }

    /// [`from_json_slice`](Self::from_json_slice) on a string.
    pub fn from_json_str(json: &str) -> Result<Self, DecodeError> {
        Self::decode(json.as_bytes(), Mode::Full)
    }

    /// Like [`from_json_slice`](Self::from_json_slice), but keeps the
    /// envelope fields it does not know, so a forwarder re-encodes them
    /// unchanged. Unknown payload fields are the payload type's business
    /// (the derive's `#[event(unknown)]` field keeps them).
    pub fn from_json_slice_preserving(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes, Mode::Preserve)
    }

    fn decode(bytes: &[u8], mode: Mode) -> Result<Self, DecodeError> {
        let expected = Some((T::TYPE, T::VERSION));
        let mut parts = decode::Parts::empty();
        match decode::read_parts::<T>(bytes, mode, &mut parts) {
            Ok(()) => {}
            Err(fast) => {
                return Err(decode::diagnose(
                    bytes,
                    mode,
                    expected,
                    Some(decode::check_data::<T>),
                    fast,
                ));
            }
        };
        let header = decode::check_header(&mut parts, expected)?;
        let context = |e: DecodeError| e.with_context(Some(&header.id), Some(&header.ty));
        let (timestamp, source) = decode::check_body(&mut parts).map_err(context)?;
        let Some(data) = parts.data else {
            return Err(context(DecodeError::new(
                crate::DecodeErrorKind::MissingField,
                "data",
                "missing required envelope field `data`",
            )));
        };
        Ok(Envelope {
            id: EventId::from_wire(header.id.0.into_owned()),
            version: header.version,
            timestamp,
            source: source.0.into_owned(),
            tenant_id: header.tenant_id.0.into_owned(),
            correlation_id: header.correlation_id.0.into_owned(),
            causation_id: parts.causation_id.map(|s| s.0.into_owned()),
            data,
            metadata: parts.metadata,
            unknown: parts.unknown,
        })
    }
}

impl<T: Event> Envelope<T> {
    /// Encodes the envelope as JSON.
    ///
    /// Refuses an empty tenant id, correlation id or source, an id with
    /// whitespace or a control character in it, and a timestamp RFC 3339
    /// cannot represent, so nothing leaves that a reader would refuse.
    pub fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(256);
        self.to_json_writer(&mut out)?;
        Ok(out)
    }

    /// [`to_json_vec`](Self::to_json_vec) as a string.
    pub fn to_json_string(&self) -> Result<String, EncodeError> {
        let bytes = self.to_json_vec()?;
        // serde_json writes UTF-8 only; the check is here so that a bug
        // there is an error, not undefined behaviour.
        String::from_utf8(bytes)
            .map_err(|e| EncodeError::json(<serde_json::Error as serde::ser::Error>::custom(e)))
    }

    /// What every encoding refuses before it writes anything: a payload
    /// that breaks its contract, an empty tenant id, correlation id or
    /// source, and an id a reader refuses (whitespace, control characters),
    /// so the producer hears of it, not its consumers.
    pub(crate) fn check_outgoing(&self) -> Result<(), EncodeError> {
        self.data.validate().map_err(EncodeError::invalid)?;
        for (name, value) in [
            ("tenantId", &self.tenant_id),
            ("correlationId", &self.correlation_id),
            ("source", &self.source),
        ] {
            if value.is_empty() {
                return Err(EncodeError::empty_field(name));
            }
        }
        let ids = [
            ("tenantId", Some(&self.tenant_id)),
            ("correlationId", Some(&self.correlation_id)),
            ("causationId", self.causation_id.as_ref()),
        ];
        for (name, value) in ids {
            if let Some(message) = value.and_then(|v| {
                crate::decode::identifier_fault(v, &format_args!("envelope field `{name}`"))
            }) {
                return Err(EncodeError::refused(name, message));
            }
        }
        Ok(())
    }

    /// Encodes the envelope into `writer`.
    ///
    /// Refuses a payload that breaks a constraint of its contract
    /// ([`Event::validate`]), with the path of the offending value.
    pub fn to_json_writer<W: std::io::Write>(&self, writer: W) -> Result<(), EncodeError> {
        self.check_outgoing()?;
        let mut buf = [0u8; 64];
        let timestamp = format_timestamp(self.timestamp, &mut buf)?;
        let mut ser = serde_json::Serializer::new(writer);
        Wire {
            envelope: self,
            timestamp,
        }
        .serialize(&mut ser)
        .map_err(EncodeError::json)
    }
}

fn format_timestamp(timestamp: OffsetDateTime, buf: &mut [u8; 64]) -> Result<&str, EncodeError> {
    let mut cursor = &mut buf[..];
    let len = cursor.len();
    timestamp
        .format_into(&mut cursor, &Rfc3339)
        .map_err(|e| EncodeError::timestamp(e.to_string()))?;
    let written = len - cursor.len();
    std::str::from_utf8(&buf[..written]).map_err(|e| EncodeError::timestamp(e.to_string()))
}

struct Wire<'a, T> {
    envelope: &'a Envelope<T>,
    timestamp: &'a str,
}

impl<T: Event> Serialize for Wire<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.envelope;
        let len = 8
            + usize::from(e.causation_id.is_some())
            + usize::from(e.metadata.is_some())
            + e.unknown.len();
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("id", &e.id)?;
        map.serialize_entry("type", T::TYPE)?;
        // A reader of 1.0 holding a 1.1 event has only the 1.0 payload:
        // writing 1.1 would claim the fields it dropped. It writes the
        // version its payload type is.
        let version = if e.version > T::VERSION && e.version.major() == T::VERSION.major() {
            T::VERSION
        } else {
            e.version
        };
        map.serialize_entry("version", &version)?;
        map.serialize_entry("timestamp", self.timestamp)?;
        map.serialize_entry("source", &e.source)?;
        map.serialize_entry("tenantId", &e.tenant_id)?;
        map.serialize_entry("correlationId", &e.correlation_id)?;
        if let Some(causation_id) = &e.causation_id {
            map.serialize_entry("causationId", causation_id)?;
        }
        map.serialize_entry("data", &e.data)?;
        if let Some(metadata) = &e.metadata {
            map.serialize_entry("metadata", metadata)?;
        }
        for (key, value) in &e.unknown {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The routing fields of an envelope, read without building its payload:
/// for dispatch by type and duplicate checks before paying for `data`.
///
/// Strings are borrowed from the input where they hold no escapes.
///
/// ```
/// use event_runtime::{Header, Version};
/// let json = br#"{"id":"evt_1","type":"course.published","version":"1.3",
///   "timestamp":"2026-03-27T10:30:00Z","source":"course-service",
///   "tenantId":"t_1","correlationId":"req_1","data":{"courseId":"c_1"}}"#;
/// let header = Header::from_json_slice(json).unwrap();
/// assert_eq!(header.event_type(), "course.published");
/// assert_eq!(header.version(), Version::new(1, 3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    id: Cow<'a, str>,
    event_type: Cow<'a, str>,
    version: Version,
    tenant_id: Cow<'a, str>,
    correlation_id: Cow<'a, str>,
    causation_id: Option<Cow<'a, str>>,
    marker: PhantomData<&'a [u8]>,
}

impl<'a> Header<'a> {
    /// Reads and validates `id`, `type`, `version`, `tenantId` and
    /// `correlationId`; skips `data`, `metadata` and every other field by
    /// their structure alone. A payload that is not valid JSON inside is
    /// routed, and refused by the full decode.
    pub fn from_json_slice(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut parts = decode::Parts::empty();
        if !decode::scan_header(bytes, &mut parts) {
            // The scanner does not name problems; the serde path does.
            parts = decode::Parts::empty();
            if let Err(fast) = decode::read_header_parts(bytes, &mut parts) {
                return Err(decode::diagnose(bytes, Mode::Header, None, None, fast));
            }
        }
        let checked = decode::check_header(&mut parts, None)?;
        Ok(Header {
            id: checked.id.0,
            event_type: checked.ty.0,
            version: checked.version,
            tenant_id: checked.tenant_id.0,
            correlation_id: checked.correlation_id.0,
            causation_id: parts.causation_id.map(|s: Str<'a>| s.0),
            marker: PhantomData,
        })
    }

    /// The event id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The event type, syntactically valid.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The version on the wire.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The tenant the event belongs to.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The id that traces the request across services.
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The id of the event that caused this one, if any.
    pub fn causation_id(&self) -> Option<&str> {
        self.causation_id.as_deref()
    }

    /// Whether a reader of `T` would accept this header's type and version.
    pub fn is<T: Event>(&self) -> bool {
        self.event_type == T::TYPE && T::VERSION.is_compatible_with(self.version)
    }
}
