//! The JSON path of a payload error, as the runtime names it from the
//! error's position, is the path a path-tracking decode
//! (`serde_path_to_error`) names, on every sample payload of the catalog
//! broken in every way this file knows: each value replaced by a value of
//! every JSON type, each member removed, an unknown member added, in compact
//! and in indented JSON.
//!
//! The runtime names paths with that same decode today; this is the guard
//! for any cheaper way of naming them (issue 14: a walk of the text from
//! serde_json's error position disagreed on 74 of 4,814 such payloads).

use event_contracts_tests::*;
use event_runtime::__private::check_data;
use event_runtime::{Event, Value};
use serde_json::json;
use std::path::Path;

mod support;

/// The path and message a path-tracking decode gives, formatted as the
/// runtime formats its own (`data`, `data.price.currency`, `data.tags[1]`,
/// a missing or repeated member named in the path).
fn reference<T: Event>(data: &str) -> Option<(String, String)> {
    let mut de = serde_json::Deserializer::from_str(data);
    let error = serde_path_to_error::deserialize::<_, T>(&mut de).err()?;
    if data == "null" {
        // The envelope's own rule: a `null` payload is a missing one.
        return Some((
            "data".to_owned(),
            "missing required envelope field `data`".to_owned(),
        ));
    }
    let mut path = match error.path().to_string() {
        p if p == "." => "data".to_owned(),
        p if p.starts_with('[') => format!("data{p}"),
        p => format!("data.{p}"),
    };
    let message = error.into_inner().to_string();
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    let member = ["missing field `", "duplicate field `", "duplicate key `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.strip_suffix('`'));
    if let Some(member) = member {
        path.push('.');
        path.push_str(member);
    }
    Some((path, message))
}

/// The sample payload of `rel` broken in every way: each variant is a new
/// payload that may or may not decode.
fn broken(data: &Value) -> Vec<Value> {
    let replacements = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(101),
        json!(1.5),
        json!(1e300),
        json!(""),
        json!("x"),
        json!("eur"),
        json!("2026-13-45T99:00:00Z"),
        json!([]),
        json!([1]),
        json!([[1]]),
        json!(["a", "b", ""]),
        json!({}),
        json!({ "x": 1 }),
        json!({ "kind": "nope" }),
    ];
    support::broken(data, &replacements, &json!(1))
}

fn compare<T: Event>(rel: &str, disagreements: &mut Vec<String>, checked: &mut usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let envelope: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    for data in broken(&envelope["data"]) {
        for text in [
            serde_json::to_string(&data).unwrap(),
            serde_json::to_string_pretty(&data).unwrap(),
        ] {
            let expected = reference::<T>(&text);
            let found =
                check_data::<T>(&text).map(|e| (e.path().to_owned(), e.message().to_owned()));
            if let Some((path, _)) = &expected {
                assert!(
                    found.is_some(),
                    "{rel}: {text}: decodes, reference says {path}"
                );
            }
            if expected.is_some() {
                *checked += 1;
            }
            let same = match (&expected, &found) {
                (Some((p, m)), Some((fp, fm))) => p == fp && fm.starts_with(&m[..m.len().min(100)]),
                (None, None) => true,
                _ => false,
            };
            if !same {
                disagreements.push(format!(
                    "{rel}: {text}\n  reference: {expected:?}\n  found:     {found:?}"
                ));
            }
        }
    }
}

#[test]
fn error_paths_found_from_the_position_are_those_of_a_path_tracking_decode() {
    let mut disagreements = Vec::new();
    let mut checked = 0;
    let d = &mut disagreements;
    let c = &mut checked;
    compare::<CourseCreatedV1>("course/course.created.v1.0.json", d, c);
    compare::<CourseUpdatedV1>("course/course.updated.v1.0.json", d, c);
    compare::<CoursePublishedV1>("course/course.published.v1.0.json", d, c);
    compare::<CourseArchivedV1>("course/course.archived.v1.0.json", d, c);
    compare::<CourseDeletedV1>("course/course.deleted.v1.0.json", d, c);
    compare::<EnrollmentCreatedV1>("enrollment/enrollment.created.v1.0.json", d, c);
    compare::<EnrollmentStartedV1>("enrollment/enrollment.started.v1.0.json", d, c);
    compare::<EnrollmentCompletedV1>("enrollment/enrollment.completed.v1.0.json", d, c);
    compare::<EnrollmentCompletedV1>("enrollment/enrollment.completed.v1.1.json", d, c);
    compare::<EnrollmentCompletedV2>("enrollment/enrollment.completed.v2.0.json", d, c);
    compare::<EnrollmentExpiredV1>("enrollment/enrollment.expired.v1.0.json", d, c);
    compare::<UserCreatedV1>("user/user.created.v1.0.json", d, c);
    compare::<UserUpdatedV1>("user/user.updated.v1.0.json", d, c);
    compare::<UserDeactivatedV1>("user/user.deactivated.v1.0.json", d, c);
    compare::<UserDeletedV1>("user/user.deleted.v1.0.json", d, c);
    assert!(checked > 1000, "only {checked} broken payloads");
    assert!(
        disagreements.is_empty(),
        "{} of {checked} broken payloads named differently:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
