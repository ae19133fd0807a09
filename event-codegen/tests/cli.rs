//! The `event-codegen` command: summary on success, rendered diagnostics
//! and a non-zero exit on errors.

use std::path::Path;
use std::process::Command;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_event-codegen"))
}

#[test]
fn check_summarises_a_good_catalog() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/minors");
    let out = cli().arg("check").arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("enrollment.started v1 (1.0, 1.1, 1.2) -> EnrollmentStartedV1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("enrollment.started v2 (2.0) -> EnrollmentStartedV2"),
        "{stdout}"
    );
}

#[test]
fn check_fails_with_every_problem_rendered() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/lint-past-tense");
    let out = cli()
        .args(["check", "--color", "never"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "error[past-tense]: event type `send.email` reads as a command, not a fact\n"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("send.email.v1.0.json:4:13"), "{stderr}");
    assert!(
        stderr.contains("1 error(s) and 0 warning(s); nothing generated"),
        "{stderr}"
    );
}

#[test]
fn a_lowered_lint_lets_generate_write_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/lint-missing-consumer");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate");
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = cli()
        .args([
            "generate",
            "--color",
            "never",
            "--warn",
            "missing-consumer",
            "--out",
        ])
        .arg(&out_dir)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("warning[missing-consumer]"));
    let code = std::fs::read_to_string(out_dir.join("events.rs")).unwrap();
    assert!(code.starts_with("// @generated"));
}

#[test]
fn an_unknown_lint_is_refused() {
    let out = cli()
        .args(["check", ".", "--warn", "camelCase"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown lint `camelCase`"));
}

#[test]
fn catalog_and_asyncapi_write_their_documents() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-docs");
    let _ = std::fs::remove_dir_all(&out);
    let catalog = cli()
        .arg("catalog")
        .arg(&dir)
        .arg("--out")
        .arg(out.join("catalog"))
        .output()
        .unwrap();
    assert!(
        catalog.status.success(),
        "{}",
        String::from_utf8_lossy(&catalog.stderr)
    );
    assert!(out.join("catalog/README.md").is_file());
    let asyncapi = cli()
        .arg("asyncapi")
        .arg(&dir)
        .arg("--out")
        .arg(out.join("asyncapi"))
        .output()
        .unwrap();
    assert!(
        asyncapi.status.success(),
        "{}",
        String::from_utf8_lossy(&asyncapi.stderr)
    );
    let documents: Vec<_> = std::fs::read_dir(out.join("asyncapi")).unwrap().collect();
    assert!(!documents.is_empty());
    let missing = cli()
        .arg("catalog")
        .arg(out.join("nowhere"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

/// A published catalog's vendor keywords and unknown formats are warnings,
/// each silenced by name on the command line.
#[test]
fn vendor_keywords_and_formats_are_allowed_by_name() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/webhooks");
    let out = cli()
        .args(["check", "--color", "never"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(
            "warning[unknown-keyword]: unknown keyword `tsAdditionalProperties` is ignored"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning[unknown-format]: format `uri-template` is not checked"),
        "{stderr}"
    );
    let out = cli()
        .args([
            "check",
            "--color",
            "never",
            "--allow-keyword",
            "tsAdditionalProperties",
        ])
        .args(["--allow-format", "uri-template"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    // Nothing is left: the closed objects (`additionalProperties: false`)
    // are enforced.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.matches("warning[").count(),
        0,
        "no warning expected:\n{stderr}"
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("0 warning(s)")
    );
}

/// `--tolerate-closed-objects` reads closed objects as event payloads are
/// read, and says so at each: the keyword is reported, not dropped.
#[test]
fn closed_objects_can_be_read_tolerantly_and_say_so() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/webhooks");
    let out = cli()
        .args(["check", "--color", "never", "--tolerate-closed-objects"])
        .args(["--allow-keyword", "tsAdditionalProperties"])
        .args(["--allow-format", "uri-template"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.matches("warning[").count(),
        1,
        "one warning expected:\n{stderr}"
    );
    assert!(
        stderr.contains(
            "warning[ignored-constraint]: `additionalProperties: false` is not enforced on its own"
        ),
        "{stderr}"
    );
}
