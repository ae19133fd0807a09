//! Typed routing: one enum over the events a service handles, decoded in one
//! pass, and a publisher that accepts only the events a service produces.
//!
//! `event-codegen` generates both from the catalog (every event lists its
//! producer and consumers); code-first users write the same with the
//! [`catalog!`](crate::catalog) macro and [`ProducedBy`] impls.

use crate::decode::{self, DataReader, Mode, Str};
use crate::error::{DecodeError, EncodeError};
use crate::{Contract, Delivery, Envelope, Event, EventId, Ordering, Version};
use rustc_hash::FxHashMap;
use serde::de::{Deserializer, IgnoredAny, MapAccess};
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;

/// A closed set of event contracts decoded into one enum: every event of a
/// catalog, or the inbound events of one consumer.
///
/// Implemented by [`catalog!`](crate::catalog); the hidden methods are the
/// macro's business.
pub trait Catalog: Sized {
    #[doc(hidden)]
    type Data;

    /// The (type, version) of every variant, in declaration order.
    fn contracts() -> &'static [(&'static str, Version)];

    /// What the contract of every variant declares, in declaration order:
    /// its type and version, producer, guarantees and consumers. Read by
    /// what derives infrastructure from a catalog (a broker's topology,
    /// dashboards) without naming its events one by one.
    fn routes() -> &'static [RouteContract];

    #[doc(hidden)]
    fn route_table() -> &'static RouteTable;

    #[doc(hidden)]
    fn deserialize_data<'de, D: Deserializer<'de>>(
        route: usize,
        de: D,
    ) -> Result<Self::Data, D::Error>;

    #[doc(hidden)]
    fn check_data(route: usize) -> fn(&str) -> Option<DecodeError>;

    #[doc(hidden)]
    fn assemble(envelope: Envelope<()>, data: Self::Data) -> Self;

    /// The idempotency key of the decoded event: its natural key when the
    /// payload has one, its event id otherwise
    /// ([`IdempotencyKey::of`](crate::idempotency::IdempotencyKey::of)).
    fn idempotency_key(&self) -> crate::idempotency::IdempotencyKey;

    /// The id of the decoded event.
    fn event_id(&self) -> &EventId;

    /// The type of the decoded event.
    fn event_type(&self) -> &'static str;

    /// When the decoded event happened: its envelope's `timestamp`.
    fn timestamp(&self) -> time::OffsetDateTime;

    /// Decodes an envelope of any event of the set: reads the header once,
    /// picks the variant by type and major version, accepts any minor of a
    /// known major. An event of a type or major outside the set is
    /// [`Routed::Unknown`], kept whole with the reason, so the consumer can
    /// skip it or dead-letter it without losing it. A malformed envelope is a
    /// [`DecodeError`].
    fn decode(bytes: &[u8]) -> Result<Routed<Self>, DecodeError> {
        decode_routed::<Self>(bytes)
    }
}

/// The contract of one variant of a [`Catalog`], as
/// [`Catalog::routes`] lists it: the [`Event`] constants of its type and its
/// [`Event::contract`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteContract {
    /// The event type (`enrollment.completed`).
    pub event_type: &'static str,
    /// The version the variant's type was written for; it reads every
    /// minor of this major.
    pub version: Version,
    /// The one service that publishes the event.
    pub producer: &'static str,
    /// The delivery guarantee of the contract.
    pub delivery: Delivery,
    /// The ordering consumers may rely on.
    pub ordering: Ordering,
    /// The rest of the contract: consumers, fields, keys.
    pub contract: &'static Contract,
}

impl RouteContract {
    /// The route of event type `E`.
    pub fn of<E: Event>() -> Self {
        RouteContract {
            event_type: E::TYPE,
            version: E::VERSION,
            producer: E::PRODUCER,
            delivery: E::DELIVERY,
            ordering: E::ORDERING,
            contract: E::contract(),
        }
    }

    /// The services that consume the event, as the contract lists them.
    pub fn consumers(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.contract.consumers.iter().map(|c| c.service)
    }
}

/// The outcome of a routed decode.
#[derive(Debug, Clone, PartialEq)]
pub enum Routed<C> {
    /// An event of the set, typed.
    Known(C),
    /// An event the set does not hold.
    Unknown(UnknownEvent),
}

