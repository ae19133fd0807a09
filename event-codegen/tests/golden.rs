//! Golden files: the generated code of every schema folder under
//! `tests/golden/`, compared with `tests/golden/<case>.rs`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p event-codegen --test golden` rewrites the
//! snapshots; review the diff before committing.

use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[test]
fn generated_code_matches_the_snapshots() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 7, "golden cases missing");
    for case in cases {
        let generation = event_codegen::Config::new()
            .schema_root(&case)
            .cargo_directives(false)
            .check()
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let snapshot = case.with_extension("rs");
        if update {
            std::fs::write(&snapshot, &generation.code).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
        if expected != generation.code {
            failures.push(format!(
                "{} differs from the generated code (UPDATE_GOLDEN=1 rewrites it):\n{}",
                snapshot.display(),
                generation.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The issue's budget: a simple event is at most 40 non-blank lines. The
/// budget is the event type's; the catalog's routing (its enum and the
/// per-service types) is counted apart, in the snapshot.
#[test]
fn a_simple_event_is_compact() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/simple-event");
    let generation = event_codegen::Config::new()
        .schema_root(dir)
        .cargo_directives(false)
        .routing(false)
        .check()
        .unwrap();
    let lines = generation
        .code
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(lines <= 40, "{lines} non-blank lines:\n{}", generation.code);
}

#[test]
fn a_second_run_leaves_the_file_untouched() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/simple-event");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("unchanged");
    let _ = std::fs::remove_dir_all(&out);
    let mut config = event_codegen::Config::new();
    config
        .schema_root(dir)
        .out_dir(&out)
        .cargo_directives(false);
    let first = config.generate().unwrap();
    assert!(first.changed);
    let modified = std::fs::metadata(out.join("events.rs"))
        .unwrap()
        .modified()
        .unwrap();
    let second = config.generate().unwrap();
    assert!(!second.changed);
    assert_eq!(
        std::fs::metadata(out.join("events.rs"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
}

#[test]
fn a_renamed_runtime_crate_is_named_everywhere() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/keywords");
    let generation = event_codegen::Config::new()
        .schema_root(dir)
        .runtime_crate("::events")
        .cargo_directives(false)
        .check()
        .unwrap();
    assert!(!generation.code.contains("event_runtime"));
    assert!(
        generation
            .code
            .contains("#[derive(Debug, Clone, PartialEq, ::events::Event)]")
    );
    assert!(generation.code.contains("#[event(crate = \"::events\")]"));
}

/// Large catalogs are formatted in chunks, one per core; the text must be
/// what prettyplease prints for the whole file at once.
#[test]
fn chunked_formatting_prints_what_one_pass_prints() {
    let schema = |i: usize| {
        format!(
            r#"{{ "title": "Part{i}", "type": "object",
                "properties": {{ "name": {{ "type": "string", "description": "Name {i}." }},
                                 "level": {{ "enum": ["a", "b"] }} }} }}"#
        )
    };
    let sources = (0..300)
        .map(|i| (format!("part{i:03}.json").into(), schema(i).into_bytes()))
        .collect();
    let generation = event_codegen::Config::new()
        .cargo_directives(false)
        .generate_sources(sources)
        .unwrap();
    let body = generation.code.strip_prefix(event_codegen::HEADER).unwrap();
    let once = prettyplease::unparse(&syn::parse_file(body).unwrap());
    assert_eq!(body, once);
    assert_eq!(body.matches("pub struct Part").count(), 300);
}
