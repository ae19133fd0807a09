//! The compile check: every golden snapshot, included in one crate under
//! `#![deny(warnings)]`, must build against the real derive and runtime, and
//! `tests/compile/behaviour.rs` must pass against it.

use std::path::Path;
use std::process::Command;

#[test]
fn generated_code_compiles_without_warnings_and_behaves() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().unwrap();
    let golden = manifest.join("tests/golden");
    let krate = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gencheck");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::create_dir_all(krate.join("tests")).unwrap();
    let mut cases: Vec<_> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    cases.sort();
    let mut lib = String::from("#![deny(warnings)]\n");
    for case in &cases {
        let module = case
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace('-', "_");
        lib.push_str(&format!(
            "pub mod {module} {{\n    include!({:?});\n}}\n",
            case
        ));
    }
    std::fs::write(krate.join("src/lib.rs"), lib).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"gencheck\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nevent-runtime = {{ path = {:?} }}\nserde_json = \"1\"\n\n[workspace]\n",
            workspace.join("event-runtime")
        ),
    )
    .unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    for test in ["behaviour.rs", "payloads.rs"] {
        std::fs::copy(
            manifest.join("tests/compile").join(test),
            krate.join("tests").join(test),
        )
        .unwrap();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let clippy = Command::new(&cargo)
        .args(["clippy", "--quiet", "--all-targets", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .args(["--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", krate.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        clippy.status.success(),
        "clippy refuses the generated code:\n{}",
        String::from_utf8_lossy(&clippy.stderr)
    );
    let output = Command::new(cargo)
        .args(["test", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .args(["--", "--nocapture"])
        .env("CARGO_TARGET_DIR", krate.join("target"))
        .env("WEBHOOK_PAYLOADS", manifest.join("tests/payloads/webhooks"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the generated code does not build or behave:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The payload figures, for `cargo test ... -- --nocapture`.
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Some(at) = line.find("webhook payloads") {
            println!("{}", &line[at..]);
        }
    }
}
