//! The Markdown catalog: the committed `docs/catalog/` is what the bundled
//! `schemas/` render to (`UPDATE_DOCS=1` rewrites it), and the pages of a
//! small fixture catalog say what a reader needs.

use event_codegen::compat::load_dir;
use event_codegen::docs::{render_catalog, write_pages};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(dir: &Path) -> BTreeMap<PathBuf, Value> {
    load_dir(dir).unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

fn fixture() -> BTreeMap<PathBuf, Value> {
    load(&crate_dir().join("tests/fixtures/docs"))
}

fn fixture_pages() -> BTreeMap<PathBuf, String> {
    render_catalog(&fixture()).unwrap_or_else(|e| panic!("render_catalog failed:\n{e}"))
}

/// Every `*.md` file under `dir`, by path relative to it.
fn markdown_files(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.insert(path.strip_prefix(root).unwrap_or(&path).to_path_buf(), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn committed_catalog_is_up_to_date_with_the_schemas() {
    let schemas = crate_dir().join("../schemas");
    let committed_dir = crate_dir().join("../docs/catalog");
    let pages =
        render_catalog(&load(&schemas)).unwrap_or_else(|e| panic!("render_catalog failed:\n{e}"));
    let committed = markdown_files(&committed_dir);

    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        write_pages(&committed_dir, &pages).unwrap_or_else(|e| panic!("writing docs/catalog: {e}"));
        return;
    }

    let mut problems = Vec::new();
    for (rel, text) in &pages {
        match committed.get(rel) {
            None => problems.push(format!("docs/catalog/{} is missing", rel.display())),
            Some(old) if old != text => {
                let line = old
                    .lines()
                    .zip(text.lines())
                    .position(|(a, b)| a != b)
                    .map_or_else(
                        || old.lines().count().min(text.lines().count()) + 1,
                        |i| i + 1,
                    );
                problems.push(format!(
                    "docs/catalog/{} differs from line {line}",
                    rel.display()
                ));
            }
            Some(_) => {}
        }
    }
    for rel in committed.keys().filter(|p| !pages.contains_key(*p)) {
        problems.push(format!(
            "docs/catalog/{} documents no event type any more",
            rel.display()
        ));
    }
    assert!(
        problems.is_empty(),
        "the committed catalog is out of date with schemas/:\n{}\nrun `UPDATE_DOCS=1 cargo test -p event-codegen --test docs` and review the diff",
        problems.join("\n")
    );
}

#[test]
fn the_index_has_one_line_per_event_type_under_its_domain() {
    let pages = fixture_pages();
    assert_eq!(
        pages
            .keys()
            .map(|p| p.to_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "README.md",
            "enrollment/enrollment.completed.md",
            "payment/payment.received.md"
        ]
    );
    let index = &pages[Path::new("README.md")];
    let enrollment = index
        .find("\n## enrollment\n")
        .expect("an enrollment section");
    let payment = index.find("\n## payment\n").expect("a payment section");
    let line = |ty: &str| {
        let lines: Vec<(usize, &str)> = index
            .match_indices(&format!("| [`{ty}`]"))
            .map(|(i, _)| (i, &index[i..]))
            .collect();
        assert_eq!(lines.len(), 1, "one index line for {ty}");
        let (at, rest) = lines[0];
        (at, rest.lines().next().unwrap().to_owned())
    };
    let (at, row) = line("enrollment.completed");
    assert!(enrollment < at && at < payment);
    assert_eq!(
        row,
        "| [`enrollment.completed`](enrollment/enrollment.completed.md) | 1.0, 1.1 | `enrollment-service` | `analytics-service`, `certificate-service` | A learner completed a course. |"
    );
    let (at, row) = line("payment.received");
    assert!(payment < at);
    assert!(
        row.contains("| 1.0 | `billing-service` | `enrollment-service` |"),
        "{row}"
    );
}

#[test]
fn an_optional_field_added_in_a_minor_says_since_which_version() {
    let pages = fixture_pages();
    let page = &pages[Path::new("enrollment/enrollment.completed.md")];
    assert!(
        page.contains("| `totalDuration` | `integer` | no | 1.1 | Minutes spent in the course. | `minimum: 0` |"),
        "{page}"
    );
    assert!(
        page.contains(
            "| `score` | `integer` | yes | 1.0 | Final score. | `minimum: 0`, `maximum: 100` |"
        ),
        "{page}"
    );
}

#[test]
fn the_version_history_lists_the_checkers_changes() {
    let pages = fixture_pages();
    let page = &pages[Path::new("enrollment/enrollment.completed.md")];
    let history = &page[page.find("## Version history").expect("a version history")..];
    assert_eq!(
        history.trim_end(),
        "## Version history\n\n### 1.0\n\nFirst version.\n\n### 1.0 → 1.1 (minor)\n\n- `/properties/totalDuration`: optional property `totalDuration` added (minor)"
    );
}

#[test]
fn a_change_that_needs_a_major_is_flagged_in_the_history() {
    let mut files = fixture();
    let v11 = PathBuf::from("enrollment/enrollment.completed.v1.1.json");
    files.get_mut(&v11).unwrap()["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("totalDuration"));
    let pages = render_catalog(&files).unwrap();
    let page = &pages[Path::new("enrollment/enrollment.completed.md")];
    assert!(page.contains(
        "**These changes need a new major version; `event-codegen check` rejects them.**"
    ));
    assert!(page.contains(
        "- `/properties/totalDuration`: required property `totalDuration` added (major)"
    ));
}

/// The ```mermaid blocks of a page.
fn mermaid_blocks(page: &str) -> Vec<&str> {
    page.split("```mermaid\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect()
}

#[test]
fn diagrams_show_the_producer_and_every_consumer() {
    let pages = fixture_pages();
    let page = &pages[Path::new("enrollment/enrollment.completed.md")];
    let blocks = mermaid_blocks(page);
    assert_eq!(blocks.len(), 1, "one diagram per major");
    let diagram = blocks[0];
    assert!(diagram.starts_with("flowchart LR\n"));
    assert!(
        diagram.contains("p[\"enrollment-service\"] --> e([\"enrollment.completed v1\"])"),
        "{diagram}"
    );
    assert!(
        diagram.contains("e -->|\"issues the certificate\"| c0[\"certificate-service\"]"),
        "{diagram}"
    );
    assert!(
        diagram.contains("e -->|\"records completion metrics\"| c1[\"analytics-service\"]"),
        "{diagram}"
    );

    // The whole catalog: each service once, an edge from each producer to
    // its event and from the event to each consumer.
    let index = &pages[Path::new("README.md")];
    let blocks = mermaid_blocks(index);
    assert_eq!(blocks.len(), 1);
    let diagram = blocks[0];
    let id_of = |label: &str| {
        let lines: Vec<&str> = diagram
            .lines()
            .filter(|l| l.contains(&format!("\"{label}\"")))
            .collect();
        assert_eq!(lines.len(), 1, "{label} declared once in\n{diagram}");
        lines[0].trim().split(['[', '(']).next().unwrap().to_owned()
    };
    let edges: BTreeSet<(String, String)> = diagram
        .lines()
        .filter_map(|l| l.trim().split_once(" --> "))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("enrollment-service", "enrollment.completed"),
        ("enrollment.completed", "certificate-service"),
        ("enrollment.completed", "analytics-service"),
        ("billing-service", "payment.received"),
        ("payment.received", "enrollment-service"),
    ]
    .iter()
    .map(|(a, b)| (id_of(a), id_of(b)))
    .collect();
    assert_eq!(edges, expected);
}

/// The sample envelope of a page's first ```json block.
fn first_sample(page: &str) -> Value {
    let block = page
        .split("```json\n")
        .nth(1)
        .and_then(|r| r.split("```").next())
        .expect("a sample");
    serde_json::from_str(block).unwrap_or_else(|e| panic!("the sample is not JSON: {e}\n{block}"))
}

#[test]
fn the_sample_is_a_full_envelope_with_realistic_data() {
    let pages = fixture_pages();
    let page = &pages[Path::new("payment/payment.received.md")];
    let sample = first_sample(page);
    assert_eq!(sample["type"], "payment.received");
    assert_eq!(sample["version"], "1.0");
    assert_eq!(sample["source"], "billing-service");
    for key in ["id", "timestamp", "tenantId", "correlationId"] {
        assert!(
            sample[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key} in {sample}"
        );
    }
    let data = &sample["data"];
    // Required fields are there, the first `oneOf` variant is taken,
    // patterns and formats are met, shared definitions are followed.
    assert_eq!(data["method"]["kind"], "card");
    assert_eq!(data["method"]["last4"], "0000");
    assert_eq!(data["amount"]["currency"], "EUR");
    assert_eq!(data["lines"][0]["price"]["currency"], "EUR");
    assert_eq!(data["channel"], "web");
    let id = data["paymentId"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "a version-4-shaped UUID: {id}");
    // The page is stable: rendering again gives the same text.
    assert_eq!(
        &fixture_pages()[Path::new("payment/payment.received.md")],
        page
    );
}

#[test]
fn fields_of_shared_definitions_and_variants_are_in_the_table() {
    let pages = fixture_pages();
    let page = &pages[Path::new("payment/payment.received.md")];
    for row in [
        "| `amount` | `object` (Money) | yes | 1.0 | What was paid. |  |",
        "| `amount.currency` | `string` | yes | 1.0 | ISO 4217 code. | `pattern: \"^[A-Z]{3}$\"` |",
        "| `method` | one of `Card`, `Voucher` | yes | 1.0 | How it was paid. |  |",
        "| `method.code` | `string` | yes | 1.0 | *Voucher:* The voucher code. | `pattern: \"^[A-Z0-9]{8}$\"` |",
        "| `lines` | `array` of `object` (Line) | yes | 1.0 | What was bought. | `minItems: 1` |",
        "| `lines[].price.amountMinor` | `integer` | yes | 1.0 | The amount in minor units. | `minimum: 0` |",
        "| `channel` | `string` | no | 1.0 | Where the payment was made. | one of `\"web\"`, `\"mobile\"` |",
    ] {
        assert!(page.contains(row), "missing row {row}\n{page}");
    }
    assert!(page.contains("| Delivery | exactly-once-effect |"));
    assert!(page.contains("| Idempotency key | the event id |"));
}

#[test]
fn problems_name_the_file_and_pointer() {
    let mut files = fixture();
    let v10 = PathBuf::from("enrollment/enrollment.completed.v1.0.json");
    files.get_mut(&v10).unwrap()["x-event"]["consumers"][1]
        .as_object_mut()
        .unwrap()
        .remove("reason");
    let payment = PathBuf::from("billing/payment.received.v1.0.json");
    files.get_mut(&payment).unwrap()["x-event"]["ordering"] = json!("sorted");
    let err = render_catalog(&files).unwrap_err();
    assert_eq!(
        err,
        "billing/payment.received.v1.0.json#/x-event/ordering: unknown ordering `sorted`\n\
         enrollment/enrollment.completed.v1.0.json#/x-event/consumers/1/reason: missing, or not a string"
    );

    let mut files = fixture();
    files.get_mut(&payment).unwrap()["$defs"]["Line"]["properties"]["price"]["$ref"] =
        json!("#/$defs/Nope");
    let err = render_catalog(&files).unwrap_err();
    assert!(
        err.starts_with("billing/payment.received.v1.0.json#/"),
        "{err}"
    );
    assert!(
        err.contains("`$ref` #/$defs/Nope cannot be resolved"),
        "{err}"
    );
}

#[test]
fn write_pages_writes_what_changed_and_removes_stale_pages() {
    let out = std::env::temp_dir().join(format!("event-codegen-docs-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let pages = fixture_pages();
    assert_eq!(write_pages(&out, &pages), Ok(3));
    assert_eq!(markdown_files(&out), pages);
    // Nothing changed: nothing written.
    assert_eq!(write_pages(&out, &pages), Ok(0));
    // A page of an event type that is gone is removed; other files stay.
    std::fs::write(out.join("payment/payment.refunded.md"), "old").unwrap();
    std::fs::write(out.join("notes.txt"), "kept").unwrap();
    let mut fewer = pages.clone();
    fewer.remove(Path::new("payment/payment.received.md"));
    assert_eq!(write_pages(&out, &fewer), Ok(2));
    assert_eq!(markdown_files(&out), fewer);
    assert!(out.join("notes.txt").exists());
    std::fs::remove_dir_all(&out).unwrap();
}
