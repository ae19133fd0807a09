//! Generation time of 1,000 synthetic event schemas, against a baseline
//! measured in the same run: parsing the same bytes with `serde_json` into
//! `Value`s, the least any schema reader must do.
//!
//! `cargo bench -p event-codegen --bench generate`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[path = "synth.rs"]
mod synth;

fn generate(c: &mut Criterion) {
    let catalog = synth::catalog(1000);
    let config = {
        let mut config = event_codegen::Config::new();
        config.cargo_directives(false);
        config
    };
    // The output is checked once, outside the measurement.
    let out = config
        .generate_sources(catalog.clone())
        .expect("synthetic catalog generates");
    assert_eq!(out.events.len(), 1000);

    let mut group = c.benchmark_group("codegen_1000_schemas");
    group.sample_size(20);
    group.bench_function("baseline_serde_json_parse", |b| {
        b.iter(|| {
            for (_, bytes) in &catalog {
                black_box(serde_json::from_slice::<serde_json::Value>(bytes).unwrap());
            }
        })
    });
    group.bench_function("generate_formatted_rust", |b| {
        b.iter_batched(
            || catalog.clone(),
            |sources| black_box(config.generate_sources(sources).unwrap().code.len()),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
