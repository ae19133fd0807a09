//! Small consistency rules of lowering, each as a user would see it.

use event_codegen::{Config, Generation};
use std::path::PathBuf;

fn run(text: &str) -> Generation {
    Config::new()
        .cargo_directives(false)
        .generate_sources(vec![(PathBuf::from("t.json"), text.as_bytes().to_vec())])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// JSON Schema counts `2.0` as the integer 2.
#[test]
fn a_count_written_as_a_whole_float_is_an_integer() {
    let g = run(r#"{"type": "object", "required": ["a"],
        "properties": {"a": {"type": "string", "minLength": 2.0, "maxLength": 4e0}}}"#);
    assert!(
        g.code.contains("min_length = 2, max_length = 4"),
        "{}",
        g.code
    );
}

/// A constraint on a scalar alternative of `anyOf` is checked when the
/// variant is read and by `validate`, as on a struct field: no warning that
/// it is ignored (`tests/compile/behaviour.rs` decodes it).
#[test]
fn constraints_on_a_scalar_alternative_are_checked() {
    let g = run(r#"{"type": "object", "properties": {"v": {"anyOf": [
        {"type": "string", "minLength": 2}, {"type": "integer"}]}}}"#);
    assert!(
        g.diagnostics.iter().all(|d| d.code != "ignored-constraint"),
        "{:?}",
        g.diagnostics
    );
    assert!(
        g.code
            .contains("if let Self::String(x) = self {\n            ::event_runtime::__private::validate::min_length(x, 2)?;"),
        "{}",
        g.code
    );
    assert!(g.code.contains("u.check_variant()"), "{}", g.code);
}

/// `$defs` beside a root `$ref` holds the definitions the `$ref` names; it
/// constrains nothing, so it is not a `ref-sibling`.
#[test]
fn defs_beside_a_root_ref_are_allowed() {
    let g = run(r##"{"$ref": "#/$defs/Order",
        "$defs": {"Order": {"type": "object", "required": ["id"],
            "properties": {"id": {"type": "string"}}}}}"##);
    assert!(g.code.contains("pub struct Order"), "{}", g.code);
    assert!(g.diagnostics.iter().all(|d| d.code != "ref-sibling"));
}

/// A root that refers only to itself is a cycle, not an empty struct.
#[test]
fn a_root_ref_to_itself_is_a_cycle() {
    let r = Config::new()
        .cargo_directives(false)
        .generate_sources(vec![(
            PathBuf::from("t.json"),
            br##"{"$ref": "#"}"##.to_vec(),
        )]);
    let Err(event_codegen::Error::Schema(d)) = r else {
        panic!("accepted: {r:?}");
    };
    assert!(
        d.render()
            .starts_with("error[ref-cycle]: this `$ref` cycle never reaches a type"),
        "{}",
        d.render()
    );
}

/// The schemas `true` and `false` as alternatives: `true` is a variant that
/// reads every value, `false` matches nothing and is left out, and a union
/// of nothing but `false` accepts nothing (a warning, not a silent type).
/// The suite's boolean-alternative groups decode against these types
/// (`tests/conformance.rs`).
#[test]
fn boolean_alternatives_of_a_union_keep_their_meaning() {
    let g = run(r#"{"oneOf": [true, false, {"type": "integer"}]}"#);
    assert!(g.diagnostics.is_empty(), "{:?}", g.diagnostics);
    assert!(
        g.code
            .contains("pub enum T {\n    Value(::event_runtime::Value),\n    Integer(i64),\n}"),
        "{}",
        g.code
    );
    // Exactly one alternative must read a value: `oneOf`, not `anyOf`.
    assert!(g.code.contains("\"oneOf\","), "{}", g.code);

    let g = run(r#"{"anyOf": [false, false]}"#);
    let codes: Vec<&str> = g.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["accepts-nothing"], "{:?}", g.diagnostics);
    let pointers: Vec<&str> = g.diagnostics.iter().map(|d| d.pointer.as_str()).collect();
    assert_eq!(pointers, ["/anyOf"]);
}

/// An untagged union tells `wire::union_named` what each alternative names
/// at its top, so its tolerant pass does not read a value as one
/// alternative by keeping what another names. A union alternative names
/// what any of its own alternatives names; a property's `enum` values are
/// told only when every alternative naming it lists values (here `kind`
/// is a free string in `B`, so no values are told for it), and a union
/// that holds itself ends without looping.
#[test]
fn a_union_tells_what_each_alternative_names() {
    let g = run(r##"{"oneOf": [
        {"oneOf": [
            {"type": "object", "title": "A", "additionalProperties": false,
             "required": ["action"], "properties": {
                "action": {"type": "string", "enum": ["opened"]},
                "kind": {"type": "string", "enum": ["x"]}}},
            {"type": "object", "title": "B", "additionalProperties": false,
             "required": ["action"], "properties": {
                "action": {"type": "string", "enum": ["closed", "reopened"]},
                "kind": {"type": "string"}, "issue": {"type": "integer"}}}
        ]},
        {"type": "object", "title": "C", "additionalProperties": false,
         "required": ["sender"], "properties": {"sender": {"type": "string"},
            "next": {"$ref": "#"}}}
    ]}"##);
    let code = g.code.replace([' ', '\n'], "");
    assert!(code.contains("wire::union_named("), "{}", g.code);
    assert!(
        code.contains(r#"properties:&["action","kind","issue"],values:&[("action",&["opened","closed","reopened"])]"#),
        "{}",
        g.code
    );
    assert!(
        code.contains(r#"properties:&["sender","next"],values:&[]"#),
        "{}",
        g.code
    );
    // The inner union tells its own alternatives apart the same way.
    assert!(
        code.contains(
            r#"properties:&["action","kind"],values:&[("action",&["opened"]),("kind",&["x"])]"#
        ),
        "{}",
        g.code
    );
    // One alternative has no other to be told apart from.
    let g = run(r#"{"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}}]}"#);
    assert!(!g.code.contains("union_named"), "{}", g.code);
}
