//! CloudEvents structured JSON mode: the toolkit against the official SDK,
//! measured in one run.
//!
//! `cargo bench -p event-runtime --bench cloudevents`
//!
//! - `cloudevents_decode/sdk_then_from_value` is the baseline: the
//!   `cloudevents-sdk` decode (`serde_json::from_slice::<cloudevents::Event>`),
//!   then `serde_json::from_value` of its data into the payload struct and
//!   the envelope extensions read out as strings, the version parsed: what
//!   a consumer on the SDK does to get the same typed result.
//!   `cloudevents_decode/toolkit` is `Envelope::<T>::from_cloudevent_json`,
//!   one serde pass with every check of the mapping.
//! - `cloudevents_encode/toolkit` (`to_cloudevent_json` of a typed
//!   envelope) against `cloudevents_encode/sdk_from_typed` (building the
//!   `cloudevents::Event` from the same typed envelope, data through
//!   `serde_json::to_value`, then `serde_json::to_vec`) and
//!   `cloudevents_encode/sdk_prebuilt` (`serde_json::to_vec` of an event
//!   already built, its data an already-serialized JSON tree: a lower bound
//!   that skips the payload's own serialization).
//! - `cloudevents_binary/{kafka,http}`: `to_binary` then `from_binary`, for
//!   scale.

mod support;

use support::EnrollmentCompleted;

use cloudevents::event::ExtensionValue;
use cloudevents::{AttributesReader, Data, EventBuilder, EventBuilderV10};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use event_runtime::cloudevents::Binding;
use event_runtime::{Envelope, Event, EventId, Map, Version};
use serde_json::json;
use std::hint::black_box;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use uuid::Uuid;

fn envelope() -> Envelope<EnrollmentCompleted> {
    let data = EnrollmentCompleted {
        enrollment_id: Uuid::parse_str("0b6f3f6e-3c1a-4c52-9a8e-5d1f2b7c9e10").unwrap(),
        user_id: Uuid::parse_str("5a2d9a4e-8f61-4c3b-b6f0-1e2d3c4b5a69").unwrap(),
        course_id: Uuid::parse_str("9c1e7b2a-4d3f-4e5a-8b6c-7d8e9f0a1b2c").unwrap(),
        course_title: "Event-driven design".into(),
        completed_at: datetime!(2026-03-27 10:30:00 UTC),
        score: 85,
        total_duration: 340,
    };
    let mut metadata = Map::new();
    metadata.insert("triggeredby".into(), json!("usr_42"));
    metadata.insert("useragent".into(), json!("web"));
    Envelope::new(data)
        .id(EventId::new("evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6").unwrap())
        .timestamp(datetime!(2026-03-27 10:30:00.000 UTC))
        .tenant("tenant_7f3c")
        .correlation("req_xyz789")
        .metadata(metadata)
        .build()
}

/// What the SDK path produces: the same fields the typed envelope holds.
#[allow(dead_code, reason = "built to be measured, read through black_box")]
struct SdkTyped {
    id: String,
    source: String,
    time: i64,
    version: Version,
    tenant_id: String,
    correlation_id: String,
    data: EnrollmentCompleted,
}

fn extension_string(event: &cloudevents::Event, name: &str) -> Option<String> {
    match event.extension(name)? {
        ExtensionValue::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn sdk_decode(bytes: &[u8]) -> Option<SdkTyped> {
    let mut event: cloudevents::Event = serde_json::from_slice(bytes).ok()?;
    let (_, _, data) = event.take_data();
    let Some(Data::Json(data)) = data else {
        return None;
    };
    Some(SdkTyped {
        id: event.id().to_owned(),
        source: event.source().clone(),
        time: event.time()?.timestamp(),
        version: extension_string(&event, "eventversion")?.parse().ok()?,
        tenant_id: extension_string(&event, "tenantid")?,
        correlation_id: extension_string(&event, "correlationid")?,
        data: serde_json::from_value(data).ok()?,
    })
}

fn decode(c: &mut Criterion) {
    let env = envelope();
    let bytes = env.to_cloudevent_json().unwrap();
    // Both paths read the same event, and read it right.
    let sdk = sdk_decode(&bytes).expect("the SDK reads the event");
    assert_eq!(&sdk.data, env.data());
    assert_eq!(sdk.tenant_id, env.tenant_id());
    let ours = Envelope::<EnrollmentCompleted>::from_cloudevent_json(&bytes).unwrap();
    assert_eq!(ours, env);

    let mut group = c.benchmark_group("cloudevents_decode");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("sdk_then_from_value", |b| {
        b.iter(|| sdk_decode(black_box(&bytes)))
    });
    group.bench_function("toolkit", |b| {
        b.iter(|| Envelope::<EnrollmentCompleted>::from_cloudevent_json(black_box(&bytes)))
    });
    group.finish();
}

/// The SDK event a producer on the SDK builds from the same typed data.
fn sdk_event(env: &Envelope<EnrollmentCompleted>) -> cloudevents::Event {
    let mut builder = EventBuilderV10::new()
        .id(env.id().as_str())
        .source(env.source())
        .ty(EnrollmentCompleted::TYPE)
        .time(env.timestamp().format(&Rfc3339).unwrap())
        .extension("eventversion", env.version().to_string())
        .extension("tenantid", env.tenant_id())
        .extension("correlationid", env.correlation_id())
        .data(
            "application/json",
            serde_json::to_value(env.data()).unwrap(),
        );
    for (key, value) in env.metadata().into_iter().flatten() {
        if let Some(value) = value.as_str() {
            builder = builder.extension(key, value);
        }
    }
    builder.build().unwrap()
}

fn encode(c: &mut Criterion) {
    let env = envelope();
    let bytes = env.to_cloudevent_json().unwrap();
    let event: cloudevents::Event = serde_json::from_slice(&bytes).unwrap();
    let mut group = c.benchmark_group("cloudevents_encode");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("sdk_prebuilt", |b| {
        b.iter(|| serde_json::to_vec(black_box(&event)))
    });
    group.bench_function("sdk_from_typed", |b| {
        b.iter(|| serde_json::to_vec(&sdk_event(black_box(&env))))
    });
    group.bench_function("toolkit", |b| {
        b.iter(|| black_box(&env).to_cloudevent_json())
    });
    group.finish();
}

fn binary(c: &mut Criterion) {
    let env = envelope();
    let mut group = c.benchmark_group("cloudevents_binary");
    for (name, binding) in [("kafka", Binding::Kafka), ("http", Binding::Http)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let message = black_box(&env).to_binary(binding).unwrap();
                Envelope::<EnrollmentCompleted>::from_binary(
                    binding,
                    message
                        .headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                    &message.body,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode, binary);
criterion_main!(benches);
