//! The example catalog end to end: every sample envelope in `tests/samples/`
//! decodes into the type `build.rs` generated from its schema, keeps its
//! values, and encodes back to the same JSON; one type reads 1.0 and 1.1 of
//! `enrollment.completed`, and refuses 2.0.

use event_contracts_tests::*;
use event_runtime::{
    Contract, DecodeErrorKind, Delivery, Envelope, Event, OffsetDateTime, Ordering, Uuid, Value,
    Version,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, offset};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The JSON files under `dir`, as paths relative to it, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|x| x == "json") {
                out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn sample(rel: &str) -> String {
    read(&crate_dir().join("samples").join(rel))
}

fn parse(rel: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{rel}: not JSON: {e}"))
}

fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Where two JSON values differ, or `None` when they are the same value.
///
/// Strings that are both RFC 3339 date-times are the same when they name
/// the same instant with the same offset: `10:30:00.000Z` and `10:30:00Z`
/// are one timestamp written two ways. Everything else must be equal, object
/// keys and array lengths included.
fn difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().chain(a.keys()) {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (e.get(key), a.get(key)) {
                    (Some(ev), Some(av)) => {
                        if let Some(diff) = difference(ev, av, &at) {
                            return Some(diff);
                        }
                    }
                    (Some(_), None) => return Some(format!("{at}: missing after re-encoding")),
                    (None, _) => return Some(format!("{at}: added by re-encoding")),
                }
            }
            None
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (ev, av))| difference(ev, av, &format!("{path}[{i}]"))),
        (Value::String(e), Value::String(a)) if e != a => {
            match (
                OffsetDateTime::parse(e, &Rfc3339),
                OffsetDateTime::parse(a, &Rfc3339),
            ) {
                (Ok(et), Ok(at)) if et == at && et.offset() == at.offset() => None,
                _ => Some(format!("{path}: {e:?} became {a:?}")),
            }
        }
        _ if expected == actual => None,
        _ => Some(format!("{path}: {expected} became {actual}")),
    }
}

/// Decodes the sample `rel` as an envelope of `T`, encodes it back and
/// checks that the result is the sample, value for value.
fn round_trip<T: Event>(rel: &str) -> Envelope<T> {
    let text = sample(rel);
    let envelope =
        Envelope::<T>::from_json_str(&text).unwrap_or_else(|e| panic!("{rel}: decode: {e}"));
    let encoded = envelope
        .to_json_string()
        .unwrap_or_else(|e| panic!("{rel}: encode: {e}"));
    if let Some(diff) = difference(&parse(rel, &text), &parse(rel, &encoded), "") {
        panic!("{rel}: re-encoded envelope differs at {diff}\nencoded: {encoded}");
    }
    envelope
}

/// What the tests need to know of one generated event type, without
/// naming it.
struct Generated {
    type_name: &'static str,
    version: Version,
    producer: &'static str,
    delivery: Delivery,
    ordering: Ordering,
    contract: &'static Contract,
    /// Round-trips a sample through the type; returns the envelope's
    /// version and the payload's partition key.
    round_trip: fn(&str) -> (Version, Option<String>),
}

fn generated<T: Event>() -> Generated {
    Generated {
        type_name: T::TYPE,
        version: T::VERSION,
        producer: T::PRODUCER,
        delivery: T::DELIVERY,
        ordering: T::ORDERING,
        contract: T::contract(),
        round_trip: |rel| {
            let envelope = round_trip::<T>(rel);
            (envelope.version(), envelope.data().partition_key())
        },
    }
}

/// Every type generated from the catalog, one per event type and major.
fn catalog() -> Vec<Generated> {
    vec![
        generated::<CourseCreatedV1>(),
        generated::<CourseUpdatedV1>(),
        generated::<CoursePublishedV1>(),
        generated::<CourseArchivedV1>(),
        generated::<CourseDeletedV1>(),
        generated::<EnrollmentCreatedV1>(),
        generated::<EnrollmentStartedV1>(),
        generated::<EnrollmentCompletedV1>(),
        generated::<EnrollmentCompletedV2>(),
        generated::<EnrollmentExpiredV1>(),
        generated::<UserCreatedV1>(),
        generated::<UserUpdatedV1>(),
        generated::<UserDeactivatedV1>(),
        generated::<UserDeletedV1>(),
    ]
}

