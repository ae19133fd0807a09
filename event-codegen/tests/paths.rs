//! Hostile names against the real binary: a catalog whose service names or
//! event types are paths, a `--file-name` that is one, and symbolic links
//! in the output folder. Nothing may be written outside `--out`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_event-codegen"))
}

/// A fresh folder for one test, holding `schemas/` and `x/y/z/out`: deep
/// enough that `../../../../` from the output folder still lands in it,
/// where the test can look.
fn sandbox(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("paths-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    std::fs::create_dir_all(dir.join("x/y/z")).unwrap();
    dir
}

fn out(dir: &Path) -> PathBuf {
    dir.join("x/y/z/out")
}

/// One event schema, with the given type, producer and consumer.
fn schema(dir: &Path, file: &str, ty: &str, producer: &str, consumer: &str) {
    let text = serde_json::json!({
        "description": "A course was published.",
        "x-event": {
            "type": ty,
            "version": "1.0",
            "producer": producer,
            "consumers": [{ "service": consumer, "reason": "indexes the course" }]
        },
        "type": "object",
        "properties": {
            "courseId": { "type": "string", "format": "uuid", "description": "The course." }
        },
        "required": ["courseId"]
    });
    std::fs::write(dir.join("schemas").join(file), text.to_string()).unwrap();
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap();
                found.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}

fn run(args: &[&str], dir: &Path, out_dir: Option<&Path>) -> Output {
    let mut cmd = cli();
    cmd.args(args).arg(dir.join("schemas"));
    if let Some(out_dir) = out_dir {
        cmd.arg("--out").arg(out_dir);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_producer_that_climbs_out_is_refused_by_every_command() {
    let dir = sandbox("climb");
    schema(
        &dir,
        "course.published.v1.0.json",
        "course.published",
        "../../../../PWNED",
        "search-service",
    );
    let before = files(&dir);
    for command in ["asyncapi", "catalog", "alerts"] {
        let o = run(&[command], &dir, Some(&out(&dir)));
        assert_eq!(o.status.code(), Some(1), "{command}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "course.published.v1.0.json#/x-event/producer: invalid producer service name \"../../../../PWNED\""
            ),
            "{command}: {}",
            stderr(&o)
        );
    }
    let o = run(&["generate", "--color", "never"], &dir, Some(&out(&dir)));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(
            "error[service-name]: invalid producer service name \"../../../../PWNED\""
        ),
        "{}",
        stderr(&o)
    );
    let o = run(&["check", "--color", "never"], &dir, None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "help: name the service in lower-case kebab case, `domain-service` style: `pwned`"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(files(&dir), before, "a file was written");
    assert!(!dir.join("PWNED.json").exists());
}

#[test]
fn an_absolute_consumer_is_refused() {
    let dir = sandbox("absolute");
    let target = dir.join("ABSOLUTE");
    schema(
        &dir,
        "course.published.v1.0.json",
        "course.published",
        "course-service",
        target.to_str().unwrap(),
    );
    let before = files(&dir);
    for command in ["asyncapi", "catalog", "alerts", "generate"] {
        let o = run(&[command], &dir, Some(&out(&dir)));
        assert_eq!(o.status.code(), Some(1), "{command}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("invalid consumer service name"),
            "{command}: {}",
            stderr(&o)
        );
    }
    assert_eq!(files(&dir), before, "a file was written");
    assert!(!dir.join("ABSOLUTE.json").exists());
}

#[test]
fn an_event_type_that_climbs_out_is_refused_by_the_catalog() {
    let dir = sandbox("type");
    schema(
        &dir,
        "x.v1.0.json",
        "../../../../pwned.x",
        "course-service",
        "search-service",
    );
    let before = files(&dir);
    let o = run(&["catalog"], &dir, Some(&out(&dir)));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("x.v1.0.json#/x-event/type: invalid event type \"../../../../pwned.x\""),
        "{}",
        stderr(&o)
    );
    assert_eq!(files(&dir), before, "a file was written");
}

#[test]
fn generate_refuses_a_file_name_that_is_a_path() {
    let dir = sandbox("file-name");
    schema(
        &dir,
        "course.published.v1.0.json",
        "course.published",
        "course-service",
        "search-service",
    );
    let before = files(&dir);
    for name in [
        "../../../../escape.rs",
        "/tmp/escape.rs",
        "gen/events.rs",
        "",
    ] {
        let o = run(&["generate", "--file-name", name], &dir, Some(&out(&dir)));
        assert_eq!(o.status.code(), Some(1), "{name:?}: {}", stderr(&o));
        assert!(
            stderr(&o).starts_with(&format!("error: refusing to write {name:?}: ")),
            "{name:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(files(&dir), before, "a file was written");
}

#[cfg(unix)]
#[test]
fn symbolic_links_in_the_output_folder_are_not_followed() {
    let dir = sandbox("symlink");
    schema(
        &dir,
        "course.published.v1.0.json",
        "course.published",
        "course-service",
        "search-service",
    );
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let out_dir = out(&dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    // The catalog's page folder, and the AsyncAPI, alert rule and
    // generated files.
    std::os::unix::fs::symlink(&outside, out_dir.join("course")).unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("course-service.json")).unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("search-service.rules.yml")).unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("events.rs")).unwrap();
    for command in ["catalog", "asyncapi", "alerts", "generate"] {
        let o = run(&[command], &dir, Some(&out_dir));
        assert_eq!(o.status.code(), Some(1), "{command}: {}", stderr(&o));
        assert!(
            stderr(&o)
                .contains("it is a symbolic link, and links in the output folder are not followed"),
            "{command}: {}",
            stderr(&o)
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert_eq!(files(&outside), BTreeSet::from(["victim".to_string()]));
}

#[test]
fn every_subcommand_takes_the_global_color_flag() {
    let dir = sandbox("color");
    schema(
        &dir,
        "course.published.v1.0.json",
        "course.published",
        "course-service",
        "search-service",
    );
    let out_dir = out(&dir);
    for args in [
        &["catalog", "--color", "never"][..],
        &["asyncapi", "--color", "never"],
        &["--color", "never", "asyncapi"],
        &["alerts", "--color", "never"],
        &["generate", "--color", "always"],
    ] {
        let o = run(args, &dir, Some(&out_dir));
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    for args in [
        &["check", "--color", "never"][..],
        &["--color", "auto", "check"],
    ] {
        let o = run(args, &dir, None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    let o = run(&["catalog", "--color", "sometimes"], &dir, Some(&out_dir));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        files(&out_dir).contains("course-service.json")
            && files(&out_dir).contains("course/course.published.md")
            && files(&out_dir).contains("events.rs"),
        "{:?}",
        files(&out_dir)
    );
}

/// The writers refuse a hostile name even when it did not come through the
/// catalog checks: the second line of defence, on its own.
#[test]
fn the_writers_refuse_hostile_names_given_directly() {
    let dir = sandbox("direct");
    let out_dir = out(&dir);
    let before = files(&dir);
    for service in [
        "../../../../PWNED",
        "/tmp/PWNED",
        "a/b",
        "",
        "C:\\PWNED",
        "\\\\server\\share\\PWNED",
        "nul\0",
    ] {
        let documents = std::collections::BTreeMap::from([
            ("good-service".to_string(), serde_json::json!({})),
            (service.to_string(), serde_json::json!({})),
        ]);
        let err = event_codegen::asyncapi::write_documents(&out_dir, &documents).unwrap_err();
        assert!(err.starts_with("refusing to write "), "{service:?}: {err}");
    }
    for page in ["../../../../PWNED.md", "/tmp/PWNED.md", "course/../../x.md"] {
        let pages = std::collections::BTreeMap::from([
            (PathBuf::from("README.md"), "index".to_string()),
            (PathBuf::from(page), "page".to_string()),
        ]);
        let err = event_codegen::docs::write_pages(&out_dir, &pages).unwrap_err();
        assert!(err.starts_with("refusing to write "), "{page:?}: {err}");
    }
    for name in [
        "../../../../PWNED.rules.yml",
        "/tmp/PWNED.rules.yml",
        "a/b.rules.yml",
        "C:\\PWNED.rules.yml",
        "CON.rules.yml",
        "nul\0.rules.yml",
    ] {
        let rules = std::collections::BTreeMap::from([
            ("good-service.rules.yml".to_string(), String::new()),
            (name.to_string(), String::new()),
        ]);
        let err = event_codegen::alerts::write_files(&out_dir, &rules).unwrap_err();
        assert!(err.starts_with("refusing to write "), "{name:?}: {err}");
    }
    // Refused before anything is written, the good names included.
    assert_eq!(files(&dir), before, "a file was written");
}
