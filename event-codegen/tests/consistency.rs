//! Small consistency rules of lowering, each as a user would see it.

use event_codegen::{Config, Generation};
use std::path::PathBuf;

fn run(text: &str) -> Generation {
    Config::new()
        .cargo_directives(false)
        .generate_sources(vec![(PathBuf::from("t.json"), text.as_bytes().to_vec())])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// [`run`] with closed objects read tolerantly (`--tolerate-closed-objects`).
fn run_tolerant(text: &str) -> Generation {
    Config::new()
        .cargo_directives(false)
        .tolerate_closed_objects(true)
        .generate_sources(vec![(PathBuf::from("t.json"), text.as_bytes().to_vec())])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What a closed shared definition generates by default: the struct's
/// check refuses the members it does not allow.
const CLOSED: &str = "#[event(check = \"Self::__closed\")]";

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

/// A `$ref` to a shared definition that accepts `null` is nullable where it
/// is used, as the same schema written inline is: a required one is an
/// `Option` that must be present, an optional one keeps missing and `null`
/// apart (`tests/compile/behaviour.rs` decodes the `nullable-refs` golden).
#[test]
fn a_ref_to_a_nullable_definition_is_nullable_at_the_use_site() {
    let g = run(r##"{"type": "object", "required": ["a", "u"],
        "properties": {
            "a": {"$ref": "#/$defs/MaybeUser"}, "b": {"$ref": "#/$defs/MaybeUser"},
            "u": {"$ref": "#/$defs/MaybePick"}, "v": {"$ref": "#/$defs/MaybePick"},
            "w": {"$ref": "#/$defs/Via"}, "x": {"$ref": "#/$defs/Via2"}},
        "$defs": {
            "MaybeUser": {"type": ["object", "null"], "properties": {"login": {"type": "string"}}},
            "MaybePick": {"oneOf": [{"type": "null"}, {"type": "integer"}, {"type": "string"}]},
            "Via": {"anyOf": [{"$ref": "#/$defs/MaybeUser"}, {"type": "boolean"}]},
            "Via2": {"anyOf": [{"$ref": "#/$defs/Word"}, {"type": "boolean"}]},
            "Word": {"type": ["string", "null"], "maxLength": 4}}}"##);
    for field in [
        "#[event(required)]\n    pub a: Option<MaybeUser>,",
        "pub b: Option<Option<MaybeUser>>,",
        "#[event(required)]\n    pub u: Option<MaybePick>,",
        "pub v: Option<Option<MaybePick>>,",
        "pub w: Option<Option<Via>>,",
        "pub x: Option<Option<Via2>>,",
    ] {
        assert!(g.code.contains(field), "{field}:\n{}", g.code);
    }
}

/// An `allOf` part that holds only annotations narrows nothing, whatever
/// the property's other definition is (a struct, a union, a formatted
/// string), and in either order: it merges without an `allof-conflict`,
/// and its description documents the field.
#[test]
fn an_all_of_part_of_annotations_narrows_nothing() {
    let g = run(r##"{"type": "object", "allOf": [
        {"properties": {
            "user": {"$ref": "#/$defs/User"},
            "inline": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "pick": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "when": {"type": "string", "format": "date-time"}}},
        {"properties": {
            "user": {"description": "Who did it.", "$comment": "annotations only"},
            "inline": {"title": "The inline thing", "examples": [{"x": 1}]},
            "pick": {"description": "A pick.", "deprecated": true, "x-vendor": 1},
            "when": {"description": "When.", "readOnly": true},
            "rev": {"description": "Annotations first."}}},
        {"properties": {"rev": {"oneOf": [{"$ref": "#/$defs/User"}, {"type": "null"}]}}}],
        "$defs": {"User": {"type": "object", "properties": {"login": {"type": "string"}}}}}"##);
    assert!(g.diagnostics.is_empty(), "{:?}", g.diagnostics);
    for field in [
        "/// Who did it.\n    #[event(non_null)]\n    pub user: Option<User>,",
        "/// The inline thing\n    #[event(non_null)]\n    pub inline: Option<TInline>,",
        "/// A pick.\n    #[deprecated]\n    #[event(non_null)]\n    pub pick: Option<TPick>,",
        "/// When.\n    #[event(non_null)]\n    pub when: Option<::event_runtime::OffsetDateTime>,",
        "/// Annotations first.\n    pub rev: Option<Option<TRev>>,",
    ] {
        assert!(g.code.contains(field), "{field}:\n{}", g.code);
    }
}

/// A `$ref` to the schema `false` means what a union of nothing but
/// `false` means: an `accepts-nothing` warning where `false` is, and a type
/// that never decodes (no value is in its empty list), at the root as at a
/// property, where an optional property must then be absent.
#[test]
fn a_ref_to_the_schema_false_accepts_nothing() {
    let g = run(r##"{"$ref": "#/$defs/bool", "$defs": {"bool": false}}"##);
    let found: Vec<(&str, &str)> = g
        .diagnostics
        .iter()
        .map(|d| (d.code, d.pointer.as_str()))
        .collect();
    assert_eq!(
        found,
        [("accepts-nothing", "/$defs/bool")],
        "{:?}",
        g.diagnostics
    );
    assert!(g.code.contains("pub type T = Bool;"), "{}", g.code);
    assert!(
        g.code
            .contains("pub struct Bool(pub ::event_runtime::Value);"),
        "{}",
        g.code
    );
    assert!(
        g.code
            .contains("Values::new(\n            \"[]\",\n        )"),
        "{}",
        g.code
    );

    let g = run(
        r##"{"type": "object", "properties": {"gone": {"$ref": "#/$defs/Never"}},
        "$defs": {"Never": false}}"##,
    );
    let codes: Vec<&str> = g.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["accepts-nothing"], "{:?}", g.diagnostics);
    assert!(g.code.contains("pub gone: Option<Never>,"), "{}", g.code);
}

