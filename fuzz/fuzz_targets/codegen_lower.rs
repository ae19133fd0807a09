//! The codegen's loader and lowering on an arbitrary catalog: the input is
//! split into files at each `\0` byte, the first line of each part naming
//! the file, so references between files are exercised. Never a panic: every
//! problem is a diagnostic.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut sources = Vec::new();
    for part in bytes.split(|b| *b == 0).take(16) {
        let (name, body) = match part.iter().position(|b| *b == b'\n') {
            Some(at) => (&part[..at], &part[at + 1..]),
            None => (&b"schema.json"[..], part),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        sources.push((PathBuf::from(name), body.to_vec()));
    }
    let _ = event_codegen::Config::new().routing(true).generate_sources(sources);
});
