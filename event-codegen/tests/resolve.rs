//! `$ref` resolution through the catalog's `$id`s and `$anchor`s, and the
//! files it refuses to follow.

use event_codegen::{Config, Error};
use std::path::PathBuf;

fn run(sources: &[(&str, &str)]) -> Result<event_codegen::Generation, Error> {
    Config::new().cargo_directives(false).generate_sources(
        sources
            .iter()
            .map(|(p, s)| (PathBuf::from(p), s.as_bytes().to_vec()))
            .collect(),
    )
}

fn rendered(r: Result<event_codegen::Generation, Error>) -> String {
    match r {
        Err(Error::Schema(d)) => d.render(),
        Err(e) => format!("unexpected error: {e}"),
        Ok(g) => format!("no error:\n{}", g.code),
    }
}

/// An ajv-style catalog: `push/event.json` (`$id: "push$event"`) names the
/// shared file by its `$id` as written, which spec resolution alone (against
/// `push/`) does not find.
#[test]
fn a_ref_equal_to_an_id_as_written_resolves_from_the_root() {
    let g = run(&[
        (
            "push/event.json",
            r#"{"$id": "push$event", "type": "object", "required": ["sender"],
                "properties": {"sender": {"$ref": "common/user.schema.json"}}}"#,
        ),
        (
            "common/user.schema.json",
            r#"{"$id": "common/user.schema.json", "title": "User", "type": "object",
                "properties": {"login": {"type": "string"}}}"#,
        ),
    ])
    .unwrap();
    assert!(g.code.contains("pub sender: User,"), "{}", g.code);
}

/// A `$ref` to an embedded subschema's `$id`, and a JSON pointer relative to
/// that resource.
#[test]
fn a_ref_to_an_embedded_id_and_a_pointer_inside_it() {
    let g = run(&[(
        "a.json",
        r#"{"type": "object", "required": ["m", "c"],
            "properties": {"m": {"$ref": "money.json"}, "c": {"$ref": "money.json#/$defs/currency"}},
            "$defs": {"Money": {"$id": "money.json", "type": "object",
                "properties": {"amount": {"type": "integer"}},
                "$defs": {"currency": {"type": "string", "minLength": 3}}}}}"#,
    )])
    .unwrap();
    assert!(g.code.contains("pub m: Money,"), "{}", g.code);
    assert!(g.code.contains("min_length = 3"), "{}", g.code);
}

