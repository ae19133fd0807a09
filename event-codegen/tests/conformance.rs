//! The official JSON-Schema-Test-Suite (drafts 7 and 2020-12), read from
//! `$JSON_SCHEMA_TEST_SUITE` or `<repo>/../shared/json-schema-test-suite`.
//!
//! Every schema of the listed keyword files goes through
//! `generate_sources` (which must never panic) as a shared definition, in
//! the draft of its folder (`Config::default_dialect`). A
//! group is then either **typed** (generation succeeded) or **refused**
//! (with the code of its first error). The code of every typed group goes
//! into one crate, built once; its binary decodes each test instance into
//! the group's root type from its JSON text, as the runtime decodes a
//! payload, and runs `EventData::validate` on the value (the union and
//! newtype checks that are not part of decoding). The instance is
//! *accepted* when both succeed, and the test *agrees* when acceptance
//! equals the suite's `valid`.
//!
//! How refused groups count: a refused schema gives its user no type at
//! all, so none of its tests is answered, and every test of a refused
//! group counts as a disagreement in the overall figure, whatever its
//! `valid` (a refusal is not credited with the instances it would have
//! "refused"). The figure over typed groups alone is printed beside it.
//!
//! The agreement per draft and keyword file may not drop below the figures
//! recorded in `tests/conformance/floor.txt`: a change that loses a test
//! fails here. `CONFORMANCE_RECORD=1` rewrites the file with the current
//! figures (review the diff: it should only go up). Every disagreement is
//! written to `report.txt` in the harness crate, whose path is printed.
//!
//! Without the folder (a fresh clone) the test prints that it was skipped
//! and why; it does not pass silently. `.ci/run` points it at the folder.

use event_codegen::{Config, Dialect, Error};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    "boolean_schema",
    // ECMA-262's `\d`, `\w`, `\s`, `.` and `\cX`, which the `regex` crate
    // reads otherwise unless translated.
    "optional/ecmascript-regex",
];

const DRAFTS: &[&str] = &["draft7", "draft2020-12"];

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

/// One test of the suite.
struct Case {
    description: String,
    data: Value,
    valid: bool,
}

