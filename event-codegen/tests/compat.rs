//! Every row of the compatibility table (docs/compatibility.md), both ways.

use event_codegen::compat::{
    Bump, Change, SchemaRef, check_against, check_evolution, diff, required_bump,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn event(version: &str, properties: Value, required: &[&str]) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "A user completed a course.",
        "x-event": {
            "type": "enrollment.completed",
            "version": version,
            "producer": "enrollment-service",
            "consumers": [{ "service": "certificate-service", "reason": "issues the certificate" }]
        },
        "type": "object",
        "properties": properties,
        "required": required,
    })
}

fn catalog(entries: &[(&str, Value)]) -> BTreeMap<PathBuf, Value> {
    entries
        .iter()
        .map(|(p, v)| (PathBuf::from(p), v.clone()))
        .collect()
}

/// The changes from `old` to `new`, and from `new` to `old`.
fn both_ways(old: Value, new: Value) -> (Vec<Change>, Vec<Change>) {
    let files = catalog(&[("e/old.json", old), ("e/new.json", new)]);
    let forward = diff(
        SchemaRef {
            files: &files,
            file: "e/old.json".as_ref(),
        },
        SchemaRef {
            files: &files,
            file: "e/new.json".as_ref(),
        },
    );
    let backward = diff(
        SchemaRef {
            files: &files,
            file: "e/new.json".as_ref(),
        },
        SchemaRef {
            files: &files,
            file: "e/old.json".as_ref(),
        },
    );
    (forward, backward)
}

fn only(changes: &[Change]) -> &Change {
    assert_eq!(
        changes.len(),
        1,
        "expected exactly one change, got {changes:#?}"
    );
    &changes[0]
}

#[test]
fn adding_an_optional_property_is_minor_and_removing_it_is_major() {
    let old = event("1.0", json!({ "score": { "type": "integer" } }), &["score"]);
    let new = event(
        "1.1",
        json!({ "score": { "type": "integer" }, "totalDuration": { "type": "integer" } }),
        &["score"],
    );
    let (fwd, back) = both_ways(old, new);
    let c = only(&fwd);
    assert_eq!(c.bump, Bump::Minor);
    assert_eq!(c.pointer, "/properties/totalDuration");
    assert_eq!(c.what, "optional property `totalDuration` added");
    let c = only(&back);
    assert_eq!(c.bump, Bump::Major);
    assert_eq!(c.pointer, "/properties/totalDuration");
}

#[test]
fn adding_a_required_property_is_major_and_the_finding_says_how_to_fix_it() {
    let files = catalog(&[
        (
            "e/enrollment.completed.v1.0.json",
            event("1.0", json!({ "score": { "type": "integer" } }), &["score"]),
        ),
        (
            "e/enrollment.completed.v1.1.json",
            event(
                "1.1",
                json!({ "score": { "type": "integer" }, "totalDuration": { "type": "integer" } }),
                &["score", "totalDuration"],
            ),
        ),
    ]);
    let findings = check_evolution(&files);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.event_type, "enrollment.completed");
    assert_eq!((f.from, f.to), ((1, 0), (1, 1)));
    assert_eq!(f.pointer, "/properties/totalDuration");
    assert_eq!(f.fix, "bump to 2.0, or make `totalDuration` optional");
    assert_eq!(
        f.to_string(),
        "enrollment.completed 1.0 -> 1.1: e/enrollment.completed.v1.1.json#/properties/totalDuration: \
         required property `totalDuration` added; bump to 2.0, or make `totalDuration` optional"
    );
}

#[test]
fn a_compatible_minor_has_no_findings_and_majors_are_not_compared() {
    let files = catalog(&[
        (
            "e/a.v1.0.json",
            event("1.0", json!({ "score": { "type": "integer" } }), &["score"]),
        ),
        (
            "e/a.v1.1.json",
            event(
                "1.1",
                json!({ "score": { "type": "integer" }, "note": { "type": "string" } }),
                &["score"],
            ),
        ),
        (
            "e/a.v2.0.json",
            event("2.0", json!({ "score": { "type": "string" } }), &["score"]),
        ),
    ]);
    assert_eq!(check_evolution(&files), vec![]);
}

#[test]
fn removing_or_renaming_a_property_is_major() {
    let old = event("1.0", json!({ "score": { "type": "integer" } }), &["score"]);
    let new = event(
        "1.1",
        json!({ "points": { "type": "integer" } }),
        &["points"],
    );
    let (fwd, _) = both_ways(old, new);
    assert_eq!(required_bump(&fwd), Bump::Major);
    assert!(fwd.iter().any(
        |c| c.pointer == "/properties/score" && c.what.starts_with("property `score` removed")
    ));
    assert!(fwd.iter().any(|c| c.pointer == "/properties/points"
        && c.what.starts_with("required property `points` added")));
}

