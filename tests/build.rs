//! Generates the Rust types of the example catalog in `schemas/` into
//! `OUT_DIR/events.rs`, which `src/lib.rs` includes. A catalog with a
//! problem fails the build with every diagnostic of the run.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    if let Err(error) = event_codegen::Config::new().schema_root(root).generate() {
        eprintln!("{error}");
        std::process::exit(1);
    }
}
