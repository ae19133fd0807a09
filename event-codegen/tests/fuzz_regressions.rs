//! Inputs the fuzz targets (`fuzz/`) found, kept as regression tests.

use std::path::PathBuf;

/// Generates one file and checks the output is Rust that parses.
fn generates_parsable_rust(path: &str, schema: &str) -> String {
    let out = event_codegen::Config::new()
        .generate_sources(vec![(PathBuf::from(path), schema.as_bytes().to_vec())])
        .unwrap_or_else(|e| panic!("the schema is refused: {e}"));
    if let Err(e) = syn::parse_file(&out.code) {
        panic!("generated code does not parse: {e}\n{}", out.code);
    }
    out.code
}

/// `codegen_generate`: a bare carriage return inside a description became
/// a bare CR in a `///` comment, which the Rust lexer refuses.
#[test]
fn a_carriage_return_in_a_description_ends_a_doc_line() {
    let schema = r#"{
      "type": "object",
      "properties": {
        "amountMinor": {
          "type": "integer",
          "minimum": 0,
          "description": "the amount in the cur\rrency's minor unit"
        }
      },
      "required": ["amountMinor"]
    }"#;
    let code = generates_parsable_rust("money.json", schema);
    assert!(code.contains("    /// the amount in the cur\n"), "{code}");
    assert!(code.contains("    /// rency's minor unit\n"), "{code}");
}
