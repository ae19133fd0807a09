//! Writes the benchmarks' synthetic catalog to a folder, for timing
//! `cargo check` of the generated code (see BENCHMARKS.md).
//!
//! `cargo run --release -p event-codegen --example synth_catalog -- <dir> [count]`

#[path = "../benches/synth.rs"]
mod synth;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: synth_catalog <dir> [count]")?);
    let count: usize = args.next().map_or(Ok(1000), |n| n.parse())?;
    for (path, bytes) in synth::catalog(count) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    println!("{count} schemas in {}", dir.display());
    Ok(())
}
