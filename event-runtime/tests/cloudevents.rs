//! CloudEvents 1.0: structured JSON mode, binary mode for Kafka and
//! HTTP/NATS, and what is refused on the way in and out.

mod common;

use common::{CONTEXT, CoursePublished, EnrollmentCompleted, ID};
use event_runtime::cloudevents::{BinaryMessage, Binding, STRUCTURED_CONTENT_TYPE};
use event_runtime::{DecodeErrorKind, Envelope, Event, EventId, Map, Value, Version};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::macros::datetime;

/// `enrollment.completed` 1.1 as a CloudEvent, as another producer would
/// write it.
fn cloudevent() -> Value {
    json!({
        "specversion": "1.0",
        "id": ID,
        "source": "enrollment-service",
        "type": "enrollment.completed",
        "time": "2026-03-27T12:30:00.000+02:00",
        "datacontenttype": "application/json",
        "eventversion": "1.1",
        "tenantid": "tenant_7f3c",
        "correlationid": "req_xyz789",
        "triggeredby": "usr_42",
        "data": common::envelope()["data"].clone(),
    })
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn decode(value: &Value) -> Result<Envelope<EnrollmentCompleted>, event_runtime::DecodeError> {
    Envelope::from_cloudevent_json(&bytes(value))
}

/// The error text of decoding `value` with `key` set to `replacement`
/// (removed when `None`).
fn error_with(key: &str, replacement: Option<Value>) -> (DecodeErrorKind, String, String) {
    let mut event = cloudevent();
    match replacement {
        Some(value) => event[key] = value,
        None => {
            event.as_object_mut().unwrap().remove(key);
        }
    }
    let e = decode(&event).unwrap_err();
    (e.kind().clone(), e.path().to_owned(), e.to_string())
}

fn sample() -> Envelope<EnrollmentCompleted> {
    let mut metadata = Map::new();
    metadata.insert("triggeredby".into(), json!("usr_42"));
    metadata.insert("retried".into(), json!(true));
    metadata.insert("attempt".into(), json!(3));
    let parent = decode(&cloudevent()).unwrap();
    Envelope::caused_by(&parent, parent.data().clone())
        .id(EventId::new("evt_child").unwrap())
        .timestamp(datetime!(2026-03-27 10:31:00.5 -05:00))
        .metadata(metadata)
        .build()
}

#[test]
fn structured_decode_maps_every_attribute() {
    let env = decode(&cloudevent()).unwrap();
    assert_eq!(env.id().as_str(), ID);
    assert_eq!(env.version(), Version::new(1, 1));
    assert_eq!(env.timestamp(), datetime!(2026-03-27 12:30:00 +02:00));
    assert_eq!(env.timestamp().offset().whole_hours(), 2, "offset kept");
    assert_eq!(env.source(), "enrollment-service");
    assert_eq!(env.tenant_id(), "tenant_7f3c");
    assert_eq!(env.correlation_id(), "req_xyz789");
    assert_eq!(env.causation_id(), None);
    assert_eq!(env.data().enrollment_id, common::enrollment_id());
    assert_eq!(env.data().score, 85);
    assert_eq!(env.data().grade.as_deref(), Some("A"));
    let metadata = env.metadata().unwrap();
    assert_eq!(metadata.len(), 1);
    assert_eq!(metadata["triggeredby"], "usr_42");
}

#[test]
fn structured_encode_writes_the_documented_attributes() {
    let env = sample();
    let written: Value = serde_json::from_slice(&env.to_cloudevent_json().unwrap()).unwrap();
    let mut expected = json!({
        "specversion": "1.0",
        "id": "evt_child",
        "source": "enrollment-service",
        "type": "enrollment.completed",
        "time": "2026-03-27T10:31:00.5-05:00",
        "datacontenttype": "application/json",
        "eventversion": "1.1",
        "tenantid": "tenant_7f3c",
        "correlationid": "req_xyz789",
        "causationid": ID,
        "triggeredby": "usr_42",
        "retried": true,
        "attempt": 3,
    });
    expected["data"] = serde_json::to_value(env.data()).unwrap();
    assert_eq!(written, expected);
}

#[test]
fn structured_round_trip_keeps_everything() {
    let env = sample();
    let read =
        Envelope::<EnrollmentCompleted>::from_cloudevent_json(&env.to_cloudevent_json().unwrap())
            .unwrap();
    assert_eq!(read, env);
    assert_eq!(read.timestamp().offset().whole_hours(), -5);
}

#[test]
fn older_minor_and_unknown_extensions_are_read() {
    let mut event = cloudevent();
    event["eventversion"] = json!("1.0");
    event["subject"] = json!("enrollment/42");
    event["sampled"] = json!(false);
    event["retries"] = json!(2);
    event["nothing"] = Value::Null;
    event["data"].as_object_mut().unwrap().remove("grade");
    let env = decode(&event).unwrap();
    assert_eq!(env.version(), Version::new(1, 0));
    assert_eq!(env.data().grade, None);
    let metadata = env.metadata().unwrap();
    assert_eq!(metadata["subject"], "enrollment/42");
    assert_eq!(metadata["sampled"], false);
    assert_eq!(metadata["retries"], 2);
    assert!(
        !metadata.contains_key("nothing"),
        "null is an absent attribute"
    );
}

#[test]
fn required_attributes_are_named_when_missing_or_empty() {
    for name in [
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "eventversion",
        "tenantid",
        "correlationid",
    ] {
        let (kind, path, text) = error_with(name, None);
        assert_eq!(kind, DecodeErrorKind::MissingField, "{name}");
        assert_eq!(path, name);
        assert!(
            text.starts_with(&format!("{name}: missing required attribute `{name}`")),
            "{text}"
        );

        let (kind, path, text) = error_with(name, Some(json!("")));
        assert_eq!(kind, DecodeErrorKind::EmptyField, "{name}");
        assert_eq!(path, name);
        assert!(
            text.starts_with(&format!("{name}: required attribute `{name}` is empty")),
            "{text}"
        );
    }
    let (kind, _, text) = error_with("data", None);
    assert_eq!(kind, DecodeErrorKind::MissingField);
    assert_eq!(
        text,
        format!("data: missing required attribute `data`{CONTEXT}")
    );
}

#[test]
fn specversion_must_be_1_0() {
    let (kind, path, text) = error_with("specversion", Some(json!("0.3")));
    assert_eq!(kind, DecodeErrorKind::InvalidVersion);
    assert_eq!(path, "specversion");
    assert_eq!(
        text,
        format!(
            "specversion: unsupported CloudEvents specversion \"0.3\": only \"1.0\" is read{CONTEXT}"
        )
    );
}

#[test]
fn time_must_be_rfc_3339_with_an_offset() {
    for bad in ["2026-03-27T10:30:00", "27/03/2026", "2026-03-27"] {
        let (kind, path, text) = error_with("time", Some(json!(bad)));
        assert_eq!(kind, DecodeErrorKind::InvalidTimestamp, "{bad}");
        assert_eq!(path, "time");
        assert!(
            text.starts_with(&format!("time: invalid time {bad:?}: ")),
            "{text}"
        );
    }
}

#[test]
fn illegal_extension_names_and_values_are_refused() {
    let (kind, path, text) = error_with("tenantId", Some(json!("tenant_7f3c")));
    assert_eq!(kind, DecodeErrorKind::InvalidAttribute);
    assert_eq!(path, "tenantId");
    assert_eq!(
        text,
        format!(
            "tenantId: `tenantId` is not a legal CloudEvents attribute name: names are lower-case ASCII letters and digits only{CONTEXT}"
        )
    );
    for (value, kind_text) in [
        (json!(1.5), "a fractional number"),
        (json!([1]), "an array"),
        (json!({"a": 1}), "an object"),
    ] {
        let (kind, path, text) = error_with("weight", Some(value));
        assert_eq!(kind, DecodeErrorKind::InvalidAttribute);
        assert_eq!(path, "weight");
        assert!(
            text.starts_with(&format!("weight: extension `weight` is {kind_text}; ")),
            "{text}"
        );
    }
}

#[test]
fn attributes_of_the_wrong_json_type_are_named() {
    let (kind, path, text) = error_with("tenantid", Some(json!(7)));
    assert_eq!(kind, DecodeErrorKind::FieldType);
    assert_eq!(path, "tenantid");
    assert_eq!(
        text,
        format!("tenantid: attribute `tenantid` must be a string, found `7`{CONTEXT}")
    );
}

#[test]
fn type_and_major_must_match_the_reader() {
    let (kind, path, _) = error_with("type", Some(json!("course.published")));
    assert_eq!(
        kind,
        DecodeErrorKind::UnexpectedType {
            expected: "enrollment.completed"
        }
    );
    assert_eq!(path, "type");
    let (kind, path, text) = error_with("eventversion", Some(json!("2.0")));
    assert_eq!(
        kind,
        DecodeErrorKind::IncompatibleMajor {
            expected: Version::new(1, 1),
            found: Version::new(2, 0)
        }
    );
    assert_eq!(path, "eventversion");
    assert!(
        text.starts_with("eventversion: version 2.0 is not readable"),
        "{text}"
    );
    let (kind, path, _) = error_with("eventversion", Some(json!("v1")));
    assert_eq!(kind, DecodeErrorKind::InvalidVersion);
    assert_eq!(path, "eventversion");
}

#[test]
fn payload_errors_name_the_field() {
    let mut event = cloudevent();
    event["data"]["score"] = json!("eighty");
    let e = decode(&event).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::InvalidData);
    assert_eq!(e.path(), "data.score");
    assert_eq!(e.event_id(), Some(ID));

    let mut event = cloudevent();
    event["data"].as_object_mut().unwrap().remove("userId");
    let e = decode(&event).unwrap_err();
    assert_eq!(e.path(), "data.userId");
}

