//! The alerting rules and the dashboard generated from the catalog:
//! promtool checks the rules of the bundled `schemas/` and runs their
//! tests, in which every alert fires and every alert stays quiet; the
//! dashboard's queries name only metrics of `docs/observability.md`.
//!
//! promtool comes with Debian's `prometheus` package
//! (`apt-get install -y prometheus`); without it the promtool tests say
//! they were skipped and why.

use event_codegen::alerts::{AlertConfig, alerts_of, render_alerts, write_files};
use event_codegen::compat::load_dir;
use event_codegen::dashboard::render_dashboard;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bundled() -> BTreeMap<PathBuf, Value> {
    load_dir(&crate_dir().join("../schemas")).expect("the bundled schemas load")
}

/// promtool, or `None` after saying why the test is skipped.
fn promtool(test: &str) -> Option<PathBuf> {
    let path =
        std::env::var_os("PROMTOOL").map_or_else(|| PathBuf::from("promtool"), PathBuf::from);
    match Command::new(&path).arg("--version").output() {
        Ok(out) if out.status.success() => Some(path),
        other => {
            eprintln!(
                "SKIPPED {test}: promtool not runnable ({}); install it with `apt-get update && apt-get install -y prometheus`, or set PROMTOOL",
                match other {
                    Ok(out) => format!("exit status {}", out.status),
                    Err(e) => e.to_string(),
                }
            );
            None
        }
    }
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(promtool: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(promtool)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("promtool runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn files_ending(files: &BTreeMap<String, String>, suffix: &str) -> Vec<String> {
    files
        .keys()
        .filter(|k| k.ends_with(suffix))
        .cloned()
        .collect()
}

#[test]
fn promtool_checks_the_rules_of_the_bundled_catalog() {
    let Some(promtool) = promtool("promtool_checks_the_rules_of_the_bundled_catalog") else {
        return;
    };
    let files = render_alerts(&bundled(), &AlertConfig::default()).unwrap();
    let dir = out_dir("alerts-check");
    write_files(&dir, &files).unwrap();
    let rules = files_ending(&files, ".rules.yml");
    assert_eq!(rules.len(), 9, "{rules:?}");
    let mut args = vec!["check", "rules"];
    args.extend(rules.iter().map(String::as_str));
    let (ok, output) = run(&promtool, &dir, &args);
    assert!(ok, "promtool check rules failed:\n{output}");
    assert_eq!(output.matches("SUCCESS").count(), rules.len(), "{output}");
}

#[test]
fn promtool_tests_every_alert_firing_and_quiet() {
    let Some(promtool) = promtool("promtool_tests_every_alert_firing_and_quiet") else {
        return;
    };
    for (name, config) in [
        ("alerts-default", AlertConfig::default()),
        (
            "alerts-custom",
            AlertConfig {
                lag_warning_seconds: 60,
                lag_critical_seconds: 600,
                error_rate_warning: 0.01,
                error_rate_critical: 0.5,
                dlq_warning: 2,
                dlq_critical: 3,
                repeated_failures: 20,
                repeated_window: "30m".into(),
                rate_window: "2m".into(),
                for_duration: "1m".into(),
                ..AlertConfig::default()
            },
        ),
    ] {
        let files = render_alerts(&bundled(), &config).unwrap();
        let dir = out_dir(name);
        write_files(&dir, &files).unwrap();
        let tests = files_ending(&files, ".test.yml");
        assert_eq!(tests.len(), 9);
        for test in tests {
            let (ok, output) = run(&promtool, &dir, &["test", "rules", &test]);
            assert!(ok, "{name}: promtool test rules {test} failed:\n{output}");
        }
    }
}

/// The promtool tests discriminate: rules whose thresholds differ from
/// the ones the tests were written for fail them.
#[test]
fn promtool_tests_fail_on_rules_with_other_thresholds() {
    let Some(promtool) = promtool("promtool_tests_fail_on_rules_with_other_thresholds") else {
        return;
    };
    let tests = render_alerts(&bundled(), &AlertConfig::default()).unwrap();
    for (what, config) in [
        (
            "lag",
            AlertConfig {
                lag_warning_seconds: 1200,
                ..AlertConfig::default()
            },
        ),
        (
            "error rate",
            AlertConfig {
                error_rate_critical: 0.7,
                ..AlertConfig::default()
            },
        ),
        (
            "dead letters",
            AlertConfig {
                dlq_critical: 100,
                ..AlertConfig::default()
            },
        ),
        (
            "repeated failures",
            AlertConfig {
                repeated_failures: 1000,
                ..AlertConfig::default()
            },
        ),
    ] {
        let rules = render_alerts(&bundled(), &config).unwrap();
        let dir = out_dir("alerts-mismatch");
        let mut files = rules.clone();
        files.insert(
            "certificate-service.test.yml".into(),
            tests["certificate-service.test.yml"].clone(),
        );
        write_files(&dir, &files).unwrap();
        let (ok, output) = run(
            &promtool,
            &dir,
            &["test", "rules", "certificate-service.test.yml"],
        );
        assert!(
            !ok,
            "{what}: tests passed against rules with other thresholds:\n{output}"
        );
        assert!(output.contains("FAILED"), "{output}");
    }
}

#[test]
fn every_consumer_of_an_event_gets_every_alert_with_severity_summary_and_runbook() {
    let files = render_alerts(&bundled(), &AlertConfig::default()).unwrap();
    let rules = &files["certificate-service.rules.yml"];
    assert!(rules.starts_with("# @generated"));
    let expected = r#"      - alert: EventConsumerLag
        expr: "max(event_consumer_lag_seconds{consumer=\"certificate-service\",type=\"enrollment.completed\"}) > 1800"
        for: 5m
        labels:
          severity: critical
          event_type: "enrollment.completed"
          consumer: "certificate-service"
        annotations:
          summary: "certificate-service is more than 1800 s behind on enrollment.completed"
          description: "lag over 1800 s for 5m"
          runbook_url: "docs/catalog/enrollment/enrollment.completed.md"
"#;
    assert!(rules.contains(expected), "{rules}");
    let alerts = alerts_of(&bundled(), &AlertConfig::default()).unwrap();
    let completed = &alerts["enrollment.completed"];
    let consumers: BTreeSet<&str> = completed
        .iter()
        .filter_map(|a| a.consumer.as_deref())
        .collect();
    assert_eq!(
        consumers,
        BTreeSet::from([
            "activity-log",
            "analytics-service",
            "certificate-service",
            "gamification-service",
            "notification-service"
        ])
    );
    for consumer in consumers {
        let mine: Vec<(&str, &str)> = completed
            .iter()
            .filter(|a| a.consumer.as_deref() == Some(consumer))
            .map(|a| (a.name.as_str(), a.severity))
            .collect();
        assert_eq!(
            mine,
            [
                ("EventConsumerErrorRate", "critical"),
                ("EventConsumerErrorRate", "warning"),
                ("EventConsumerFailingRepeatedly", "critical"),
                ("EventConsumerLag", "critical"),
                ("EventConsumerLag", "warning"),
                ("EventDeadLetters", "critical"),
                ("EventDeadLetters", "warning"),
            ],
            "{consumer}"
        );
    }
    let file_count = rules.matches("- alert:").count();
    assert_eq!(rules.matches("severity: ").count(), file_count);
    assert_eq!(
        rules.matches("summary: \"certificate-service ").count(),
        file_count
    );
    assert_eq!(
        rules.matches("runbook_url: \"docs/catalog/").count(),
        file_count
    );
}

#[test]
fn silence_alerts_only_for_event_types_with_an_expected_cadence() {
    let alerts = alerts_of(&bundled(), &AlertConfig::default()).unwrap();
    let silent: BTreeMap<&str, &str> = alerts
        .iter()
        .flat_map(|(ty, list)| {
            list.iter()
                .filter(|a| a.name == "EventPublishingSilent")
                .map(move |a| (ty.as_str(), a.condition.as_str()))
        })
        .collect();
    assert_eq!(
        silent,
        BTreeMap::from([
            ("enrollment.completed", "no event published for 30m"),
            ("user.created", "no event published for 1h"),
        ])
    );
    let files = render_alerts(&bundled(), &AlertConfig::default()).unwrap();
    let producer = &files["enrollment-service.rules.yml"];
    assert!(producer.contains(
        r#"expr: "(sum(increase(events_published_total{type=\"enrollment.completed\"}[30m])) or vector(0)) == 0""#
    ), "{producer}");
    assert!(producer.contains("producer: \"enrollment-service\""));
}

fn one_event(consumer: &str, every: Option<&str>) -> BTreeMap<PathBuf, Value> {
    let mut block = json!({
        "type": "course.published", "version": "1.0", "producer": "course-service",
        "consumers": [{ "service": consumer, "reason": "indexes the course" }]
    });
    if let Some(every) = every {
        block["expectedEvery"] = json!(every);
    }
    let schema = json!({ "title": "CoursePublished", "x-event": block, "type": "object" });
    BTreeMap::from([(PathBuf::from("course/course.published.v1.0.json"), schema)])
}

#[test]
fn a_service_name_that_is_not_a_file_name_is_refused() {
    for bad in ["../escape", "a/b", "a\\b", ".hidden", ""] {
        let e = render_alerts(&one_event(bad, None), &AlertConfig::default()).unwrap_err();
        // The catalog reader refuses the name before the alert writer sees
        // it; either way the message names the schema and the JSON location.
        assert!(
            e.contains("course/course.published.v1.0.json#/x-event/consumers"),
            "{bad}: {e}"
        );
        assert!(e.contains("service name"), "{bad}: {e}");
    }
    let dir = out_dir("alerts-refuse");
    let e = write_files(
        &dir,
        &BTreeMap::from([("../x.yml".to_string(), String::new())]),
    )
    .unwrap_err();
    assert_eq!(
        e,
        "refusing to write \"../x.yml\": a file name may not hold a `/`"
    );
    assert!(!dir.join("../x.yml").exists());
}

#[test]
fn a_bad_cadence_or_threshold_is_reported() {
    let e = render_alerts(
        &one_event("search-service", Some("soon")),
        &AlertConfig::default(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        "course/course.published.v1.0.json#/x-event/expectedEvery: `soon` is not a duration: write a whole number and one unit, s, m, h or d (`30m`, `6h`)"
    );
    let config = AlertConfig {
        lag_warning_seconds: 1800,
        error_rate_critical: 1.5,
        rate_window: "5 minutes".into(),
        ..AlertConfig::default()
    };
    let e = render_alerts(&one_event("search-service", None), &config).unwrap_err();
    assert_eq!(
        e,
        "the lag warning threshold must be below the critical one\n\
         error-rate thresholds are shares between 0 and 1, exclusive\n\
         rate window: `5 minutes` is not a duration: write a whole number and one unit, s, m, h or d (`30m`, `6h`)"
    );
}

/// The metric names of the table in `docs/observability.md`.
fn documented_metrics() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(crate_dir().join("../docs/observability.md")).unwrap();
    let table = doc
        .split("## Metrics")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('`').nth(1).unwrap().to_string())
        .collect()
}

/// The metric names a PromQL expression reads: identifiers followed by
/// `{` or `[` or `)`, the histogram suffixes stripped.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &expr[start..i];
            let quoted = start > 0 && bytes[start - 1] == b'"';
            if !quoted && matches!(bytes.get(i), Some(b'{' | b'[' | b')')) && word.contains('_') {
                let base = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|s| word.strip_suffix(s))
                    .unwrap_or(word);
                out.insert(base.to_string());
            }
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn the_documented_table_has_every_metric_the_generators_use() {
    let documented = documented_metrics();
    let used: BTreeSet<String> = event_codegen::alerts::metric::ALL
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(documented, used);
    let files = render_alerts(&bundled(), &AlertConfig::default()).unwrap();
    for (name, text) in &files {
        for line in text.lines().filter(|l| l.trim_start().starts_with("expr:")) {
            let names = metrics_in(line);
            assert!(!names.is_empty(), "{name}: {line}");
            assert!(
                names.is_subset(&documented),
                "{name}: {line} reads {names:?}"
            );
        }
    }
}