/// The event schemas of `schemas/`: (path relative to the root, schema).
fn event_schemas() -> Vec<(PathBuf, Value)> {
    let root = crate_dir().join("../schemas");
    json_files(&root)
        .into_iter()
        .map(|rel| {
            let text = read(&root.join(&rel));
            let schema = parse(&rel.display().to_string(), &text);
            (rel, schema)
        })
        .filter(|(_, schema)| schema.get("x-event").is_some())
        .collect()
}

fn x_event<'a>(rel: &Path, schema: &'a Value, key: &str) -> &'a Value {
    schema["x-event"]
        .get(key)
        .unwrap_or_else(|| panic!("{}: x-event has no `{key}`", rel.display()))
}

fn str_list(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn the_catalog_has_the_13_event_types_and_three_versions_of_enrollment_completed() {
    let schemas = event_schemas();
    let types: BTreeSet<&str> = schemas
        .iter()
        .filter_map(|(_, s)| s["x-event"]["type"].as_str())
        .collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        [
            "course.archived",
            "course.created",
            "course.deleted",
            "course.published",
            "course.updated",
            "enrollment.completed",
            "enrollment.created",
            "enrollment.expired",
            "enrollment.started",
            "user.created",
            "user.deactivated",
            "user.deleted",
            "user.updated",
        ]
    );
    let mut completed: Vec<&str> = schemas
        .iter()
        .filter(|(_, s)| s["x-event"]["type"] == "enrollment.completed")
        .filter_map(|(_, s)| s["x-event"]["version"].as_str())
        .collect();
    completed.sort();
    assert_eq!(completed, ["1.0", "1.1", "2.0"]);
}

#[test]
fn every_event_schema_has_one_sample_and_every_sample_a_schema() {
    let schemas: Vec<PathBuf> = event_schemas().into_iter().map(|(rel, _)| rel).collect();
    let samples = json_files(&crate_dir().join("samples"));
    assert_eq!(
        samples, schemas,
        "tests/samples/ must mirror the event schemas of schemas/, one envelope per file"
    );
}

#[test]
fn every_sample_round_trips_through_its_generated_type() {
    let catalog = catalog();
    let samples = json_files(&crate_dir().join("samples"));
    assert!(!samples.is_empty(), "no sample in tests/samples/");
    for rel in &samples {
        let rel = rel.display().to_string();
        let json = parse(&rel, &sample(&rel));
        let (Some(ty), Some(version)) = (json["type"].as_str(), json["version"].as_str()) else {
            panic!("{rel}: no `type` or `version`");
        };
        let version: Version = version
            .parse()
            .unwrap_or_else(|e| panic!("{rel}: version: {e}"));
        let reader = catalog
            .iter()
            .find(|g| g.type_name == ty && g.version.is_compatible_with(version))
            .unwrap_or_else(|| panic!("{rel}: no generated type reads {ty} {version}"));
        let (read_version, partition) = (reader.round_trip)(&rel);
        assert_eq!(read_version, version, "{rel}");
        // Every event of the catalog is ordered per entity: the partition
        // key is the entity id the sample carries.
        let field = reader
            .contract
            .partition_field
            .unwrap_or_else(|| panic!("{rel}: no partition field"));
        assert_eq!(partition.as_deref(), json["data"][field].as_str(), "{rel}");
    }
}