#[test]
fn non_json_data_and_data_base64_are_refused() {
    let (kind, path, text) = error_with("datacontenttype", Some(json!("text/plain")));
    assert_eq!(kind, DecodeErrorKind::InvalidAttribute);
    assert_eq!(path, "datacontenttype");
    assert!(text.starts_with("datacontenttype: data content type \"text/plain\" is not JSON"));

    let mut event = cloudevent();
    event.as_object_mut().unwrap().remove("data");
    event["data_base64"] = json!("eyJhIjoxfQ==");
    let e = decode(&event).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::InvalidAttribute);
    assert_eq!(e.path(), "data_base64");

    // Absent `datacontenttype` means JSON; `+json` types are JSON.
    let mut event = cloudevent();
    event.as_object_mut().unwrap().remove("datacontenttype");
    assert!(decode(&event).is_ok());
    event["datacontenttype"] = json!("application/vnd.acme+json; charset=utf-8");
    assert!(decode(&event).is_ok());
}

#[test]
fn duplicate_attributes_are_refused() {
    let text = String::from_utf8(bytes(&cloudevent())).unwrap();
    let doubled = text.replacen("\"tenantid\":", "\"tenantid\":\"other\",\"tenantid\":", 1);
    let e = Envelope::<EnrollmentCompleted>::from_cloudevent_json(doubled.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::DuplicateField);
    assert_eq!(e.path(), "tenantid");
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for input in [&b""[..], b"[]", b"{", b"null", b"{\"id\":", &[0xff, 0xfe]] {
        let e = Envelope::<EnrollmentCompleted>::from_cloudevent_json(input).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::Malformed, "{input:?}");
    }
}

