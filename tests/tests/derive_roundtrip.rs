//! Derived events on the wire: camelCase names, RFC 3339 dates, round trips
//! through the envelope, tolerance across minor versions, unknown fields,
//! constraints and the contract metadata.

use event_runtime::{
    DecodeErrorKind, Delivery, Envelope, Event, EventData, Map, OffsetDateTime, OpenEnum, Ordering,
    Uuid, Value, Version,
};
use serde_json::json;

mod v1_0 {
    use super::*;

    /// Fired when a user completes all content in a course.
    #[derive(Debug, Clone, PartialEq, Event)]
    #[event(
        type = "enrollment.completed",
        version = "1.0",
        producer = "enrollment-service",
        delivery = "at-least-once",
        ordering = "per-entity"
    )]
    pub struct EnrollmentCompleted {
        /// The enrollment.
        #[event(key, partition)]
        pub enrollment_id: Uuid,
        pub user_id: Uuid,
        pub course_id: Uuid,
        pub course_title: String,
        pub completed_at: OffsetDateTime,
        #[event(maximum = 100)]
        pub score: u8,
    }
}

mod v1_1 {
    use super::*;

    /// Fired when a user completes all content in a course and meets the
    /// passing criteria.
    #[derive(Debug, Clone, PartialEq, Event)]
    #[event(
        type = "enrollment.completed",
        version = "1.1",
        producer = "enrollment-service",
        delivery = "at-least-once",
        ordering = "per-entity",
        consumer(service = "certificate-service", reason = "issues the certificate")
    )]
    pub struct EnrollmentCompleted {
        /// The enrollment.
        #[event(key, partition)]
        pub enrollment_id: Uuid,
        pub user_id: Uuid,
        pub course_id: Uuid,
        pub course_title: String,
        pub completed_at: OffsetDateTime,
        /// Percent, 0 to 100.
        #[event(maximum = 100)]
        pub score: u8,
        /// Minutes spent in the course.
        #[event(since = "1.1")]
        pub total_duration: Option<u32>,
    }
}

const ENROLLMENT: &str = "6f1c1c52-4f6e-4b8e-9a39-1f5c2d8e7a10";
const USER: &str = "0b6a1a2e-54a4-4c5e-8d1f-2b1f3c4d5e6f";
const COURSE: &str = "9d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a";

fn envelope(version: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6",
        "type": "enrollment.completed",
        "version": version,
        "timestamp": "2026-03-27T10:30:00.000Z",
        "source": "enrollment-service",
        "tenantId": "tenant_7f3c",
        "correlationId": "req_xyz789",
        "data": data,
    }))
    .unwrap()
}

fn data_1_0() -> Value {
    json!({
        "enrollmentId": ENROLLMENT,
        "userId": USER,
        "courseId": COURSE,
        "courseTitle": "Rust for Event Designers",
        "completedAt": "2026-03-27T10:30:00+02:00",
        "score": 85,
    })
}

fn uuid(s: &str) -> Uuid {
    s.parse().unwrap()
}

#[test]
fn fields_are_camel_case_and_dates_rfc3339() {
    let event = v1_1::EnrollmentCompleted {
        enrollment_id: uuid(ENROLLMENT),
        user_id: uuid(USER),
        course_id: uuid(COURSE),
        course_title: "Rust".into(),
        completed_at: OffsetDateTime::from_unix_timestamp(1_774_607_400).unwrap(),
        score: 85,
        total_duration: Some(320),
    };
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(
        value,
        json!({
            "enrollmentId": ENROLLMENT,
            "userId": USER,
            "courseId": COURSE,
            "courseTitle": "Rust",
            "completedAt": "2026-03-27T10:30:00Z",
            "score": 85,
            "totalDuration": 320,
        })
    );
    let back: v1_1::EnrollmentCompleted = serde_json::from_value(value).unwrap();
    assert_eq!(back, event);
}

#[test]
fn none_is_left_out_and_round_trips() {
    let mut data = data_1_0();
    data["totalDuration"] = Value::Null;
    let event: v1_1::EnrollmentCompleted = serde_json::from_value(data).unwrap();
    assert_eq!(event.total_duration, None);
    let value = serde_json::to_value(&event).unwrap();
    assert!(value.get("totalDuration").is_none(), "{value}");
}

