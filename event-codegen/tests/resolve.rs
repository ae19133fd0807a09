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
