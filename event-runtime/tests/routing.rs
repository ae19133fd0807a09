//! Typed routing: one decode entry point over a set of contracts, the
//! lossless outcome for what the set does not hold, and the publisher that
//! only takes a service's own events.

use event_runtime::{
    Catalog, ConsumerInfo, Contract, DecodeErrorKind, Delivery, Envelope, Event, Ordering,
    OutboundMessage, ProducedBy, PublishError, Publisher, Routed, Service, Transport,
    UnknownReason, Version, catalog,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::cell::RefCell;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnrollmentCompletedV1 {
    enrollment_id: String,
    score: u8,
}

impl Event for EnrollmentCompletedV1 {
    const TYPE: &'static str = "enrollment.completed";
    const VERSION: Version = Version::new(1, 1);
    const PRODUCER: &'static str = "enrollment-service";

    fn partition_key(&self) -> Option<String> {
        Some(self.enrollment_id.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Score {
    points: u32,
    max_points: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnrollmentCompletedV2 {
    enrollment_id: String,
    score: Score,
}

impl Event for EnrollmentCompletedV2 {
    const TYPE: &'static str = "enrollment.completed";
    const VERSION: Version = Version::new(2, 0);
    const PRODUCER: &'static str = "enrollment-service";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CoursePublished {
    course_id: String,
}

impl Event for CoursePublished {
    const TYPE: &'static str = "course.published";
    const VERSION: Version = Version::new(1, 0);
    const PRODUCER: &'static str = "course-service";
    const DELIVERY: Delivery = Delivery::ExactlyOnceEffect;
    const ORDERING: Ordering = Ordering::PerEntity;

    fn contract() -> &'static Contract {
        static CONTRACT: Contract = Contract {
            consumers: &[
                ConsumerInfo {
                    service: "search-service",
                    reason: "indexes the course",
                },
                ConsumerInfo {
                    service: "certificate-service",
                    reason: "certificate templates",
                },
            ],
            ..Contract::EMPTY
        };
        &CONTRACT
    }
}

catalog! {
    /// What the certificate service handles.
    #[derive(Debug, Clone, PartialEq)]
    enum Inbound {
        EnrollmentCompletedV1(EnrollmentCompletedV1),
        EnrollmentCompletedV2(EnrollmentCompletedV2),
        CoursePublished(CoursePublished),
    }
}

fn envelope(ty: &str, version: &str, data: Value) -> Value {
    json!({
        "id": "evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6",
        "type": ty,
        "version": version,
        "timestamp": "2026-03-27T10:30:00.000+02:00",
        "source": "enrollment-service",
        "tenantId": "tenant_7f3c",
        "correlationId": "req_xyz789",
        "data": data,
    })
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn each_type_and_major_lands_in_its_variant_and_any_minor_is_accepted() {
    let v1 = bytes(&envelope(
        "enrollment.completed",
        "1.7",
        json!({ "enrollmentId": "e_1", "score": 85 }),
    ));
    match Inbound::decode(&v1).unwrap() {
        Routed::Known(Inbound::EnrollmentCompletedV1(e)) => {
            assert_eq!(e.data().score, 85);
            assert_eq!(e.version(), Version::new(1, 7));
            assert_eq!(e.tenant_id(), "tenant_7f3c");
            assert_eq!(e.timestamp().offset().whole_hours(), 2);
        }
        other => panic!("routed to {other:?}"),
    }
    let v2 = bytes(&envelope(
        "enrollment.completed",
        "2.0",
        json!({ "enrollmentId": "e_1", "score": { "points": 17, "maxPoints": 20 } }),
    ));
    match Inbound::decode(&v2).unwrap() {
        Routed::Known(Inbound::EnrollmentCompletedV2(e)) => assert_eq!(e.data().score.points, 17),
        other => panic!("routed to {other:?}"),
    }
    let course = bytes(&envelope(
        "course.published",
        "1.0",
        json!({ "courseId": "c_9" }),
    ));
    assert!(matches!(
        Inbound::decode(&course).unwrap(),
        Routed::Known(Inbound::CoursePublished(e)) if e.data().course_id == "c_9"
    ));
}

#[test]
fn routed_and_direct_decode_agree() {
    let json = bytes(&envelope(
        "enrollment.completed",
        "1.1",
        json!({ "enrollmentId": "e_1", "score": 85 }),
    ));
    let direct = Envelope::<EnrollmentCompletedV1>::from_json_slice(&json).unwrap();
    assert_eq!(
        Inbound::decode(&json).unwrap(),
        Routed::Known(Inbound::EnrollmentCompletedV1(direct))
    );
}

#[test]
fn a_payload_before_its_type_is_still_routed() {
    let json = br#"{"data":{"enrollmentId":"e_1","score":85},"version":"1.0","type":"enrollment.completed",
        "id":"evt_1","timestamp":"2026-03-27T10:30:00Z","source":"enrollment-service",
        "tenantId":"t","correlationId":"c"}"#;
    match Inbound::decode(json).unwrap() {
        Routed::Known(Inbound::EnrollmentCompletedV1(e)) => {
            assert_eq!(e.data().enrollment_id, "e_1")
        }
        other => panic!("routed to {other:?}"),
    }
    let bad = br#"{"data":{"enrollmentId":"e_1","score":"high"},"version":"1.0","type":"enrollment.completed",
        "id":"evt_1","timestamp":"2026-03-27T10:30:00Z","source":"enrollment-service",
        "tenantId":"t","correlationId":"c"}"#;
    let e = Inbound::decode(bad).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::InvalidData);
    assert_eq!(e.path(), "data.score");
}

#[test]
fn an_unknown_type_is_kept_whole_with_its_reason() {
    let json = bytes(&envelope("user.deleted", "1.0", json!({ "userId": "u_1" })));
    let Routed::Unknown(unknown) = Inbound::decode(&json).unwrap() else {
        panic!("user.deleted was routed");
    };
    assert_eq!(unknown.reason(), &UnknownReason::UnknownType);
    assert_eq!(unknown.event_type(), "user.deleted");
    assert_eq!(unknown.id().as_str(), "evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6");
    assert_eq!(unknown.tenant_id(), "tenant_7f3c");
    assert_eq!(
        unknown.raw(),
        &json[..],
        "the envelope is kept byte for byte"
    );
}

#[test]
fn an_unknown_major_names_the_majors_that_are_handled() {
    let json = bytes(&envelope(
        "enrollment.completed",
        "3.0",
        json!({ "anything": true }),
    ));
    let Routed::Unknown(unknown) = Inbound::decode(&json).unwrap() else {
        panic!("3.0 was routed");
    };
    assert_eq!(
        unknown.reason(),
        &UnknownReason::UnknownMajor { known: vec![1, 2] }
    );
    assert_eq!(
        unknown.reason().to_string(),
        "no handler for this major version; handled: 1.x, 2.x"
    );
    assert_eq!(unknown.version(), Version::new(3, 0));
}

#[test]
fn a_known_event_with_a_bad_payload_is_a_permanent_error_with_its_path() {
    let json = bytes(&envelope(
        "enrollment.completed",
        "1.0",
        json!({ "enrollmentId": "e_1", "score": 300 }),
    ));
    let e = Inbound::decode(&json).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::InvalidData);
    assert_eq!(e.path(), "data.score");
    assert!(e.is_permanent());
    assert_eq!(e.event_type(), Some("enrollment.completed"));
}

#[test]
fn a_malformed_header_is_an_error_not_an_unknown_event() {
    let mut v = envelope("user.deleted", "1.0", json!({}));
    v.as_object_mut().unwrap().remove("tenantId");
    let e = Inbound::decode(&bytes(&v)).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::MissingField);
    assert_eq!(e.path(), "tenantId");
    let e = Inbound::decode(b"{not json").unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::Malformed);
}

