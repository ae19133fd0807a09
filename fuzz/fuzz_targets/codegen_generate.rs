//! `generate` on an arbitrary schema file, then a syntax parse of what it
//! wrote: whatever the codegen accepts, it must emit Rust that parses.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let sources = vec![(PathBuf::from("fuzz/fuzz.happened.v1.0.json"), bytes.to_vec())];
    if let Ok(generation) = event_codegen::Config::new().generate_sources(sources) {
        if let Err(e) = syn::parse_file(&generation.code) {
            panic!("generated code does not parse: {e}\n{}", generation.code);
        }
    }
});
