//! The decoding contract: tolerant across minor versions and unknown fields,
//! strict about everything else, and every refusal named.

mod common;

use common::{CONTEXT, CoursePublished, EnrollmentCompleted, ID, edited, envelope};
use event_runtime::{DecodeError, DecodeErrorKind, Envelope, ErrorClass, Header, Version};
use serde_json::{Value, json};
use time::macros::{datetime, offset};

fn decode(bytes: &[u8]) -> Result<Envelope<EnrollmentCompleted>, DecodeError> {
    Envelope::from_json_slice(bytes)
}

fn refusal(bytes: &[u8]) -> DecodeError {
    match decode(bytes) {
        Ok(envelope) => panic!("decoded, expected a refusal: {envelope:?}"),
        Err(e) => e,
    }
}

#[test]
fn the_brief_example_decodes_into_typed_fields() {
    let env = decode(&serde_json::to_vec(&envelope()).unwrap()).unwrap();
    assert_eq!(env.id().as_str(), ID);
    assert_eq!(env.event_type(), "enrollment.completed");
    assert_eq!(env.version(), Version::new(1, 1));
    assert_eq!(env.timestamp(), datetime!(2026-03-27 10:30:00 UTC));
    assert_eq!(env.source(), "enrollment-service");
    assert_eq!(env.tenant_id(), "tenant_7f3c");
    assert_eq!(env.correlation_id(), "req_xyz789");
    assert_eq!(env.causation_id(), None);
    assert_eq!(env.data().enrollment_id, common::enrollment_id());
    assert_eq!(env.data().score, 85);
    assert_eq!(env.data().grade.as_deref(), Some("A"));
    assert_eq!(env.metadata().unwrap()["triggeredBy"], "usr_42");
    assert!(env.unknown_fields().is_empty());
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    kind: DecodeErrorKind,
    path: &'static str,
    id: Option<&'static str>,
    ty: Option<&'static str>,
    display: String,
}

fn with_context(message: &str) -> String {
    format!("{message}{CONTEXT}")
}

