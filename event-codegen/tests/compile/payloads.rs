//! Real-shaped webhook payloads (`tests/payloads/webhooks/<event>/*.json`)
//! through the types generated from the `webhooks` golden catalog: each
//! valid payload decodes, and encoding it again gives the same JSON value
//! (date-times equal as instant and offset). A file named `invalid-*`
//! breaks its schema and must be refused.
//!
//! The payloads carry members the schemas do not name yet (`gravatar_id`,
//! `user_view_type`), as real webhooks do once the sender adds a field, in
//! objects the schemas close (`additionalProperties: false`). The types
//! generated with `--tolerate-closed-objects` (`webhooks_tolerated`) keep
//! and forward them; the default types refuse them at the member.

use event_runtime::{EventData, Value};
use gencheck::webhooks_tolerated::{IssuesOpenedEvent, PushEvent};
use event_runtime::__private::serde::{Serialize, de::DeserializeOwned};
use std::path::{Path, PathBuf};

/// Equal as JSON values; two strings that are both RFC 3339 date-times are
/// equal when they name the same instant with the same offset.
fn same(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    use event_runtime::__private::time::{OffsetDateTime, format_description::well_known::Rfc3339};
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => same(p, q, &format!("{at}.{k}"), out),
                    (p, _) => out.push(format!(
                        "{at}.{k}: {}",
                        if p.is_some() { "dropped" } else { "added" }
                    )),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{at}[{i}]"), out);
            }
        }
        (Value::String(x), Value::String(y)) if x != y => {
            let (p, q) = (
                OffsetDateTime::parse(x, &Rfc3339),
                OffsetDateTime::parse(y, &Rfc3339),
            );
            match (p, q) {
                (Ok(p), Ok(q)) if p == q && p.offset() == q.offset() => {}
                _ => out.push(format!("{at}: {a} became {b}")),
            }
        }
        _ if a != b => out.push(format!("{at}: {a} became {b}")),
        _ => {}
    }
}

enum Outcome {
    RoundTrip,
    Changed(Vec<String>),
    Refused(String),
}

fn run<T: DeserializeOwned + Serialize + EventData>(input: &Value) -> Outcome {
    let typed: T = match serde_json::from_value(input.clone()) {
        Ok(t) => t,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    if let Err(e) = typed.validate() {
        return Outcome::Refused(e.to_string());
    }
    let again = serde_json::to_value(&typed).unwrap();
    let mut diffs = Vec::new();
    same(input, &again, "", &mut diffs);
    if diffs.is_empty() {
        Outcome::RoundTrip
    } else {
        Outcome::Changed(diffs)
    }
}

/// Decodes, validates and re-encodes one payload as one generated type.
type Run = fn(&Value) -> Outcome;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    out
}

#[test]
fn webhook_payloads_decode_and_round_trip_unchanged() {
    let root = PathBuf::from(
        std::env::var("WEBHOOK_PAYLOADS").expect("compile.rs sets WEBHOOK_PAYLOADS"),
    );
    let kinds: [(&str, Run); 2] = [
        ("push", run::<PushEvent>),
        ("issues-opened", run::<IssuesOpenedEvent>),
    ];
    let (mut valid, mut decoded, mut round_trips, mut invalid, mut refused) = (0, 0, 0, 0, 0);
    let mut problems = Vec::new();
    for (kind, run) in kinds {
        for file in files(&root.join(kind)) {
            let name = format!("{kind}/{}", file.file_name().unwrap().to_string_lossy());
            let input: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            let outcome = run(&input);
            if name.contains("/invalid-") {
                invalid += 1;
                match outcome {
                    Outcome::Refused(_) => refused += 1,
                    _ => problems.push(format!("{name}: breaks its schema but was accepted")),
                }
                continue;
            }
            valid += 1;
            match outcome {
                Outcome::RoundTrip => {
                    decoded += 1;
                    round_trips += 1;
                }
                Outcome::Changed(diffs) => {
                    decoded += 1;
                    problems.push(format!("{name}: changed on re-encode: {}", diffs.join(", ")));
                }
                Outcome::Refused(e) => problems.push(format!("{name}: refused: {e}")),
            }
        }
    }
    println!(
        "webhook payloads: {decoded} of {valid} valid decode, {round_trips} round trip unchanged; {refused} of {invalid} invalid refused"
    );
    assert!(valid >= 8 && invalid >= 3, "payload files missing under {}", root.display());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The default types close what the schemas close: a payload with a member
/// a closed object does not name is refused, naming the member; every other
/// valid payload still round-trips, and every invalid one is refused.
#[test]
fn closed_objects_refuse_members_the_schemas_do_not_name() {
    use gencheck::webhooks::{IssuesOpenedEvent, PushEvent};
    let root = PathBuf::from(
        std::env::var("WEBHOOK_PAYLOADS").expect("compile.rs sets WEBHOOK_PAYLOADS"),
    );
    let kinds: [(&str, Run); 2] = [
        ("push", run::<PushEvent>),
        ("issues-opened", run::<IssuesOpenedEvent>),
    ];
    let (mut closed, mut round_trips) = (0, 0);
    let mut problems = Vec::new();
    for (kind, run) in kinds {
        for file in files(&root.join(kind)) {
            let name = format!("{kind}/{}", file.file_name().unwrap().to_string_lossy());
            let input: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            match (run(&input), name.contains("/invalid-")) {
                (Outcome::Refused(_), true) => {}
                (_, true) => problems.push(format!("{name}: breaks its schema but was accepted")),
                (Outcome::RoundTrip, false) => round_trips += 1,
                (Outcome::Refused(e), false) if e.contains("is not a property the schema names") => {
                    closed += 1
                }
                (Outcome::Refused(e), false) => problems.push(format!("{name}: refused: {e}")),
                (Outcome::Changed(d), false) => problems.push(format!("{name}: changed: {}", d.join(", "))),
            }
        }
    }
    println!("webhook payloads, closed objects enforced: {round_trips} round trip, {closed} refused for a member the schema does not name");
    assert!(closed >= 2 && round_trips >= 6, "{closed} refused as closed, {round_trips} round trips");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