#[test]
fn older_minor_decodes_into_newer_struct() {
    let bytes = envelope("1.0", data_1_0());
    let env: Envelope<v1_1::EnrollmentCompleted> = Envelope::from_json_slice(&bytes).unwrap();
    assert_eq!(env.version(), Version::new(1, 0));
    assert_eq!(env.data().total_duration, None);
    assert_eq!(env.data().score, 85);
    assert_eq!(env.data().completed_at.offset().whole_hours(), 2);
}

#[test]
fn newer_minor_decodes_into_older_struct() {
    let mut data = data_1_0();
    data["totalDuration"] = json!(320);
    data["badge"] = json!({"kind": "gold"});
    let bytes = envelope("1.1", data);
    let env: Envelope<v1_0::EnrollmentCompleted> = Envelope::from_json_slice(&bytes).unwrap();
    assert_eq!(env.version(), Version::new(1, 1));
    assert_eq!(env.data().course_title, "Rust for Event Designers");

    // Re-encoded, it is the 1.0 event the reader understood, not a 1.1
    // event missing its 1.1 field.
    for out in [
        env.to_json_vec().unwrap(),
        Envelope::<v1_0::EnrollmentCompleted>::from_json_slice_preserving(&bytes)
            .unwrap()
            .to_json_vec()
            .unwrap(),
    ] {
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(out["version"], "1.0");
        assert!(out["data"].get("totalDuration").is_none());
    }
}

#[test]
fn envelope_round_trip() {
    let bytes = envelope("1.1", data_1_0());
    let env: Envelope<v1_1::EnrollmentCompleted> = Envelope::from_json_slice(&bytes).unwrap();
    let again = env.to_json_vec().unwrap();
    let back: Envelope<v1_1::EnrollmentCompleted> = Envelope::from_json_slice(&again).unwrap();
    assert_eq!(back.data(), env.data());
    assert_eq!(back.id(), env.id());
}

#[test]
fn constraint_violation_names_the_path() {
    let mut data = data_1_0();
    data["score"] = json!(120);
    let err =
        Envelope::<v1_1::EnrollmentCompleted>::from_json_slice(&envelope("1.1", data)).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidData);
    assert_eq!(err.path(), "data.score");
    assert!(
        err.message().contains("must be at most 100, found 120"),
        "{err}"
    );
}

#[test]
fn a_producer_cannot_publish_an_invalid_event() {
    let mut event: v1_1::EnrollmentCompleted = serde_json::from_value(data_1_0()).unwrap();
    event.score = 101;
    let err = event.validate().unwrap_err();
    assert_eq!(err.path(), "score");
    let env = Envelope::new(event).tenant("t").correlation("c").build();
    let err = env.to_json_vec().unwrap_err();
    assert_eq!(err.field(), Some("data"));
    assert_eq!(
        err.to_string(),
        "data.score: must be at most 100, found 101"
    );
}

/// An id a reader refuses is refused when the producer encodes it, with
/// the field named, rather than by every consumer.
#[test]
fn a_producer_cannot_publish_an_id_its_readers_refuse() {
    let event = || -> v1_1::EnrollmentCompleted { serde_json::from_value(data_1_0()).unwrap() };
    let cases = [
        (
            Envelope::new(event())
                .tenant("tenant a")
                .correlation("c")
                .build(),
            "tenantId",
        ),
        (
            Envelope::new(event())
                .tenant("t")
                .correlation("c\u{0}")
                .build(),
            "correlationId",
        ),
        (
            Envelope::new(event())
                .tenant("t")
                .correlation("c")
                .causation("evt\n1")
                .build(),
            "causationId",
        ),
    ];
    for (env, field) in cases {
        let err = env.to_json_vec().unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
        assert!(
            err.to_string()
                .contains("an id is text without whitespace or control characters"),
            "{err}"
        );
    }
    let fine = Envelope::new(event())
        .tenant("tenant-a")
        .correlation("c")
        .causation("evt_1")
        .build();
    let bytes = fine.to_json_vec().unwrap();
    Envelope::<v1_1::EnrollmentCompleted>::from_json_slice(&bytes).unwrap();
}

