//! Keywords and formats the generator does not know: in shared definitions
//! (written for other tools) a warning the user can silence by name; in
//! event schemas an error.

use event_codegen::{Config, Error, Generation, Severity};
use std::path::PathBuf;

const SHARED: &str = r#"{
  "type": "object",
  "tsAdditionalProperties": false,
  "properties": { "host": { "type": "string", "format": "hostname" } }
}"#;

fn run(config: &mut Config, text: &str) -> Result<Generation, Error> {
    config
        .cargo_directives(false)
        .generate_sources(vec![(PathBuf::from("host.json"), text.as_bytes().to_vec())])
}

fn warnings(g: &Generation) -> Vec<(&'static str, String, String)> {
    g.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| (d.code, d.pointer.clone(), d.message.clone()))
        .collect()
}

#[test]
fn unknown_formats_and_vendor_keywords_in_shared_definitions_are_warnings() {
    let g = run(&mut Config::new(), SHARED).unwrap();
    assert!(g.code.contains("pub host: Option<String>,"), "{}", g.code);
    assert_eq!(
        warnings(&g),
        [
            (
                "unknown-keyword",
                "/tsAdditionalProperties".to_string(),
                "unknown keyword `tsAdditionalProperties` is ignored".to_string()
            ),
            (
                "unknown-format",
                "/properties/host/format".to_string(),
                "format `hostname` is not checked: it is an annotation, and the value a plain `String`"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn each_can_be_allowed_by_name() {
    let g = run(
        Config::new()
            .allow_keyword("tsAdditionalProperties")
            .allow_format("hostname"),
        SHARED,
    )
    .unwrap();
    assert_eq!(warnings(&g), []);
    // Allowing one name allows no other.
    let g = run(Config::new().allow_format("ipv4"), SHARED).unwrap();
    assert_eq!(warnings(&g).len(), 2);
}

const CONTENT: &str = r#"{
  "type": "object",
  "properties": {
    "avatar": {
      "type": "string",
      "contentEncoding": "base64",
      "contentMediaType": "image/png"
    },
    "settings": {
      "type": "string",
      "contentMediaType": "application/json",
      "contentSchema": { "type": "object", "required": ["theme"] }
    }
  }
}"#;

#[test]
fn content_keywords_are_annotations_with_a_warning() {
    let g = run(&mut Config::new(), CONTENT).unwrap();
    // The value stays the string the payload holds: nothing decodes it.
    assert!(g.code.contains("pub avatar: Option<String>,"), "{}", g.code);
    assert!(
        g.code.contains("pub settings: Option<String>,"),
        "{}",
        g.code
    );
    let found: Vec<(&str, String)> = warnings(&g)
        .into_iter()
        .map(|(code, pointer, _)| (code, pointer))
        .collect();
    assert_eq!(
        found,
        [
            (
                "content-annotation",
                "/properties/avatar/contentEncoding".to_string()
            ),
            (
                "content-annotation",
                "/properties/avatar/contentMediaType".to_string()
            ),
            (
                "content-annotation",
                "/properties/settings/contentMediaType".to_string()
            ),
            (
                "content-annotation",
                "/properties/settings/contentSchema".to_string()
            ),
        ]
    );
    assert!(
        warnings(&g)[0].2.contains("not decoded or checked"),
        "{:?}",
        warnings(&g)
    );
    // Each is silenced by its own name only.
    let g = run(
        Config::new()
            .allow_keyword("contentEncoding")
            .allow_keyword("contentMediaType"),
        CONTENT,
    )
    .unwrap();
    let left: Vec<String> = warnings(&g).into_iter().map(|(_, p, _)| p).collect();
    assert_eq!(left, ["/properties/settings/contentSchema"]);
}

/// A `default` is an annotation: in someone else's schema one that breaks
/// its schema, or that the generator cannot write as a Rust value, is
/// reported and not applied, and the property reads as an `Option`.
#[test]
fn defaults_in_shared_definitions_that_cannot_be_applied_are_warnings() {
    let text = r#"{
      "type": "object",
      "properties": {
        "retries": { "type": "integer", "maximum": 5, "default": 9 },
        "depth": { "type": "integer", "default": "full" },
        "state": { "type": "string", "enum": ["passed", "failed"], "default": "passed" },
        "tags": { "type": "array", "items": { "type": "string" }, "default": ["a"] }
      }
    }"#;
    let g = run(&mut Config::new(), text).unwrap();
    for field in [
        "pub retries: Option<i64>,",
        "pub depth: Option<i64>,",
        "pub state: Option<HostState>,",
        "pub tags: Option<Vec<String>>,",
    ] {
        assert!(g.code.contains(field), "{field} in\n{}", g.code);
    }
    let found: Vec<(&str, String)> = warnings(&g)
        .into_iter()
        .map(|(code, pointer, _)| (code, pointer))
        .collect();
    assert_eq!(
        found,
        [
            ("bad-default", "/properties/retries/default".to_string()),
            ("bad-default", "/properties/depth/default".to_string()),
            (
                "default-not-applied",
                "/properties/state/default".to_string()
            ),
            (
                "default-not-applied",
                "/properties/tags/default".to_string()
            ),
        ]
    );
    let message = |pointer: &str| {
        warnings(&g)
            .into_iter()
            .find(|(_, p, _)| p == pointer)
            .map(|(_, _, m)| m)
            .unwrap()
    };
    assert_eq!(
        message("/properties/retries/default"),
        "`default` 9 breaks this property's own `maximum`, so it is not applied: a missing property reads as `None`"
    );
}

/// A keyword of another type (`minLength` on an array) has no effect in
/// JSON Schema: in someone else's schema a warning, in an event schema an
/// error (the bad-schema suite, `misplaced-keyword`).
#[test]
fn a_keyword_of_another_type_in_a_shared_definition_is_a_warning() {
    let text = r#"{
      "type": "object",
      "properties": { "names": { "type": "array", "items": { "type": "string" }, "minLength": 1 } }
    }"#;
    let g = run(&mut Config::new(), text).unwrap();
    assert!(
        g.code.contains("pub names: Option<Vec<String>>,"),
        "{}",
        g.code
    );
    assert_eq!(
        warnings(&g),
        [(
            "misplaced-keyword",
            "/properties/names/minLength".to_string(),
            "`minLength` does not apply to a value of type `array`, so it has no effect"
                .to_string()
        )]
    );
}

/// `properties` and `required` beside `"type": "array"` have no effect:
/// the property is an array, with a warning for each.
#[test]
fn object_keywords_beside_another_type_leave_that_type() {
    let text = r#"{
      "type": "object",
      "properties": {
        "hosts": { "type": "array", "items": { "type": "string" }, "required": ["name"] }
      }
    }"#;
    let g = run(&mut Config::new(), text).unwrap();
    assert!(
        g.code.contains("pub hosts: Option<Vec<String>>,"),
        "{}",
        g.code
    );
    assert_eq!(
        warnings(&g),
        [(
            "misplaced-keyword",
            "/properties/hosts/required".to_string(),
            "`required` does not apply to a value of type `array`, so it has no effect".to_string()
        )]
    );
}

