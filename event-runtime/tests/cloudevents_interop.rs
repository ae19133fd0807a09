//! Interop with the official CloudEvents SDK (`cloudevents-sdk`): what the
//! toolkit writes, the SDK reads with the same attributes; what the SDK
//! writes, the toolkit reads into typed envelopes.

mod common;

use cloudevents::event::{ExtensionValue, SpecVersion};
use cloudevents::message::{self, BinaryDeserializer, BinarySerializer, MessageAttributeValue};
use cloudevents::{AttributesReader, Data, EventBuilder, EventBuilderV10};
use common::{EnrollmentCompleted, ID};
use event_runtime::cloudevents::Binding;
use event_runtime::{Envelope, EventId, Map, Version};
use serde_json::{Value, json};
use time::macros::datetime;

fn toolkit_envelope() -> Envelope<EnrollmentCompleted> {
    let json = serde_json::to_vec(&common::envelope()).unwrap();
    let parent = Envelope::<EnrollmentCompleted>::from_json_slice(&json).unwrap();
    let mut metadata = Map::new();
    metadata.insert("triggeredby".into(), json!("usr_42"));
    metadata.insert("sampled".into(), json!(true));
    metadata.insert("attempt".into(), json!(3));
    Envelope::caused_by(&parent, parent.data().clone())
        .id(EventId::new("evt_interop").unwrap())
        .timestamp(datetime!(2026-03-27 12:30:00.25 +02:00))
        .metadata(metadata)
        .build()
}

fn extension(event: &cloudevents::Event, name: &str) -> Option<ExtensionValue> {
    event.extension(name).cloned()
}

fn string(s: &str) -> Option<ExtensionValue> {
    Some(ExtensionValue::String(s.to_owned()))
}

/// The instant of an SDK time, in nanoseconds since the epoch.
fn sdk_nanos(event: &cloudevents::Event) -> i128 {
    let time = event.time().expect("time is set");
    i128::from(time.timestamp()) * 1_000_000_000 + i128::from(time.timestamp_subsec_nanos())
}

#[test]
fn the_sdk_reads_what_the_toolkit_writes() {
    let env = toolkit_envelope();
    let bytes = env.to_cloudevent_json().unwrap();
    let event: cloudevents::Event = serde_json::from_slice(&bytes).unwrap();

    assert_eq!(event.specversion().as_str(), "1.0");
    assert_eq!(event.id(), "evt_interop");
    assert_eq!(event.source(), "enrollment-service");
    assert_eq!(event.ty(), "enrollment.completed");
    assert_eq!(event.datacontenttype(), Some("application/json"));
    assert_eq!(sdk_nanos(&event), env.timestamp().unix_timestamp_nanos());
    assert_eq!(extension(&event, "eventversion"), string("1.1"));
    assert_eq!(extension(&event, "tenantid"), string("tenant_7f3c"));
    assert_eq!(extension(&event, "correlationid"), string("req_xyz789"));
    assert_eq!(extension(&event, "causationid"), string(ID));
    assert_eq!(extension(&event, "triggeredby"), string("usr_42"));
    assert_eq!(
        extension(&event, "sampled"),
        Some(ExtensionValue::Boolean(true))
    );
    assert_eq!(
        extension(&event, "attempt"),
        Some(ExtensionValue::Integer(3))
    );
    assert_eq!(event.iter_extensions().count(), 7);

    let Some(Data::Json(data)) = event.data() else {
        panic!("the SDK did not read JSON data: {:?}", event.data());
    };
    let data: EnrollmentCompleted = serde_json::from_value(data.clone()).unwrap();
    assert_eq!(&data, env.data());
}

fn sdk_event() -> cloudevents::Event {
    EventBuilderV10::new()
        .id(ID)
        .source("enrollment-service")
        .ty("enrollment.completed")
        .time("2026-03-27T10:30:00.125Z")
        .extension("eventversion", "1.0")
        .extension("tenantid", "tenant_7f3c")
        .extension("correlationid", "req_xyz789")
        .extension("causationid", "evt_parent")
        .extension("traceparent", "00-4bf92f-00f067-01")
        .extension("sampled", false)
        .extension("priority", 7_i64)
        .subject("enrollment/0b6f3f6e")
        .data("application/json", common::envelope()["data"].clone())
        .build()
        .unwrap()
}

