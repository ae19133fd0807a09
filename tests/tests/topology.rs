//! The JetStream topology of the generated catalog: `Topology::from_catalog`
//! reads the consumers of every route from `CatalogEvent`, and agrees with
//! both the explicit `from_contracts` list and the schemas' `x-event`
//! blocks. The plan needs no server; the last test ensures the whole
//! catalog on the machine's JetStream server (`NATS_URL`, else
//! 127.0.0.1:4222), whatever its version.

use event_contracts_tests::*;
use event_nats::{Filtering, Subjects, Topology};
use event_runtime::{Catalog, Event};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

macro_rules! contracts {
    ($($ty:ty),* $(,)?) => {
        [$( (<$ty>::TYPE, <$ty>::VERSION.major(), <$ty>::contract()) ),*]
    };
}

#[test]
fn from_catalog_equals_from_contracts_over_every_generated_event() {
    let explicit = Topology::from_contracts(contracts!(
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
        UserUpdatedV1,
    ));
    assert_eq!(CatalogEvent::routes().len(), 14);
    let plan = Topology::from_catalog::<CatalogEvent>().plan();
    assert_eq!(plan, explicit.plan());
    // Something was planned: the event stream, a DLQ stream and two
    // consumers per consumer service.
    let services = plan.streams.len() - 1;
    assert!(services >= 5, "{plan}");
    assert_eq!(plan.consumers.len(), 2 * services);
}

#[test]
fn each_consumer_filters_on_what_the_schemas_say_it_consumes() {
    // service -> subjects, from the x-event blocks of the newest minor of
    // each type and major (the one the generated type was written for).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut newest: BTreeMap<(String, u32), (u32, Vec<String>)> = BTreeMap::new();
    for domain in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(domain.unwrap().path()).unwrap() {
            let schema: Value =
                serde_json::from_slice(&std::fs::read(file.unwrap().path()).unwrap()).unwrap();
            let Some(block) = schema.get("x-event") else {
                continue;
            };
            let ty = block["type"].as_str().unwrap().to_owned();
            let (major, minor) = block["version"].as_str().unwrap().split_once('.').unwrap();
            let (major, minor): (u32, u32) = (major.parse().unwrap(), minor.parse().unwrap());
            let consumers = block["consumers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["service"].as_str().unwrap().to_owned())
                .collect();
            let slot = newest.entry((ty, major)).or_insert((minor, Vec::new()));
            if minor >= slot.0 {
                *slot = (minor, consumers);
            }
        }
    }
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ((ty, major), (_, consumers)) in &newest {
        for service in consumers {
            expected
                .entry(service.clone())
                .or_default()
                .insert(format!("events.{ty}.v{major}"));
        }
    }
    let plan = Topology::from_catalog::<CatalogEvent>().plan();
    let planned: BTreeMap<String, BTreeSet<String>> = plan
        .consumers
        .iter()
        .filter(|c| !c.durable.ends_with("_retry"))
        .map(|c| {
            (
                c.durable.clone(),
                c.filter_subjects.iter().cloned().collect(),
            )
        })
        .collect();
    assert_eq!(planned, expected);
    assert!(
        planned["certificate-service"].contains("events.enrollment.completed.v2"),
        "{planned:?}"
    );
    let dlq_streams: BTreeSet<&str> = plan.streams[1..].iter().map(|s| s.name.as_str()).collect();
    let want: BTreeSet<String> = expected
        .keys()
        .map(|s| format!("EVENTS_DLQ_{}", s.to_uppercase()))
        .collect();
    assert_eq!(
        dlq_streams,
        want.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
}

#[tokio::test]
async fn the_whole_catalog_ensures_on_the_server_and_a_second_run_creates_nothing() {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned());
    let js = event_nats::connect(&url).await.unwrap();
    let prefix = format!(
        "t_catalog_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let topology = Topology::from_catalog::<CatalogEvent>().subjects(Subjects::new(prefix.clone()));
    let first = topology.ensure(&js).await.unwrap();
    let version = js.client().server_info().version;
    let filtering = first.filtering.unwrap();
    assert_eq!(
        Some(filtering),
        Filtering::for_version(&version),
        "{version}"
    );
    let plan = topology.plan_for(filtering);
    assert!(first.matches(), "{first:?}");
    assert_eq!(
        first.created.len(),
        plan.streams.len() + plan.consumers.len(),
        "{first:?}"
    );
    let second = topology.ensure(&js).await.unwrap();
    assert!(second.created.is_empty(), "{second:?}");
    assert!(second.drift.is_empty(), "{second:?}");
    // Most services consume several types: before 2.10 each such consumer
    // has one covering filter, and handles exactly its subjects.
    let several: Vec<_> = plan
        .consumers
        .iter()
        .filter(|c| c.handles.len() > 1)
        .collect();
    assert!(several.len() >= 3, "{plan}");
    let stream = js
        .get_stream(Subjects::new(prefix.clone()).stream())
        .await
        .unwrap();
    for c in &several {
        let info = stream
            .consumer_info(&c.durable)
            .await
            .unwrap()
            .config
            .clone();
        match filtering {
            Filtering::Covering => {
                assert_eq!(vec![info.filter_subject.clone()], c.filter_subjects);
                assert!(info.filter_subject.contains('*'), "{}", info.filter_subject);
            }
            Filtering::Subjects => {
                let mut have = info.filter_subjects.clone();
                have.sort();
                assert_eq!(have, c.handles);
            }
        }
    }
    println!(
        "nats-server {version}: {} streams and {} consumers ensured, {} filtering several types",
        plan.streams.len(),
        plan.consumers.len(),
        several.len()
    );
    for s in plan.streams {
        let _ = js.delete_stream(&s.name).await;
    }
}