#[test]
fn metadata_that_cannot_be_an_extension_is_refused_with_its_key() {
    let cases = [
        (
            json!({"triggeredBy": "usr_42"}),
            "metadata: metadata key `triggeredBy` cannot be a CloudEvents extension: extension names are lower-case ASCII letters and digits only (rename it `triggeredby`)",
        ),
        (
            json!({"user_agent": "web"}),
            "metadata: metadata key `user_agent` cannot be a CloudEvents extension: extension names are lower-case ASCII letters and digits only (rename it `useragent`)",
        ),
        (
            json!({"tenantid": "other"}),
            "metadata: metadata key `tenantid` is a CloudEvents attribute the envelope writes itself",
        ),
        (
            json!({"weight": 1.5}),
            "metadata: metadata `weight` is the number 1.5, not a 32-bit integer; a CloudEvents extension holds a string, a boolean or a 32-bit integer",
        ),
        (
            json!({"big": 4_294_967_296_u64}),
            "metadata: metadata `big` is the number 4294967296, not a 32-bit integer; a CloudEvents extension holds a string, a boolean or a 32-bit integer",
        ),
        (
            json!({"tags": ["a"]}),
            "metadata: metadata `tags` is an array; a CloudEvents extension holds a string, a boolean or a 32-bit integer",
        ),
        (
            json!({"gone": null}),
            "metadata: metadata `gone` is null; a CloudEvents extension holds a string, a boolean or a 32-bit integer",
        ),
    ];
    for (metadata, expected) in cases {
        let Value::Object(metadata) = metadata else {
            unreachable!()
        };
        let env = Envelope::new(CoursePublished {
            course_id: "c_1".into(),
        })
        .tenant("t")
        .correlation("c")
        .metadata(metadata)
        .build();
        let e = env.to_cloudevent_json().unwrap_err();
        assert_eq!(e.field(), Some("metadata"));
        assert_eq!(e.to_string(), expected);
        let e = env.to_binary(Binding::Http).unwrap_err();
        assert_eq!(e.to_string(), expected);
    }
}