#[test]
fn generated_contracts_state_what_the_schemas_say() {
    let catalog = catalog();
    let schemas = event_schemas();
    for g in &catalog {
        // The type of a major describes its latest minor.
        let (rel, schema) = schemas
            .iter()
            .filter(|(_, s)| s["x-event"]["type"] == g.type_name)
            .filter(|(_, s)| {
                s["x-event"]["version"]
                    .as_str()
                    .and_then(|v| v.parse::<Version>().ok())
                    .is_some_and(|v| v.major() == g.version.major())
            })
            .max_by_key(|(_, s)| {
                s["x-event"]["version"]
                    .as_str()
                    .and_then(|v| v.parse::<Version>().ok())
            })
            .unwrap_or_else(|| panic!("no schema for {} {}", g.type_name, g.version));
        let at = rel.display();
        assert_eq!(
            x_event(rel, schema, "version").as_str(),
            Some(g.version.to_string().as_str()),
            "{at}"
        );
        assert_eq!(x_event(rel, schema, "producer"), g.producer, "{at}");
        assert_eq!(
            x_event(rel, schema, "delivery"),
            g.delivery.as_str(),
            "{at}"
        );
        assert_eq!(
            x_event(rel, schema, "ordering"),
            g.ordering.as_str(),
            "{at}"
        );
        assert_eq!(
            schema["x-event"]["partitionKey"].as_str(),
            g.contract.partition_field,
            "{at}"
        );
        assert_eq!(
            str_list(&schema["x-event"]["idempotencyKey"]),
            g.contract.key_fields,
            "{at}"
        );
        let consumers: Vec<(&str, &str)> = x_event(rel, schema, "consumers")
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["service"].as_str().unwrap_or_default(),
                    c["reason"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let generated: Vec<(&str, &str)> = g
            .contract
            .consumers
            .iter()
            .map(|c| (c.service, c.reason))
            .collect();
        assert_eq!(generated, consumers, "{at}");
        // serde_json's map is sorted, so the order of the schema's
        // properties is not compared here (the codegen's golden files do).
        let fields: BTreeSet<&str> = g.contract.fields.iter().map(|f| f.wire_name).collect();
        let properties: BTreeSet<&str> = schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(fields, properties, "{at}: fields");
        let required = str_list(&schema["required"]);
        for f in g.contract.fields {
            assert_eq!(
                f.optional,
                !required.contains(&f.wire_name),
                "{at}: `{}` optional",
                f.wire_name
            );
        }
        assert_eq!(
            g.contract.doc,
            schema["description"].as_str().unwrap_or_default(),
            "{at}"
        );
    }
}

#[test]
fn course_created_keeps_shared_definitions_and_tags() {
    let event = round_trip::<CourseCreatedV1>("course/course.created.v1.0.json");
    let data = event.data();
    assert_eq!(data.course_id, uuid("c2e8f4a1-6d35-4b7e-8a90-3f1d5c7e9b24"));
    assert_eq!(data.level, CourseLevel::Intermediate);
    assert_eq!(
        data.price,
        Some(Money {
            amount_minor: 4900,
            currency: "EUR".to_owned(),
            additional_properties: Default::default(),
        })
    );
    assert_eq!(data.tags, ["architecture", "messaging", "kafka"]);
    assert_eq!(data.created_at, datetime!(2026-01-05 08:59:59.412 UTC));
    assert_eq!(event.source(), "course-service");
    assert_eq!(event.tenant_id(), "tenant_7f3c");
    assert_eq!(
        event.metadata().and_then(|m| m.get("userAgent")),
        Some(&Value::from("web"))
    );
}

#[test]
fn course_updated_carries_only_the_changed_fields_and_keys_by_revision() {
    let event = round_trip::<CourseUpdatedV1>("course/course.updated.v1.0.json");
    let data = event.data();
    assert_eq!(
        data.changed_fields,
        [
            CourseUpdatedV1ChangedFieldsItem::Price,
            CourseUpdatedV1ChangedFieldsItem::Tags
        ]
    );
    assert_eq!(data.title, None);
    assert_eq!(data.level, None);
    assert_eq!(data.price.as_ref().map(|p| p.amount_minor), Some(3900));
    assert_eq!(data.tags.as_ref().map(Vec::len), Some(4));
    // The same revision republished under another event id is one fact.
    assert_eq!(
        data.natural_key().as_deref(),
        Some("v2|36:c2e8f4a1-6d35-4b7e-8a90-3f1d5c7e9b24|1:4")
    );
}

#[test]
fn a_generated_payload_never_decodes_from_an_array() {
    let text = sample("course/course.published.v1.0.json");
    let mut envelope = parse("course/course.published.v1.0.json", &text);
    let fields: Vec<Value> = envelope["data"]
        .as_object()
        .expect("the sample's data is an object")
        .values()
        .cloned()
        .collect();
    envelope["data"] = Value::Array(fields.clone());
    let bytes = serde_json::to_vec(&envelope).unwrap();
    let e = Envelope::<CoursePublishedV1>::from_json_slice(&bytes).unwrap_err();
    assert_eq!(e.path(), "data");
    assert!(
        e.to_string()
            .contains("invalid type: sequence, expected struct"),
        "{e}"
    );
    // Nested shared definitions are structs too.
    let e = serde_json::from_value::<CoursePublishedV1>(Value::Array(fields)).unwrap_err();
    assert!(e.to_string().contains("invalid type: sequence"), "{e}");
}

#[test]
fn course_published_archived_and_deleted() {
    let published = round_trip::<CoursePublishedV1>("course/course.published.v1.0.json");
    assert_eq!(published.data().module_count, 8);
    assert_eq!(published.data().estimated_duration, 540);
    assert_eq!(published.data().natural_key(), None);

    let archived = round_trip::<CourseArchivedV1>("course/course.archived.v1.0.json");
    assert_eq!(archived.data().reason, CourseArchivedV1Reason::Replaced);
    assert_eq!(
        archived.data().access_policy,
        CourseArchivedV1AccessPolicy::KeepUntilExpiry
    );
    assert_eq!(
        archived.data().replacement_course_id,
        Some(uuid("d1f3a5c7-e9b2-4d4f-a6c8-e0b2d4f6a8c1"))
    );

    let deleted = round_trip::<CourseDeletedV1>("course/course.deleted.v1.0.json");
    assert_eq!(
        deleted.data().restorable_until - deleted.data().deleted_at,
        time::Duration::days(30)
    );
    // A deletion is keyed by the course and its time: the same deletion
    // published twice is one fact, a second deletion after a restore is not.
    let key = deleted.data().natural_key();
    let mut again = deleted.data().clone();
    assert_eq!(again.natural_key(), key);
    again.deleted_at += time::Duration::days(2);
    assert_ne!(again.natural_key(), key);
}

#[test]
fn enrollment_created_decodes_the_one_of_by_its_kind() {
    let event = round_trip::<EnrollmentCreatedV1>("enrollment/enrollment.created.v1.0.json");
    let data = event.data();
    let EnrollmentCreatedV1Acquisition::Purchase(purchase) = &data.acquisition else {
        panic!("expected a purchase, got {:?}", data.acquisition);
    };
    assert_eq!(
        purchase.order_id,
        uuid("0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f")
    );
    assert_eq!(purchase.amount_paid.amount_minor, 3120);
    assert_eq!(data.expires_at, Some(datetime!(2027-02-14 23:59:59 UTC)));
    assert_eq!(
        data.natural_key().as_deref(),
        Some("e7a4c1d9-2f58-4e36-b0c7-9d1e3a5f8b62")
    );

    // The other two shapes, told apart by `kind` alone.
    let mut json: Value = parse(
        "enrollment.created",
        &sample("enrollment/enrollment.created.v1.0.json"),
    );
    json["data"]["acquisition"] = serde_json::json!({ "kind": "free" });
    let free = Envelope::<EnrollmentCreatedV1>::from_json_str(&json.to_string())
        .unwrap_or_else(|e| panic!("free: {e}"));
    assert!(matches!(
        free.data().acquisition,
        EnrollmentCreatedV1Acquisition::Free(_)
    ));
    json["data"]["acquisition"] = serde_json::json!({
        "kind": "license",
        "licenseId": "4f1d2c3b-5a6e-4d7c-8b9a-0e1f2a3b4c5d",
        "assignedBy": "a9d3e6f0-1b27-4c85-9e4a-7f02c8b5d163"
    });
    let license = Envelope::<EnrollmentCreatedV1>::from_json_str(&json.to_string())
        .unwrap_or_else(|e| panic!("license: {e}"));
    let EnrollmentCreatedV1Acquisition::License(license) = &license.data().acquisition else {
        panic!("expected a license");
    };
    assert_eq!(
        license.license_id,
        uuid("4f1d2c3b-5a6e-4d7c-8b9a-0e1f2a3b4c5d")
    );
}

#[test]
fn enrollment_started_keeps_the_learners_offset() {
    let event = round_trip::<EnrollmentStartedV1>("enrollment/enrollment.started.v1.0.json");
    assert_eq!(event.timestamp().offset(), offset!(+2));
    assert_eq!(event.data().started_at.offset(), offset!(+2));
    assert_eq!(
        event.data().started_at,
        datetime!(2026-02-15 05:30:58.902 UTC)
    );
    assert_eq!(event.data().device, EnrollmentStartedV1Device::Android);
    let encoded = event.to_json_string().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        encoded.contains("\"startedAt\":\"2026-02-15T07:30:58.902+02:00\""),
        "{encoded}"
    );
}

