//! The official JSON-Schema-Test-Suite (drafts 7 and 2020-12), read from
//! `$JSON_SCHEMA_TEST_SUITE` or `<repo>/../shared/json-schema-test-suite`.
//!
//! This is the first half of the conformance check: every schema of the
//! listed keyword files goes through `generate_sources`, which must never
//! panic, and each group is counted as generated or refused (with the code
//! it is refused by). The second half, decoding each test instance into
//! the generated types and comparing with `valid`, is not written yet; so
//! "generated" here says only that generation succeeded, not that every
//! keyword of the group is honoured (a root enum of numbers, for one,
//! still comes out as an empty struct).
//!
//! Without the folder (a fresh clone) the test prints that it was skipped
//! and why; it does not pass silently.

use event_codegen::{Config, Error};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const KEYWORDS: &[&str] = &[
    "type",
    "required",
    "properties",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "items",
    "additionalProperties",
    "oneOf",
    "anyOf",
    "allOf",
    "ref",
    "defs",
    "definitions",
    "default",
    "format",
];

fn suite() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("JSON_SCHEMA_TEST_SUITE") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/json-schema-test-suite"),
    };
    if dir.join("tests").is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "{} has no `tests` folder; set JSON_SCHEMA_TEST_SUITE or place the suite beside the clone",
            dir.display()
        ))
    }
}

#[derive(Default)]
struct Tally {
    groups: usize,
    typed: usize,
    tests_in_typed: usize,
    refused_by: BTreeMap<&'static str, usize>,
}

#[test]
fn every_suite_schema_is_typed_or_refused_without_a_panic() {
    let dir = match suite() {
        Ok(d) => d,
        Err(why) => {
            // Straight to stderr: the harness captures `println!` of a
            // passing test, and a skip must be seen.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED conformance: {why}");
            return;
        }
    };
    let mut out = String::new();
    let mut total = 0;
    for draft in ["draft7", "draft2020-12"] {
        for kw in KEYWORDS {
            let path = dir.join("tests").join(draft).join(format!("{kw}.json"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let groups: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut tally = Tally::default();
            for (i, group) in groups.as_array().unwrap().iter().enumerate() {
                let schema = serde_json::to_vec_pretty(&group["schema"]).unwrap();
                let tests = group["tests"].as_array().map_or(0, Vec::len);
                tally.groups += 1;
                let r = Config::new()
                    .cargo_directives(false)
                    .generate_sources(vec![(PathBuf::from(format!("{kw}_{i}.json")), schema)]);
                match r {
                    Ok(_) => {
                        tally.typed += 1;
                        tally.tests_in_typed += tests;
                    }
                    Err(Error::Schema(d)) => {
                        let first = d.iter().next().expect("a refusal has a diagnostic");
                        *tally.refused_by.entry(first.code).or_default() += 1;
                    }
                    Err(e) => panic!("{draft}/{kw} group {i}: unexpected error {e}"),
                }
            }
            total += tally.groups;
            out.push_str(&format!(
                "{draft:<13} {kw:<21} groups {:>3}  generated {:>3}  refused {:>3}  tests in generated groups {:>3}  refused by {:?}\n",
                tally.groups,
                tally.typed,
                tally.groups - tally.typed,
                tally.tests_in_typed,
                tally.refused_by
            ));
        }
    }
    println!("{out}");
    assert!(
        total > 200,
        "only {total} groups read from {}",
        dir.display()
    );
}