#[test]
fn changing_a_type_is_major_both_ways() {
    let old = event("1.0", json!({ "score": { "type": "integer" } }), &["score"]);
    let new = event("1.1", json!({ "score": { "type": "string" } }), &["score"]);
    let (fwd, back) = both_ways(old, new);
    let c = only(&fwd);
    assert_eq!(
        (c.bump, c.pointer.as_str()),
        (Bump::Major, "/properties/score/type")
    );
    assert_eq!(c.what, "type changed from `integer` to `string`");
    assert_eq!(only(&back).bump, Bump::Major);
}

#[test]
fn optional_to_required_and_back_are_major() {
    let old = event("1.0", json!({ "score": { "type": "integer" } }), &[]);
    let new = event("1.1", json!({ "score": { "type": "integer" } }), &["score"]);
    let (fwd, back) = both_ways(old, new);
    let c = only(&fwd);
    assert_eq!(c.bump, Bump::Major);
    assert!(
        c.what.starts_with("property `score` made required"),
        "{}",
        c.what
    );
    let c = only(&back);
    assert_eq!(c.bump, Bump::Major);
    assert!(
        c.what.starts_with("property `score` made optional"),
        "{}",
        c.what
    );
}

#[test]
fn removing_an_enum_value_is_major_and_adding_one_is_minor() {
    let old = event(
        "1.0",
        json!({ "level": { "type": "string", "enum": ["beginner", "advanced"] } }),
        &[],
    );
    let new = event(
        "1.1",
        json!({ "level": { "type": "string", "enum": ["beginner", "advanced", "expert"] } }),
        &[],
    );
    let (fwd, back) = both_ways(old, new);
    let c = only(&fwd);
    assert_eq!(
        (c.bump, c.pointer.as_str()),
        (Bump::Minor, "/properties/level/enum")
    );
    let c = only(&back);
    assert_eq!(c.bump, Bump::Major);
    assert_eq!(c.what, "enum value \"expert\" removed");
}

#[test]
fn tightening_a_constraint_is_major_and_relaxing_it_is_minor() {
    for (keyword, loose, tight) in [
        ("maxLength", json!(200), json!(100)),
        ("minLength", json!(0), json!(1)),
        ("maximum", json!(100), json!(50)),
        ("minimum", json!(0), json!(10)),
        ("maxItems", json!(10), json!(5)),
        ("exclusiveMinimum", json!(0), json!(1)),
    ] {
        let schema = |v: &Value| {
            let mut field = json!({ "type": "integer" });
            field[keyword] = v.clone();
            event("1.0", json!({ "f": field }), &["f"])
        };
        let (tighten, relax) = both_ways(schema(&loose), schema(&tight));
        let c = only(&tighten);
        assert_eq!(
            (c.bump, c.pointer.clone()),
            (Bump::Major, format!("/properties/f/{keyword}")),
            "{keyword}"
        );
        assert!(c.what.contains("tightened"), "{}", c.what);
        let c = only(&relax);
        assert_eq!(c.bump, Bump::Minor, "{keyword}");
        assert!(c.what.contains("relaxed"), "{}", c.what);
    }
    // Adding a bound tightens, removing it relaxes; likewise `pattern`.
    let (add, remove) = both_ways(
        event("1.0", json!({ "code": { "type": "string" } }), &[]),
        event(
            "1.1",
            json!({ "code": { "type": "string", "pattern": "^[A-Z]{3}$" } }),
            &[],
        ),
    );
    assert_eq!(only(&add).bump, Bump::Major);
    assert_eq!(only(&remove).bump, Bump::Minor);
}

#[test]
fn nested_objects_are_compared_recursively() {
    let address = |required: &[&str]| json!({ "type": "object", "properties": { "city": { "type": "string" }, "zip": { "type": "string" } }, "required": required });
    let (fwd, back) = both_ways(
        event(
            "1.0",
            json!({ "address": address(&["city"]) }),
            &["address"],
        ),
        event(
            "1.1",
            json!({ "address": address(&["city", "zip"]) }),
            &["address"],
        ),
    );
    let c = only(&fwd);
    assert_eq!(
        (c.bump, c.pointer.as_str()),
        (Bump::Major, "/properties/address/properties/zip")
    );
    assert_eq!(only(&back).bump, Bump::Major);
}

#[test]
fn array_items_are_compared_recursively() {
    let (fwd, back) = both_ways(
        event(
            "1.0",
            json!({ "tags": { "type": "array", "items": { "type": "string" } } }),
            &[],
        ),
        event(
            "1.1",
            json!({ "tags": { "type": "array", "items": { "type": "integer" } } }),
            &[],
        ),
    );
    assert_eq!(only(&fwd).pointer, "/properties/tags/items/type");
    assert_eq!(only(&back).bump, Bump::Major);
    let (same, _) = both_ways(
        event(
            "1.0",
            json!({ "tags": { "type": "array", "items": { "type": "string" } } }),
            &[],
        ),
        event(
            "1.1",
            json!({ "tags": { "type": "array", "items": { "type": "string", "description": "Tags." } } }),
            &[],
        ),
    );
    assert_eq!(same, vec![]);
}