#[test]
fn constants_keys_and_contract() {
    type E = v1_1::EnrollmentCompleted;
    assert_eq!(E::TYPE, "enrollment.completed");
    assert_eq!(E::VERSION, Version::new(1, 1));
    assert_eq!(E::PRODUCER, "enrollment-service");
    assert_eq!(E::DELIVERY, Delivery::AtLeastOnce);
    assert_eq!(E::ORDERING, Ordering::PerEntity);
    let event: E = serde_json::from_value(data_1_0()).unwrap();
    assert_eq!(event.natural_key().as_deref(), Some(ENROLLMENT));
    assert_eq!(event.partition_key().as_deref(), Some(ENROLLMENT));

    let contract = E::contract();
    assert_eq!(
        contract.doc,
        "Fired when a user completes all content in a course and meets the\npassing criteria."
    );
    assert_eq!(contract.key_fields, ["enrollmentId"]);
    assert_eq!(contract.partition_field, Some("enrollmentId"));
    assert_eq!(contract.consumers.len(), 1);
    assert_eq!(contract.consumers[0].service, "certificate-service");
    let names: Vec<&str> = contract.fields.iter().map(|f| f.wire_name).collect();
    assert_eq!(
        names,
        [
            "enrollmentId",
            "userId",
            "courseId",
            "courseTitle",
            "completedAt",
            "score",
            "totalDuration"
        ]
    );
    let total = &contract.fields[6];
    assert_eq!(total.name, "total_duration");
    assert_eq!(total.rust_type, "Option<u32>");
    assert!(total.optional);
    assert_eq!(total.since, Some(Version::new(1, 1)));
    assert_eq!(total.doc, "Minutes spent in the course.");
    let score = &contract.fields[5];
    assert!(!score.optional);
    assert_eq!(score.constraints.len(), 1);
    assert_eq!(score.constraints[0].keyword, "maximum");
    assert_eq!(score.constraints[0].value, "100");
}

/// A nested part of a payload.
#[derive(Debug, Clone, PartialEq, EventData)]
pub struct LineItem {
    #[event(pattern = "^[A-Z]{3}-[0-9]+$")]
    pub sku: String,
    #[event(minimum = 1)]
    pub quantity: u32,
    #[event(exclusive_minimum = 0)]
    pub unit_price: f64,
}

#[derive(Debug, Clone, PartialEq, OpenEnum)]
pub enum PaymentMethod {
    Card,
    BankTransfer,
    #[event(rename = "PAYPAL")]
    PayPal,
    #[event(other)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "order.placed",
    version = "2.3",
    producer = "order-service",
    delivery = "exactly-once-effect"
)]
pub struct OrderPlaced {
    #[event(key)]
    pub order_id: String,
    #[event(key)]
    pub attempt: u32,
    #[event(min_items = 1, max_items = 3)]
    pub items: Vec<LineItem>,
    pub method: PaymentMethod,
    #[event(min_length = 2, max_length = 5, min_items = 2)]
    pub tags: Vec<String>,
    #[event(max_length = 3, max_items = 2)]
    pub codes: Option<Vec<String>>,
    #[event(rename = "note_text", max_length = 10)]
    pub note: Option<String>,
    #[event(constant = "EUR")]
    pub currency: String,
    #[event(default, since = "2.1")]
    pub gift: bool,
    pub placed_on: Option<time::Date>,
    #[deprecated = "use method"]
    pub legacy_method: Option<String>,
    #[event(unknown)]
    pub extra: Map<String, Value>,
}

fn order() -> Value {
    json!({
        "orderId": "o_1",
        "attempt": 2,
        "items": [{"sku": "ABC-1", "quantity": 1, "unitPrice": 9.5}],
        "method": "bank_transfer",
        "tags": ["new", "promo"],
        "codes": ["a", "bc"],
        "note_text": "ring",
        "currency": "EUR",
        "placedOn": "2026-03-27",
    })
}

#[test]
fn nested_data_open_enums_unknown_fields() {
    let mut value = order();
    value["futureField"] = json!({"a": 1});
    let order: OrderPlaced = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(order.method, PaymentMethod::BankTransfer);
    assert!(!order.gift);
    assert_eq!(order.placed_on, Some(time::macros::date!(2026 - 03 - 27)));
    assert_eq!(order.extra.get("futureField"), Some(&json!({"a": 1})));
    assert_eq!(order.natural_key().as_deref(), Some("v2|3:o_1|1:2"));
    assert_eq!(order.partition_key(), None);
    assert_eq!(OrderPlaced::DELIVERY, Delivery::ExactlyOnceEffect);
    let written = serde_json::to_value(&order).unwrap();
    assert_eq!(written["futureField"], json!({"a": 1}));
    assert_eq!(written["placedOn"], json!("2026-03-27"));
    assert_eq!(written["note_text"], json!("ring"));
    assert_eq!(written["gift"], json!(false));
    assert_eq!(LineItem::fields()[2].wire_name, "unitPrice");
}

