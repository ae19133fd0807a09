//! JSON Schema event catalogs to Rust.