#[test]
fn enrollment_expired_and_user_events() {
    let expired = round_trip::<EnrollmentExpiredV1>("enrollment/enrollment.expired.v1.0.json");
    assert_eq!(expired.data().progress_percent, 62.5);
    assert_eq!(
        (
            expired.data().completed_lessons,
            expired.data().total_lessons
        ),
        (20, 32)
    );
    assert_eq!(expired.metadata().and_then(|m| m.get("userAgent")), None);

    let created = round_trip::<UserCreatedV1>("user/user.created.v1.0.json");
    assert_eq!(created.data().role, UserCreatedV1Role::Learner);
    assert!(!created.data().preferences.marketing_emails);
    assert_eq!(
        created.data().preferences.digest,
        UserCreatedV1PreferencesDigest::Weekly
    );

    let updated = round_trip::<UserUpdatedV1>("user/user.updated.v1.0.json");
    assert_eq!(updated.data().locale.as_deref(), Some("pt"));
    assert_eq!(updated.data().email, None);
    assert_eq!(updated.timestamp().offset(), offset!(+1));

    let deactivated = round_trip::<UserDeactivatedV1>("user/user.deactivated.v1.0.json");
    assert_eq!(
        deactivated.data().reason,
        UserDeactivatedV1Reason::PaymentFailure
    );
    // A user may be deactivated again after a reactivation: the event id
    // is the key.
    assert_eq!(deactivated.data().natural_key(), None);

    let deleted = round_trip::<UserDeletedV1>("user/user.deleted.v1.0.json");
    assert_eq!(deleted.data().requested_by, UserDeletedV1RequestedBy::User);
    assert_eq!(
        deleted.data().natural_key().as_deref(),
        Some("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
    );
}

#[test]
fn a_1_0_event_reads_as_v1_without_the_1_1_field() {
    assert_eq!(EnrollmentCompletedV1::VERSION, Version::new(1, 1));
    let event = round_trip::<EnrollmentCompletedV1>("enrollment/enrollment.completed.v1.0.json");
    assert_eq!(event.version(), Version::new(1, 0));
    let data = event.data();
    assert_eq!(data.total_duration, None);
    assert_eq!(data.score, 85);
    assert_eq!(data.course_title, "Event-Driven Architecture in Practice");
    assert_eq!(data.completed_at, datetime!(2026-03-27 10:30:00 UTC));
    assert_eq!(event.id().as_str(), "evt_01KMQDFZ20HM8HEE7QV4YSR5S4");
    assert_eq!(event.correlation_id(), "req_xyz789");
    assert_eq!(
        data.natural_key().as_deref(),
        Some("e7a4c1d9-2f58-4e36-b0c7-9d1e3a5f8b62")
    );
    let since: Vec<(&str, Option<Version>)> = EnrollmentCompletedV1::contract()
        .fields
        .iter()
        .filter(|f| f.since.is_some())
        .map(|f| (f.wire_name, f.since))
        .collect();
    assert_eq!(since, [("totalDuration", Some(Version::new(1, 1)))]);
}

#[test]
fn a_1_1_event_reads_as_v1_with_the_1_1_field() {
    let event = round_trip::<EnrollmentCompletedV1>("enrollment/enrollment.completed.v1.1.json");
    assert_eq!(event.version(), Version::new(1, 1));
    assert_eq!(event.data().total_duration, Some(612));
    assert_eq!(event.data().score, 92);
}

#[test]
fn a_2_0_event_reads_as_v2_with_a_score_object() {
    let event = round_trip::<EnrollmentCompletedV2>("enrollment/enrollment.completed.v2.0.json");
    assert_eq!(EnrollmentCompletedV2::VERSION, Version::new(2, 0));
    assert_eq!(
        event.data().score,
        Score {
            points: 41,
            max_points: 60,
            passed: true,
        }
    );
    assert_eq!(event.data().total_duration, 488);
}

#[test]
fn a_2_0_event_is_refused_by_the_v1_reader() {
    let text = sample("enrollment/enrollment.completed.v2.0.json");
    let error = Envelope::<EnrollmentCompletedV1>::from_json_str(&text)
        .expect_err("a 1.x reader must refuse a 2.0 event");
    assert_eq!(
        error.kind(),
        &DecodeErrorKind::IncompatibleMajor {
            expected: Version::new(1, 1),
            found: Version::new(2, 0),
        }
    );
    assert_eq!(error.path(), "version");
    assert_eq!(error.event_id(), Some("evt_01KRB4YPT7YA61ZCBW4E8C34PF"));
    assert_eq!(error.event_type(), Some("enrollment.completed"));
    assert!(error.is_permanent());
}

#[test]
fn a_1_x_event_is_refused_by_the_v2_reader() {
    for rel in [
        "enrollment/enrollment.completed.v1.0.json",
        "enrollment/enrollment.completed.v1.1.json",
    ] {
        let found: Version = parse(rel, &sample(rel))["version"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{rel}: version"));
        let error = Envelope::<EnrollmentCompletedV2>::from_json_str(&sample(rel))
            .expect_err("a 2.x reader must refuse a 1.x event");
        assert_eq!(
            error.kind(),
            &DecodeErrorKind::IncompatibleMajor {
                expected: Version::new(2, 0),
                found,
            },
            "{rel}"
        );
    }
}

/// Decodes the sample `rel` with `change` applied to its JSON.
fn decode_changed<T: Event>(
    rel: &str,
    change: impl FnOnce(&mut Value),
) -> Result<Envelope<T>, event_runtime::DecodeError> {
    let mut json = parse(rel, &sample(rel));
    change(&mut json);
    Envelope::<T>::from_json_str(&json.to_string())
}

#[test]
fn schema_constraints_are_enforced_on_decode_with_the_path() {
    let cases: Vec<(&str, Result<(), event_runtime::DecodeError>)> = vec![
        (
            "data.score",
            decode_changed::<EnrollmentCompletedV1>(
                "enrollment/enrollment.completed.v1.0.json",
                |j| j["data"]["score"] = 101.into(),
            )
            .map(drop),
        ),
        (
            "data.score.maxPoints",
            decode_changed::<EnrollmentCompletedV2>(
                "enrollment/enrollment.completed.v2.0.json",
                |j| j["data"]["score"]["maxPoints"] = 0.into(),
            )
            .map(drop),
        ),
        (
            "data.price.currency",
            decode_changed::<CourseCreatedV1>("course/course.created.v1.0.json", |j| {
                j["data"]["price"]["currency"] = "eur".into()
            })
            .map(drop),
        ),
        (
            "data.slug",
            decode_changed::<CourseCreatedV1>("course/course.created.v1.0.json", |j| {
                j["data"]["slug"] = "Event Driven".into()
            })
            .map(drop),
        ),
        (
            "data.changedFields",
            decode_changed::<CourseUpdatedV1>("course/course.updated.v1.0.json", |j| {
                j["data"]["changedFields"] = serde_json::json!([])
            })
            .map(drop),
        ),
        (
            "data.progressPercent",
            decode_changed::<EnrollmentExpiredV1>("enrollment/enrollment.expired.v1.0.json", |j| {
                j["data"]["progressPercent"] = 100.into()
            })
            .map(drop),
        ),
        (
            "data.userId",
            decode_changed::<UserDeletedV1>("user/user.deleted.v1.0.json", |j| {
                j["data"]["userId"] = "usr_42".into()
            })
            .map(drop),
        ),
        (
            "data.totalDuration",
            decode_changed::<EnrollmentCompletedV2>(
                "enrollment/enrollment.completed.v2.0.json",
                |j| {
                    j["data"].as_object_mut().map(|d| d.remove("totalDuration"));
                },
            )
            .map(drop),
        ),
    ];
    for (path, result) in cases {
        let error = result.expect_err(path);
        assert_eq!(
            error.kind(),
            &DecodeErrorKind::InvalidData,
            "{path}: {error}"
        );
        assert_eq!(error.path(), path, "{error}");
    }
}

#[test]
fn readers_are_tolerant_of_unknown_fields_and_enum_values() {
    let rel = "course/course.created.v1.0.json";
    let event = decode_changed::<CourseCreatedV1>(rel, |j| {
        j["data"]["level"] = "master".into();
        j["data"]["certificateTemplate"] = "classic".into();
    })
    .unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(event.data().level, CourseLevel::Other("master".to_owned()));
    let encoded = event.to_json_string().unwrap_or_else(|e| panic!("{e}"));
    let json = parse(rel, &encoded);
    assert_eq!(json["data"]["level"], "master");
}

#[test]
fn the_comparison_sees_every_difference_but_timestamp_spelling() {
    let sample: Value = serde_json::json!({
        "timestamp": "2026-03-27T10:30:00.000Z",
        "data": { "score": 85, "at": "2026-02-15T07:30:58.900+02:00", "tags": ["a", "b"] }
    });
    let same = serde_json::json!({
        "timestamp": "2026-03-27T10:30:00Z",
        "data": { "score": 85, "at": "2026-02-15T07:30:58.9+02:00", "tags": ["a", "b"] }
    });
    assert_eq!(difference(&sample, &same, ""), None);
    let cases = [
        ("/data/score", Value::from(86), "data.score: 85 became 86"),
        (
            "/data/score",
            Value::from("85"),
            "data.score: 85 became \"85\"",
        ),
        (
            "/timestamp",
            Value::from("2026-03-27T10:30:00.001Z"),
            "timestamp: \"2026-03-27T10:30:00.000Z\" became \"2026-03-27T10:30:00.001Z\"",
        ),
        (
            "/data/at",
            Value::from("2026-02-15T05:30:58.900Z"),
            "data.at: \"2026-02-15T07:30:58.900+02:00\" became \"2026-02-15T05:30:58.900Z\"",
        ),
        (
            "/data/tags",
            serde_json::json!(["a"]),
            "data.tags: [\"a\",\"b\"] became [\"a\"]",
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut changed = sample.clone();
        if let Some(slot) = changed.pointer_mut(pointer) {
            *slot = value;
        }
        assert_eq!(difference(&sample, &changed, "").as_deref(), Some(expected));
    }
    let mut extra = sample.clone();
    extra["data"]["extra"] = Value::Bool(true);
    assert_eq!(
        difference(&sample, &extra, "").as_deref(),
        Some("data.extra: added by re-encoding")
    );
    assert_eq!(
        difference(&extra, &sample, "").as_deref(),
        Some("data.extra: missing after re-encoding")
    );
}

/// Every schema file of `schemas/` by its path relative to the root.
fn schema_files() -> Vec<(String, Value)> {
    let root = crate_dir().join("../schemas");
    json_files(&root)
        .into_iter()
        .map(|rel| {
            let name = rel.display().to_string();
            let schema = parse(&name, &read(&root.join(&rel)));
            (name, schema)
        })
        .collect()
}

/// A draft 2020-12 validator of the payload described by `schemas/<rel>`,
/// with format checks, its `$ref`s to other files resolved among the
/// catalog's own files only: nothing is fetched.
fn payload_validator(files: &[(String, Value)], rel: &str) -> jsonschema::Validator {
    const BASE: &str = "file:///schemas/";
    let registry = jsonschema::Registry::new()
        .extend(files.iter().map(|(name, schema)| {
            (
                format!("{BASE}{name}"),
                jsonschema::Resource::from_contents(schema.clone()),
            )
        }))
        .and_then(|builder| builder.prepare())
        .unwrap_or_else(|e| panic!("the catalog does not load as a schema registry: {e}"));
    let schema = files
        .iter()
        .find(|(name, _)| name == rel)
        .map(|(_, schema)| schema)
        .unwrap_or_else(|| panic!("no schema {rel}"));
    jsonschema::options()
        .with_registry(&registry)
        .with_base_uri(format!("{BASE}{rel}"))
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("{rel}: does not compile as JSON Schema: {e}"))
}

fn violations(validator: &jsonschema::Validator, data: &Value) -> Vec<String> {
    validator
        .iter_errors(data)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn every_sample_meets_its_json_schema_and_the_other_minors_of_its_major() {
    let files = schema_files();
    let samples = json_files(&crate_dir().join("samples"));
    assert!(!samples.is_empty(), "no sample in tests/samples/");
    let mut problems = Vec::new();
    for rel in &samples {
        let rel = rel.display().to_string();
        let data = &parse(&rel, &sample(&rel))["data"];
        // The sample of `x.v1.1.json` is read by the 1.0 and 1.1 schemas:
        // a minor version only adds optional fields.
        let (stem, _) = rel
            .rsplit_once(".v")
            .unwrap_or_else(|| panic!("{rel}: no version"));
        let major = rel[stem.len() + 2..].split('.').next().unwrap_or_default();
        for (schema, _) in files
            .iter()
            .filter(|(name, _)| name.starts_with(&format!("{stem}.v{major}.")))
        {
            for v in violations(&payload_validator(&files, schema), data) {
                problems.push(format!("{rel} against {schema}: {v}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_json_schema_check_refuses_what_the_schemas_forbid() {
    let files = schema_files();
    let v2 = payload_validator(&files, "enrollment/enrollment.completed.v2.0.json");
    let data = &parse("v2.0", &sample("enrollment/enrollment.completed.v2.0.json"))["data"];
    let v1 = payload_validator(&files, "enrollment/enrollment.completed.v1.1.json");
    // A 2.0 payload is not a 1.x payload: `score` changed type.
    assert_eq!(
        violations(&v1, data),
        [r#"/score: {"maxPoints":60,"passed":true,"points":41} is not of type "integer""#]
    );
    let cases = [
        (
            "/score/maxPoints",
            Value::from(0),
            "/score/maxPoints: 0 is less than the minimum of 1",
        ),
        (
            "/userId",
            Value::from("usr_42"),
            r#"/userId: "usr_42" is not a "uuid""#,
        ),
        (
            "/completedAt",
            Value::from("2026-05-11 09:12"),
            r#"/completedAt: "2026-05-11 09:12" is not a "date-time""#,
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut changed = data.clone();
        if let Some(slot) = changed.pointer_mut(pointer) {
            *slot = value;
        }
        assert_eq!(violations(&v2, &changed), [expected]);
    }
    // Through a `$ref` to a shared definition in another file.
    let created = payload_validator(&files, "course/course.created.v1.0.json");
    let mut data = parse("created", &sample("course/course.created.v1.0.json"))["data"].clone();
    data["price"]["currency"] = "eur".into();
    assert_eq!(
        violations(&created, &data),
        [r#"/price/currency: "eur" does not match "^[A-Z]{3}$""#]
    );
}
