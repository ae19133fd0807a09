//! The bad-schema suite: every case under `tests/bad/` (a `.json` file, or
//! a folder that is a schema root of its own) must fail with exactly the
//! diagnostics in `tests/bad/<case>.stderr`.
//!
//! `UPDATE_EXPECT=1 cargo test -p event-codegen --test bad` rewrites the
//! expectations; read every diff before committing.

use event_codegen::{Config, Error, Lint, LintLevel, Severity};
use std::path::{Path, PathBuf};

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad")
}

/// The schema files of a case: (path relative to the case root, bytes).
fn sources(case: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if case.is_file() {
        let name = PathBuf::from(case.file_name().unwrap());
        return vec![(name, std::fs::read(case).unwrap())];
    }
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        for entry in std::fs::read_dir(case.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let rel = rel.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                dirs.push(rel);
            } else {
                out.push((rel.clone(), std::fs::read(case.join(rel)).unwrap()));
            }
        }
    }
    out
}

fn run(sources: Vec<(PathBuf, Vec<u8>)>) -> Result<event_codegen::Generation, Error> {
    Config::new()
        .cargo_directives(false)
        .generate_sources(sources)
}

#[test]
fn every_bad_schema_has_its_exact_diagnostic() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(bad_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "only {} bad schemas", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let rendered = match run(sources(case)) {
            Err(Error::Schema(d)) => d.render(),
            Err(e) => format!("unexpected error: {e}"),
            Ok(_) => "no error".to_string(),
        };
        let expected_path = bad_dir().join(format!("{name}.stderr"));
        if update {
            std::fs::write(&expected_path, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != rendered || !rendered.starts_with("error[") {
            failures.push(format!("{name}: expected\n{expected}\ngot\n{rendered}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A 10 MB schema is refused before it is parsed.
#[test]
fn a_ten_megabyte_schema_is_refused() {
    let mut text = String::from("{ \"description\": \"");
    text.push_str(&"a".repeat(10 * 1024 * 1024));
    text.push_str("\" }");
    let Err(Error::Schema(d)) = run(vec![("big.json".into(), text.into_bytes())]) else {
        panic!("a 10 MB schema was accepted");
    };
    let all: Vec<_> = d.iter().collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].code, "schema-too-large");
    assert_eq!(all[0].file, Path::new("big.json"));
    assert!(
        all[0].message.contains(&format!("{} bytes", text_len(10))),
        "{}",
        all[0].message
    );
}

fn text_len(megabytes: usize) -> usize {
    megabytes * 1024 * 1024 + "{ \"description\": \"\" }".len()
}

/// A published catalog of one large file is read with a higher limit, from
/// a folder as from memory; the folder's file over the limit is reported
/// with its size and never read.
#[test]
fn a_large_file_is_read_with_a_raised_limit() {
    let dir = std::env::temp_dir().join(format!("event-codegen-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from("{ \"description\": \"");
    text.push_str(&"a".repeat(2 * 1024 * 1024));
    text.push_str("\" }");
    std::fs::write(dir.join("big.json"), &text).unwrap();
    let mut config = Config::new();
    config.schema_root(&dir).cargo_directives(false);
    let Err(Error::Schema(d)) = config.check() else {
        panic!("a 2 MiB schema was read at the default limit");
    };
    let all: Vec<_> = d.iter().collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].code, "schema-too-large");
    assert_eq!(all[0].file, Path::new("big.json"));
    assert!(
        all[0]
            .message
            .contains(&format!("is {} bytes", text_len(2))),
        "{}",
        all[0].message
    );
    let generation = config
        .max_schema_bytes(4 << 20)
        .check()
        .unwrap_or_else(|e| panic!("the raised limit: {e}"));
    assert_eq!(generation.shared.len(), 1, "{generation}");
    let from_memory = Config::new()
        .max_schema_bytes(4 << 20)
        .generate_sources(vec![("big.json".into(), text.into_bytes())]);
    assert!(from_memory.is_ok(), "{:?}", from_memory.err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A minified schema, one line of thousands of characters, shows a window
/// of that line around the problem, the caret under it, and the true line
/// and column.
#[test]
fn a_minified_schema_shows_a_window_of_its_line() {
    let properties: Vec<String> = (0..200)
        .map(|i| format!(r#""p{i}":{{"type":"string","description":"Property {i}."}}"#))
        .collect();
    let (before, after) = properties.split_at(100);
    let text = format!(
        r#"{{"type":"object","properties":{{{},"x":{{"type":"strng"}},{}}}}}"#,
        before.join(","),
        after.join(","),
    );
    assert!(text.len() > 9_000 && !text.contains('\n'));
    let Err(Error::Schema(d)) = run(vec![("min.json".into(), text.clone().into_bytes())]) else {
        panic!("accepted");
    };
    let out = d.render();
    let column = text.find(r#""strng""#).unwrap() + 1;
    assert!(out.contains(&format!("min.json:1:{column}\n")), "{out}");
    let longest = out.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest <= 140, "a line of {longest} characters:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    let source = lines.iter().position(|l| l.starts_with("1 │ ")).unwrap();
    let carets = lines[source + 1];
    let caret = carets.chars().position(|c| c == '^').unwrap();
    let under: String = lines[source].chars().skip(caret).collect();
    assert!(under.starts_with("\"strng\"},"), "{out}");
    assert!(
        carets.ends_with(" ^^^^^^^ at `/properties/x/type`"),
        "{out}"
    );
    assert_eq!(lines[source].matches('\u{2026}').count(), 2, "{out}");
}

/// Nesting far past the limit is an error, not a stack overflow.
#[test]
fn a_deeply_nested_schema_is_an_error_not_a_crash() {
    let text = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let Err(Error::Schema(d)) = run(vec![("deep.json".into(), text.into_bytes())]) else {
        panic!("accepted");
    };
    let first = d.iter().next().unwrap();
    assert_eq!(
        first.message,
        "not valid JSON: nesting deeper than 128 levels"
    );
    assert_eq!((first.line, first.column), (1, 641));
}

/// Every problem of a run is reported together, each located.
#[test]
fn all_problems_of_a_run_come_together() {
    let a = br#"{ "type": "object", "properties": { "a": { "type": "strng" } } }"#.to_vec();
    let b = b"{ \"type\": \"object\",\n  \"properties\": { \"b\": { \"format\": \"ipv4\" }, \"c\": { \"$ref\": \"../x.json\" } } }".to_vec();
    let Err(Error::Schema(d)) = run(vec![("a.json".into(), a), ("b.json".into(), b)]) else {
        panic!("accepted");
    };
    let found: Vec<(String, String, usize, usize, &str)> = d
        .iter()
        .map(|d| {
            (
                d.file.display().to_string(),
                d.pointer.clone(),
                d.line,
                d.column,
                d.code,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "a.json".to_string(),
                "/properties/a/type".to_string(),
                1,
                52,
                "bad-type"
            ),
            (
                "b.json".to_string(),
                "/properties/b/format".to_string(),
                2,
                36,
                "unknown-format"
            ),
            (
                "b.json".to_string(),
                "/properties/c/$ref".to_string(),
                2,
                61,
                "ref-outside-root"
            ),
        ]
    );
}

/// A lint lowered to a warning no longer fails the run, and is still
/// reported.
#[test]
fn a_lint_can_be_lowered_to_a_warning() {
    let case = bad_dir().join("lint-missing-consumer");
    let generation = Config::new()
        .cargo_directives(false)
        .lint(Lint::MissingConsumer, LintLevel::Warn)
        .generate_sources(sources(&case))
        .unwrap();
    let all: Vec<_> = generation.diagnostics.iter().collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].severity, Severity::Warning);
    assert_eq!(all[0].code, "missing-consumer");
    assert!(generation.code.contains("pub struct CoursePublishedV1"));
}

/// A published version that changed is reported against the previous
/// release, located in the current file.
#[test]
fn a_changed_published_version_is_reported() {
    let previous = Path::new(env!("CARGO_TARGET_TMPDIR")).join("previous-release");
    let current = Path::new(env!("CARGO_TARGET_TMPDIR")).join("current-release");
    for dir in [&previous, &current] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
    }
    let case = bad_dir().join("lint-missing-consumer/course.published.v1.0.json");
    let text = std::fs::read_to_string(&case).unwrap().replace(
        "\"consumers\": []",
        "\"consumers\": [{ \"service\": \"s\", \"reason\": \"r\" }]",
    );
    std::fs::write(previous.join("course.published.v1.0.json"), &text).unwrap();
    let changed = text.replace("\"format\": \"uuid\"", "\"maxLength\": 36");
    assert_ne!(changed, text);
    std::fs::write(current.join("course.published.v1.0.json"), changed).unwrap();
    let Err(Error::Schema(d)) = Config::new()
        .schema_root(&current)
        .against(&previous)
        .cargo_directives(false)
        .check()
    else {
        panic!("a changed published version was accepted");
    };
    let all: Vec<_> = d.iter().collect();
    assert_eq!(all.len(), 1, "{}", d.render());
    assert_eq!(all[0].code, "published-changed");
    assert!(
        all[0].pointer.starts_with("/properties/courseId"),
        "{}",
        all[0].pointer
    );
    assert_eq!(all[0].file, Path::new("course.published.v1.0.json"));
}

/// No input makes the generator panic: every prefix of every golden schema
/// (most of them broken JSON, some valid JSON with half a schema) is either
/// generated or refused with diagnostics.
#[test]
fn no_prefix_of_a_schema_panics() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for case in [
        "keywords/course.published.v1.0.json",
        "unions/payment.received.v1.0.json",
        "refs/orders/order.placed.v1.0.json",
    ] {
        let text = std::fs::read(golden.join(case)).unwrap();
        let mut refused = 0;
        for end in 0..text.len() {
            let name = PathBuf::from(case);
            let result = std::panic::catch_unwind(|| run(vec![(name, text[..end].to_vec())]));
            match result {
                Ok(Err(Error::Schema(d))) => {
                    assert!(d.has_errors());
                    refused += 1;
                }
                // The whole document, short of trailing whitespace, is fine.
                Ok(Ok(_)) if text[..end].trim_ascii_end() == text.trim_ascii_end() => {}
                Ok(other) => panic!("{case}[..{end}]: {other:?}"),
                Err(_) => panic!("{case}[..{end}] panicked"),
            }
        }
        assert!(
            refused >= text.trim_ascii_end().len(),
            "{case}: a truncated schema was accepted"
        );
    }
}