#[test]
fn open_enum_keeps_unknown_values() {
    let method: PaymentMethod = serde_json::from_value(json!("crypto")).unwrap();
    assert_eq!(method, PaymentMethod::Other("crypto".into()));
    assert_eq!(serde_json::to_value(&method).unwrap(), json!("crypto"));
    let method: PaymentMethod = serde_json::from_str("\"PAYPAL\"").unwrap();
    assert_eq!(method, PaymentMethod::PayPal);
    assert_eq!(
        serde_json::to_value(&PaymentMethod::Card).unwrap(),
        json!("card")
    );
    assert!(serde_json::from_value::<PaymentMethod>(json!(5)).is_err());
}

fn order_error(patch: impl FnOnce(&mut Value)) -> String {
    let mut value = order();
    patch(&mut value);
    let bytes = serde_json::to_vec(&json!({
        "id": "evt_1", "type": "order.placed", "version": "2.0",
        "timestamp": "2026-03-27T10:30:00Z", "source": "order-service",
        "tenantId": "t", "correlationId": "c", "data": value,
    }))
    .unwrap();
    let err = Envelope::<OrderPlaced>::from_json_slice(&bytes).unwrap_err();
    format!("{} | {}", err.path(), err.message())
}

#[test]
fn every_constraint_fails_at_its_path() {
    type Patch = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Patch, &str, &str)> = vec![
        (
            Box::new(|v| v["items"] = json!([])),
            "data.items",
            "must have at least 1 items, found 0",
        ),
        (
            Box::new(|v| v["tags"] = json!(["ok", "a"])),
            "data.tags[1]",
            "must be at least 2 characters long, found 1",
        ),
        (
            Box::new(|v| v["tags"] = json!(["ok", "toolong"])),
            "data.tags[1]",
            "must be at most 5 characters long, found 7",
        ),
        (
            Box::new(|v| v["tags"] = json!([])),
            "data.tags",
            "must have at least 2 items, found 0",
        ),
        (
            Box::new(|v| v["codes"] = json!(["abc", "abcd"])),
            "data.codes[1]",
            "must be at most 3 characters long, found 4",
        ),
        (
            Box::new(|v| v["codes"] = json!(["a", "b", "c"])),
            "data.codes",
            "must have at most 2 items, found 3",
        ),
        (
            Box::new(|v| v["note_text"] = json!("abcdefghijk")),
            "data.note_text",
            "must be at most 10 characters long",
        ),
        (
            Box::new(|v| v["currency"] = json!("USD")),
            "data.currency",
            "must be \"EUR\", found \"USD\"",
        ),
        (
            Box::new(|v| v["items"][0]["sku"] = json!("abc")),
            "data.items[0].sku",
            "must match the pattern",
        ),
        (
            Box::new(|v| v["items"][0]["quantity"] = json!(0)),
            "data.items[0].quantity",
            "must be at least 1, found 0",
        ),
        (
            Box::new(|v| v["items"][0]["unitPrice"] = json!(0.0)),
            "data.items[0].unitPrice",
            "must be greater than 0, found 0",
        ),
    ];
    for (patch, path, message) in cases {
        let got = order_error(patch);
        assert!(got.starts_with(&format!("{path} | ")), "{got}");
        assert!(got.contains(message), "{got}");
    }
}

#[test]
fn validate_reaches_nested_event_data() {
    let mut order: OrderPlaced = serde_json::from_value(order()).unwrap();
    assert_eq!(order.validate(), Ok(()));
    order.items[0].quantity = 0;
    let err = order.validate().unwrap_err();
    assert_eq!(err.path(), "items[0].quantity");
    assert_eq!(err.message(), "must be at least 1, found 0");
    let env = Envelope::new(order).tenant("t").correlation("c").build();
    assert_eq!(
        env.to_json_vec().unwrap_err().to_string(),
        "data.items[0].quantity: must be at least 1, found 0"
    );
}

#[test]
fn a_constrained_optional_array_may_be_null_or_missing() {
    let mut value = order();
    value["codes"] = Value::Null;
    let read: OrderPlaced = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(read.codes, None);
    value.as_object_mut().unwrap().remove("codes");
    let read: OrderPlaced = serde_json::from_value(value).unwrap();
    assert_eq!(read.codes, None);
    let read: OrderPlaced = serde_json::from_value(order()).unwrap();
    assert_eq!(read.codes, Some(vec!["a".to_owned(), "bc".to_owned()]));
}