#[test]
fn the_dashboard_has_a_row_per_consumer_and_queries_only_documented_metrics() {
    let dashboard = render_dashboard(&bundled(), "5m").unwrap();
    let documented = documented_metrics();
    let panels = dashboard["panels"].as_array().unwrap();
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut seen_ids = BTreeSet::new();
    for p in panels {
        assert!(
            seen_ids.insert(p["id"].as_u64().unwrap()),
            "duplicate panel id"
        );
        let title = p["title"].as_str().unwrap().to_string();
        if p["type"] == "row" {
            rows.push((title, Vec::new()));
            continue;
        }
        assert_eq!(p["type"], "timeseries");
        let pos = &p["gridPos"];
        assert!(pos["x"].as_u64().unwrap() + pos["w"].as_u64().unwrap() <= 24);
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}");
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            let names = metrics_in(expr);
            assert!(!names.is_empty(), "{title}: {expr}");
            assert!(
                names.is_subset(&documented),
                "{title}: {expr} reads {names:?}"
            );
        }
        rows.last_mut()
            .expect("a panel before any row")
            .1
            .push(title);
    }
    let consumer_rows: Vec<&str> = rows[1..]
        .iter()
        .map(|(t, _)| t.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        consumer_rows,
        [
            "activity-log",
            "analytics-service",
            "certificate-service",
            "course-service",
            "enrollment-service",
            "gamification-service",
            "notification-service",
            "search-service"
        ]
    );
    assert_eq!(rows[0].0, "Publishing");
    for (title, panels) in &rows[1..] {
        assert_eq!(
            panels,
            &[
                "Consumed per minute, by type and outcome",
                "Handling latency p50 / p95 / p99",
                "Lag",
                "Error rate (retried or dead-lettered)",
                "Dead letter depth",
                "Circuit breaker (0 closed, 1 half-open, 2 open)"
            ],
            "{title}"
        );
    }
    // The latency panel takes the three quantiles over the buckets.
    let latency = panels
        .iter()
        .find(|p| p["title"] == "Handling latency p50 / p95 / p99")
        .unwrap();
    let exprs: Vec<&str> = latency["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    assert_eq!(
        exprs,
        [
            "histogram_quantile(0.5, sum by (le, type) (rate(event_handler_duration_seconds_bucket{consumer=\"activity-log\"}[5m])))",
            "histogram_quantile(0.95, sum by (le, type) (rate(event_handler_duration_seconds_bucket{consumer=\"activity-log\"}[5m])))",
            "histogram_quantile(0.99, sum by (le, type) (rate(event_handler_duration_seconds_bucket{consumer=\"activity-log\"}[5m])))",
        ]
    );
}

