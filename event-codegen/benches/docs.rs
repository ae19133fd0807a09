//! Rendering the Markdown catalog and the AsyncAPI documents of 1,000
//! synthetic event schemas (`synth.rs`, shared with the `generate`
//! benchmark), against a baseline measured in the same run: parsing the
//! same bytes with `serde_json` into `Value`s, the least any schema reader
//! must do. The bundled `schemas/` catalog is measured too, for scale.
//!
//! `cargo bench -p event-codegen --bench docs`

use criterion::{Criterion, criterion_group, criterion_main};
use event_codegen::asyncapi::render_asyncapi;
use event_codegen::docs::render_catalog;
use serde_json::Value;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

#[path = "synth.rs"]
mod synth;

fn parse(catalog: &[(PathBuf, Vec<u8>)]) -> BTreeMap<PathBuf, Value> {
    catalog
        .iter()
        .map(|(path, bytes)| {
            (
                path.clone(),
                serde_json::from_slice(bytes).expect("synthetic schema is JSON"),
            )
        })
        .collect()
}

fn synthetic(c: &mut Criterion) {
    let catalog = synth::catalog(1000);
    let files = parse(&catalog);
    // The output is checked once, outside the measurement.
    assert_eq!(render_catalog(&files).expect("renders").len(), 1001);
    assert_eq!(render_asyncapi(&files).expect("renders").len(), 2);

    let mut group = c.benchmark_group("docs_1000_schemas");
    group.sample_size(20);
    group.bench_function("baseline_serde_json_parse", |b| {
        b.iter(|| black_box(parse(&catalog).len()))
    });
    group.bench_function("render_catalog_markdown", |b| {
        b.iter(|| black_box(render_catalog(&files).unwrap().len()))
    });
    group.bench_function("render_asyncapi_documents", |b| {
        b.iter(|| black_box(render_asyncapi(&files).unwrap().len()))
    });
    group.finish();
}

fn bundled(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let files = event_codegen::compat::load_dir(&root).expect("the bundled catalog loads");
    let texts: Vec<String> = files.values().map(|v| v.to_string()).collect();

    let mut group = c.benchmark_group("docs_bundled_catalog");
    group.bench_function("baseline_serde_json_parse", |b| {
        b.iter(|| {
            for text in &texts {
                black_box(serde_json::from_str::<Value>(text).unwrap());
            }
        })
    });
    group.bench_function("render_catalog_markdown", |b| {
        b.iter(|| black_box(render_catalog(&files).unwrap().len()))
    });
    group.bench_function("render_asyncapi_documents", |b| {
        b.iter(|| black_box(render_asyncapi(&files).unwrap().len()))
    });
    group.finish();
}

criterion_group!(benches, synthetic, bundled);
criterion_main!(benches);