/// An event whose type or major version a [`Catalog`] does not hold: its
/// header, the reason, and the envelope exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent {
    id: EventId,
    event_type: String,
    version: Version,
    tenant_id: String,
    correlation_id: String,
    reason: UnknownReason,
    raw: Box<[u8]>,
}

/// Why a [`Catalog`] did not take an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownReason {
    /// No event of this type is in the set.
    UnknownType,
    /// The type is in the set, but not at this major version.
    UnknownMajor {
        /// The majors of the type the set holds.
        known: Vec<u32>,
    },
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownReason::UnknownType => f.write_str("no handler for this event type"),
            UnknownReason::UnknownMajor { known } => {
                f.write_str("no handler for this major version; handled: ")?;
                for (i, major) in known.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{major}.x")?;
                }
                Ok(())
            }
        }
    }
}

impl UnknownEvent {
    /// The event id.
    pub fn id(&self) -> &EventId {
        &self.id
    }

    /// The event type on the wire.
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

    /// Why the set did not take it.
    pub fn reason(&self) -> &UnknownReason {
        &self.reason
    }

    /// The envelope exactly as received, byte for byte.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}

/// Routes by (type, major): built once per [`Catalog`].
#[doc(hidden)]
#[derive(Debug)]
pub struct RouteTable {
    by_type: FxHashMap<&'static str, Vec<(u32, usize)>>,
}

impl RouteTable {
    #[doc(hidden)]
    pub fn new(contracts: &[(&'static str, Version)]) -> Self {
        let mut by_type: FxHashMap<&'static str, Vec<(u32, usize)>> = FxHashMap::default();
        for (route, (ty, version)) in contracts.iter().enumerate() {
            let majors = by_type.entry(ty).or_default();
            // A second variant of the same type and major could never be
            // reached; the first one keeps the route.
            if !majors.iter().any(|(m, _)| *m == version.major()) {
                majors.push((version.major(), route));
            }
        }
        RouteTable { by_type }
    }

    fn route(&self, event_type: &str, major: u32) -> Result<usize, UnknownReason> {
        let majors = self
            .by_type
            .get(event_type)
            .ok_or(UnknownReason::UnknownType)?;
        majors
            .iter()
            .find(|(m, _)| *m == major)
            .map(|(_, route)| *route)
            .ok_or_else(|| UnknownReason::UnknownMajor {
                known: majors.iter().map(|(m, _)| *m).collect(),
            })
    }
}

/// The payload of a routed envelope, as far as one pass got.
enum RoutedData<'de, D> {
    /// Decoded: `type` and `version` came before `data` and name a route.
    Decoded(usize, D),
    /// `data` came before `type` or `version`: decoded after the pass.
    Deferred(&'de RawValue),
    /// The route is unknown: `data` was skipped.
    Skipped,
}

struct RouteReader<C>(PhantomData<C>);

impl<'de, C: Catalog> DataReader<'de> for RouteReader<C> {
    type Data = RoutedData<'de, C::Data>;

    fn read<A: MapAccess<'de>>(
        &self,
        map: &mut A,
        event_type: Option<&Str<'de>>,
        version: Option<&Str<'de>>,
    ) -> Result<Self::Data, A::Error> {
        let (Some(ty), Some(version)) = (event_type, version) else {
            return map.next_value::<&'de RawValue>().map(RoutedData::Deferred);
        };
        let Some(version) = Version::parse_const(version) else {
            // The header check names the bad version.
            map.next_value::<IgnoredAny>()?;
            return Ok(RoutedData::Skipped);
        };
        match C::route_table().route(ty, version.major()) {
            Ok(route) => map
                .next_value_seed(DataSeed::<C> {
                    route,
                    marker: PhantomData,
                })
                .map(|data| RoutedData::Decoded(route, data)),
            Err(_) => {
                map.next_value::<IgnoredAny>()?;
                Ok(RoutedData::Skipped)
            }
        }
    }
}

struct DataSeed<C> {
    route: usize,
    marker: PhantomData<C>,
}

impl<'de, C: Catalog> serde::de::DeserializeSeed<'de> for DataSeed<C> {
    type Value = C::Data;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        C::deserialize_data(self.route, deserializer)
    }
}

fn decode_routed<C: Catalog>(bytes: &[u8]) -> Result<Routed<C>, DecodeError> {
    let reader = RouteReader::<C>(PhantomData);
    let mut parts = decode::Parts::empty();
    if let Err(fast) = decode::read_parts_with(bytes, Mode::Full, &reader, &mut parts) {
        return Err(diagnose_routed::<C>(bytes, fast));
    }
    let header = decode::check_header(&mut parts, None)?;
    // The pass already routed the payload by this type and major.
    let routed = match &parts.data {
        Some(RoutedData::Decoded(route, _)) => Ok(*route),
        _ => C::route_table().route(&header.ty, header.version.major()),
    };
    let route = match routed {
        Ok(route) => route,
        Err(reason) => {
            return Ok(Routed::Unknown(UnknownEvent {
                id: EventId::from_wire(header.id.0.into_owned()),
                event_type: header.ty.0.into_owned(),
                version: header.version,
                tenant_id: header.tenant_id.0.into_owned(),
                correlation_id: header.correlation_id.0.into_owned(),
                reason,
                raw: bytes.into(),
            }));
        }
    };
    let context = |e: DecodeError| e.with_context(Some(&header.id), Some(&header.ty));
    let (timestamp, source) = decode::check_body(&mut parts).map_err(context)?;
    let data = match parts.data.take() {
        Some(RoutedData::Decoded(_, data)) => data,
        Some(RoutedData::Deferred(raw)) => {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            match C::deserialize_data(route, &mut de) {
                Ok(data) => data,
                Err(_) => {
                    let check = C::check_data(route);
                    return Err(context(check(raw.get()).unwrap_or_else(|| {
                        DecodeError::new(
                            crate::DecodeErrorKind::InvalidData,
                            "data",
                            "invalid payload",
                        )
                    })));
                }
            }
        }
        Some(RoutedData::Skipped) | None => {
            return Err(context(DecodeError::new(
                crate::DecodeErrorKind::MissingField,
                "data",
                "missing required envelope field `data`",
            )));
        }
    };
    let envelope = Envelope {
        id: EventId::from_wire(header.id.0.into_owned()),
        version: header.version,
        timestamp,
        source: source.0.into_owned(),
        tenant_id: header.tenant_id.0.into_owned(),
        correlation_id: header.correlation_id.0.into_owned(),
        causation_id: parts.causation_id.map(|s| s.0.into_owned()),
        data: (),
        metadata: parts.metadata,
        unknown: parts.unknown,
    };
    Ok(Routed::Known(C::assemble(envelope, data)))
}

/// Names the problem of an envelope the one-pass routed decode refused: the
/// header as for any decode, then the payload as its route reads it.
fn diagnose_routed<C: Catalog>(bytes: &[u8], fast: serde_json::Error) -> DecodeError {
    let mut parts = decode::Parts::<IgnoredAny>::empty();
    let header_only = match decode::read_parts(bytes, Mode::Header, &mut parts) {
        Ok(()) => decode::check_header(&mut parts, None).map(|h| (h.ty.0.into_owned(), h.version)),
        Err(e) => return decode::diagnose(bytes, Mode::Full, None, None, e),
    };
    match header_only {
        Err(e) => e,
        Ok((ty, version)) => match C::route_table().route(&ty, version.major()) {
            Ok(route) => {
                let (expected_type, expected_version) = C::contracts()[route];
                decode::diagnose(
                    bytes,
                    Mode::Full,
                    Some((expected_type, expected_version)),
                    Some(C::check_data(route)),
                    fast,
                )
            }
            Err(_) => decode::diagnose(bytes, Mode::Full, None, None, fast),
        },
    }
}

/// Puts `data` into `envelope` in place of its payload: for routed decoding,
/// which reads the envelope before it knows the payload's type.
#[doc(hidden)]
pub fn with_data<T, U>(envelope: Envelope<T>, data: U) -> Envelope<U> {
    Envelope {
        id: envelope.id,
        version: envelope.version,
        timestamp: envelope.timestamp,
        source: envelope.source,
        tenant_id: envelope.tenant_id,
        correlation_id: envelope.correlation_id,
        causation_id: envelope.causation_id,
        data,
        metadata: envelope.metadata,
        unknown: envelope.unknown,
    }
}

/// Declares an enum over a set of event contracts and implements
/// [`Catalog`] for it: one variant per (type, major), each holding the
/// typed [`Envelope`].
///
/// ```
/// use event_runtime::{catalog, Catalog, Envelope, Event, Routed, Version};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct CoursePublished { course_id: String }
/// impl Event for CoursePublished {
///     const TYPE: &'static str = "course.published";
///     const VERSION: Version = Version::new(1, 0);
///     const PRODUCER: &'static str = "course-service";
/// }
///
/// catalog! {
///     /// What the search service handles.
///     #[derive(Debug, Clone, PartialEq)]
///     pub enum SearchInbound {
///         CoursePublished(CoursePublished),
///     }
/// }
///
/// let env = Envelope::new(CoursePublished { course_id: "c_1".into() })
///     .tenant("t_1").correlation("req_1").build();
/// let bytes = env.to_json_vec().unwrap();
/// match SearchInbound::decode(&bytes).unwrap() {
///     Routed::Known(SearchInbound::CoursePublished(e)) => assert_eq!(e.data().course_id, "c_1"),
///     Routed::Unknown(other) => panic!("not routed: {}", other.reason()),
/// }
/// ```
#[macro_export]
macro_rules! catalog {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ( $ty:ty ) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant($crate::Envelope<$ty>), )*
        }

        const _: () = {
            #[doc(hidden)]
            pub enum __Data {
                $( $variant($ty), )*
            }

            #[automatically_derived]
            impl $crate::Catalog for $name {
                type Data = __Data;

                fn contracts() -> &'static [(&'static str, $crate::Version)] {
                    &[ $( (<$ty as $crate::Event>::TYPE, <$ty as $crate::Event>::VERSION), )* ]
                }

                fn routes() -> &'static [$crate::RouteContract] {
                    static ROUTES: $crate::__private::std::sync::OnceLock<
                        $crate::__private::std::vec::Vec<$crate::RouteContract>,
                    > = $crate::__private::std::sync::OnceLock::new();
                    ROUTES.get_or_init(|| $crate::__private::std::vec![
                        $( $crate::RouteContract::of::<$ty>(), )*
                    ])
                }

                fn route_table() -> &'static $crate::__private::RouteTable {
                    static TABLE: $crate::__private::std::sync::OnceLock<$crate::__private::RouteTable> =
                        $crate::__private::std::sync::OnceLock::new();
                    TABLE.get_or_init(|| $crate::__private::RouteTable::new(Self::contracts()))
                }

                #[allow(unused_assignments)]
                fn deserialize_data<'de, __D>(__route: usize, __de: __D) -> ::core::result::Result<__Data, __D::Error>
                where
                    __D: $crate::__private::serde::Deserializer<'de>,
                {
                    let mut __i = 0usize;
                    $(
                        if __route == __i {
                            return <$ty as $crate::__private::serde::Deserialize>::deserialize(__de).map(__Data::$variant);
                        }
                        __i += 1;
                    )*
                    ::core::result::Result::Err(<__D::Error as $crate::__private::serde::de::Error>::custom(
                        "event route out of range",
                    ))
                }

                #[allow(unused_assignments)]
                fn check_data(__route: usize) -> fn(&str) -> ::core::option::Option<$crate::DecodeError> {
                    let mut __i = 0usize;
                    $(
                        if __route == __i {
                            return $crate::__private::check_data::<$ty>;
                        }
                        __i += 1;
                    )*
                    |_| ::core::option::Option::None
                }

                fn assemble(__envelope: $crate::Envelope<()>, __data: __Data) -> Self {
                    match __data {
                        $( __Data::$variant(__d) => $name::$variant($crate::__private::with_data(__envelope, __d)), )*
                    }
                }

                fn idempotency_key(&self) -> $crate::idempotency::IdempotencyKey {
                    // `*self`, so a catalog without variants matches too.
                    match *self {
                        $( $name::$variant(ref __e) => $crate::idempotency::IdempotencyKey::of(__e), )*
                    }
                }

                fn event_id(&self) -> &$crate::EventId {
                    match *self {
                        $( $name::$variant(ref __e) => __e.id(), )*
                    }
                }

                fn event_type(&self) -> &'static str {
                    match *self {
                        $( $name::$variant(_) => <$ty as $crate::Event>::TYPE, )*
                    }
                }

                fn timestamp(&self) -> $crate::OffsetDateTime {
                    match *self {
                        $( $name::$variant(ref __e) => __e.timestamp(), )*
                    }
                }
            }

            #[automatically_derived]
            impl $name {
                /// Decodes an envelope of any event of the set: the
                /// catalog's `Catalog::decode`, callable without importing
                /// the trait.
                #[allow(dead_code)]
                $vis fn from_json_slice(
                    __bytes: &[u8],
                ) -> ::core::result::Result<$crate::Routed<Self>, $crate::DecodeError> {
                    <Self as $crate::Catalog>::decode(__bytes)
                }
            }
        };
    };
}