#[test]
fn the_metric_reader_of_these_tests_finds_names() {
    assert_eq!(
        metrics_in("sum(rate(a_b_total{x=\"y_z\"}[5m])) / max(c_d_bucket[1m]) + e_f)"),
        BTreeSet::from([
            "a_b_total".to_string(),
            "c_d".to_string(),
            "e_f".to_string()
        ])
    );
}

#[test]
fn each_catalog_page_lists_its_metrics_and_alerts() {
    let pages = event_codegen::docs::render_catalog(&bundled()).unwrap();
    let page = &pages[Path::new("user/user.created.md")];
    let section = &page[page
        .find("## Metrics and alerts")
        .expect("a metrics section")..];
    let section = &section[..section
        .find("## Version history")
        .expect("history after it")];
    for row in [
        "| `events_published_total` | `type=\"user.created\"`, by `version` |",
        "| `event_handler_duration_seconds` | `type=\"user.created\"`, by `consumer` |",
        "| `EventPublishingSilent` | warning | (producer) | no event published for 1h |",
        "| `EventConsumerLag` | critical | `analytics-service` | lag over 1800 s for 5m |",
        "| `EventDeadLetters` | warning | `search-service` | more than 0 dead letter(s) for 5m |",
    ] {
        assert!(section.contains(row), "{row} missing from\n{section}");
    }
    let alerts = alerts_of(&bundled(), &AlertConfig::default()).unwrap();
    let rows = section
        .lines()
        .filter(|l| l.starts_with("| `Event"))
        .count();
    assert_eq!(rows, alerts["user.created"].len());
}

#[test]
fn the_cli_writes_rules_tests_and_the_dashboard_with_flag_thresholds() {
    let dir = out_dir("alerts-cli");
    let out = Command::new(env!("CARGO_BIN_EXE_event-codegen"))
        .args([
            "alerts",
            "../schemas",
            "--dashboard",
            "--lag-warning",
            "120",
            "--out",
        ])
        .arg(&dir)
        .current_dir(crate_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("19 file(s) in {}, 19 written\n", dir.display())
    );
    let rules = std::fs::read_to_string(dir.join("search-service.rules.yml")).unwrap();
    assert!(
        rules.contains(r#"type=\"course.published\"}) > 120""#),
        "{rules}"
    );
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("events-dashboard.json")).unwrap())
            .unwrap();
    assert_eq!(dashboard["uid"], "event-catalog");

    let out = Command::new(env!("CARGO_BIN_EXE_event-codegen"))
        .args(["alerts", "../schemas", "--lag-warning", "4000", "--out"])
        .arg(&dir)
        .current_dir(crate_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "the lag warning threshold must be below the critical one\n"
    );
}