#[test]
fn the_catalog_lists_its_contracts() {
    assert_eq!(
        Inbound::contracts(),
        &[
            ("enrollment.completed", Version::new(1, 1)),
            ("enrollment.completed", Version::new(2, 0)),
            ("course.published", Version::new(1, 0)),
        ]
    );
}

#[test]
fn the_catalog_lists_the_contract_of_each_route() {
    let routes = Inbound::routes();
    let summary: Vec<_> = routes
        .iter()
        .map(|r| {
            (
                r.event_type,
                r.version,
                r.producer,
                r.delivery,
                r.ordering,
                r.consumers().collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "enrollment.completed",
                Version::new(1, 1),
                "enrollment-service",
                Delivery::AtLeastOnce,
                Ordering::Unordered,
                vec![],
            ),
            (
                "enrollment.completed",
                Version::new(2, 0),
                "enrollment-service",
                Delivery::AtLeastOnce,
                Ordering::Unordered,
                vec![],
            ),
            (
                "course.published",
                Version::new(1, 0),
                "course-service",
                Delivery::ExactlyOnceEffect,
                Ordering::PerEntity,
                vec!["search-service", "certificate-service"],
            ),
        ]
    );
    assert!(std::ptr::eq(
        routes[2].contract,
        CoursePublished::contract()
    ));
    assert!(std::ptr::eq(routes, Inbound::routes()), "built once");
}

struct EnrollmentService;
impl Service for EnrollmentService {
    const NAME: &'static str = "enrollment-service";
}
impl ProducedBy<EnrollmentService> for EnrollmentCompletedV1 {}

#[derive(Default)]
struct Recorder(RefCell<Vec<OutboundMessage>>);

impl Transport for &Recorder {
    type Error = std::convert::Infallible;
    fn send(&self, message: OutboundMessage) -> Result<(), Self::Error> {
        self.0.borrow_mut().push(message);
        Ok(())
    }
}