/// A file that is the schema `true` or `false` is a type like any other:
/// `true` holds any JSON value, `false` is an `accepts-nothing` warning and
/// a type that never decodes, as a `$ref` to `false` is (before, the file
/// was refused: "a schema file must hold an object, found a boolean").
/// The `boolean-files` golden refers to such files from properties, and
/// `tests/compile/behaviour.rs` decodes it.
#[test]
fn a_file_that_is_the_schema_true_or_false_is_a_type() {
    let g = run("true");
    assert!(g.diagnostics.is_empty(), "{:?}", g.diagnostics);
    assert!(
        g.code.contains("pub struct T(pub ::event_runtime::Value);"),
        "{}",
        g.code
    );
    assert!(!g.code.contains("Values::new("), "{}", g.code);

    let g = run(" false\n");
    let found: Vec<(&str, &str)> = g
        .diagnostics
        .iter()
        .map(|d| (d.code, d.pointer.as_str()))
        .collect();
    assert_eq!(found, [("accepts-nothing", "")], "{:?}", g.diagnostics);
    assert!(
        g.code.contains("pub struct T(pub ::event_runtime::Value);"),
        "{}",
        g.code
    );
    assert!(
        g.code
            .contains("Values::new(\n            \"[]\",\n        )"),
        "{}",
        g.code
    );
}

/// `unevaluatedProperties: false` on an object whose properties are its
/// own generates what `additionalProperties: false` does, warning
/// included; over `allOf` parts and `$ref`s it keeps their properties too,
/// which `additionalProperties: false` would leave out.
#[test]
fn unevaluated_properties_false_is_additional_properties_false_over_what_is_evaluated() {
    let schema = |closing: &str| {
        format!(
            r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "required": ["a"], "properties": {{"a": {{"type": "string"}}}}, "{closing}": false}}"#
        )
    };
    let codes = |g: &Generation| {
        g.diagnostics
            .iter()
            .map(|d| (d.code, d.pointer.clone()))
            .collect::<Vec<_>>()
    };
    let additional = run(&schema("additionalProperties"));
    let unevaluated = run(&schema("unevaluatedProperties"));
    assert_eq!(unevaluated.code, additional.code);
    assert!(unevaluated.code.contains(CLOSED), "{}", unevaluated.code);
    assert!(
        unevaluated.code.contains("validate::closed(")
            && unevaluated.code.contains("::core::option::Option::None,"),
        "{}",
        unevaluated.code
    );
    assert_eq!(codes(&additional), []);
    assert_eq!(codes(&unevaluated), []);

    let additional = run_tolerant(&schema("additionalProperties"));
    let unevaluated = run_tolerant(&schema("unevaluatedProperties"));
    assert_eq!(unevaluated.code, additional.code);
    assert!(
        unevaluated.code.contains("#[event(unknown, closed)]"),
        "{}",
        unevaluated.code
    );
    assert_eq!(
        codes(&additional),
        [("ignored-constraint", "/additionalProperties".to_string())]
    );
    assert_eq!(
        codes(&unevaluated),
        [("ignored-constraint", "/unevaluatedProperties".to_string())]
    );

    let g = run(
        r##"{"$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [{"$ref": "#/$defs/Base"}, {"properties": {"b": {"type": "integer"}}}],
        "unevaluatedProperties": false,
        "$defs": {"Base": {"type": "object", "properties": {"a": {"type": "string"}}}}}"##,
    );
    for field in ["pub a: Option<String>,", "pub b: Option<i64>,", CLOSED] {
        assert!(g.code.contains(field), "{field}:\n{}", g.code);
    }
}