enum Outcome {
    /// Generated: the module holding the code and the root type's name.
    Typed { module: String, root: String },
    /// Refused, with the first error's code and message.
    Refused { code: &'static str, message: String },
}

struct Group {
    draft: &'static str,
    keyword: &'static str,
    index: usize,
    description: String,
    cases: Vec<Case>,
    outcome: Outcome,
}

/// Reads every group of the listed files and generates its schema.
fn generate(dir: &Path) -> (Vec<Group>, BTreeMap<String, String>) {
    let mut groups = Vec::new();
    let mut code = BTreeMap::new();
    for &draft in DRAFTS {
        for &keyword in KEYWORDS {
            let path = dir
                .join("tests")
                .join(draft)
                .join(format!("{keyword}.json"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
            for (index, group) in file
                .as_array()
                .expect("an array of groups")
                .iter()
                .enumerate()
            {
                let cases = group["tests"]
                    .as_array()
                    .expect("a group has tests")
                    .iter()
                    .map(|t| Case {
                        description: t["description"].as_str().unwrap_or_default().to_string(),
                        data: t["data"].clone(),
                        valid: t["valid"].as_bool().expect("a test has `valid`"),
                    })
                    .collect();
                let stem = format!("{}_{index}", keyword.replace(['/', '-'], "_"));
                let schema = serde_json::to_vec_pretty(&group["schema"]).unwrap();
                // The draft-7 files declare no `$schema`: they are read as
                // draft 7, as the suite means them.
                let dialect = if draft == "draft7" {
                    Dialect::Draft7
                } else {
                    Dialect::Draft2020_12
                };
                let result = Config::new()
                    .cargo_directives(false)
                    .default_dialect(dialect)
                    .generate_sources(vec![(PathBuf::from(format!("{stem}.json")), schema)]);
                let outcome = match result {
                    Ok(generation) => {
                        let module =
                            format!("{}_{}", draft.replace(['-', '.'], "_"), stem.to_lowercase());
                        // The root's type; a group without one is typed but
                        // cannot be tested, and counts as disagreeing.
                        let root = generation
                            .shared
                            .iter()
                            .find(|(p, _)| p == Path::new(&format!("{stem}.json")))
                            .map(|(_, n)| n.clone())
                            .unwrap_or_default();
                        code.insert(module.clone(), generation.code);
                        Outcome::Typed { module, root }
                    }
                    Err(Error::Schema(d)) => {
                        let first = d
                            .iter()
                            .find(|d| d.severity == event_codegen::Severity::Error)
                            .expect("a refusal has an error");
                        Outcome::Refused {
                            code: first.code,
                            message: first.message.clone(),
                        }
                    }
                    Err(e) => panic!("{draft}/{keyword} group {index}: unexpected error {e}"),
                };
                groups.push(Group {
                    draft,
                    keyword,
                    index,
                    description: group["description"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    cases,
                    outcome,
                });
            }
        }
    }
    (groups, code)
}

/// Writes the harness crate for the typed groups in `modules`.
fn write_crate(
    krate: &Path,
    groups: &[Group],
    code: &BTreeMap<String, String>,
    modules: &BTreeSet<String>,
) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let _ = std::fs::remove_dir_all(krate.join("src"));
    std::fs::create_dir_all(krate.join("src/g")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"conformance\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nevent-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            workspace.join("event-runtime")
        ),
    )
    .unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let mut main = String::from(
        "//! Decodes each line `<group>\\t<json>` of the file named by the first\n\
         //! argument into the group's root type and validates it; prints `ok`\n\
         //! or `no\\t<why>` per line.\n\
         #![allow(warnings, clippy::all)]\n\
         use event_runtime::__private::serde_json;\n\
         use event_runtime::__private::validate::{Probe, ViaEventData as _, ViaOther as _};\n\n\
         macro_rules! check {\n    ($t:ty, $data:expr) => {{\n        \
         match serde_json::from_str::<$t>($data) {\n            \
         Ok(value) => (&Probe(&value)).validate_nested().map_err(|e| format!(\"validate: {e}\")),\n            \
         Err(e) => Err(format!(\"decode: {e}\")),\n        }\n    }};\n}\n\n",
    );
    for m in modules {
        let _ = writeln!(main, "#[path = \"g/{m}.rs\"]\nmod {m};");
        std::fs::write(krate.join(format!("src/g/{m}.rs")), &code[m]).unwrap();
    }
    main.push_str(
        "\nfn decode(group: &str, data: &str) -> Result<(), String> {\n    match group {\n",
    );
    for g in groups {
        if let Outcome::Typed { module, root } = &g.outcome {
            if modules.contains(module) && !root.is_empty() {
                let _ = writeln!(
                    main,
                    "        {module:?} => check!({module}::{root}, data),"
                );
            }
        }
    }
    main.push_str(
        "        other => Err(format!(\"no group {other}\")),\n    }\n}\n\n\
         fn main() {\n    \
         let path = std::env::args().nth(1).expect(\"the cases file\");\n    \
         let text = std::fs::read_to_string(path).expect(\"the cases file reads\");\n    \
         for line in text.lines() {\n        \
         let (group, data) = line.split_once('\\t').expect(\"<group>\\t<json>\");\n        \
         match decode(group, data) {\n            \
         Ok(()) => println!(\"ok\"),\n            \
         Err(e) => println!(\"no\\t{}\", e.replace(['\\n', '\\r'], \" \")),\n        }\n    }\n}\n",
    );
    std::fs::write(krate.join("src/main.rs"), main).unwrap();
}

/// Builds the harness; on a compile error, names the modules it is in.
fn build(krate: &Path, target: &Path) -> Result<PathBuf, (BTreeSet<String>, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--message-format=short",
            "--manifest-path",
        ])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    if out.status.success() {
        return Ok(target.join("debug/conformance"));
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let bad = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("src/g/"))
        .filter_map(|l| l.split_once(".rs:").map(|(m, _)| m.to_string()))
        .collect();
    Err((bad, stderr))
}

/// Per draft and keyword file.
#[derive(Default, Clone, Copy)]
struct Tally {
    groups: usize,
    typed: usize,
    tests: usize,
    tests_typed: usize,
    agree: usize,
    /// Tests of refused groups whose `valid` is false: what a refusal
    /// would be credited with if it counted as refusing every instance.
    invalid_refused: usize,
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".to_string()
    } else {
        format!("{:.1} %", 100.0 * n as f64 / d as f64)
    }
}

fn floor_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/floor.txt")
}

/// The recorded floor: `draft keyword tests agree` per line, and
/// `does-not-compile <module>` for each group whose generated code is known
/// not to build; `#` starts a comment.
#[derive(Default)]
struct Floor {
    agree: BTreeMap<(String, String), (usize, usize)>,
    broken: BTreeSet<String>,
}