#[test]
fn every_encoding_refuses_an_id_its_readers_refuse() {
    let env = Envelope::new(CoursePublished {
        course_id: "c_1".into(),
    })
    .tenant("tenant 1")
    .correlation("c")
    .build();
    let expected = "tenantId: envelope field `tenantId` holds whitespace at byte 6 (\"tenant 1\"): an id is text without whitespace or control characters";
    for e in [
        env.to_json_vec().unwrap_err(),
        env.to_cloudevent_json().unwrap_err(),
        env.to_binary(Binding::Http).unwrap_err(),
        env.to_binary(Binding::Kafka).unwrap_err(),
    ] {
        assert_eq!(e.field(), Some("tenantId"));
        assert_eq!(e.to_string(), expected);
    }
}

#[test]
fn unknown_envelope_fields_travel_as_extensions_too() {
    let mut envelope = common::envelope();
    envelope.as_object_mut().unwrap().remove("metadata");
    envelope["traceparent"] = json!("00-abc-def-01");
    let env =
        Envelope::<EnrollmentCompleted>::from_json_slice_preserving(&bytes(&envelope)).unwrap();
    let written: Value = serde_json::from_slice(&env.to_cloudevent_json().unwrap()).unwrap();
    assert_eq!(written["traceparent"], "00-abc-def-01");

    envelope["traceParent"] = json!("x");
    let env =
        Envelope::<EnrollmentCompleted>::from_json_slice_preserving(&bytes(&envelope)).unwrap();
    let e = env.to_cloudevent_json().unwrap_err();
    assert!(
        e.to_string()
            .starts_with("metadata: unknown envelope field key `traceParent` cannot be"),
        "{e}"
    );
}

#[test]
fn the_structured_content_type_is_the_cloudevents_one() {
    assert_eq!(STRUCTURED_CONTENT_TYPE, "application/cloudevents+json");
}

// Binary mode.

/// An event ordered per entity: its partition key is the course id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CourseUpdated {
    course_id: String,
    title: String,
}

impl Event for CourseUpdated {
    const TYPE: &'static str = "course.updated";
    const VERSION: Version = Version::new(1, 0);
    const PRODUCER: &'static str = "course-service";
    const ORDERING: event_runtime::Ordering = event_runtime::Ordering::PerEntity;

    fn partition_key(&self) -> Option<String> {
        Some(self.course_id.clone())
    }
}