#[test]
fn refs_to_shared_definitions_are_followed() {
    let money = |required: Value| json!({ "type": "object", "properties": { "amount": { "type": "integer" }, "currency": { "type": "string" } }, "required": required });
    let schema = event(
        "1.0",
        json!({ "price": { "$ref": "../common/money.json" } }),
        &["price"],
    );
    let old = catalog(&[
        ("e/a.json", schema.clone()),
        ("common/money.json", money(json!(["amount"]))),
    ]);
    let new = catalog(&[
        ("e/a.json", schema),
        ("common/money.json", money(json!(["amount", "currency"]))),
    ]);
    let changes = diff(
        SchemaRef {
            files: &old,
            file: "e/a.json".as_ref(),
        },
        SchemaRef {
            files: &new,
            file: "e/a.json".as_ref(),
        },
    );
    let c = only(&changes);
    assert_eq!(
        (c.bump, c.pointer.as_str()),
        (Bump::Major, "/properties/price/properties/currency")
    );

    // `$defs` in the same file too.
    let local = |t: &str| {
        let mut s = event("1.0", json!({ "id": { "$ref": "#/$defs/Id" } }), &["id"]);
        s["$defs"] = json!({ "Id": { "type": t } });
        s
    };
    let (fwd, _) = both_ways(local("string"), local("integer"));
    assert_eq!(only(&fwd).pointer, "/properties/id/type");
}

#[test]
fn one_of_variants_are_matched_by_their_discriminator() {
    let card = json!({ "type": "object", "properties": { "kind": { "const": "card" }, "last4": { "type": "string" } }, "required": ["kind"] });
    let bank = json!({ "type": "object", "properties": { "kind": { "const": "bank" }, "iban": { "type": "string" } }, "required": ["kind"] });
    let mut bank_strict = bank.clone();
    bank_strict["required"] = json!(["kind", "iban"]);
    let with = |variants: Vec<Value>| {
        event(
            "1.0",
            json!({ "method": { "oneOf": variants } }),
            &["method"],
        )
    };

    let (added, removed) = both_ways(
        with(vec![card.clone()]),
        with(vec![card.clone(), bank.clone()]),
    );
    assert_eq!(only(&added).bump, Bump::Major);
    assert!(
        only(&added).what.starts_with("variant kind=\"bank\" added"),
        "{}",
        only(&added).what
    );
    assert!(
        only(&removed)
            .what
            .starts_with("variant kind=\"bank\" removed")
    );

    // Reordered variants are the same variants; a changed one is compared.
    let (reordered, _) = both_ways(
        with(vec![card.clone(), bank.clone()]),
        with(vec![bank.clone(), card.clone()]),
    );
    assert_eq!(reordered, vec![]);
    let (changed, _) = both_ways(
        with(vec![card.clone(), bank]),
        with(vec![card, bank_strict]),
    );
    assert_eq!(
        only(&changed).pointer,
        "/properties/method/oneOf/1/properties/iban"
    );
}

#[test]
fn accepting_null_is_minor_for_optional_fields_only() {
    let f = |t: Value, required: &[&str]| event("1.0", json!({ "note": { "type": t } }), required);
    let (fwd, back) = both_ways(f(json!("string"), &[]), f(json!(["string", "null"]), &[]));
    assert_eq!(only(&fwd).bump, Bump::Minor);
    assert_eq!(only(&back).bump, Bump::Major);
    let (fwd, _) = both_ways(
        f(json!("string"), &["note"]),
        f(json!(["string", "null"]), &["note"]),
    );
    assert_eq!(only(&fwd).bump, Bump::Major);
}

#[test]
fn documentation_changes_need_no_version() {
    let mut new = event(
        "1.0",
        json!({ "score": { "type": "integer", "description": "Out of 100." } }),
        &["score"],
    );
    new["description"] = json!("Reworded.");
    let (fwd, back) = both_ways(
        event("1.0", json!({ "score": { "type": "integer" } }), &["score"]),
        new,
    );
    assert_eq!(fwd, vec![]);
    assert_eq!(back, vec![]);
}

#[test]
fn contract_fields_of_the_event_block_are_major() {
    let old = event("1.0", json!({ "id": { "type": "string" } }), &["id"]);
    let mut new = old.clone();
    new["x-event"]["ordering"] = json!("per-entity");
    new["x-event"]["partitionKey"] = json!("id");
    let (fwd, _) = both_ways(old, new);
    assert_eq!(fwd.len(), 2, "{fwd:#?}");
    assert!(fwd.iter().all(|c| c.bump == Bump::Major));
    assert_eq!(fwd[0].pointer, "/x-event/ordering");
}