/// A service of the catalog, as a type: the parameter of [`ProducedBy`] and
/// [`Publisher`].
pub trait Service {
    /// The service's name (`enrollment-service`).
    const NAME: &'static str;
}

/// `Self` is an event that service `S` produces. Generated from the
/// catalog's `producer` fields, one impl per event: a [`Publisher`] of `S`
/// accepts exactly these events.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not produced by `{S}`",
    label = "this service does not own this event",
    note = "the catalog names another service as the producer of `{Self}`; only its producer may publish it. Publish an event of your own service, or move the event's `producer` in the catalog"
)]
pub trait ProducedBy<S: Service>: Event {}

/// One encoded event on its way to a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// The event type, for topic or subject routing.
    pub event_type: &'static str,
    /// The major version, for topics per major.
    pub major: u32,
    /// The event id, for broker-side deduplication.
    pub id: String,
    /// The partition key of events ordered per entity.
    pub partition_key: Option<String>,
    /// The encoded envelope.
    pub payload: Vec<u8>,
}

/// Where a [`Publisher`] sends encoded events: a broker client, an outbox
/// table, a test double.
pub trait Transport {
    /// The transport's error.
    type Error;

    /// Sends one message.
    fn send(&self, message: OutboundMessage) -> Result<(), Self::Error>;
}