/// Element constraints alone, without a constraint on the array itself.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "ticket.labelled",
    version = "1.0",
    producer = "support-service"
)]
pub struct TicketLabelled {
    #[event(max_length = 5)]
    pub labels: Vec<String>,
}

#[test]
fn an_element_constraint_alone_checks_each_element() {
    let ok = json!({ "labels": ["bug", "p1"] });
    let decoded: TicketLabelled = serde_json::from_value(ok).unwrap();
    assert_eq!(decoded.labels, ["bug", "p1"]);
    let mut bad: Value = serde_json::from_slice(&envelope("1.0", json!({}))).unwrap();
    bad["type"] = json!("ticket.labelled");
    bad["data"] = json!({ "labels": ["bug", "urgent!"] });
    let e = Envelope::<TicketLabelled>::from_json_slice(&serde_json::to_vec(&bad).unwrap())
        .unwrap_err();
    assert_eq!(e.path(), "data.labels[1]");
}

/// A fact that may happen again for the same entity: keyed by the entity
/// and the time it happened.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(type = "course.deleted", version = "1.0", producer = "course-service")]
pub struct CourseDeleted {
    #[event(key)]
    pub course_id: Uuid,
    #[event(key)]
    pub deleted_at: OffsetDateTime,
}

#[test]
fn a_date_time_key_is_one_key_per_instant_whatever_the_offset() {
    let course_id = Uuid::parse_str(COURSE).unwrap();
    let at = |json: &str| -> CourseDeleted {
        serde_json::from_value(json!({ "courseId": COURSE, "deletedAt": json })).unwrap()
    };
    let utc = at("2026-03-27T08:30:00Z");
    let paris = at("2026-03-27T10:30:00+02:00");
    assert_eq!(utc.natural_key(), paris.natural_key());
    assert_eq!(
        utc.natural_key().unwrap(),
        format!("v2|36:{course_id}|20:2026-03-27T08:30:00Z")
    );
    assert_ne!(utc.natural_key(), at("2026-03-27T08:30:01Z").natural_key());
}

/// Two string key parts, which may hold any separator.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(type = "seat.booked", version = "1.0", producer = "booking-service")]
pub struct SeatBooked {
    #[event(key)]
    pub row: String,
    #[event(key)]
    pub seat: String,
}

#[test]
fn composite_natural_keys_of_different_parts_never_collide() {
    use event_runtime::idempotency::{IdempotentConsumer, InMemoryStore};
    let first = SeatBooked {
        row: "a:b".into(),
        seat: "c".into(),
    };
    let second = SeatBooked {
        row: "a".into(),
        seat: "b:c".into(),
    };
    assert_eq!(first.natural_key().as_deref(), Some("v2|3:a:b|1:c"));
    assert_eq!(second.natural_key().as_deref(), Some("v2|1:a|3:b:c"));

    // Both facts are handled: the second is not taken for a duplicate.
    let consumer = IdempotentConsumer::new("ticket-service", InMemoryStore::new());
    let ok = |_: &SeatBooked| Ok::<_, std::io::Error>(());
    for data in [first, second] {
        let event = Envelope::new(data)
            .tenant("tenant_a")
            .correlation("req_1")
            .build();
        let handled = consumer.handle(&event, ok).unwrap();
        assert!(handled.ran(), "{handled:?}");
    }
}

#[test]
fn a_derived_payload_never_decodes_from_an_array() {
    // serde's derived struct reads an array by position; a payload is an
    // object with named fields.
    let e = serde_json::from_value::<SeatBooked>(json!(["a", "b"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid type: sequence, expected struct SeatBooked"
    );
    let e = serde_json::from_str::<LineItem>(r#"["ABC-1", 1, 9.5]"#).unwrap_err();
    assert!(e.to_string().starts_with("invalid type: sequence"), "{e}");

    let envelope = json!({
        "id": "evt_1", "type": "seat.booked", "version": "1.0",
        "timestamp": "2026-03-27T10:30:00Z", "source": "booking-service",
        "tenantId": "tenant_a", "correlationId": "req_1", "data": ["a", "b"],
    });
    let bytes = serde_json::to_vec(&envelope).unwrap();
    let e = Envelope::<SeatBooked>::from_json_slice(&bytes).unwrap_err();
    assert_eq!(e.path(), "data");
    assert!(e.to_string().contains("invalid type: sequence"), "{e}");
}

/// Free-form JSON in a payload.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "course.settings_changed",
    version = "1.0",
    producer = "course-service"
)]
pub struct CourseSettingsChanged {
    pub settings: Value,
    pub previous: Option<Value>,
    pub labels: Map<String, Value>,
}

fn seat_envelope(data: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"evt_1","type":"seat.booked","version":"1.0","timestamp":"2026-03-27T10:30:00Z","source":"booking-service","tenantId":"tenant_a","correlationId":"req_1","data":{data}}}"#
    )
    .into_bytes()
}