#[test]
fn a_published_version_may_change_its_descriptions_only() {
    let v10 = event("1.0", json!({ "score": { "type": "integer" } }), &["score"]);
    let previous = catalog(&[("e/enrollment.completed.v1.0.json", v10.clone())]);

    let mut reworded = v10.clone();
    reworded["properties"]["score"]["description"] = json!("Final score.");
    reworded["x-event"]["consumers"] =
        json!([{ "service": "analytics-service", "reason": "metrics" }]);
    assert_eq!(
        check_against(
            &previous,
            &catalog(&[("e/enrollment.completed.v1.0.json", reworded)])
        ),
        vec![]
    );

    let mut changed = v10;
    changed["properties"]["score"]["maximum"] = json!(100);
    let findings = check_against(
        &previous,
        &catalog(&[("e/enrollment.completed.v1.0.json", changed)]),
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].pointer, "/properties/score/maximum");
    assert_eq!(findings[0].what, "published version 1.0 changed");
    assert!(
        findings[0]
            .fix
            .starts_with("revert it and publish the change as 1.1 (if compatible) or 2.0")
    );
}

#[test]
fn removed_event_types_and_versions_are_reported() {
    let previous = catalog(&[
        ("e/a.v1.0.json", event("1.0", json!({}), &[])),
        ("e/a.v1.1.json", event("1.1", json!({}), &[])),
    ]);
    let current = catalog(&[("e/a.v1.0.json", event("1.0", json!({}), &[]))]);
    let findings = check_against(&previous, &current);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].what, "published version 1.1 removed");
    let findings = check_against(&previous, &catalog(&[]));
    assert_eq!(findings.len(), 2);
    assert!(
        findings
            .iter()
            .all(|f| f.what == "published event type removed")
    );
}

#[test]
fn a_changed_shared_definition_changes_the_published_version() {
    let schema = event(
        "1.0",
        json!({ "price": { "$ref": "../common/money.json" } }),
        &["price"],
    );
    let previous = catalog(&[
        ("e/a.json", schema.clone()),
        ("common/money.json", json!({ "type": "integer" })),
    ]);
    let current = catalog(&[
        ("e/a.json", schema),
        ("common/money.json", json!({ "type": "string" })),
    ]);
    let findings = check_against(&previous, &current);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].pointer, "/properties/price/type");
}

#[test]
fn ref_cycles_and_escapes_are_reported_not_followed() {
    let mut cyclic = event("1.0", json!({ "a": { "$ref": "#/$defs/A" } }), &[]);
    cyclic["$defs"] = json!({ "A": { "$ref": "#/$defs/B" }, "B": { "$ref": "#/$defs/A" } });
    let (fwd, _) = both_ways(cyclic.clone(), cyclic);
    assert!(
        fwd.iter().any(|c| c.what.contains("does not end")),
        "{fwd:#?}"
    );

    let escaping = event("1.0", json!({ "a": { "$ref": "../../outside.json" } }), &[]);
    let (fwd, _) = both_ways(escaping.clone(), escaping);
    assert!(
        fwd.iter().any(|c| c.what.contains("cannot be resolved")),
        "{fwd:#?}"
    );
}

/// `load_dir` (behind `compat`, `docs` and `alerts`) walks the folder as
/// generation does: a symbolic link is not followed. Two links back to
/// the folder made the old walk branch twice per level, forty levels deep
/// before the kernel stopped it, and a link to a file outside the folder
/// was read as part of the catalog.
#[cfg(unix)]
#[test]
fn load_dir_does_not_follow_symbolic_links() {
    let dir = std::env::temp_dir().join(format!("compat-links-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = dir.join("schemas");
    std::fs::create_dir_all(root.join("course")).unwrap();
    std::fs::write(root.join("course/a.json"), r#"{"type": "object"}"#).unwrap();
    let outside = dir.join("outside.json");
    std::fs::write(&outside, r#"{"secret": true}"#).unwrap();
    std::os::unix::fs::symlink(&root, root.join("course/loop-1")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("course/loop-2")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("leak.json")).unwrap();

    let files = event_codegen::compat::load_dir(&root).unwrap();
    let names: Vec<_> = files.keys().cloned().collect();
    assert_eq!(names, vec![PathBuf::from("course/a.json")]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_dir_names_the_file_that_is_not_json() {
    let dir = std::env::temp_dir().join(format!("compat-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("shop")).unwrap();
    std::fs::write(dir.join("shop/broken.json"), "{\"type\": ").unwrap();
    let err = event_codegen::compat::load_dir(&dir).unwrap_err();
    assert!(err.contains("shop/broken.json"), "{err}");
    assert!(err.contains("EOF"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