#[test]
fn the_toolkit_reads_what_the_sdk_writes() {
    let bytes = serde_json::to_vec(&sdk_event()).unwrap();
    let env = Envelope::<EnrollmentCompleted>::from_cloudevent_json(&bytes).unwrap();

    assert_eq!(env.id().as_str(), ID);
    assert_eq!(env.version(), Version::new(1, 0));
    assert_eq!(env.timestamp(), datetime!(2026-03-27 10:30:00.125 UTC));
    assert_eq!(env.source(), "enrollment-service");
    assert_eq!(env.tenant_id(), "tenant_7f3c");
    assert_eq!(env.correlation_id(), "req_xyz789");
    assert_eq!(env.causation_id(), Some("evt_parent"));
    assert_eq!(env.data().enrollment_id, common::enrollment_id());
    assert_eq!(env.data().score, 85);
    let metadata = env.metadata().unwrap();
    let expected: Map<String, Value> = serde_json::from_value(json!({
        "traceparent": "00-4bf92f-00f067-01",
        "sampled": false,
        "priority": 7,
        "subject": "enrollment/0b6f3f6e",
    }))
    .unwrap();
    assert_eq!(metadata, &expected);
}

#[test]
fn an_sdk_event_survives_a_trip_through_the_toolkit() {
    let original = sdk_event();
    let bytes = serde_json::to_vec(&original).unwrap();
    let env = Envelope::<EnrollmentCompleted>::from_cloudevent_json(&bytes).unwrap();
    let back: cloudevents::Event =
        serde_json::from_slice(&env.to_cloudevent_json().unwrap()).unwrap();

    assert_eq!(back.id(), original.id());
    assert_eq!(back.source(), original.source());
    assert_eq!(back.ty(), original.ty());
    assert_eq!(back.subject(), original.subject());
    assert_eq!(back.time(), original.time());
    let mut ours: Vec<_> = back.iter_extensions().collect();
    let mut theirs: Vec<_> = original.iter_extensions().collect();
    ours.sort_by_key(|(name, _)| *name);
    theirs.sort_by_key(|(name, _)| *name);
    assert_eq!(ours, theirs);
    let (Some(Data::Json(ours)), Some(Data::Json(theirs))) = (back.data(), original.data()) else {
        panic!("JSON data expected on both sides");
    };
    // The same payload; the payload type writes `completedAt` in its own
    // RFC 3339 form (`...:00Z` for `...:00.000Z`), so compare it typed.
    let ours: EnrollmentCompleted = serde_json::from_value(ours.clone()).unwrap();
    let theirs: EnrollmentCompleted = serde_json::from_value(theirs.clone()).unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn an_sdk_event_without_the_envelope_extensions_is_refused_by_name() {
    let event = EventBuilderV10::new()
        .id(ID)
        .source("enrollment-service")
        .ty("enrollment.completed")
        .time("2026-03-27T10:30:00Z")
        .extension("eventversion", "1.0")
        .data("application/json", common::envelope()["data"].clone())
        .build()
        .unwrap();
    let bytes = serde_json::to_vec(&event).unwrap();
    let e = Envelope::<EnrollmentCompleted>::from_cloudevent_json(&bytes).unwrap_err();
    assert_eq!(e.path(), "tenantid");
    assert_eq!(
        e.to_string(),
        format!(
            "tenantid: missing required attribute `tenantid`{}",
            common::CONTEXT
        )
    );
}

#[test]
fn the_sdk_time_is_utc_while_the_toolkit_keeps_the_offset() {
    // The SDK stores `time` as UTC: the instant survives, the offset does
    // not. The toolkit keeps the offset it read.
    let env = toolkit_envelope();
    let event: cloudevents::Event =
        serde_json::from_slice(&env.to_cloudevent_json().unwrap()).unwrap();
    let back = serde_json::to_vec(&event).unwrap();
    let read = Envelope::<EnrollmentCompleted>::from_cloudevent_json(&back).unwrap();
    assert_eq!(read.timestamp(), env.timestamp());
    assert_eq!(read.timestamp().offset().whole_seconds(), 0);
    let direct =
        Envelope::<EnrollmentCompleted>::from_cloudevent_json(&env.to_cloudevent_json().unwrap())
            .unwrap();
    assert_eq!(direct.timestamp().offset().whole_hours(), 2);
}

// Binary mode, Kafka. The SDK's Kafka binding needs librdkafka, so the two
// adapters below do what its record (de)serializers do, header by header:
// `ce_<name>` for every attribute, `content-type` for `datacontenttype`,
// values in the SDK's own string forms. Typing and formatting the values is
// left to the SDK.

/// Kafka headers and value, read by the SDK as its Kafka binding does.
struct KafkaRecord {
    headers: Vec<(String, String)>,
    value: Vec<u8>,
}

impl BinaryDeserializer for KafkaRecord {
    fn deserialize_binary<R: Sized, V: BinarySerializer<R>>(
        self,
        mut visitor: V,
    ) -> message::Result<R> {
        let header = |name: &str| {
            self.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let spec = header("ce_specversion").unwrap_or_default();
        visitor = visitor.set_spec_version(SpecVersion::try_from(spec.as_str())?)?;
        let names = SpecVersion::V10.attribute_names();
        if let Some(content_type) = header("content-type") {
            visitor = visitor.set_attribute(
                "datacontenttype",
                MessageAttributeValue::String(content_type),
            )?;
        }
        for (name, value) in &self.headers {
            let Some(name) = name.strip_prefix("ce_") else {
                continue;
            };
            if name == "specversion" {
                continue;
            }
            let value = MessageAttributeValue::String(value.clone());
            visitor = if names.contains(&name) {
                visitor.set_attribute(name, value)?
            } else {
                visitor.set_extension(name, value)?
            };
        }
        visitor.end_with_data(self.value)
    }
}

/// The SDK event written as Kafka headers, as its Kafka binding does.
#[derive(Default)]
struct KafkaHeaders {
    headers: Vec<(String, String)>,
    value: Vec<u8>,
}

impl BinarySerializer<KafkaHeaders> for KafkaHeaders {
    fn set_spec_version(mut self, spec_version: SpecVersion) -> message::Result<Self> {
        self.headers
            .push(("ce_specversion".into(), spec_version.to_string()));
        Ok(self)
    }

    fn set_attribute(mut self, name: &str, value: MessageAttributeValue) -> message::Result<Self> {
        let name = if name == "datacontenttype" {
            "content-type".to_owned()
        } else {
            format!("ce_{name}")
        };
        self.headers.push((name, value.to_string()));
        Ok(self)
    }

    fn set_extension(mut self, name: &str, value: MessageAttributeValue) -> message::Result<Self> {
        self.headers.push((format!("ce_{name}"), value.to_string()));
        Ok(self)
    }

    fn end_with_data(mut self, bytes: Vec<u8>) -> message::Result<KafkaHeaders> {
        self.value = bytes;
        Ok(self)
    }

    fn end(self) -> message::Result<KafkaHeaders> {
        Ok(self)
    }
}

#[test]
fn the_sdk_reads_the_toolkit_kafka_headers() {
    let env = toolkit_envelope();
    let message = env.to_binary(Binding::Kafka).unwrap();
    let event = KafkaRecord {
        headers: message.headers,
        value: message.body,
    }
    .into_event()
    .unwrap();
    assert_eq!(event.id(), "evt_interop");
    assert_eq!(event.source(), "enrollment-service");
    assert_eq!(event.ty(), "enrollment.completed");
    assert_eq!(event.datacontenttype(), Some("application/json"));
    assert_eq!(sdk_nanos(&event), env.timestamp().unix_timestamp_nanos());
    assert_eq!(extension(&event, "tenantid"), string("tenant_7f3c"));
    assert_eq!(extension(&event, "correlationid"), string("req_xyz789"));
    assert_eq!(extension(&event, "causationid"), string(ID));
    assert_eq!(extension(&event, "eventversion"), string("1.1"));
    // Headers carry strings only: the SDK reads them as strings too.
    assert_eq!(extension(&event, "attempt"), string("3"));
    let Some(Data::Binary(value)) = event.data() else {
        panic!(
            "the SDK keeps a binary-mode value as bytes: {:?}",
            event.data()
        );
    };
    let data: EnrollmentCompleted = serde_json::from_slice(value).unwrap();
    assert_eq!(&data, env.data());
}

#[test]
fn the_toolkit_reads_the_sdk_kafka_headers() {
    let record = sdk_event()
        .deserialize_binary(KafkaHeaders::default())
        .unwrap();
    let header = |name: &str| {
        record
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // The SDK's own forms: chrono's RFC 3339 for time.
    assert_eq!(header("ce_time"), Some("2026-03-27T10:30:00.125+00:00"));
    assert_eq!(header("ce_priority"), Some("7"));
    let env = Envelope::<EnrollmentCompleted>::from_binary(
        Binding::Kafka,
        record.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &record.value,
    )
    .unwrap();
    assert_eq!(env.id().as_str(), ID);
    assert_eq!(env.timestamp(), datetime!(2026-03-27 10:30:00.125 UTC));
    assert_eq!(env.tenant_id(), "tenant_7f3c");
    assert_eq!(env.causation_id(), Some("evt_parent"));
    assert_eq!(env.data().score, 85);
    let metadata = env.metadata().unwrap();
    assert_eq!(metadata["priority"], "7");
    assert_eq!(metadata["sampled"], "false");
    assert_eq!(metadata["subject"], "enrollment/0b6f3f6e");
}