fn outcome<T>(r: Result<T, event_runtime::DecodeError>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("{:?} at {:?}: {}", e.kind(), e.path(), e.message()),
    }
}

#[test]
fn a_repeated_payload_field_is_reported_at_the_field() {
    let bytes = seat_envelope(r#"{"row":"a","seat":"1","seat":"2"}"#);
    let want = "InvalidData at \"data.seat\": duplicate field `seat`";
    assert_eq!(
        outcome(Envelope::<SeatBooked>::from_json_slice(&bytes)),
        want
    );
    assert_eq!(
        outcome(Envelope::<SeatBooked>::from_json_slice_preserving(&bytes)),
        want
    );
}

#[test]
fn a_repeated_key_inside_a_value_field_is_refused_with_its_path() {
    let decode = |data: &str| -> String {
        let bytes = format!(
            r#"{{"id":"evt_1","type":"course.settings_changed","version":"1.0","timestamp":"2026-03-27T10:30:00Z","source":"course-service","tenantId":"tenant_a","correlationId":"req_1","data":{data}}}"#
        );
        outcome(Envelope::<CourseSettingsChanged>::from_json_slice(
            bytes.as_bytes(),
        ))
    };
    assert_eq!(
        decode(r#"{"settings":{"a":{"b":1,"b":2}},"labels":{}}"#),
        "InvalidData at \"data.settings.a.b\": duplicate key `b`"
    );
    assert_eq!(
        decode(r#"{"settings":1,"previous":{"x":1,"x":1},"labels":{}}"#),
        "InvalidData at \"data.previous.x\": duplicate key `x`"
    );
    assert_eq!(
        decode(r#"{"settings":1,"labels":{"en":"a","en":"b"}}"#),
        "InvalidData at \"data.labels.en\": duplicate key `en`"
    );
    // Without repeats, the values are read as they are; `null` is `None`.
    assert_eq!(
        decode(r#"{"settings":{"a":[1,{"b":null}]},"previous":null,"labels":{"en":"a"}}"#),
        "ok"
    );
    let read: CourseSettingsChanged =
        serde_json::from_value(json!({"settings": {"a": [1.5]}, "labels": {"en": "a"}})).unwrap();
    assert_eq!(read.settings, json!({"a": [1.5]}));
    assert_eq!(read.previous, None);
}

#[test]
fn non_json_in_a_skipped_payload_field_is_refused_by_both_decoders() {
    let cases: [(&[u8], &str); 3] = [
        (
            br#""\ud800""#,
            "InvalidData at \"data.note\": unexpected end of hex escape",
        ),
        (
            b"1e400",
            "InvalidData at \"data.note\": number out of range",
        ),
        (
            br#"{"deep": [1, "\udc00"]}"#,
            "InvalidData at \"data.note.deep[1]\": lone leading surrogate in hex escape",
        ),
    ];
    for (raw, want) in cases {
        let data = [br#"{"row":"a","seat":"b","note":"#.as_slice(), raw, b"}"].concat();
        let bytes = seat_envelope(std::str::from_utf8(&data).unwrap());
        let tolerant = outcome(Envelope::<SeatBooked>::from_json_slice(&bytes));
        let preserving = outcome(Envelope::<SeatBooked>::from_json_slice_preserving(&bytes));
        assert_eq!((tolerant.as_str(), preserving.as_str()), (want, want));
    }
    // Valid unknown payload fields are still skipped.
    let bytes = seat_envelope(r#"{"row":"a","seat":"b","note":{"x":[1e300,"\u00e9"]}}"#);
    assert_eq!(
        outcome(Envelope::<SeatBooked>::from_json_slice(&bytes)),
        "ok"
    );
}

#[test]
fn invalid_utf8_in_a_skipped_payload_field_is_refused_by_both_decoders() {
    // The byte 0xFF can never occur in UTF-8; no value around it can be
    // read, so the error names its position in the input.
    let text = seat_envelope(r#"{"row":"a","seat":"b","note":"caf?"}"#);
    let at = text.iter().position(|&b| b == b'?').unwrap();
    let mut bytes = text.clone();
    bytes[at] = 0xFF;
    let want = format!(
        "Malformed at \"\": malformed JSON: invalid unicode code point at line 1 column {}",
        at + 1
    );
    let tolerant = outcome(Envelope::<SeatBooked>::from_json_slice(&bytes));
    let preserving = outcome(Envelope::<SeatBooked>::from_json_slice_preserving(&bytes));
    assert_eq!((tolerant, preserving), (want.clone(), want));
}

#[test]
fn floats_in_a_value_field_survive_a_round_trip_bit_for_bit() {
    // Doubles whose shortest decimal form serde_json's default parser reads
    // back one ulp off; `float_roundtrip` reads them exactly.
    let mut floats = vec![0.1 + 0.2, 2.225_073_858_507_201_4e-308, 5e-324];
    let mut x: f64 = 0.1;
    for _ in 0..2_000 {
        x = x * 1.618_033_988_749_895 + 0.000_123_456_789;
        if x > 1e6 {
            x /= 1e6;
        }
        floats.push(x);
    }
    let event = Envelope::new(CourseSettingsChanged {
        settings: json!({ "weights": floats }),
        previous: Some(json!(floats[0])),
        labels: Map::new(),
    })
    .tenant("tenant_a")
    .correlation("req_1")
    .build();
    let bytes = event.to_json_vec().unwrap();
    for back in [
        Envelope::<CourseSettingsChanged>::from_json_slice(&bytes).unwrap(),
        Envelope::<CourseSettingsChanged>::from_json_slice_preserving(&bytes).unwrap(),
    ] {
        let read: Vec<f64> = back.data().settings["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let changed = floats
            .iter()
            .zip(&read)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        assert_eq!((read.len(), changed), (floats.len(), 0));
        assert_eq!(back.data().previous, Some(json!(floats[0])));
    }
}

/// `format` constraints: an email and a URI.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "user.contact_changed",
    version = "1.0",
    producer = "user-service"
)]
pub struct UserContactChanged {
    #[event(format = "email")]
    pub email: String,
    #[event(format = "uri")]
    pub website: Option<String>,
}

#[test]
fn a_format_is_checked_on_decode_and_before_publishing() {
    let decode = |data: Value| {
        let mut v: Value = serde_json::from_slice(&envelope("1.0", json!({}))).unwrap();
        v["type"] = json!("user.contact_changed");
        v["data"] = data;
        Envelope::<UserContactChanged>::from_json_slice(&serde_json::to_vec(&v).unwrap())
    };
    let ok =
        decode(json!({ "email": "ada@example.com", "website": "https://ada.example" })).unwrap();
    assert_eq!(ok.data().email, "ada@example.com");
    let e = decode(json!({ "email": "ada.example.com" })).unwrap_err();
    assert_eq!(e.path(), "data.email");
    assert_eq!(e.kind(), &DecodeErrorKind::InvalidData);
    let e = decode(json!({ "email": "ada@example.com", "website": "not a uri" })).unwrap_err();
    assert_eq!(e.path(), "data.website");

    let bad = UserContactChanged {
        email: "nobody".into(),
        website: None,
    };
    assert_eq!(bad.validate().unwrap_err().path(), "email");
    let info = &UserContactChanged::contract().fields[0];
    assert_eq!(info.constraints[0].keyword, "format");
    assert_eq!(info.constraints[0].value, "email");
}

#[test]
fn a_leap_second_in_a_payload_is_refused_not_moved() {
    let e = serde_json::from_value::<CourseDeleted>(
        json!({ "courseId": COURSE, "deletedAt": "2016-12-31T23:59:60Z" }),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("a leap second (\"2016-12-31T23:59:60Z\")"),
        "{e}"
    );
}

/// A payload part written for lossless forwarding: `Option<Option<_>>`
/// keeps a `null` apart from a missing field, `#[event(required)]` makes an
/// `Option` one that must be present, `Option<()>` is a `null`-only
/// property, and a whole `f64` is written as an integer, at any depth of
/// `Vec` and `Option`.
#[derive(Debug, Clone, PartialEq, EventData)]
pub struct Forwarded {
    #[event(max_length = 5)]
    pub label: Option<Option<String>>,
    pub closed_at: Option<Option<OffsetDateTime>>,
    pub due: Option<Option<time::Date>>,
    #[event(required)]
    pub body: Option<String>,
    #[event(required)]
    pub merged_at: Option<OffsetDateTime>,
    pub app: Option<()>,
    pub score: f64,
    pub ratio: Option<f64>,
    pub samples: Vec<f64>,
    pub positions: Option<Vec<Vec<f64>>>,
    #[event(unknown)]
    pub rest: Map<String, Value>,
}

fn forwarded(value: Value) -> Result<Forwarded, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

#[test]
fn null_and_missing_stay_apart_and_are_written_back_as_read() {
    let input = json!({
        "label": null, "closedAt": null, "due": "2026-03-27", "body": null,
        "mergedAt": null, "app": null, "score": 39652351, "ratio": 0.25,
        "samples": [1, 2.5, -0.0], "positions": [[102, 0.5], [7]],
        "extra": {"kept": [1, 2.0]}
    });
    let read = forwarded(input.clone()).unwrap();
    assert_eq!(read.label, Some(None));
    assert_eq!(read.closed_at, Some(None));
    assert_eq!(read.app, Some(()));
    assert_eq!(read.body, None);
    assert_eq!(serde_json::to_value(&read).unwrap(), input);

    let sparse =
        json!({"body": "b", "mergedAt": "2026-03-27T10:30:00Z", "score": 1.5, "samples": []});
    let read = forwarded(sparse.clone()).unwrap();
    assert_eq!((read.label.clone(), read.app), (None, None));
    assert_eq!(serde_json::to_value(&read).unwrap(), sparse);
}

#[test]
fn a_required_option_must_be_present_and_constraints_reach_inside_two_options() {
    let err = forwarded(json!({"mergedAt": null, "score": 1, "samples": []})).unwrap_err();
    assert!(err.contains("missing field `body`"), "{err}");
    let err = forwarded(json!({"body": null, "score": 1, "samples": []})).unwrap_err();
    assert!(err.contains("missing field `mergedAt`"), "{err}");
    let err = forwarded(
        json!({"label": "too long", "body": null, "mergedAt": null, "score": 1, "samples": []}),
    )
    .unwrap_err();
    assert!(err.contains("at most 5 characters"), "{err}");
    let long = Forwarded {
        label: Some(Some("too long".into())),
        closed_at: None,
        due: None,
        body: None,
        merged_at: None,
        app: None,
        score: 0.0,
        ratio: None,
        samples: Vec::new(),
        positions: None,
        rest: Map::new(),
    };
    assert_eq!(
        long.validate().unwrap_err().to_string(),
        "label: must be at most 5 characters long, found 8"
    );
    let fields: Vec<(&str, bool)> = Forwarded::fields()
        .iter()
        .map(|f| (f.wire_name, f.optional))
        .collect();
    assert!(fields.contains(&("body", false)) && fields.contains(&("label", true)));
}

/// `#[event(non_null)]` on each way a field is read: plain, constrained
/// (`integer`, `max_length`), a date-time, a date and a `Value`.
#[derive(Debug, Clone, PartialEq, EventData)]
struct Sparse {
    #[event(non_null)]
    name: Option<String>,
    #[event(non_null, integer, maximum = 10)]
    count: Option<u8>,
    #[event(non_null, max_length = 3)]
    tags: Option<Vec<String>>,
    #[event(non_null)]
    at: Option<OffsetDateTime>,
    #[event(non_null)]
    day: Option<event_runtime::__private::time::Date>,
    #[event(non_null)]
    note: Option<Value>,
}

#[test]
fn a_non_null_field_refuses_a_present_null_and_keeps_missing_missing() {
    let read = |v: Value| serde_json::from_str::<Sparse>(&v.to_string());
    let empty = read(json!({})).unwrap();
    assert_eq!(serde_json::to_value(&empty).unwrap(), json!({}));
    for key in ["name", "count", "tags", "at", "day"] {
        let err = read(json!({ key: null })).unwrap_err().to_string();
        assert!(err.contains("invalid type: null"), "{key}: {err}");
    }
    // A `Value` reads `null` itself: kept, and written back.
    let note = read(json!({"note": null})).unwrap();
    assert_eq!(note.note, Some(Value::Null));
    assert_eq!(serde_json::to_value(&note).unwrap(), json!({"note": null}));
    let full = json!({"name": "a", "count": 3.0, "tags": ["x"], "at": "2026-12-02T10:00:00Z",
        "day": "2026-12-02", "note": 1});
    let s = read(full).unwrap();
    assert_eq!((s.count, s.name.as_deref()), (Some(3), Some("a")));
    assert!(read(json!({"count": 11})).is_err());
}