/// An `allOf` part that is the schema `false`, directly or through a
/// `$ref`, beside the properties of an object: an `accepts-nothing`
/// warning at the `false` and a struct whose rules refuse every value, as
/// for a `Value` newtype's `false` part (before, the part was dropped in
/// silence and the struct read what the other parts allow).
#[test]
fn a_false_all_of_part_of_an_object_accepts_nothing() {
    for (schema, at) in [
        (
            r#"{"type": "object", "properties": {"a": {"type": "string"}}, "allOf": [false]}"#,
            "/allOf/0",
        ),
        (
            r##"{"type": "object", "properties": {"a": {"type": "string"}},
                "allOf": [{"$ref": "#/$defs/no"}], "$defs": {"no": false}}"##,
            "/$defs/no",
        ),
    ] {
        let g = run(schema);
        let found: Vec<(&str, &str)> = g
            .diagnostics
            .iter()
            .map(|d| (d.code, d.pointer.as_str()))
            .collect();
        assert_eq!(found, [("accepts-nothing", at)], "{:?}", g.diagnostics);
        assert!(
            g.code
                .contains("\"matches no value: a part of `allOf` is `false`\""),
            "{}",
            g.code
        );
        assert!(
            g.code.contains("#[event(check = \"Self::__rules\")]"),
            "{}",
            g.code
        );
    }
}

/// `additionalProperties: false` and `unevaluatedProperties: false` in an
/// `allOf` part close the object as they do in the object itself; read
/// tolerantly, they say alike that they are not enforced on their own (the
/// part's warning was missing for `additionalProperties`).
#[test]
fn a_closed_all_of_part_warns_as_a_closed_object_does() {
    for keyword in ["additionalProperties", "unevaluatedProperties"] {
        let schema = format!(
            r##"{{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {{"kind": {{"type": "string"}}}},
            "allOf": [{{"$ref": "#/$defs/Closed"}}],
            "$defs": {{"Closed": {{"properties": {{"kind": true}}, "{keyword}": false}}}}}}"##
        );
        let g = run(&schema);
        assert!(g.diagnostics.is_empty(), "{:?}", g.diagnostics);
        assert!(g.code.contains(CLOSED), "{}", g.code);
        let g = run_tolerant(&schema);
        let found: Vec<(&str, &str)> = g
            .diagnostics
            .iter()
            .map(|d| (d.code, d.pointer.as_str()))
            .collect();
        let at = format!("/$defs/Closed/{keyword}");
        assert_eq!(
            found,
            [("ignored-constraint", at.as_str())],
            "{:?}",
            g.diagnostics
        );
        assert!(g.code.contains("#[event(unknown, closed)]"), "{}", g.code);
    }
}

/// The keywords of an `allOf` part inside an `allOf` part of an object are
/// checked as the object's own parts are: a vendor keyword is a warning,
/// an `unevaluatedProperties` schema an error, neither dropped in silence.
#[test]
fn keywords_of_a_nested_all_of_part_are_checked() {
    let r = Config::new()
        .cargo_directives(false)
        .generate_sources(vec![(
            PathBuf::from("t.json"),
            br#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"a": {"type": "string"}},
            "allOf": [{"allOf": [{"properties": {"b": {"type": "string"}},
                "unevaluatedProperties": {"type": "string"}, "vendorHint": 1}]}]}"#
                .to_vec(),
        )]);
    let Err(event_codegen::Error::Schema(d)) = r else {
        panic!("accepted: {r:?}");
    };
    let out = d.render();
    assert!(
        out.contains("error[unsupported-keyword]: `unevaluatedProperties` with a schema"),
        "{out}"
    );
    assert!(
        out.contains("at `/allOf/0/allOf/0/unevaluatedProperties`"),
        "{out}"
    );
    assert!(
        out.contains("warning[unknown-keyword]: unknown keyword `vendorHint`"),
        "{out}"
    );
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

/// An object closed with no properties of its own (a map of `Value`s) is
/// closed as a rule of the use site; read tolerantly it says it is not
/// enforced, where it used to be dropped in silence.
#[test]
fn a_closed_object_without_properties_is_checked_or_reported() {
    let schema = r#"{"type": "object", "properties": {
        "none": {"type": "object", "additionalProperties": false}}}"#;
    let g = run(schema);
    assert!(g.diagnostics.is_empty(), "{:?}", g.diagnostics);
    assert!(
        g.code
            .contains("the schema allows no properties beyond those it names"),
        "{}",
        g.code
    );
    let g = run_tolerant(schema);
    let found: Vec<(&str, &str)> = g
        .diagnostics
        .iter()
        .map(|d| (d.code, d.pointer.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            "ignored-constraint",
            "/properties/none/additionalProperties"
        )]
    );
    assert!(!g.code.contains("allows no properties"), "{}", g.code);
}