/// A title names a shared definition only when it reads as a name; a
/// sentence with a version and an address (SchemaStore's Renovate schema)
/// gives way to the file's name, which a new release does not change.
#[test]
fn a_title_that_is_a_sentence_does_not_name_the_type() {
    let file = |name: &str, title: &str| {
        (
            PathBuf::from(name),
            format!(r#"{{"title": {title:?}, "type": "object", "properties": {{"a": {{"type": "string"}}}}}}"#)
                .into_bytes(),
        )
    };
    let g = Config::new()
        .cargo_directives(false)
        .generate_sources(vec![
            file(
                "renovate.json",
                "JSON schema for Renovate 44.181.5 config files (https://renovatebot.com/)",
            ),
            file("money.json", "Money amount"),
            file("3.0.0.json", "AsyncAPI 3.0.0 schema."),
        ])
        .unwrap();
    let names: Vec<(String, String)> = g
        .shared
        .iter()
        .map(|(p, n)| (p.display().to_string(), n.clone()))
        .collect();
    assert_eq!(
        names,
        [
            ("3.0.0.json".to_string(), "AsyncApi300Schema".to_string()),
            ("money.json".to_string(), "MoneyAmount".to_string()),
            ("renovate.json".to_string(), "Renovate".to_string()),
        ]
    );
}