fn course_updated() -> Envelope<CourseUpdated> {
    let mut metadata = Map::new();
    metadata.insert(
        "useragent".into(),
        json!("Mozilla/5.0 (X11) \"quoted\" 100%"),
    );
    metadata.insert("region".into(), json!("Zürich"));
    metadata.insert("attempt".into(), json!(2));
    Envelope::new(CourseUpdated {
        course_id: "c_42".into(),
        title: "Événements".into(),
    })
    .id(EventId::new("evt_binary").unwrap())
    .timestamp(datetime!(2026-03-27 10:30:00 +01:00))
    .tenant("tenant_ä%7f3c")
    .correlation("req_xyz789")
    .causation("evt_parent")
    .metadata(metadata)
    .build()
}

fn pairs(message: &BinaryMessage) -> Vec<(&str, &str)> {
    message
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn http_headers_are_ce_dash_and_percent_encoded() {
    let message = course_updated().to_binary(Binding::Http).unwrap();
    assert_eq!(
        pairs(&message),
        [
            ("ce-specversion", "1.0"),
            ("ce-id", "evt_binary"),
            ("ce-source", "course-service"),
            ("ce-type", "course.updated"),
            ("ce-time", "2026-03-27T10:30:00+01:00"),
            ("content-type", "application/json"),
            ("ce-eventversion", "1.0"),
            ("ce-tenantid", "tenant_%C3%A4%257f3c"),
            ("ce-correlationid", "req_xyz789"),
            ("ce-causationid", "evt_parent"),
            ("ce-partitionkey", "c_42"),
            // Metadata last, in key order.
            ("ce-attempt", "2"),
            ("ce-region", "Z%C3%BCrich"),
            (
                "ce-useragent",
                "Mozilla/5.0%20(X11)%20%22quoted%22%20100%25"
            ),
        ]
    );
    let body: Value = serde_json::from_slice(&message.body).unwrap();
    assert_eq!(body, json!({"courseId": "c_42", "title": "Événements"}));
    assert_eq!(message.key.as_deref(), Some("c_42"));
    assert_eq!(message.header("CE-TenantId"), Some("tenant_%C3%A4%257f3c"));
}

#[test]
fn kafka_headers_are_ce_underscore_raw_and_the_key_is_the_partition_key() {
    let message = course_updated().to_binary(Binding::Kafka).unwrap();
    assert_eq!(message.key.as_deref(), Some("c_42"));
    assert_eq!(message.header("ce_tenantid"), Some("tenant_ä%7f3c"));
    assert_eq!(message.header("ce_region"), Some("Zürich"));
    assert_eq!(message.header("content-type"), Some("application/json"));
    assert_eq!(message.header("ce_time"), Some("2026-03-27T10:30:00+01:00"));
    assert!(
        message
            .headers
            .iter()
            .all(|(k, _)| k == "content-type" || k.starts_with("ce_"))
    );
    // NATS is HTTP's mapping.
    let nats = course_updated().to_binary(Binding::Nats).unwrap();
    assert_eq!(nats, course_updated().to_binary(Binding::Http).unwrap());
}

#[test]
fn binary_round_trips_in_every_binding() {
    let env = course_updated();
    for binding in [Binding::Kafka, Binding::Http, Binding::Nats] {
        let message = env.to_binary(binding).unwrap();
        let read = Envelope::<CourseUpdated>::from_binary(binding, pairs(&message), &message.body)
            .unwrap();
        assert_eq!(read.data(), env.data(), "{binding:?}");
        assert_eq!(read.tenant_id(), "tenant_ä%7f3c");
        assert_eq!(read.causation_id(), Some("evt_parent"));
        assert_eq!(read.timestamp(), env.timestamp());
        let metadata = read.metadata().unwrap();
        assert_eq!(metadata["useragent"], "Mozilla/5.0 (X11) \"quoted\" 100%");
        assert_eq!(metadata["region"], "Zürich");
        // Headers carry no types: the integer comes back as its string.
        assert_eq!(metadata["attempt"], "2");
        assert_eq!(metadata.len(), 3, "partitionkey is derived, not metadata");
    }
}

#[test]
fn http_header_names_are_case_insensitive_and_other_headers_ignored() {
    let headers = [
        ("CE-SpecVersion", "1.0"),
        ("Ce-Id", "evt_1"),
        ("ce-SOURCE", "course-service"),
        ("ce-type", "course.published"),
        ("ce-time", "2026-03-27T10:30:00Z"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("ce-eventversion", "1.0"),
        ("ce-tenantid", "t_1"),
        ("ce-correlationid", "req_1"),
        ("Host", "example.com"),
        ("Content-Length", "19"),
    ];
    let env =
        Envelope::<CoursePublished>::from_binary(Binding::Http, headers, br#"{"courseId":"c_1"}"#)
            .unwrap();
    assert_eq!(env.id().as_str(), "evt_1");
    assert_eq!(env.data().course_id, "c_1");
    assert_eq!(env.metadata(), None);
}

fn http_headers() -> Vec<(String, Vec<u8>)> {
    [
        ("ce-specversion", "1.0"),
        ("ce-id", "evt_1"),
        ("ce-source", "course-service"),
        ("ce-type", "course.published"),
        ("ce-time", "2026-03-27T10:30:00Z"),
        ("ce-eventversion", "1.0"),
        ("ce-tenantid", "t_1"),
        ("ce-correlationid", "req_1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
    .collect()
}

fn binary_error(binding: Binding, headers: Vec<(String, Vec<u8>)>, body: &[u8]) -> String {
    Envelope::<CoursePublished>::from_binary(binding, headers, body)
        .unwrap_err()
        .to_string()
}

#[test]
fn binary_errors_name_the_header() {
    let body = br#"{"courseId":"c_1"}"#;
    let ok = Envelope::<CoursePublished>::from_binary(Binding::Http, http_headers(), body);
    assert!(ok.is_ok(), "{ok:?}");

    let mut headers = http_headers();
    headers.retain(|(k, _)| k != "ce-tenantid");
    assert_eq!(
        binary_error(Binding::Http, headers, body),
        "ce-tenantid: missing required attribute `ce-tenantid` (event evt_1, type course.published)"
    );

    // The JSON envelope's rule for ids holds in every binding, so an event
    // read from one can be written to another.
    let mut headers = http_headers();
    headers[6].1 = b"tenant%201".to_vec();
    assert_eq!(
        binary_error(Binding::Http, headers, body),
        "ce-tenantid: attribute `ce-tenantid` holds whitespace at byte 6 (\"tenant 1\"): an id is text without whitespace or control characters (event evt_1, type course.published)"
    );
    let mut headers = http_headers();
    headers[7].1 = b"req%011".to_vec();
    assert_eq!(
        binary_error(Binding::Http, headers, body),
        "ce-correlationid: attribute `ce-correlationid` holds a control character at byte 3 (\"req\\u{1}1\"): an id is text without whitespace or control characters (event evt_1, type course.published)"
    );

    let mut headers = http_headers();
    headers[4].1 = b"yesterday".to_vec();
    assert!(
        binary_error(Binding::Http, headers, body)
            .starts_with("ce-time: invalid time \"yesterday\": ")
    );

    let mut headers = http_headers();
    headers.push(("ce-trace%".to_owned(), b"x".to_vec()));
    assert_eq!(
        binary_error(Binding::Http, headers, body),
        "ce-trace%: `trace%` is not a legal CloudEvents attribute name: names are lower-case ASCII letters and digits only (event evt_1, type course.published)"
    );

    let mut headers = http_headers();
    headers.push(("ce-region".to_owned(), b"Z%C3".to_vec()));
    assert!(
        binary_error(Binding::Http, headers, body)
            .starts_with("ce-region: header `ce-region` is not UTF-8 once percent-decoded"),
    );

    let mut headers = http_headers();
    headers.push(("ce-share".to_owned(), b"100%".to_vec()));
    assert!(
        binary_error(Binding::Http, headers, body)
            .starts_with("ce-share: header `ce-share` has an invalid percent-encoding `%`"),
    );

    let mut headers = http_headers();
    headers.push(("ce-id".to_owned(), b"evt_2".to_vec()));
    assert!(
        binary_error(Binding::Http, headers, body)
            .starts_with("ce-id: attribute `ce-id` appears more than once")
    );

    let mut headers = http_headers();
    headers.push(("content-type".to_owned(), b"text/plain".to_vec()));
    assert!(
        binary_error(Binding::Http, headers, body)
            .starts_with("content-type: data content type \"text/plain\" is not JSON")
    );

    assert_eq!(
        binary_error(Binding::Http, http_headers(), b""),
        "data: missing required payload: the body is empty (event evt_1, type course.published)"
    );
    assert!(
        binary_error(Binding::Http, http_headers(), br#"{"courseId":5}"#)
            .starts_with("data.courseId: ")
    );
    assert!(
        binary_error(Binding::Http, http_headers(), &[0xff])
            .starts_with("data: the body is not UTF-8 JSON")
    );
}

#[test]
fn kafka_reads_ce_underscore_headers_with_raw_values() {
    let headers: Vec<(String, Vec<u8>)> = http_headers()
        .into_iter()
        .map(|(k, v)| (k.replacen("ce-", "ce_", 1), v))
        .chain([("ce_note".to_owned(), b"100% sure".to_vec())])
        .collect();
    let env = Envelope::<CoursePublished>::from_binary(
        Binding::Kafka,
        headers.clone(),
        br#"{"courseId":"c_1"}"#,
    )
    .unwrap();
    assert_eq!(env.metadata().unwrap()["note"], "100% sure");

    // `ce-` headers are not Kafka's: without `ce_` ones, nothing is there.
    let e = Envelope::<CoursePublished>::from_binary(Binding::Kafka, http_headers(), b"{}")
        .unwrap_err();
    assert_eq!(e.path(), "ce_specversion");

    // Kafka header names are case-sensitive, so `ce_tenantId` is illegal.
    let mut headers = headers;
    headers.push(("ce_tenantId".to_owned(), b"x".to_vec()));
    let e = Envelope::<CoursePublished>::from_binary(Binding::Kafka, headers, b"{}").unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::InvalidAttribute);
    assert_eq!(e.path(), "ce_tenantId");

    let mut headers = http_headers();
    headers[0].0 = "ce_specversion".into();
    headers[1] = ("ce_id".into(), vec![0xff]);
    let e = Envelope::<CoursePublished>::from_binary(Binding::Kafka, headers, b"{}").unwrap_err();
    assert_eq!(e.path(), "ce_id");
    assert!(
        e.to_string()
            .starts_with("ce_id: header `ce_id` is not UTF-8"),
        "{e}"
    );
}

/// A small deterministic generator, so a failure reproduces.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes a mutation writes: JSON structure, escapes, percent signs,
/// non-ASCII and invalid UTF-8.
const NOISE: &[u8] = b"{}[]\",:\\%0aZ \xc3\xa9\xff\x00";

fn mutate(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(3) {
            0 if at < out.len() => out[at] = NOISE[rng.below(NOISE.len())],
            1 if at < out.len() => {
                out.remove(at);
            }
            _ => out.insert(at, NOISE[rng.below(NOISE.len())]),
        }
    }
    out
}

#[test]
fn mutated_input_is_refused_or_read_never_a_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let structured = bytes(&cloudevent());
    let (mut read, mut refused) = (0, 0);
    for _ in 0..3000 {
        let input = mutate(&mut rng, &structured);
        match Envelope::<EnrollmentCompleted>::from_cloudevent_json(&input) {
            Ok(_) => read += 1,
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    // Both outcomes happen: the mutations reach past the first byte.
    assert!(read > 0 && refused > 0, "read {read}, refused {refused}");

    let message = course_updated().to_binary(Binding::Http).unwrap();
    for _ in 0..3000 {
        let mut headers: Vec<(String, Vec<u8>)> = message
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect();
        let which = rng.below(headers.len());
        headers[which].1 = mutate(&mut rng, &headers[which].1);
        let body = mutate(&mut rng, &message.body);
        for binding in [Binding::Http, Binding::Kafka] {
            let _ = Envelope::<CourseUpdated>::from_binary(binding, headers.clone(), &body);
        }
    }
}
