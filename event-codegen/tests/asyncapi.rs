//! The AsyncAPI documents of the bundled catalog and of a small fixture
//! catalog are valid against the official AsyncAPI 3.0.0 JSON Schema,
//! vendored in `tests/asyncapi/` (see the README there), and stand alone:
//! every `$ref` points inside the document, and every message's sample
//! validates against the message's own payload schema.

use event_codegen::asyncapi::{CORRELATION_ID_LOCATION, render_asyncapi};
use event_codegen::compat::load_dir;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(dir: &Path) -> BTreeMap<PathBuf, Value> {
    load_dir(dir).unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

fn fixture() -> BTreeMap<PathBuf, Value> {
    load(&crate_dir().join("tests/fixtures/docs"))
}

/// The official schema, compiled offline: it is bundled (every definition
/// it uses is inside it), and the validator is built without network
/// retrieval, so a reference it could not resolve would fail here.
fn asyncapi_validator() -> jsonschema::Validator {
    let path = crate_dir().join("tests/asyncapi/asyncapi-3.0.0.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the vendored AsyncAPI 3.0.0 schema does not compile: {e}"))
}

/// Every violation of the AsyncAPI schema, as `instance path: message`.
fn violations(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every `$ref` in the document points at something inside it.
fn dangling_refs(doc: &Value) -> Vec<String> {
    fn walk(doc: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    match r.strip_prefix('#') {
                        Some(pointer) if doc.pointer(pointer).is_some() => {}
                        _ => out.push(format!("{at}/$ref: {r}")),
                    }
                }
                for (k, child) in map {
                    walk(doc, child, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(doc, child, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, doc, "", &mut out);
    out
}

/// Every message example that its own payload schema refuses (formats
/// checked too), resolving `#/components/...` against the document.
fn invalid_examples(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let messages = doc["components"]["messages"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (id, message) in messages {
        let mut schema = doc.clone();
        schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        schema["$ref"] = json!(format!("#/components/messages/{id}/payload"));
        let validator = match jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
        {
            Ok(v) => v,
            Err(e) => {
                out.push(format!("{id}: payload schema does not compile: {e}"));
                continue;
            }
        };
        let examples = message["examples"].as_array().cloned().unwrap_or_default();
        if examples.is_empty() {
            out.push(format!("{id}: no example"));
        }
        for example in examples {
            for e in validator.iter_errors(&example["payload"]) {
                out.push(format!("{id}: {}: {e}", e.instance_path()));
            }
        }
    }
    out
}

fn check_catalog(files: &BTreeMap<PathBuf, Value>) -> BTreeMap<String, Value> {
    let docs = render_asyncapi(files).unwrap_or_else(|e| panic!("render_asyncapi failed:\n{e}"));
    let validator = asyncapi_validator();
    let mut problems = Vec::new();
    for (service, doc) in &docs {
        for v in violations(&validator, doc) {
            problems.push(format!("{service}: not valid AsyncAPI 3.0.0: {v}"));
        }
        for r in dangling_refs(doc) {
            problems.push(format!("{service}: dangling {r}"));
        }
        for e in invalid_examples(doc) {
            problems.push(format!(
                "{service}: example refused by its payload schema: {e}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    docs
}

/// The services named in the `x-event` blocks, read without the module
/// under test.
fn services_named(files: &BTreeMap<PathBuf, Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for schema in files.values() {
        let Some(block) = schema.get("x-event") else {
            continue;
        };
        out.extend(block["producer"].as_str().map(str::to_owned));
        for c in block["consumers"].as_array().into_iter().flatten() {
            out.extend(c["service"].as_str().map(str::to_owned));
        }
    }
    out
}

#[test]
fn bundled_catalog_gives_one_valid_document_per_service() {
    let files = load(&crate_dir().join("../schemas"));
    let docs = check_catalog(&files);
    let services: BTreeSet<String> = docs.keys().cloned().collect();
    assert_eq!(services, services_named(&files));
}

#[test]
fn fixture_catalog_gives_one_valid_document_per_service() {
    let files = fixture();
    let docs = check_catalog(&files);
    let services: BTreeSet<&str> = docs.keys().map(String::as_str).collect();
    assert_eq!(
        services,
        BTreeSet::from([
            "analytics-service",
            "billing-service",
            "certificate-service",
            "enrollment-service"
        ])
    );
}

#[test]
fn operations_say_what_a_service_sends_and_receives_and_why() {
    let docs = render_asyncapi(&fixture()).unwrap();
    let enrollment = &docs["enrollment-service"];
    let operations = enrollment["operations"].as_object().unwrap();
    assert_eq!(
        operations.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "receive.payment.received.v1",
            "send.enrollment.completed.v1"
        ]
    );
    let send = &operations["send.enrollment.completed.v1"];
    assert_eq!(send["action"], "send");
    assert_eq!(
        send["channel"]["$ref"],
        "#/channels/enrollment.completed.v1"
    );
    // Both minors of the major travel on the one channel.
    assert_eq!(
        send["messages"],
        json!([
            { "$ref": "#/channels/enrollment.completed.v1/messages/enrollment.completed.v1.0" },
            { "$ref": "#/channels/enrollment.completed.v1/messages/enrollment.completed.v1.1" }
        ])
    );
    assert_eq!(
        enrollment["channels"]["enrollment.completed.v1"]["address"],
        "events.enrollment.completed.v1"
    );
    let receive = &operations["receive.payment.received.v1"];
    assert_eq!(receive["action"], "receive");
    assert_eq!(
        receive["summary"],
        "enrollment-service grants access to the paid course."
    );
    assert!(
        receive["description"]
            .as_str()
            .unwrap()
            .contains("Delivery: exactly-once-effect")
    );

    // A pure consumer has receive operations only.
    let certificate = docs["certificate-service"]["operations"]
        .as_object()
        .unwrap();
    assert_eq!(
        certificate.keys().collect::<Vec<_>>(),
        ["receive.enrollment.completed.v1"]
    );
    assert_eq!(
        certificate["receive.enrollment.completed.v1"]["summary"],
        "certificate-service issues the certificate."
    );
}

#[test]
fn messages_carry_the_envelope_and_a_self_contained_payload_schema() {
    let docs = render_asyncapi(&fixture()).unwrap();
    let doc = &docs["billing-service"];
    let message = &doc["components"]["messages"]["payment.received.v1.0"];
    assert_eq!(
        message["correlationId"]["location"],
        CORRELATION_ID_LOCATION
    );
    assert_eq!(
        message["correlationId"]["location"],
        "$message.payload#/correlationId"
    );
    let payload = &message["payload"];
    assert_eq!(
        payload["required"],
        json!([
            "id",
            "type",
            "version",
            "timestamp",
            "source",
            "tenantId",
            "correlationId",
            "data"
        ])
    );
    assert_eq!(payload["properties"]["type"]["const"], "payment.received");
    assert_eq!(
        payload["properties"]["data"]["$ref"],
        "#/components/schemas/payment.received.v1.0"
    );
    // The shared definition and the file's own `$defs` are components now.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["payment.received.v1.0"]["properties"]["amount"]["$ref"],
        "#/components/schemas/common.money"
    );
    assert_eq!(
        schemas["payment.received.v1.0"]["properties"]["method"]["oneOf"][0]["$ref"],
        "#/components/schemas/payment.received.v1.0.Card"
    );
    assert_eq!(
        schemas["payment.received.v1.0.Line"]["properties"]["price"]["$ref"],
        "#/components/schemas/common.money"
    );
    assert_eq!(
        schemas["common.money"]["required"],
        json!(["amountMinor", "currency"])
    );
    assert!(schemas["payment.received.v1.0"].get("$defs").is_none());
    assert!(schemas["payment.received.v1.0"].get("x-event").is_none());
}

#[test]
fn the_validator_rejects_broken_documents() {
    let validator = asyncapi_validator();
    let docs = render_asyncapi(&fixture()).unwrap();
    let good = &docs["enrollment-service"];
    assert_eq!(violations(&validator, good), Vec::<String>::new());

    // AsyncAPI 2's verb is not an AsyncAPI 3 action.
    let mut doc = good.clone();
    doc["operations"]["send.enrollment.completed.v1"]["action"] = json!("publish");
    let found = violations(&validator, &doc);
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("/operations/send.enrollment.completed.v1")),
        "{found:?}"
    );

    // `info` is required.
    let mut doc = good.clone();
    doc.as_object_mut().unwrap().remove("info");
    assert!(!violations(&validator, &doc).is_empty());

    // A correlation id location must be a runtime expression.
    let mut doc = good.clone();
    doc["components"]["messages"]["enrollment.completed.v1.0"]["correlationId"]["location"] =
        json!("correlationId");
    let found = violations(&validator, &doc);
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("/components/messages/enrollment.completed.v1.0:")),
        "{found:?}"
    );

    // Another version of the spec.
    let mut doc = good.clone();
    doc["asyncapi"] = json!("2.6.0");
    assert!(!violations(&validator, &doc).is_empty());

    // And the self-containment checks catch a dangling reference.
    let mut doc = good.clone();
    doc["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove("enrollment.completed.v1.0");
    assert_eq!(
        dangling_refs(&doc),
        [
            "/components/messages/enrollment.completed.v1.0/payload/properties/data/$ref: #/components/schemas/enrollment.completed.v1.0"
        ]
    );
}

#[test]
fn problems_name_the_file_and_pointer() {
    let mut files = fixture();
    let payment = PathBuf::from("billing/payment.received.v1.0.json");
    files.get_mut(&payment).unwrap()["properties"]["amount"]["$ref"] =
        json!("../common/nowhere.json");
    let err = render_asyncapi(&files).unwrap_err();
    assert!(
        err.contains("billing/payment.received.v1.0.json#/properties/amount"),
        "{err}"
    );
    assert!(err.contains("../common/nowhere.json"), "{err}");

    let mut files = fixture();
    files.get_mut(&payment).unwrap()["x-event"]
        .as_object_mut()
        .unwrap()
        .remove("producer");
    let err = render_asyncapi(&files).unwrap_err();
    assert_eq!(
        err,
        "billing/payment.received.v1.0.json#/x-event/producer: missing, or not a string"
    );
}
