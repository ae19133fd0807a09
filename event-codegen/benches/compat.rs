//! The compatibility check over a catalog of 1,000 event types with 3
//! versions each (1.0 from `synth.rs`; 1.1 adds an optional property; 1.2
//! adds an enum value and relaxes a bound), against a baseline measured in
//! the same run: parsing the same 3,000 files with `serde_json`.
//!
//! `cargo bench -p event-codegen --bench compat`

use criterion::{Criterion, criterion_group, criterion_main};
use event_codegen::compat::{check_against, check_evolution};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;

#[path = "synth.rs"]
mod synth;

/// 1.0, 1.1 and 1.2 of every synthetic event type, as files.
fn three_versions(n: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::with_capacity(3 * n);
    for (path, bytes) in synth::catalog(n) {
        let v10: Value = serde_json::from_slice(&bytes).expect("synthetic schema is JSON");
        let mut v11 = v10.clone();
        v11["x-event"]["version"] = json!("1.1");
        v11["properties"]["note"] = json!({ "type": "string", "description": "Added in 1.1." });
        let mut v12 = v11.clone();
        v12["x-event"]["version"] = json!("1.2");
        v12["properties"]["status"]["enum"] = json!(["active", "paused", "closed", "archived"]);
        v12["properties"]["quantity"]["maximum"] = json!(5000);
        let stem = path
            .to_string_lossy()
            .trim_end_matches("v1.0.json")
            .to_owned();
        for (version, value) in [("1.0", v10), ("1.1", v11), ("1.2", v12)] {
            let file = PathBuf::from(format!("{stem}v{version}.json"));
            out.push((file, serde_json::to_vec(&value).expect("serialises")));
        }
    }
    out
}

fn parse(files: &[(PathBuf, Vec<u8>)]) -> BTreeMap<PathBuf, Value> {
    files
        .iter()
        .map(|(p, b)| (p.clone(), serde_json::from_slice(b).expect("JSON")))
        .collect()
}

fn compat(c: &mut Criterion) {
    let files = three_versions(1000);
    let parsed = parse(&files);
    // The catalog is compatible: a check that found something would be
    // measuring the wrong thing.
    assert_eq!(parsed.len(), 3000);
    assert!(check_evolution(&parsed).is_empty());
    assert!(check_against(&parsed, &parsed).is_empty());

    let mut group = c.benchmark_group("compat_1000_types_3_versions");
    group.sample_size(20);
    group.bench_function("baseline_serde_json_parse", |b| {
        b.iter(|| parse(black_box(&files)))
    });
    group.bench_function("check_evolution", |b| {
        b.iter(|| check_evolution(black_box(&parsed)))
    });
    group.bench_function("check_against_previous_release", |b| {
        b.iter(|| check_against(black_box(&parsed), black_box(&parsed)))
    });
    group.finish();
}

criterion_group!(benches, compat);
criterion_main!(benches);
