//! Keywords without a typed form (`not`, `if`, tuples, `patternProperties`,
//! a property schema `false`, ...): where they are refused, and that no
//! schema makes the generator panic or work without bound. What the
//! generated checks accept is in `tests/compile/behaviour.rs` (`rules`).

use event_codegen::{Config, Error, Generation};
use std::path::PathBuf;

fn run(files: &[(&str, &str)]) -> Result<Generation, Error> {
    Config::new()
        .cargo_directives(false)
        .routing(false)
        .generate_sources(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
                .collect(),
        )
}

/// (code, pointer, message) of every error.
fn errors(files: &[(&str, &str)]) -> Vec<(&'static str, String, String)> {
    match run(files) {
        Ok(g) => panic!("generated:\n{}", g.code),
        Err(Error::Schema(d)) => d
            .iter()
            .filter(|d| d.severity == event_codegen::Severity::Error)
            .map(|d| (d.code, d.pointer.clone(), d.message.clone()))
            .collect(),
        Err(e) => panic!("{e}"),
    }
}

fn event(properties: &str, more: &str) -> String {
    format!(
        r#"{{
  "title": "LapRecorded",
  "description": "A lap was timed.",
  "x-event": {{ "type": "lap.recorded", "version": "1.0", "producer": "timing-service",
    "consumers": [{{ "service": "results-service", "reason": "ranks the laps" }}] }},
  "type": "object",
  "properties": {properties}{more}
}}"#
    )
}

#[test]
fn rules_about_an_events_members_are_refused_naming_where_they_are_allowed() {
    let schema = event(
        r#"{ "lap": { "type": "integer", "description": "The lap." }, "old": false }"#,
        r#", "patternProperties": { "^x-": {} }, "minProperties": 1"#,
    );
    let mut found = errors(&[("lap.recorded.v1.0.json", &schema)]);
    // (`old` also lacks a description, which the event lint asks for.)
    found.retain(|(code, _, _)| *code != "missing-description");
    let pointers: Vec<&str> = found.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        pointers,
        ["/patternProperties", "/minProperties", "/properties/old"],
        "{found:?}"
    );
    for (code, _, message) in &found {
        assert_eq!(*code, "unsupported-keyword");
        assert!(message.contains("event schema"), "{message}");
    }
    // The same object as a shared definition is typed.
    let shared = r#"{ "type": "object", "properties": { "lap": { "type": "integer" }, "old": false },
      "patternProperties": { "^x-": {} }, "minProperties": 1 }"#;
    let g = run(&[("lap.json", shared)]).unwrap();
    assert!(
        g.code.contains("#[event(check = \"Self::__rules\")]"),
        "{}",
        g.code
    );
    assert!(!g.code.contains("pub old"), "{}", g.code);
}

#[test]
fn rules_on_an_events_fields_are_checked_there() {
    let schema = event(
        r#"{ "lap": { "type": "integer", "multipleOf": 2, "description": "The lap." } }"#,
        "",
    );
    let g = run(&[("lap.recorded.v1.0.json", &schema)]).unwrap();
    assert!(g.code.contains("pub lap: Option<i64>"), "{}", g.code);
    assert!(g.code.contains("multiple_of(v, 2.0)"), "{}", g.code);
}

#[test]
fn bad_values_of_the_keywords_are_errors_at_their_location() {
    let found = errors(&[(
        "bad.json",
        r#"{ "type": "object", "properties": { "a": { "multipleOf": 0 } },
             "patternProperties": { "([a-z": {} }, "minProperties": -1,
             "dependentRequired": { "a": [1] } }"#,
    )]);
    let at: Vec<(&str, &str)> = found.iter().map(|(c, p, _)| (*c, p.as_str())).collect();
    for expected in [
        ("bad-keyword", "/properties/a/multipleOf"),
        ("bad-pattern", "/patternProperties/([a-z"),
        ("bad-keyword", "/minProperties"),
        ("bad-keyword", "/dependentRequired/a"),
    ] {
        assert!(at.contains(&expected), "{expected:?} not in {at:?}");
    }
}

#[test]
fn a_schema_whose_rules_grow_without_bound_is_refused_not_compiled() {
    // A chain of `$ref`s, each under a `not`: longer than any nesting.
    let mut defs = Vec::new();
    for i in 0..2000 {
        defs.push(format!(
            r##""d{i}": {{ "not": {{ "$ref": "#/$defs/d{}" }} }}"##,
            i + 1
        ));
    }
    defs.push(r#""d2000": { "type": "string" }"#.to_string());
    let schema = format!(
        r##"{{ "not": {{ "$ref": "#/$defs/d0" }}, "$defs": {{ {} }} }}"##,
        defs.join(", ")
    );
    let found = errors(&[("chain.json", &schema)]);
    assert!(
        found.iter().any(|(c, _, _)| *c == "schema-too-large"),
        "{found:?}"
    );
    // Wide: many patterns, each its own schema object.
    let props: Vec<String> = (0..5000)
        .map(|i| format!(r#""^p{i}$": {{ "minLength": {i} }}"#))
        .collect();
    let schema = format!(r#"{{ "patternProperties": {{ {} }} }}"#, props.join(", "));
    let found = errors(&[("wide.json", &schema)]);
    assert!(
        found.iter().any(|(c, _, _)| *c == "schema-too-large"),
        "{found:?}"
    );
}

#[test]
fn recursive_rules_end_at_the_schema_they_return_to() {
    // `not` of itself through `$ref`, and a tree checked by `if`.
    let g = run(&[(
        "tree.json",
        r##"{ "if": { "type": "object" }, "then": { "properties": { "kids": { "items": { "$ref": "#" } } } },
             "else": { "not": { "$ref": "#/$defs/loop" } },
             "$defs": { "loop": { "anyOf": [{ "$ref": "#/$defs/loop" }, { "type": "null" }] } } }"##,
    )])
    .unwrap();
    assert!(g.code.contains("fn __rules_0"), "{}", g.code);
}
