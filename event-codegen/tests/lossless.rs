//! How a schema becomes a type that reads and writes back a payload
//! unchanged: the representation chosen for shared definitions, and the
//! one event payloads keep (`docs/schema-format.md`, "Lossless round
//! trip"). The behaviour of the generated code is checked by
//! `tests/compile/behaviour.rs` and `tests/compile/payloads.rs`.

use event_codegen::{Config, Generation, Severity};
use std::path::PathBuf;

fn generate(files: &[(&str, &str)]) -> Generation {
    Config::new()
        .cargo_directives(false)
        .routing(false)
        .generate_sources(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
                .collect(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
}

fn warnings(g: &Generation) -> Vec<(&'static str, String, usize, String)> {
    g.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| (d.code, d.pointer.clone(), d.line, d.message.clone()))
        .collect()
}

const SHARED: &str = r#"{
  "title": "Repo",
  "type": "object",
  "required": ["id", "archived", "license"],
  "properties": {
    "id": { "type": "integer" },
    "description": { "type": ["string", "null"] },
    "license": { "type": ["string", "null"] },
    "branch": { "type": "string", "default": "main" },
    "stars": { "type": "integer", "default": 0 },
    "owner": {
      "type": "object",
      "required": ["login"],
      "properties": { "name": { "type": "string" } }
    }
  }
}"#;

#[test]
fn a_shared_definition_keeps_null_missing_defaults_and_unknown_properties_apart() {
    let g = generate(&[("repo.json", SHARED)]);
    for expected in [
        "pub description: Option<Option<String>>,",
        "#[event(required)]\n    pub license: Option<String>,",
        "pub branch: Option<String>,",
        "pub fn branch(&self) -> &str {\n        self.branch.as_deref().unwrap_or(\"main\")",
        "pub fn stars(&self) -> i64 {\n        self.stars.unwrap_or_default()",
        "#[event(unknown)]\n    pub additional_properties: ::event_runtime::Map<String, ::event_runtime::Value>,",
        "pub archived: ::event_runtime::Value,",
        "pub login: ::event_runtime::Value,",
    ] {
        assert!(
            g.code.contains(expected),
            "missing {expected:?} in\n{}",
            g.code
        );
    }
    assert!(!g.code.contains("serde(default"), "{}", g.code);
}

#[test]
fn a_required_name_without_a_property_is_a_typed_value_reported_where_it_is_named() {
    let g = generate(&[("repo.json", SHARED)]);
    let message = |name: &str| {
        format!(
            "`{name}` is required but not in `properties`: it is a field of any JSON value that must be present"
        )
    };
    assert_eq!(
        warnings(&g),
        [
            (
                "required-undeclared",
                "/required/1".to_string(),
                4,
                message("archived")
            ),
            (
                "required-undeclared",
                "/properties/owner/required/0".to_string(),
                13,
                message("login")
            ),
        ]
    );
}

const EVENT: &str = r#"{
  "description": "A test event.",
  "x-event": {
    "type": "course.published", "version": "1.0", "producer": "course-service",
    "consumers": [{ "service": "search-service", "reason": "indexes the course" }]
  },
  "type": "object",
  "required": ["courseId", "retiredAt"],
  "properties": {
    "courseId": { "type": "string", "description": "The course." },
    "subtitle": { "type": ["string", "null"], "description": "The subtitle." },
    "retiredAt": { "type": ["string", "null"], "format": "date-time", "description": "When it was retired." },
    "level": { "type": "string", "default": "beginner", "description": "The level." }
  }
}"#;

#[test]
fn an_event_payload_keeps_its_minor_version_contract() {
    let g = generate(&[("course/course.published.v1.0.json", EVENT)]);
    for expected in [
        "pub subtitle: Option<String>,",
        "#[event(required)]\n    pub retired_at: Option<::event_runtime::OffsetDateTime>,",
        "#[serde(default = \"CoursePublishedV1::default_level\")]",
        "pub level: String,",
    ] {
        assert!(
            g.code.contains(expected),
            "missing {expected:?} in\n{}",
            g.code
        );
    }
    assert!(!g.code.contains("additional_properties"), "{}", g.code);
}