fn read_floor() -> Floor {
    let text = std::fs::read_to_string(floor_path()).unwrap_or_default();
    let mut out = Floor::default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(module) = line.strip_prefix("does-not-compile ") {
            out.broken.insert(module.trim().to_string());
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.len(), 4, "floor.txt: bad line {line:?}");
        out.agree.insert(
            (parts[0].to_string(), parts[1].to_string()),
            (parts[2].parse().unwrap(), parts[3].parse().unwrap()),
        );
    }
    out
}

#[test]
fn suite_agreement_does_not_drop_below_the_recorded_floor() {
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
    let (groups, code) = generate(&dir);
    assert!(
        groups.len() > 300,
        "only {} groups read from {}",
        groups.len(),
        dir.display()
    );

    // One crate for every typed group, built once; a module that does not
    // compile is left out (and fails the test below) so the rest is still
    // measured.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let krate = tmp.join("conformance");
    // Shared with the compile test's crate: the dependencies build once.
    let target = tmp.join("gencheck/target");
    let mut modules: BTreeSet<String> = code.keys().cloned().collect();
    let mut broken: BTreeMap<String, String> = BTreeMap::new();
    let binary = loop {
        write_crate(&krate, &groups, &code, &modules);
        match build(&krate, &target) {
            Ok(b) => break b,
            Err((bad, stderr)) => {
                assert!(
                    !bad.is_empty() && broken.len() < 50,
                    "the conformance harness does not build:\n{stderr}"
                );
                for m in bad {
                    let prefix = format!("src/g/{m}.rs:");
                    let own: Vec<&str> =
                        stderr.lines().filter(|l| l.starts_with(&prefix)).collect();
                    modules.remove(&m);
                    broken.insert(m, own.join("\n"));
                }
            }
        }
    };

    // Every instance of a typed group, one line each.
    let mut lines = String::new();
    let mut asked = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        if let Outcome::Typed { module, root } = &g.outcome {
            if modules.contains(module) && !root.is_empty() {
                for (ci, c) in g.cases.iter().enumerate() {
                    let _ = writeln!(
                        lines,
                        "{module}\t{}",
                        serde_json::to_string(&c.data).unwrap()
                    );
                    asked.push((gi, ci));
                }
            }
        }
    }
    let cases_file = krate.join("cases.txt");
    std::fs::write(&cases_file, &lines).unwrap();
    let run = Command::new(&binary)
        .arg(&cases_file)
        .output()
        .expect("the harness runs");
    assert!(
        run.status.success(),
        "the harness failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let answers: Vec<String> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(answers.len(), asked.len(), "one answer per instance");
    let mut accepted: BTreeMap<(usize, usize), (bool, String)> = BTreeMap::new();
    for ((gi, ci), answer) in asked.into_iter().zip(answers) {
        let ok = answer == "ok";
        let why = answer.strip_prefix("no\t").unwrap_or_default().to_string();
        accepted.insert((gi, ci), (ok, why));
    }

    // Tally, and the report of every disagreement.
    let mut tallies: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
    let mut report = String::new();
    let mut refusals: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (gi, g) in groups.iter().enumerate() {
        let t = tallies.entry((g.draft, g.keyword)).or_default();
        t.groups += 1;
        t.tests += g.cases.len();
        let head = format!(
            "{}/{} group {} ({})",
            g.draft, g.keyword, g.index, g.description
        );
        match &g.outcome {
            Outcome::Refused { code, message } => {
                *refusals.entry((g.draft, code)).or_default() += 1;
                t.invalid_refused += g.cases.iter().filter(|c| !c.valid).count();
                let _ = writeln!(report, "{head}: refused, {code}: {message}");
            }
            Outcome::Typed { module, root } => {
                t.typed += 1;
                t.tests_typed += g.cases.len();
                if broken.contains_key(module) {
                    let _ = writeln!(
                        report,
                        "{head}: typed, but the generated code does not compile"
                    );
                    continue;
                }
                if root.is_empty() {
                    let _ = writeln!(report, "{head}: typed, but the file has no root type");
                    continue;
                }
                for (ci, c) in g.cases.iter().enumerate() {
                    let (ok, why) = &accepted[&(gi, ci)];
                    if *ok == c.valid {
                        t.agree += 1;
                    } else {
                        let _ = writeln!(
                            report,
                            "{head}: {:?} valid={} but {}: {}{}",
                            c.description,
                            c.valid,
                            if *ok { "accepted" } else { "refused" },
                            c.data,
                            if why.is_empty() {
                                String::new()
                            } else {
                                format!(" ({why})")
                            },
                        );
                    }
                }
            }
        }
    }
    std::fs::write(krate.join("report.txt"), &report).unwrap();

    // The table.
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:<21} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9} {:>9}",
        "draft", "keyword", "groups", "typed", "tests", "typed", "agree", "on typed", "overall"
    );
    let mut per_draft: BTreeMap<&str, Tally> = BTreeMap::new();
    for ((draft, kw), t) in &tallies {
        let _ = writeln!(
            out,
            "{draft:<13} {kw:<21} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9} {:>9}",
            t.groups,
            t.typed,
            t.tests,
            t.tests_typed,
            t.agree,
            pct(t.agree, t.tests_typed),
            pct(t.agree, t.tests)
        );
        let d = per_draft.entry(draft).or_default();
        d.groups += t.groups;
        d.typed += t.typed;
        d.tests += t.tests;
        d.tests_typed += t.tests_typed;
        d.agree += t.agree;
        d.invalid_refused += t.invalid_refused;
    }
    for (draft, t) in &per_draft {
        let _ = writeln!(
            out,
            "{draft:<13} {:<21} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9} {:>9}",
            "ALL",
            t.groups,
            t.typed,
            t.tests,
            t.tests_typed,
            t.agree,
            pct(t.agree, t.tests_typed),
            pct(t.agree, t.tests)
        );
    }
    for (draft, t) in &per_draft {
        let _ = writeln!(
            out,
            "{draft}: were a refusal counted as refusing every instance, {} of {} tests ({}) would agree",
            t.agree + t.invalid_refused,
            t.tests,
            pct(t.agree + t.invalid_refused, t.tests)
        );
    }
    let _ = writeln!(out, "refused groups by first error: {refusals:?}");
    let _ = writeln!(
        out,
        "every disagreement: {}",
        krate.join("report.txt").display()
    );
    println!("{out}");

    // The floor.
    if std::env::var_os("CONFORMANCE_RECORD").is_some() {
        let mut text = String::from(
            "# The conformance floor: per draft and keyword file of the JSON-Schema-Test-Suite,\n\
             # the number of tests and how many the generated types agree with (a refused\n\
             # group's tests count as disagreements), and the groups whose generated code\n\
             # is known not to compile (their tests count as disagreements too). Written by\n\
             # `CONFORMANCE_RECORD=1 cargo test -p event-codegen --test conformance`;\n\
             # tests/conformance.rs fails when agreement drops below it, or when another\n\
             # group's code stops compiling.\n\
             # draft keyword tests agree\n",
        );
        for ((draft, kw), t) in &tallies {
            let _ = writeln!(text, "{draft} {kw} {} {}", t.tests, t.agree);
        }
        for module in broken.keys() {
            let _ = writeln!(text, "does-not-compile {module}");
        }
        std::fs::write(floor_path(), text).unwrap();
        println!("recorded the floor in {}", floor_path().display());
    }
    let floor = read_floor();
    let mut problems = Vec::new();
    for ((draft, kw), t) in &tallies {
        match floor.agree.get(&(draft.to_string(), kw.to_string())) {
            None => problems.push(format!("{draft}/{kw}: no floor recorded")),
            Some(&(tests, _)) if tests != t.tests => problems.push(format!(
                "{draft}/{kw}: the suite has {} tests, the floor was recorded for {tests}",
                t.tests
            )),
            Some(&(_, agree)) if t.agree < agree => problems.push(format!(
                "{draft}/{kw}: {} tests agree, below the floor of {agree}",
                t.agree
            )),
            Some(&(_, agree)) if t.agree > agree => println!(
                "{draft}/{kw}: {} tests agree, above the floor of {agree}: raise it with CONFORMANCE_RECORD=1",
                t.agree
            ),
            Some(_) => {}
        }
    }
    for (draft, kw) in floor.agree.keys() {
        if !tallies.contains_key(&(draft.as_str(), kw.as_str())) {
            problems.push(format!(
                "{draft}/{kw}: recorded in the floor, but the suite has no such file"
            ));
        }
    }
    for (module, stderr) in &broken {
        if floor.broken.contains(module) {
            println!("known not to compile, {module}:\n{stderr}");
        } else {
            problems.push(format!(
                "the generated code of {module} does not compile:\n{stderr}"
            ));
        }
    }
    for module in &floor.broken {
        if !broken.contains_key(module) {
            println!("{module} compiles now: remove it from the floor with CONFORMANCE_RECORD=1");
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