/// Why an event was not published.
#[derive(Debug)]
pub enum PublishError<E> {
    /// The envelope could not be encoded or its payload breaks its contract.
    Encode(EncodeError),
    /// The envelope's source is not the publishing service.
    WrongSource {
        /// The publishing service.
        service: &'static str,
        /// The envelope's source.
        source: String,
    },
    /// The transport failed.
    Transport(E),
}

impl<E: fmt::Display> fmt::Display for PublishError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Encode(e) => write!(f, "cannot encode the event: {e}"),
            PublishError::WrongSource { service, source } => write!(
                f,
                "{service} cannot publish an event whose source is {source}: the source of an event is its producer"
            ),
            PublishError::Transport(e) => write!(f, "transport failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for PublishError<E> {}

/// Publishes the events service `S` produces, and no others: publishing an
/// event `S` does not produce does not compile.
#[derive(Debug)]
pub struct Publisher<S, X> {
    transport: X,
    service: PhantomData<fn() -> S>,
}

impl<S: Service, X> Publisher<S, X> {
    /// A publisher for `S` over `transport`: a [`Transport`] here, or an
    /// asynchronous one that publishes through [`encode`](Self::encode).
    pub fn new(transport: X) -> Self {
        Publisher {
            transport,
            service: PhantomData,
        }
    }

    /// The transport.
    pub fn transport(&self) -> &X {
        &self.transport
    }

    /// Checks the source and encodes the envelope into the message a
    /// transport sends, without sending it: the half of
    /// [`publish`](Self::publish) that asynchronous transports share.
    pub fn encode<E: ProducedBy<S>>(
        &self,
        envelope: &Envelope<E>,
    ) -> Result<OutboundMessage, PublishError<core::convert::Infallible>> {
        if envelope.source() != S::NAME {
            return Err(PublishError::WrongSource {
                service: S::NAME,
                source: envelope.source().to_owned(),
            });
        }
        let payload = envelope.to_json_vec().map_err(PublishError::Encode)?;
        Ok(OutboundMessage {
            event_type: E::TYPE,
            major: E::VERSION.major(),
            id: envelope.id().as_str().to_owned(),
            partition_key: envelope.partition_key(),
            payload,
        })
    }
}

impl<S: Service, X: Transport> Publisher<S, X> {
    /// Encodes the envelope and sends it.
    pub fn publish<E: ProducedBy<S>>(
        &self,
        envelope: &Envelope<E>,
    ) -> Result<(), PublishError<X::Error>> {
        if envelope.source() != S::NAME {
            return Err(PublishError::WrongSource {
                service: S::NAME,
                source: envelope.source().to_owned(),
            });
        }
        let payload = envelope.to_json_vec().map_err(PublishError::Encode)?;
        self.transport
            .send(OutboundMessage {
                event_type: E::TYPE,
                major: E::VERSION.major(),
                id: envelope.id().as_str().to_owned(),
                partition_key: envelope.partition_key(),
                payload,
            })
            .map_err(PublishError::Transport)
    }
}