#[test]
fn two_files_with_one_id_are_refused() {
    let out = rendered(run(&[
        ("a.json", r#"{"$id": "x.json", "type": "string"}"#),
        ("b.json", r#"{"$id": "x.json", "type": "string"}"#),
    ]));
    assert!(
        out.contains("error[duplicate-id]: `$id` `x.json` is already the `$id` of `a.json#`"),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn a_ref_through_a_symlink_says_symlinks_are_not_followed() {
    let dir = std::env::temp_dir().join(format!("event-codegen-symlink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("real")).unwrap();
    std::fs::write(
        dir.join("real/user.json"),
        r#"{"type": "object", "properties": {"a": {"type": "string"}}}"#,
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("real/user.json"), dir.join("user.json")).unwrap();
    std::fs::write(
        dir.join("a.json"),
        r#"{"type": "object", "properties": {"u": {"$ref": "user.json"}}}"#,
    )
    .unwrap();
    let out = rendered(
        Config::new()
            .schema_root(&dir)
            .cargo_directives(false)
            .check(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.contains("error[ref-not-found]: `$ref` to `user.json`: `user.json` is a symbolic link, and symbolic links are not followed"),
        "{out}"
    );
}

fn run_in(
    dialect: event_codegen::Dialect,
    sources: &[(&str, &str)],
) -> Result<event_codegen::Generation, Error> {
    Config::new()
        .cargo_directives(false)
        .default_dialect(dialect)
        .generate_sources(
            sources
                .iter()
                .map(|(p, s)| (PathBuf::from(p), s.as_bytes().to_vec()))
                .collect(),
        )
}

fn warnings(g: &event_codegen::Generation) -> Vec<(&'static str, String, String)> {
    g.diagnostics
        .iter()
        .filter(|d| d.severity == event_codegen::Severity::Warning)
        .map(|d| (d.code, d.pointer.clone(), d.message.clone()))
        .collect()
}

/// The suite's "$ref prevents a sibling $id from changing the base uri":
/// `foo.json` resolves against the root's `$id` in draft 7 (the number),
/// against the `$id` beside it in 2020-12 (the string).
const SIBLING_ID: &str = r#"{"$id": "http://localhost:1234/sibling_id/base/",
    "definitions": {
        "foo": {"$id": "http://localhost:1234/sibling_id/foo.json", "type": "string"},
        "base_foo": {"$id": "foo.json", "type": "number"}},
    "allOf": [{"$id": "http://localhost:1234/sibling_id/", "$ref": "foo.json"}]}"#;

#[test]
fn in_draft_7_an_id_beside_a_ref_does_not_change_its_base() {
    let g = run_in(event_codegen::Dialect::Draft7, &[("s.json", SIBLING_ID)]).unwrap();
    assert!(
        g.code.contains(r#"json_type(&self.0, &["number"])"#),
        "{}",
        g.code
    );
    assert_eq!(
        warnings(&g),
        [(
            "ref-sibling-ignored",
            "/allOf/0/$id".to_string(),
            "draft 7 ignores the keywords beside `$ref`: `$id` is not applied".to_string()
        )]
    );
    // `$schema` says the same as the default.
    let declared = SIBLING_ID.replacen(
        '{',
        r#"{"$schema": "http://json-schema.org/draft-07/schema#", "#,
        1,
    );
    let g = run(&[("s.json", &declared)]).unwrap();
    assert!(
        g.code.contains(r#"json_type(&self.0, &["number"])"#),
        "{}",
        g.code
    );
    let g = run(&[("s.json", SIBLING_ID)]).unwrap();
    assert!(
        g.code.contains(r#"json_type(&self.0, &["string"])"#),
        "{}",
        g.code
    );
}

/// Draft 7 ignores every keyword beside `$ref`, and says which.
#[test]
fn in_draft_7_keywords_beside_a_ref_are_ignored_with_a_warning_naming_them() {
    let schema = r##"{"type": "object", "required": ["tags"],
        "definitions": {"tags": {"type": "array", "items": {"type": "string"}}},
        "properties": {"tags": {"$ref": "#/definitions/tags", "maxItems": 2, "minItems": 1}}}"##;
    let g = run_in(event_codegen::Dialect::Draft7, &[("s.json", schema)]).unwrap();
    assert!(g.code.contains("pub tags: Vec<String>,"), "{}", g.code);
    assert!(!g.code.contains("max_items"), "{}", g.code);
    assert_eq!(
        warnings(&g),
        [(
            "ref-sibling-ignored",
            "/properties/tags/maxItems".to_string(),
            "draft 7 ignores the keywords beside `$ref`: `maxItems`, `minItems` are not applied"
                .to_string()
        )]
    );
}

/// 2020-12 applies the keywords beside `$ref` with it: an `allOf` of the
/// reference and the rest.
#[test]
fn in_2020_12_keywords_beside_a_ref_apply_with_it() {
    let schema = r##"{"$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"base": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
                  "code": {"type": "string", "minLength": 2}},
        "$ref": "#/$defs/base",
        "properties": {"name": {"type": "string"}, "code": {"$ref": "#/$defs/code", "maxLength": 4}},
        "required": ["name", "code"]}"##;
    let g = run(&[("thing.json", schema)]).unwrap();
    assert!(warnings(&g).is_empty(), "{:?}", warnings(&g));
    let code = &g.code;
    assert!(code.contains("pub struct Thing {"), "{code}");
    for field in [
        "pub id: String,",
        "pub name: String,",
        "pub code: ThingCode,",
    ] {
        assert!(code.contains(field), "{field}: {code}");
    }
    // Both the referenced and the sibling length apply to `code` (a
    // checked `Value`, as any `allOf` of plain values is).
    assert!(code.contains("min_length(x, 2)"), "{code}");
    assert!(code.contains("max_length(x, 4)"), "{code}");
}

/// A diagnostic about a `$ref` moved into an `allOf` part names the `$ref`
/// as written, not the part.
#[test]
fn a_bad_ref_beside_keywords_is_reported_where_it_is_written() {
    let out = rendered(run(&[(
        "s.json",
        r##"{"type": "object", "properties": {"a": {"$ref": "#/$defs/missing", "maxLength": 2}}}"##,
    )]));
    assert!(out.contains("error[ref-not-found]"), "{out}");
    assert!(out.contains("at `/properties/a/$ref`"), "{out}");
    assert!(!out.contains("allOf"), "{out}");
}

/// A `urn:` base URI: a reference to the URN, with a pointer, resolves.
#[test]
fn a_urn_id_is_a_base_uri_like_any_other() {
    let g = run(&[(
        "s.json",
        r##"{"$id": "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed", "type": "object",
            "required": ["n"], "properties": {"n": {"$ref": "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/n"}},
            "$defs": {"n": {"type": "integer", "minimum": 3}}}"##,
    )])
    .unwrap();
    assert!(g.code.contains("minimum = 3"), "{}", g.code);
}

/// The suite's "refs with relative uris and defs": an `allOf` part (here a
/// `$ref` beside `properties`) that refers to a schema which is itself a
/// `$ref` reaches the end of the chain, and its properties are merged.
#[test]
fn an_all_of_part_follows_a_chain_of_refs() {
    let g = run(&[(
        "a.json",
        r##"{"$id": "http://example.com/defs1.json",
            "properties": {"foo": {"$id": "defs2.json", "$ref": "#/$defs/inner",
                "$defs": {"inner": {"properties": {"bar": {"type": "string"}}}}}},
            "$ref": "defs2.json"}"##,
    )])
    .unwrap();
    assert!(
        g.code
            .contains("pub bar: Option<String>,\n    /// The properties"),
        "{}",
        g.code
    );
    assert!(g.code.contains("pub foo: Option<Inner>,"), "{}", g.code);
}

/// A schema reached only through an `allOf` `$ref` is lowered nowhere
/// else: an unsupported keyword in it is reported, not dropped.
#[test]
fn a_keyword_in_a_schema_merged_through_a_ref_is_checked() {
    let out = rendered(run(&[(
        "a.json",
        r##"{"type": "object", "properties": {"p": {"type": "string"}},
            "allOf": [{"$ref": "#/$defs/A"}],
            "$defs": {"A": {"type": "object", "$dynamicRef": "#meta"}}}"##,
    )]));
    assert!(
        out.contains("error[unsupported-keyword]: keyword `$dynamicRef` is not supported"),
        "{out}"
    );
    assert!(out.contains("at `/$defs/A/$dynamicRef`"), "{out}");
}

/// Unions nested in unions copy the keywords beside each into every
/// alternative, so the copies grow with the nesting: a file whose copies
/// would be too large is refused, at the union, rather than eat memory.
#[test]
fn keywords_copied_into_nested_unions_have_a_bound() {
    let mut inner = String::from("{}");
    for _ in 0..20 {
        inner = format!(r#"{{"oneOf": [{inner}, {{}}]}}"#);
    }
    let values: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
    let schema = format!(
        r#"{{"type": "object", "properties": {{"n": {{"enum": [{}]}}}}, "oneOf": [{inner}, {{}}]}}"#,
        values.join(",")
    );
    let out = rendered(run(&[("deep.json", &schema)]));
    assert!(
        out.contains(
            "error[schema-too-large]: the keywords beside `oneOf` apply to each alternative, and with the unions around it they would be copied into more than 200000 values"
        ),
        "{}",
        &out[..out.len().min(2000)]
    );
    // A raised file size limit raises the bound in proportion, and a
    // bound it still is.
    let raised = Config::new()
        .cargo_directives(false)
        .max_schema_bytes(4 * event_codegen::MAX_SCHEMA_BYTES)
        .generate_sources(vec![(PathBuf::from("deep.json"), schema.into_bytes())]);
    let out = rendered(raised);
    assert!(
        out.contains("they would be copied into more than 800000 values"),
        "{}",
        &out[..out.len().min(2000)]
    );
}

/// A `$ref` may point into a member that is no keyword (`plugins` grouping
/// definitions, as published catalogs do); the schema there is read as it
/// would be in `$defs`: in 2020-12 the keywords beside its own `$ref`
/// apply beside the reference.
#[test]
fn a_schema_under_a_member_that_is_no_keyword_reads_its_ref_siblings_by_its_dialect() {
    let g = run(&[(
        "config.json",
        r##"{
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": { "loader": { "$ref": "#/$defs/plugins/loader" } },
          "$defs": {
            "plugins": {
              "generic": { "type": "object", "properties": { "name": { "type": "string" } } },
              "loader": {
                "$ref": "#/$defs/plugins/generic",
                "type": "object",
                "properties": { "batch": { "type": "integer" } },
                "unevaluatedProperties": false
              }
            }
          }
        }"##,
    )])
    .unwrap_or_else(|e| panic!("{}", rendered(Err(e))));
    let loader = g
        .code
        .split("pub struct Loader")
        .nth(1)
        .expect("a Loader struct");
    let body = &loader[..loader.find('}').unwrap()];
    assert!(body.contains("pub name: Option<String>,"), "{body}");
    assert!(body.contains("pub batch: Option<i64>,"), "{body}");
}

/// A bundled catalog keys each definition by its `$id` (AsyncAPI's
/// `schemas/3.0.0.json`): the types are named after the last segment of
/// the key, not after the whole URI, and the `$ref`s by `$id` resolve.
#[test]
fn definitions_keyed_by_their_id_are_named_after_its_last_segment() {
    let g = run(&[(
        "bundle.json",
        r##"{
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": { "info": { "$ref": "http://example.com/definitions/1.0.0/info.json" } },
          "definitions": {
            "http://example.com/definitions/1.0.0/info.json": {
              "$id": "http://example.com/definitions/1.0.0/info.json",
              "type": "object",
              "properties": { "contact": { "$ref": "http://example.com/definitions/1.0.0/contact.schema.json" } }
            },
            "http://example.com/definitions/1.0.0/contact.schema.json": {
              "$id": "http://example.com/definitions/1.0.0/contact.schema.json",
              "type": "object",
              "properties": { "email": { "type": "string" } }
            }
          }
        }"##,
    )])
    .unwrap_or_else(|e| panic!("{}", rendered(Err(e))));
    assert!(g.code.contains("pub info: Option<Info>,"), "{}", g.code);
    assert!(
        g.code.contains("pub contact: Option<Contact>,"),
        "{}",
        g.code
    );
    assert!(!g.code.contains("HttpExampleCom"), "{}", g.code);
}

/// Rule 3: a file whose `$id` names another place than where it lies
/// (CycloneDX ships `bom-1.6.SNAPSHOT.schema.json` with the `$id`
/// `http://cyclonedx.org/schema/bom-1.6.schema.json`) refers to the file
/// beside it by its file name; neither the `$id` base nor the `$id`s as
/// written hold it, its own place does.
#[test]
fn a_ref_that_no_id_holds_resolves_against_the_files_own_place() {
    let g = run(&[
        (
            "bom.snapshot.json",
            r#"{"$id": "http://example.com/schema/bom.json", "type": "object",
                "properties": {"licence": {"$ref": "spdx.snapshot.json"}}}"#,
        ),
        (
            "spdx.snapshot.json",
            r#"{"$id": "http://example.com/schema/spdx.json", "title": "Spdx", "type": "string",
                "enum": ["MIT", "Apache-2.0"]}"#,
        ),
    ])
    .unwrap_or_else(|e| panic!("{}", rendered(Err(e))));
    assert!(g.code.contains("pub licence: Option<Spdx>,"), "{}", g.code);
    // Not found anywhere: every target tried is named.
    let r = rendered(run(&[(
        "sub/bom.json",
        r#"{"$id": "schema/bom.json", "type": "object",
            "properties": {"licence": {"$ref": "spdx.json"}}}"#,
    )]));
    assert!(
        r.contains("tried `sub/schema/spdx.json` (from the base `sub/schema/bom.json`) and `spdx.json` (an `$id` as written, from the schema root) and `sub/spdx.json` (from the file's place under the root)"),
        "{r}"
    );
}
