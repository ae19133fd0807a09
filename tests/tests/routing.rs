//! The typed routing generated from the catalog: `CatalogEvent` over every
//! event, per service the inbound enum of what it consumes and the events it
//! may publish.

use event_contracts_tests::services::{
    CertificateServiceInbound, EnrollmentService, SearchServiceInbound,
};
use event_contracts_tests::{CatalogEvent, EnrollmentCompletedV1, EnrollmentCompletedV2};
use event_runtime::{
    Catalog, Envelope, Event, OutboundMessage, Publisher, Routed, Transport, UnknownReason,
};
use serde_json::Value;
use std::cell::RefCell;
use std::path::Path;

/// Every sample envelope, with its type and version as written in it.
fn samples() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut out = Vec::new();
    for domain in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(domain.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    assert_eq!(out.len(), 15, "one sample per event type and version");
    out
}

fn header(bytes: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(bytes).unwrap();
    (
        v["type"].as_str().unwrap().to_owned(),
        v["version"].as_str().unwrap().to_owned(),
    )
}

/// The (type, version) of a routed catalog event, read through the variant.
fn routed_to(event: &CatalogEvent) -> (&'static str, String) {
    macro_rules! of {
        ($($v:ident),*) => {
            match event {
                $( CatalogEvent::$v(e) => (e.event_type(), e.version().to_string()), )*
            }
        };
    }
    of!(
        CourseArchivedV1,
        CourseCreatedV1,
        CourseDeletedV1,
        CoursePublishedV1,
        CourseUpdatedV1,
        EnrollmentCompletedV1,
        EnrollmentCompletedV2,
        EnrollmentCreatedV1,
        EnrollmentExpiredV1,
        EnrollmentStartedV1,
        UserCreatedV1,
        UserDeactivatedV1,
        UserDeletedV1,
        UserUpdatedV1
    )
}

#[test]
fn every_sample_is_routed_to_its_type_and_major() {
    for (path, bytes) in samples() {
        let (ty, version) = header(&bytes);
        match CatalogEvent::decode(&bytes) {
            Ok(Routed::Known(event)) => {
                assert_eq!(routed_to(&event), (ty.as_str(), version), "{path}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[test]
fn both_majors_of_enrollment_completed_live_side_by_side() {
    let v1 = include_bytes!("../samples/enrollment/enrollment.completed.v1.1.json");
    let v2 = include_bytes!("../samples/enrollment/enrollment.completed.v2.0.json");
    let direct = Envelope::<EnrollmentCompletedV1>::from_json_slice(v1).unwrap();
    assert_eq!(
        CatalogEvent::decode(v1).unwrap(),
        Routed::Known(CatalogEvent::EnrollmentCompletedV1(direct))
    );
    assert!(matches!(
        CatalogEvent::decode(v2).unwrap(),
        Routed::Known(CatalogEvent::EnrollmentCompletedV2(_))
    ));
}

#[test]
fn a_service_routes_what_it_consumes_and_keeps_the_rest_whole() {
    let completed = include_bytes!("../samples/enrollment/enrollment.completed.v1.0.json");
    let created = include_bytes!("../samples/course/course.created.v1.0.json");
    assert!(matches!(
        CertificateServiceInbound::decode(completed).unwrap(),
        Routed::Known(CertificateServiceInbound::EnrollmentCompletedV1(_))
    ));
    // The certificate service does not consume course.created.
    let Routed::Unknown(unknown) = CertificateServiceInbound::decode(created).unwrap() else {
        panic!("course.created routed to the certificate service");
    };
    assert_eq!(unknown.reason(), &UnknownReason::UnknownType);
    assert_eq!(unknown.raw(), &created[..]);
    // The search service consumes course.created.
    assert!(matches!(
        SearchServiceInbound::decode(created).unwrap(),
        Routed::Known(SearchServiceInbound::CourseCreatedV1(_))
    ));
}

#[test]
fn an_unknown_major_is_kept_with_the_majors_handled() {
    let v2 = std::str::from_utf8(include_bytes!(
        "../samples/enrollment/enrollment.completed.v2.0.json"
    ))
    .unwrap()
    .replace("\"2.0\"", "\"3.0\"");
    let Routed::Unknown(unknown) = CatalogEvent::decode(v2.as_bytes()).unwrap() else {
        panic!("3.0 was routed");
    };
    assert_eq!(
        unknown.reason(),
        &UnknownReason::UnknownMajor { known: vec![1, 2] }
    );
}

#[test]
fn the_inbound_enums_hold_exactly_the_events_that_list_the_service() {
    let consumes = |ty: &str, version: event_runtime::Version, service: &str| -> bool {
        let contracts: &[(&str, event_runtime::Version)] = match service {
            "certificate-service" => CertificateServiceInbound::contracts(),
            "search-service" => SearchServiceInbound::contracts(),
            _ => unreachable!(),
        };
        contracts.contains(&(ty, version))
    };
    for (ty, version, consumers) in [
        (
            EnrollmentCompletedV1::TYPE,
            EnrollmentCompletedV1::VERSION,
            EnrollmentCompletedV1::contract().consumers,
        ),
        (
            EnrollmentCompletedV2::TYPE,
            EnrollmentCompletedV2::VERSION,
            EnrollmentCompletedV2::contract().consumers,
        ),
    ] {
        for service in ["certificate-service", "search-service"] {
            let listed = consumers.iter().any(|c| c.service == service);
            assert_eq!(
                consumes(ty, version, service),
                listed,
                "{ty} {version} for {service}"
            );
        }
    }
    assert_eq!(CatalogEvent::contracts().len(), 14);
}

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
fn the_producer_publishes_its_events_keyed_by_entity() {
    let sample = include_bytes!("../samples/enrollment/enrollment.completed.v1.1.json");
    let data = Envelope::<EnrollmentCompletedV1>::from_json_slice(sample)
        .unwrap()
        .into_data();
    let recorder = Recorder::default();
    let publisher = Publisher::<EnrollmentService, _>::new(&recorder);
    let envelope = Envelope::new(data.clone())
        .tenant("tenant_7f3c")
        .correlation("req_1")
        .build();
    publisher.publish(&envelope).unwrap();
    let sent = recorder.0.borrow();
    assert_eq!(sent[0].partition_key, Some(data.enrollment_id.to_string()));
    assert_eq!(sent[0].event_type, "enrollment.completed");
}