fn refusal_cases() -> Vec<Case> {
    let ctx = (Some(ID), Some("enrollment.completed"));
    let mut cases = vec![
        Case {
            name: "truncated JSON",
            bytes: br#"{"id": "evt_1", "type": "#.to_vec(),
            kind: DecodeErrorKind::Malformed,
            path: "",
            id: None,
            ty: None,
            display: "malformed JSON: EOF while parsing a value at line 1 column 24".into(),
        },
        Case {
            name: "trailing garbage",
            bytes: [serde_json::to_vec(&envelope()).unwrap(), b" x".to_vec()].concat(),
            kind: DecodeErrorKind::Malformed,
            path: "",
            id: None,
            ty: None,
            display: format!(
                "malformed JSON: trailing characters at line 1 column {}",
                serde_json::to_vec(&envelope()).unwrap().len() + 2
            ),
        },
        Case {
            name: "not an object",
            bytes: b"[1, 2]".to_vec(),
            kind: DecodeErrorKind::Malformed,
            path: "",
            id: None,
            ty: None,
            display: "expected a JSON object holding an event envelope".into(),
        },
        Case {
            name: "id of the wrong JSON type",
            bytes: edited(|m| {
                m.insert("id".into(), json!(42));
            }),
            kind: DecodeErrorKind::FieldType,
            path: "id",
            id: None,
            ty: Some("enrollment.completed"),
            display:
                "id: envelope field `id` must be a string, found `42` (type enrollment.completed)"
                    .into(),
        },
        Case {
            name: "metadata not an object",
            bytes: edited(|m| {
                m.insert("metadata".into(), json!("web"));
            }),
            kind: DecodeErrorKind::FieldType,
            path: "metadata",
            id: ctx.0,
            ty: ctx.1,
            display: with_context(
                "metadata: `metadata` must be an object or null, found `\"web\"`",
            ),
        },
        Case {
            name: "a type that is not domain.action",
            bytes: edited(|m| {
                m.insert("type".into(), json!("EnrollmentCompleted"));
            }),
            kind: DecodeErrorKind::InvalidEventType,
            path: "type",
            id: ctx.0,
            ty: Some("EnrollmentCompleted"),
            display: format!(
                "type: invalid event type \"EnrollmentCompleted\": event type name may only hold lower-case letters, digits and `_`, each segment starting with a letter; found 'E' (event {ID}, type EnrollmentCompleted)"
            ),
        },
        Case {
            name: "another event type",
            bytes: edited(|m| {
                m.insert("type".into(), json!("course.published"));
            }),
            kind: DecodeErrorKind::UnexpectedType {
                expected: "enrollment.completed",
            },
            path: "type",
            id: ctx.0,
            ty: Some("course.published"),
            display: format!(
                "type: expected an event of type `enrollment.completed`, found `course.published` (event {ID}, type course.published)"
            ),
        },
        Case {
            name: "a newer major",
            bytes: edited(|m| {
                m.insert("version".into(), json!("2.0"));
            }),
            kind: DecodeErrorKind::IncompatibleMajor {
                expected: Version::new(1, 1),
                found: Version::new(2, 0),
            },
            path: "version",
            id: ctx.0,
            ty: ctx.1,
            display: with_context(
                "version: version 2.0 is not readable by a reader of version 1.1: only 1.x is",
            ),
        },
        Case {
            name: "a malformed version",
            bytes: edited(|m| {
                m.insert("version".into(), json!("1.0.0"));
            }),
            kind: DecodeErrorKind::InvalidVersion,
            path: "version",
            id: ctx.0,
            ty: ctx.1,
            display: with_context(
                "version: invalid version \"1.0.0\": expected `MAJOR.MINOR` such as `1.0`",
            ),
        },
        Case {
            name: "a timestamp without an offset",
            bytes: edited(|m| {
                m.insert("timestamp".into(), json!("2026-03-27T10:30:00"));
            }),
            kind: DecodeErrorKind::InvalidTimestamp,
            path: "timestamp",
            id: ctx.0,
            ty: ctx.1,
            display: with_context(
                "timestamp: invalid timestamp \"2026-03-27T10:30:00\": the 'offset hour' component could not be parsed; expected RFC 3339 with an offset, such as `2026-03-27T10:30:00.000Z`",
            ),
        },
        Case {
            name: "a payload field of the wrong type",
            bytes: edited(|m| {
                m["data"]["score"] = json!("high");
            }),
            kind: DecodeErrorKind::InvalidData,
            path: "data.score",
            id: ctx.0,
            ty: ctx.1,
            display: with_context("data.score: invalid type: string \"high\", expected u8"),
        },
        Case {
            name: "a payload field out of its type's range",
            bytes: edited(|m| {
                m["data"]["score"] = json!(300);
            }),
            kind: DecodeErrorKind::InvalidData,
            path: "data.score",
            id: ctx.0,
            ty: ctx.1,
            display: with_context("data.score: invalid value: integer `300`, expected u8"),
        },
        Case {
            name: "a required payload field missing",
            bytes: edited(|m| {
                m["data"].as_object_mut().unwrap().remove("courseId");
            }),
            kind: DecodeErrorKind::InvalidData,
            path: "data.courseId",
            id: ctx.0,
            ty: ctx.1,
            display: with_context("data.courseId: missing field `courseId`"),
        },
        Case {
            name: "a payload that is not an object",
            bytes: edited(|m| {
                m.insert("data".into(), json!(5));
            }),
            kind: DecodeErrorKind::InvalidData,
            path: "data",
            id: ctx.0,
            ty: ctx.1,
            display: with_context(
                "data: invalid type: integer `5`, expected struct EnrollmentCompleted",
            ),
        },
        Case {
            // serde reads a struct from an array by position.
            name: "a payload array of the wrong types",
            bytes: edited(|m| {
                m.insert("data".into(), json!([1, 2]));
            }),
            kind: DecodeErrorKind::InvalidData,
            path: "data[0]",
            id: ctx.0,
            ty: ctx.1,
            display: with_context(
                "data[0]: invalid type: integer `1`, expected a formatted UUID string",
            ),
        },
        Case {
            name: "null data",
            bytes: edited(|m| {
                m.insert("data".into(), Value::Null);
            }),
            kind: DecodeErrorKind::MissingField,
            path: "data",
            id: ctx.0,
            ty: ctx.1,
            display: with_context("data: missing required envelope field `data`"),
        },
        Case {
            name: "missing data",
            bytes: edited(|m| {
                m.remove("data");
            }),
            kind: DecodeErrorKind::MissingField,
            path: "data",
            id: ctx.0,
            ty: ctx.1,
            display: with_context("data: missing required envelope field `data`"),
        },
        Case {
            name: "a duplicate type",
            bytes: String::from_utf8(serde_json::to_vec(&envelope()).unwrap())
                .unwrap()
                .replacen('{', r#"{"type":"course.published","#, 1)
                .into_bytes(),
            kind: DecodeErrorKind::DuplicateField,
            path: "type",
            id: ctx.0,
            ty: Some("course.published"),
            display: format!(
                "type: envelope field `type` appears more than once (event {ID}, type course.published)"
            ),
        },
        Case {
            name: "a duplicate data",
            bytes: String::from_utf8(serde_json::to_vec(&envelope()).unwrap())
                .unwrap()
                .replacen('{', r#"{"data":{},"#, 1)
                .into_bytes(),
            kind: DecodeErrorKind::DuplicateField,
            path: "data",
            id: ctx.0,
            ty: ctx.1,
            display: with_context("data: envelope field `data` appears more than once"),
        },
    ];
    // Every required envelope field, missing, null and empty.
    for name in [
        "id",
        "type",
        "version",
        "timestamp",
        "source",
        "tenantId",
        "correlationId",
    ] {
        let id = if name == "id" { None } else { ctx.0 };
        let ty = if name == "type" { None } else { ctx.1 };
        let suffix = match (id, ty) {
            (Some(id), Some(ty)) => format!(" (event {id}, type {ty})"),
            (None, Some(ty)) => format!(" (type {ty})"),
            (Some(id), None) => format!(" (event {id})"),
            (None, None) => String::new(),
        };
        for (how, edit) in [("missing", None), ("null", Some(Value::Null))] {
            cases.push(Case {
                name: leak(format!("{how} {name}")),
                bytes: edited(|m| match edit {
                    None => {
                        m.remove(name);
                    }
                    Some(v) => {
                        m.insert(name.into(), v);
                    }
                }),
                kind: DecodeErrorKind::MissingField,
                path: name,
                id,
                ty,
                display: format!("{name}: missing required envelope field `{name}`{suffix}"),
            });
        }
        cases.push(Case {
            name: leak(format!("empty {name}")),
            bytes: edited(|m| {
                m.insert(name.into(), json!(""));
            }),
            kind: DecodeErrorKind::EmptyField,
            path: name,
            id,
            ty,
            display: format!("{name}: required envelope field `{name}` is empty{suffix}"),
        });
    }
    cases
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn every_refusal_has_its_kind_path_context_and_text() {
    let mut failures = Vec::new();
    for case in refusal_cases() {
        let e = refusal(&case.bytes);
        let got = (
            e.kind().clone(),
            e.path().to_owned(),
            e.event_id().map(str::to_owned),
            e.event_type().map(str::to_owned),
            e.to_string(),
        );
        let want = (
            case.kind.clone(),
            case.path.to_owned(),
            case.id.map(str::to_owned),
            case.ty.map(str::to_owned),
            case.display.clone(),
        );
        if got != want {
            failures.push(format!("{}:\n  got  {got:?}\n  want {want:?}", case.name));
        }
        assert!(e.is_permanent(), "{}: not permanent", case.name);
        assert_eq!(e.class(), ErrorClass::Permanent);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn unknown_fields_are_ignored_in_the_envelope_and_the_payload() {
    let bytes = edited(|m| {
        m.insert("partitionKey".into(), json!("enr_1"));
        m.insert("traceparent".into(), json!({"v": [1, 2, {"deep": null}]}));
        m["data"]["certificateTemplate"] = json!("gold");
    });
    let env = decode(&bytes).unwrap();
    assert_eq!(env.data().score, 85);
    assert!(env.unknown_fields().is_empty());
    // Re-encoded by a consumer that does not forward: the unknown fields go.
    let out: Value = serde_json::from_slice(&env.to_json_vec().unwrap()).unwrap();
    assert!(out.get("traceparent").is_none());
}

#[test]
fn a_repeated_unknown_key_is_ignored_like_the_key_itself() {
    let json = String::from_utf8(serde_json::to_vec(&envelope()).unwrap())
        .unwrap()
        .replacen('{', r#"{"x":1,"x":2,"#, 1);
    assert!(decode(json.as_bytes()).is_ok());
    // A forwarder would have to pick one of the two values: refused.
    let e =
        Envelope::<EnrollmentCompleted>::from_json_slice_preserving(json.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::DuplicateField);
    assert_eq!(
        e.to_string(),
        with_context("x: envelope field `x` appears more than once")
    );
}

#[test]
fn missing_and_null_optionals_are_none() {
    for bytes in [
        edited(|m| {
            m.remove("metadata");
            m["data"].as_object_mut().unwrap().remove("grade");
        }),
        edited(|m| {
            m.insert("metadata".into(), Value::Null);
            m.insert("causationId".into(), Value::Null);
            m["data"]["grade"] = Value::Null;
        }),
    ] {
        let env = decode(&bytes).unwrap();
        assert_eq!(env.metadata(), None);
        assert_eq!(env.causation_id(), None);
        assert_eq!(env.data().grade, None);
    }
}

#[test]
fn older_and_newer_minors_of_the_major_are_read() {
    // 1.0 predates `grade`.
    let older = edited(|m| {
        m.insert("version".into(), json!("1.0"));
        m["data"].as_object_mut().unwrap().remove("grade");
    });
    let env = decode(&older).unwrap();
    assert_eq!(env.version(), Version::new(1, 0));
    assert_eq!(env.data().grade, None);
    // 1.7 added fields this reader does not know.
    let newer = edited(|m| {
        m.insert("version".into(), json!("1.7"));
        m["data"]["badge"] = json!({"level": 3});
    });
    let env = decode(&newer).unwrap();
    assert_eq!(env.version(), Version::new(1, 7));
    assert_eq!(env.data().grade.as_deref(), Some("A"));
}

#[test]
fn an_older_major_is_refused_too() {
    let bytes = edited(|m| {
        m.insert("type".into(), json!("course.published"));
        m.insert("version".into(), json!("2.3"));
    });
    // A reader of course.published 1.0 and a wire 2.3: refused by major.
    let e = Envelope::<CoursePublished>::from_json_slice(&bytes).unwrap_err();
    assert_eq!(
        e.kind(),
        &DecodeErrorKind::IncompatibleMajor {
            expected: Version::new(1, 0),
            found: Version::new(2, 3)
        }
    );
}

#[test]
fn preserving_decode_re_encodes_unknown_envelope_fields_unchanged() {
    let unknown = json!({
        "partitionKey": "enr_1",
        "traceparent": {"version": "00", "flags": [1, 2.5, null, "x"], "nested": {"a": {"b": true}}},
        "dataschema": "https://example.com/enrollment.completed/1.1",
    });
    let bytes = edited(|m| {
        for (k, v) in unknown.as_object().unwrap() {
            m.insert(k.clone(), v.clone());
        }
    });
    let env = Envelope::<EnrollmentCompleted>::from_json_slice_preserving(&bytes).unwrap();
    assert_eq!(&Value::Object(env.unknown_fields().clone()), &unknown);

    let original: Value = serde_json::from_slice(&bytes).unwrap();
    let forwarded: Value = serde_json::from_slice(&env.to_json_vec().unwrap()).unwrap();
    for key in unknown.as_object().unwrap().keys() {
        assert_eq!(forwarded[key], original[key], "{key} changed");
    }
    // And the known fields made the trip too.
    assert_eq!(forwarded["data"]["score"], 85);
    assert_eq!(forwarded["metadata"], original["metadata"]);
}

#[test]
fn a_timestamp_keeps_its_instant_and_its_offset() {
    let bytes = edited(|m| {
        m.insert("timestamp".into(), json!("2026-03-27T12:30:00.250+02:00"));
    });
    let env = decode(&bytes).unwrap();
    assert_eq!(env.timestamp().offset(), offset!(+2));
    assert_eq!(env.timestamp(), datetime!(2026-03-27 10:30:00.25 UTC));

    let again: Value = serde_json::from_slice(&env.to_json_vec().unwrap()).unwrap();
    assert_eq!(again["timestamp"], "2026-03-27T12:30:00.25+02:00");
    let twice = decode(&serde_json::to_vec(&again).unwrap()).unwrap();
    assert_eq!(twice.timestamp(), env.timestamp());
    assert_eq!(twice.timestamp().offset(), offset!(+2));
}

#[test]
fn any_non_empty_id_is_accepted_from_the_wire() {
    for id in ["1", "msg-42", "urn:uuid:0b6f3f6e", "évènement"] {
        let env = decode(&edited(|m| {
            m.insert("id".into(), json!(id));
        }))
        .unwrap();
        assert_eq!(env.id().as_str(), id);
    }
}

#[test]
fn escaped_strings_decode_to_their_text() {
    let json = String::from_utf8(serde_json::to_vec(&envelope()).unwrap())
        .unwrap()
        .replace(
            r#""tenantId":"tenant_7f3c""#,
            r#""tenant\u0049d":"tenant_\u00e9""#,
        );
    let env = decode(json.as_bytes()).unwrap();
    assert_eq!(env.tenant_id(), "tenant_é");
}

#[test]
fn header_reads_the_routing_fields_without_the_payload() {
    // The payload would not decode as EnrollmentCompleted: the header
    // does not look at it.
    let bytes = edited(|m| {
        m["data"]["score"] = json!("high");
        m.insert("causationId".into(), json!("evt_parent"));
    });
    let header = Header::from_json_slice(&bytes).unwrap();
    assert_eq!(header.id(), ID);
    assert_eq!(header.event_type(), "enrollment.completed");
    assert_eq!(header.version(), Version::new(1, 1));
    assert_eq!(header.tenant_id(), "tenant_7f3c");
    assert_eq!(header.correlation_id(), "req_xyz789");
    assert_eq!(header.causation_id(), Some("evt_parent"));
    assert!(header.is::<EnrollmentCompleted>());
    assert!(!header.is::<CoursePublished>());
}

#[test]
fn header_refuses_what_routing_cannot_use() {
    let e = Header::from_json_slice(&edited(|m| {
        m.remove("tenantId");
    }))
    .unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::MissingField);
    assert_eq!(
        e.to_string(),
        with_context("tenantId: missing required envelope field `tenantId`")
    );

    let e = Header::from_json_slice(&edited(|m| {
        m.insert("version".into(), json!(1));
    }))
    .unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::FieldType);
    assert_eq!(e.path(), "version");

    let json = String::from_utf8(serde_json::to_vec(&envelope()).unwrap())
        .unwrap()
        .replacen('{', r#"{"tenantId":"tenant_other","#, 1);
    let e = Header::from_json_slice(json.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::DuplicateField);
    assert_eq!(e.path(), "tenantId");

    // Any type and major: the header is for routing, not for a reader.
    let other = edited(|m| {
        m.insert("type".into(), json!("course.published"));
        m.insert("version".into(), json!("7.2"));
    });
    let header = Header::from_json_slice(&other).unwrap();
    assert_eq!(header.version(), Version::new(7, 2));
    assert!(!header.is::<CoursePublished>());
}

#[test]
fn header_skips_what_it_does_not_read_without_validating_it() {
    let json = String::from_utf8(serde_json::to_vec(&envelope()).unwrap()).unwrap();
    // Broken JSON inside `data`: the header routes it, the full decode
    // refuses it.
    let broken = json.replacen(r#""score":85"#, r#""score" 85"#, 1);
    assert_eq!(Header::from_json_slice(broken.as_bytes()).unwrap().id(), ID);
    assert_eq!(
        decode(broken.as_bytes()).unwrap_err().kind(),
        &DecodeErrorKind::Malformed
    );
    // Broken structure around the values it reads is refused.
    for bad in [
        json.replacen(r#""tenantId":"#, r#""tenantId""#, 1),
        json.replacen('}', "", 1),
        format!("{json},"),
        json.replacen(r#""id":"evt_"#, "\"id\":\"evt\u{1}_", 1),
    ] {
        let e = Header::from_json_slice(bad.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::Malformed, "{bad}");
    }
    // Escapes and whitespace are read as a full parser reads them.
    let spaced = " { \"id\" : \"evt\\u005f1\" ,\n\t\"type\":\"course.published\", \"version\" : \"1.0\", \"tenantId\": \"t\\\"1\", \"correlationId\": \"c\", \"data\": {\"a\": [1, \"]\\\"}\", {}], \"b\": -1.5e3, \"c\": null} } ";
    let header = Header::from_json_slice(spaced.as_bytes()).unwrap();
    assert_eq!(header.id(), "evt_1");
    assert_eq!(header.tenant_id(), "t\"1");
    assert_eq!(header.event_type(), "course.published");
    // The same without escapes in the fields read, which the fast path takes.
    let plain = spaced
        .replace("evt\\u005f1", "evt_1")
        .replace("t\\\"1", "t1");
    let header = Header::from_json_slice(plain.as_bytes()).unwrap();
    assert_eq!((header.id(), header.tenant_id()), ("evt_1", "t1"));
    assert_eq!(header.correlation_id(), "c");
}

#[test]
fn encode_then_decode_is_the_same_envelope() {
    let first = decode(&serde_json::to_vec(&envelope()).unwrap()).unwrap();
    let bytes = first.to_json_vec().unwrap();
    let second = decode(&bytes).unwrap();
    assert_eq!(first, second);
    assert_eq!(second.to_json_vec().unwrap(), bytes);
}

#[test]
fn caused_by_carries_tenant_and_correlation_and_names_the_parent() {
    let parent = decode(&serde_json::to_vec(&envelope()).unwrap()).unwrap();
    let child = Envelope::caused_by(
        &parent,
        CoursePublished {
            course_id: "c_1".into(),
        },
    )
    .build();
    assert_eq!(child.tenant_id(), "tenant_7f3c");
    assert_eq!(child.correlation_id(), "req_xyz789");
    assert_eq!(child.causation_id(), Some(ID));
    assert_ne!(child.id(), parent.id());
    assert_eq!(child.source(), "course-service");

    let read = Envelope::<CoursePublished>::from_json_slice(&child.to_json_vec().unwrap()).unwrap();
    assert_eq!(read.causation_id(), Some(ID));
}

/// Runs `f` on a thread with a 256 KiB stack: a decoder that recursed once
/// per nesting level would overflow it long before 100 000 levels.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .expect("decoding panicked or overflowed its stack")
}

fn deep(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    const LEVELS: usize = 100_000;
    let in_data = String::from_utf8(edited(|m| {
        m["data"]["badge"] = json!("DEEP");
    }))
    .unwrap()
    .replace(r#""DEEP""#, &deep(LEVELS));
    let in_metadata = String::from_utf8(edited(|m| {
        m["metadata"]["trace"] = json!("DEEP");
    }))
    .unwrap()
    .replace(r#""DEEP""#, &deep(LEVELS));
    let in_unknown = String::from_utf8(edited(|m| {
        m.insert("extension".into(), json!("DEEP"));
    }))
    .unwrap()
    .replace(r#""DEEP""#, &deep(LEVELS));
    let whole = deep(LEVELS);

    let results = on_small_stack(move || {
        let mut results = Vec::new();
        for input in [&in_data, &in_metadata, &in_unknown, &whole] {
            let bytes = input.as_bytes();
            results.push(decode(bytes).map(|_| ()));
            results.push(
                Envelope::<EnrollmentCompleted>::from_json_slice_preserving(bytes).map(|_| ()),
            );
            results.push(Header::from_json_slice(bytes).map(|_| ()));
        }
        results
    });
    let outcome = |r: &Result<(), DecodeError>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("{:?} at {:?}: {}", e.kind(), e.path(), e.message()),
    };
    let got: Vec<String> = results.iter().map(outcome).collect();
    let deep = "Malformed at \"metadata\": cannot be decoded: recursion limit exceeded";
    let not_object = "Malformed at \"\": expected a JSON object holding an event envelope";
    let want = [
        // In `data`: an unknown payload field is skipped, however deep.
        "ok",
        "ok",
        "ok",
        // In `metadata`, which is built as JSON values: too deep.
        deep,
        deep,
        "ok", // the header skips `metadata`
        // An unknown envelope field: read in full (too deep) both when it is
        // skipped and when it is kept, so the two decoders agree; the
        // header skips it by structure.
        "Malformed at \"extension\": cannot be decoded: recursion limit exceeded",
        "Malformed at \"extension\": cannot be decoded: recursion limit exceeded",
        "ok",
        // The whole document.
        not_object,
        not_object,
        not_object,
    ];
    assert_eq!(got, want);
}

#[test]
fn a_20_mb_payload_decodes() {
    const SIZE: usize = 20 * 1024 * 1024;
    let title = "x".repeat(SIZE);
    let big_title = edited(|m| {
        m["data"]["courseTitle"] = json!(title);
    });
    let env = on_small_stack(move || decode(&big_title).map(|e| e.data().course_title.len()));
    assert_eq!(env.unwrap(), SIZE);

    // 20 MB of fields the reader does not know, in the payload and beside it.
    let filler: Vec<Value> = (0..SIZE / 16).map(|i| json!(format!("{i:014}"))).collect();
    let big_unknown = edited(|m| {
        m["data"]["history"] = json!(filler);
        m.insert("archive".into(), json!(filler));
    });
    assert!(big_unknown.len() > SIZE);
    let results = on_small_stack(move || {
        (
            decode(&big_unknown).map(|e| e.data().score),
            Envelope::<EnrollmentCompleted>::from_json_slice_preserving(&big_unknown)
                .map(|e| e.unknown_fields()["archive"].as_array().map(Vec::len)),
            Header::from_json_slice(&big_unknown).map(|h| h.id().to_owned()),
        )
    });
    assert_eq!(results.0.unwrap(), 85);
    assert_eq!(results.1.unwrap(), Some(SIZE / 16));
    assert_eq!(results.2.unwrap(), ID);

    // 20 MB of a wrong payload: refused with its path, not a panic.
    let wrong = edited(|m| {
        m["data"]["score"] = json!("x".repeat(SIZE));
    });
    let e = on_small_stack(move || decode(&wrong).unwrap_err());
    assert_eq!(e.path(), "data.score");
    assert!(e.to_string().len() < 1024, "the error copies the payload");
    assert!(e.message().ends_with("xxx\", expected u8"), "{e}");

    // 20 MB ids, types and timestamps are refused without being copied.
    let huge = "x".repeat(SIZE);
    for field in ["type", "version", "timestamp"] {
        let input = edited(|m| {
            m.insert(field.into(), json!(huge));
        });
        let e = decode(&input).unwrap_err();
        assert_eq!(e.path(), field);
        assert!(
            e.to_string().len() < 1024,
            "{field}: the error copies the value"
        );
    }
    let input = edited(|m| {
        m.insert("id".into(), json!(huge));
        m.insert("version".into(), json!("x"));
    });
    let e = decode(&input).unwrap_err();
    assert_eq!(e.event_id().map(str::len), Some(256 + 3));
}

/// The envelope with `"x": <raw>` at the top level, or the raw text in
/// place of `metadata`.
fn with_raw(key: &str, raw: &[u8]) -> Vec<u8> {
    let bytes = edited(|m| {
        m.insert(key.into(), json!("RAW"));
    });
    let at = bytes
        .windows(5)
        .position(|w| w == b"\"RAW\"")
        .expect("the marker is written");
    [&bytes[..at], raw, &bytes[at + 5..]].concat()
}

fn outcome<T>(r: Result<T, DecodeError>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("{:?} at {:?}: {}", e.kind(), e.path(), e.message()),
    }
}

#[test]
fn non_json_in_a_skipped_value_is_refused_by_both_decoders() {
    let cases: [(&[u8], &str); 5] = [
        (
            br#""\ud800""#,
            "Malformed at \"x\": malformed JSON: unexpected end of hex escape",
        ),
        (
            br#"{"a": ["\udc00"]}"#,
            "Malformed at \"x.a[0]\": malformed JSON: lone leading surrogate in hex escape",
        ),
        (
            b"1e400",
            "Malformed at \"x\": malformed JSON: number out of range",
        ),
        (
            b"[1, 2e999]",
            "Malformed at \"x[1]\": malformed JSON: number out of range",
        ),
        (
            // Not UTF-8: no value can be read, so the position names it.
            b"\"caf\xff\"",
            "Malformed at \"\": malformed JSON: invalid unicode code point at line 1 column 552",
        ),
    ];
    let mut got = Vec::new();
    for (raw, _) in cases {
        let bytes = with_raw("x", raw);
        let tolerant = outcome(decode(&bytes));
        let preserving = outcome(Envelope::<EnrollmentCompleted>::from_json_slice_preserving(
            &bytes,
        ));
        got.push((tolerant, preserving));
    }
    let want: Vec<(String, String)> = cases
        .iter()
        .map(|(_, want)| (want.to_string(), want.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_repeated_key_in_metadata_is_refused_with_its_path() {
    let cases: [(&[u8], &str); 2] = [
        (
            br#"{"triggeredBy": "usr_1", "triggeredBy": "usr_2"}"#,
            "DuplicateField at \"metadata.triggeredBy\": duplicate key `triggeredBy`",
        ),
        (
            br#"{"client": {"os": "ios", "os": "android"}}"#,
            "DuplicateField at \"metadata.client.os\": duplicate key `os`",
        ),
    ];
    for (raw, want) in cases {
        let bytes = with_raw("metadata", raw);
        assert_eq!(outcome(decode(&bytes)), want);
        assert_eq!(
            outcome(Envelope::<EnrollmentCompleted>::from_json_slice_preserving(
                &bytes
            )),
            want
        );
    }
}

#[test]
fn a_repeated_key_inside_a_kept_unknown_field_is_refused_with_its_path() {
    let bytes = with_raw("extension", br#"{"k": 1, "k": 2}"#);
    assert_eq!(
        outcome(Envelope::<EnrollmentCompleted>::from_json_slice_preserving(
            &bytes
        )),
        "DuplicateField at \"extension.k\": duplicate key `k`"
    );
}

#[test]
fn a_leap_second_is_refused_not_moved() {
    let e = refusal(&edited(|m| {
        m.insert("timestamp".into(), json!("2016-12-31T23:59:60Z"));
    }));
    assert_eq!(e.kind(), &DecodeErrorKind::InvalidTimestamp);
    assert_eq!(e.path(), "timestamp");
    assert!(e.message().contains("a leap second (`:60`)"), "{e}");
    // The second before and the one after still read.
    for ok in ["2016-12-31T23:59:59.999Z", "2017-01-01T00:00:00Z"] {
        assert!(
            decode(&edited(|m| {
                m.insert("timestamp".into(), json!(ok));
            }))
            .is_ok()
        );
    }
}

#[test]
fn ids_with_whitespace_or_control_characters_are_refused() {
    let cases = [
        ("tenantId", "  ", "whitespace at byte 0"),
        ("tenantId", "tenant a", "whitespace at byte 6"),
        ("tenantId", "tenant\u{0}", "a control character at byte 6"),
        ("id", "evt_1\n", "a control character at byte 5"),
        (
            "correlationId",
            "req\u{7f}",
            "a control character at byte 3",
        ),
        ("causationId", "\u{a0}evt", "whitespace at byte 0"),
    ];
    for (field, value, what) in cases {
        let e = refusal(&edited(|m| {
            m.insert(field.into(), json!(value));
        }));
        assert_eq!(e.kind(), &DecodeErrorKind::InvalidId, "{field} {value:?}");
        assert_eq!(e.path(), field);
        assert!(
            e.message()
                .starts_with(&format!("envelope field `{field}` holds {what}")),
            "{e}"
        );
        // The header decode applies the same rule.
        let bytes = edited(|m| {
            m.insert(field.into(), json!(value));
        });
        assert_eq!(
            Header::from_json_slice(&bytes).unwrap_err().kind(),
            &DecodeErrorKind::InvalidId
        );
    }
}