#[test]
fn a_publisher_sends_its_own_events_with_their_partition_key() {
    let recorder = Recorder::default();
    let publisher = Publisher::<EnrollmentService, _>::new(&recorder);
    let env = Envelope::new(EnrollmentCompletedV1 {
        enrollment_id: "e_42".into(),
        score: 90,
    })
    .tenant("t")
    .correlation("c")
    .build();
    publisher.publish(&env).unwrap();
    let sent = recorder.0.borrow();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].event_type, "enrollment.completed");
    assert_eq!(sent[0].major, 1);
    assert_eq!(sent[0].partition_key.as_deref(), Some("e_42"));
    assert_eq!(sent[0].id, env.id().as_str());
    let back = Envelope::<EnrollmentCompletedV1>::from_json_slice(&sent[0].payload).unwrap();
    assert_eq!(back, env);
}

#[test]
fn a_publisher_refuses_an_envelope_whose_source_is_another_service() {
    let recorder = Recorder::default();
    let publisher = Publisher::<EnrollmentService, _>::new(&recorder);
    let env = Envelope::new(EnrollmentCompletedV1 {
        enrollment_id: "e_42".into(),
        score: 90,
    })
    .tenant("t")
    .correlation("c")
    .source("billing-service")
    .build();
    let e = publisher.publish(&env).unwrap_err();
    assert!(matches!(e, PublishError::WrongSource { .. }));
    assert_eq!(
        e.to_string(),
        "enrollment-service cannot publish an event whose source is billing-service: the source of an event is its producer"
    );
    assert!(recorder.0.borrow().is_empty());
}

/// The entry point a README reader calls, with no trait in scope.
mod without_the_trait_in_scope {
    use event_runtime::{Envelope, Routed, catalog};

    catalog! {
        pub enum Inbound {
            Completed(super::EnrollmentCompletedV1),
        }
    }

    #[test]
    fn a_catalog_enum_decodes_through_its_own_method() {
        let bytes = Envelope::new(super::EnrollmentCompletedV1 {
            enrollment_id: "enr_1".into(),
            score: 85,
        })
        .tenant("tenant_a")
        .correlation("req_1")
        .build()
        .to_json_vec()
        .unwrap();
        match Inbound::from_json_slice(&bytes).unwrap() {
            Routed::Known(Inbound::Completed(e)) => assert_eq!(e.data().enrollment_id, "enr_1"),
            Routed::Unknown(other) => panic!("not routed: {}", other.reason()),
        }
    }
}

/// Input that is not UTF-8 is malformed JSON, named by its position, for
/// the routed and the typed decode alike, wherever the bad byte is and
/// whatever else is wrong with the envelope (a payload error before it, a
/// bad version, an unknown type).
#[test]
fn input_that_is_not_utf8_is_malformed_json_named_by_its_position() {
    let with_bad_byte = |v: &Value, marker: &str| {
        let text = serde_json::to_string(v).unwrap();
        let at = text.find(marker).unwrap();
        let mut bytes = text.into_bytes();
        bytes[at] = 0xff;
        bytes
    };
    let cases = [
        envelope(
            "enrollment.completed",
            "1.0",
            json!({ "enrollmentId": "e_~", "score": 3 }),
        ),
        envelope(
            "enrollment.completed",
            "1.0",
            json!({ "score": 300, "enrollmentId": "e_~" }),
        ),
        envelope(
            "enrollment.completed",
            "x.y",
            json!({ "enrollmentId": "e_~", "score": 3 }),
        ),
        envelope("user.deleted", "1.0", json!({ "note": "~" })),
    ];
    let columns = [57, 57, 57, 47];
    for (case, column) in cases.iter().zip(columns) {
        let bytes = with_bad_byte(case, "~");
        let expected =
            format!("malformed JSON: invalid unicode code point at line 1 column {column}");
        let routed = Inbound::decode(&bytes).unwrap_err();
        let typed = Envelope::<EnrollmentCompletedV1>::from_json_slice(&bytes).unwrap_err();
        for e in [routed, typed] {
            assert_eq!(e.kind(), &DecodeErrorKind::Malformed);
            assert_eq!(e.path(), "");
            assert_eq!(e.to_string(), expected);
        }
    }
}

/// The header decode skips the payload by its structure, so a byte that is
/// not UTF-8 in the payload does not stop it, with or without an escape in
/// a header string (which the header scanner leaves to the serde reader).
#[test]
fn a_header_is_read_past_a_payload_that_is_not_utf8() {
    for id in ["evt_1", "evt_\\u0031"] {
        let text = format!(
            r#"{{"id":"{id}","type":"enrollment.completed","version":"1.0","timestamp":"2026-03-27T10:30:00.000Z","source":"s","tenantId":"t","correlationId":"c","data":{{"note":"~"}}}}"#
        );
        let mut bytes = text.clone().into_bytes();
        bytes[text.find('~').unwrap()] = 0xff;
        let header = event_runtime::Header::from_json_slice(&bytes).unwrap();
        assert_eq!(header.event_type(), "enrollment.completed", "{id}");
    }
}
