//! Code-first contracts: events declared only in Rust, exported as schema
//! files, are checked and documented by the same codegen as the
//! schema-first catalog.

use event_runtime::{Event, OffsetDateTime, Uuid, export};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A learner asked for a certificate to be reissued.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "certificate.reissue_requested",
    version = "1.1",
    producer = "certificate-service",
    ordering = "per-entity"
)]
#[event(consumer(
    service = "notification-service",
    reason = "confirms the request by email"
))]
#[event(consumer(service = "audit-log", reason = "keeps the request for compliance"))]
pub struct CertificateReissueRequested {
    /// The certificate.
    #[event(key, partition)]
    pub certificate_id: Uuid,
    /// When the learner asked.
    pub requested_at: OffsetDateTime,
    /// Why, in the learner's words.
    #[event(max_length = 500)]
    pub reason: String,
    /// Labels the support team filters by.
    #[event(max_length = 20)]
    pub labels: Vec<String>,
    /// How many reissues came before this one.
    #[event(maximum = 10)]
    pub previous_reissues: u8,
    /// The support ticket, when the request came through support.
    #[event(since = "1.1")]
    pub ticket_id: Option<String>,
}

/// A certificate was revoked.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "certificate.revoked",
    version = "1.0",
    producer = "certificate-service"
)]
#[event(consumer(
    service = "search-service",
    reason = "hides the certificate from verification"
))]
pub struct CertificateRevoked {
    /// The certificate.
    pub certificate_id: Uuid,
}

fn exported() -> BTreeMap<PathBuf, Value> {
    [
        export::event_schema::<CertificateReissueRequested>(),
        export::event_schema::<CertificateRevoked>(),
    ]
    .into_iter()
    .map(|(path, schema)| (PathBuf::from(path), schema))
    .collect()
}

#[test]
fn the_exported_schema_says_what_the_struct_says() {
    let files = exported();
    let schema = &files[&PathBuf::from("certificate/certificate.reissue_requested.v1.1.json")];
    let block = &schema["x-event"];
    assert_eq!(block["version"], "1.1");
    assert_eq!(block["ordering"], "per-entity");
    assert_eq!(block["partitionKey"], "certificateId");
    assert_eq!(
        block["idempotencyKey"],
        serde_json::json!(["certificateId"])
    );
    assert_eq!(block["consumers"][1]["service"], "audit-log");
    let p = &schema["properties"];
    assert_eq!(p["requestedAt"]["format"], "date-time");
    assert_eq!(
        p["labels"]["items"]["maxLength"], 20,
        "a Vec's constraint is on its elements"
    );
    assert_eq!(p["previousReissues"]["maximum"], 10);
    assert_eq!(p["reason"]["description"], "Why, in the learner's words.");
    assert_eq!(
        schema["required"],
        serde_json::json!([
            "certificateId",
            "requestedAt",
            "reason",
            "labels",
            "previousReissues"
        ])
    );
}

#[test]
fn the_codegen_accepts_the_exported_catalog_without_a_warning() {
    let dir = std::env::temp_dir().join(format!("code-first-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, schema) in exported() {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, serde_json::to_vec_pretty(&schema).unwrap()).unwrap();
    }
    let generation = event_codegen::Config::new()
        .schema_root(&dir)
        .cargo_directives(false)
        .check();
    std::fs::remove_dir_all(&dir).unwrap();
    let generation = match generation {
        Ok(generation) => generation,
        Err(e) => panic!("the codegen refused the exported catalog:\n{e}"),
    };
    let warnings: Vec<String> = generation
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert_eq!(warnings, Vec::<String>::new());
    let names: Vec<&str> = generation
        .events
        .iter()
        .map(|e| e.rust_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["CertificateReissueRequestedV1", "CertificateRevokedV1"]
    );
}

#[test]
fn the_catalog_documents_code_first_events() {
    let pages = event_codegen::docs::render_catalog(&exported()).unwrap();
    let index = &pages[&PathBuf::from("README.md")];
    assert!(index.contains("certificate.reissue_requested"), "{index}");
    let page = pages
        .iter()
        .find(|(path, _)| {
            path.to_string_lossy()
                .contains("certificate.reissue_requested")
        })
        .map(|(_, page)| page)
        .expect("a page per event type");
    assert!(page.contains("audit-log"), "consumers are listed:\n{page}");
    assert!(page.contains("keeps the request for compliance"));
    assert!(page.contains("`ticketId`"), "{page}");
    assert!(page.contains("certificate-service"));
}
