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
