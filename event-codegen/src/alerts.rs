//! Prometheus alerting rules from the catalog, and the `promtool test rules`
//! file that proves each rule fires and stays quiet.
//!
//! One rule file per service, `<service>.rules.yml`: for every event type
//! the service consumes, alerts on consumer lag, error rate, dead letter
//! depth and repeated failures; for every event type it produces with an
//! `x-event.expectedEvery`, an alert when none was published for that long.
//! Every alert names the event and the consumer in its summary, carries a
//! `severity` label and links to the event's catalog page. The metrics are
//! the ones in `docs/observability.md`.
//!
//! ```
//! use event_codegen::alerts::{AlertConfig, render_alerts};
//! let schema = serde_json::json!({
//!     "title": "CoursePublished",
//!     "x-event": {
//!         "type": "course.published", "version": "1.0", "producer": "course-service",
//!         "consumers": [{ "service": "search-service", "reason": "indexes the course" }],
//!         "expectedEvery": "1h"
//!     },
//!     "type": "object"
//! });
//! let files = [("course.published.v1.0.json".into(), schema)].into_iter().collect();
//! let out = render_alerts(&files, &AlertConfig::default()).unwrap();
//! assert!(out["search-service.rules.yml"].contains("EventConsumerLag"));
//! assert!(out["course-service.rules.yml"].contains("EventPublishingSilent"));
//! ```

use crate::docs::{Contract, contracts};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The metric names the rules and the dashboard query; the table with their
/// types, labels and units is `docs/observability.md`.
pub mod metric {
    /// Counter, by `type` and `version`.
    pub const PUBLISHED: &str = "events_published_total";
    /// Counter, by `consumer`, `type` and `outcome`.
    pub const CONSUMED: &str = "events_consumed_total";
    /// Histogram in seconds, by `consumer` and `type`.
    pub const HANDLE_SECONDS: &str = "event_handler_duration_seconds";
    /// Gauge in seconds: now minus the event timestamp at handling, by
    /// `consumer` and `type`.
    pub const LAG_SECONDS: &str = "event_consumer_lag_seconds";
    /// Gauge: messages the broker reports pending, by `consumer`.
    pub const PENDING: &str = "event_consumer_pending";
    /// Gauge: dead letter entries, by `consumer` and `type`.
    pub const DLQ_DEPTH: &str = "event_dead_letters";
    /// Gauge: 0 closed, 1 half-open, 2 open, by `consumer`.
    pub const BREAKER_STATE: &str = "event_circuit_breaker_state";
    /// Counter, by `consumer`, `type` and `class`.
    pub const RETRIES: &str = "event_retries_total";
    /// Gauge: outbox rows not yet relayed.
    pub const OUTBOX_PENDING: &str = "event_outbox_pending";
    /// Gauge in seconds: age of the oldest outbox row not yet relayed.
    pub const OUTBOX_OLDEST_SECONDS: &str = "event_outbox_oldest_age_seconds";
    /// Every name above.
    pub const ALL: &[&str] = &[
        PUBLISHED,
        CONSUMED,
        HANDLE_SECONDS,
        LAG_SECONDS,
        PENDING,
        DLQ_DEPTH,
        BREAKER_STATE,
        RETRIES,
        OUTBOX_PENDING,
        OUTBOX_OLDEST_SECONDS,
    ];
    /// The `outcome` values of [`CONSUMED`] that count as failures in the
    /// error rate.
    pub const FAILED_OUTCOMES: &str = "retried|dead_lettered";
}

/// Thresholds of the generated alerts; the defaults are the brief's.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertConfig {
    /// Lag, in seconds, over which a consumer warns (300).
    pub lag_warning_seconds: u64,
    /// Lag, in seconds, over which it is critical (1800).
    pub lag_critical_seconds: u64,
    /// Share of failed deliveries over which a consumer warns (0.05).
    pub error_rate_warning: f64,
    /// Share of failed deliveries over which it is critical (0.20).
    pub error_rate_critical: f64,
    /// Dead letters over which a consumer warns (0: any entry).
    pub dlq_warning: u64,
    /// Dead letters over which it is critical (10).
    pub dlq_critical: u64,
    /// Failures of one event type at one consumer within
    /// `repeated_window` that make it critical (5).
    pub repeated_failures: u64,
    /// The window of the repeated-failure alert (`10m`).
    pub repeated_window: String,
    /// The window rates are taken over (`5m`).
    pub rate_window: String,
    /// How long a lag, error-rate or dead-letter condition holds before
    /// the alert fires (`5m`).
    pub for_duration: String,
    /// Where the catalog pages are: the runbook link of an event is
    /// `<runbook_base>/<domain>/<type>.md` (`docs/catalog`).
    pub runbook_base: String,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            lag_warning_seconds: 300,
            lag_critical_seconds: 1800,
            error_rate_warning: 0.05,
            error_rate_critical: 0.20,
            dlq_warning: 0,
            dlq_critical: 10,
            repeated_failures: 5,
            repeated_window: "10m".to_string(),
            rate_window: "5m".to_string(),
            for_duration: "5m".to_string(),
            runbook_base: "docs/catalog".to_string(),
        }
    }
}

impl AlertConfig {
    /// Every inconsistency of the thresholds, one per line.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.lag_warning_seconds >= self.lag_critical_seconds {
            problems.push("the lag warning threshold must be below the critical one".to_string());
        }
        let rate_ok = |r: f64| r.is_finite() && r > 0.0 && r < 1.0;
        if !rate_ok(self.error_rate_warning) || !rate_ok(self.error_rate_critical) {
            problems
                .push("error-rate thresholds are shares between 0 and 1, exclusive".to_string());
        } else if self.error_rate_warning >= self.error_rate_critical {
            problems.push(
                "the error-rate warning threshold must be below the critical one".to_string(),
            );
        }
        if self.dlq_warning >= self.dlq_critical {
            problems.push(
                "the dead-letter warning threshold must be below the critical one".to_string(),
            );
        }
        if self.repeated_failures == 0 {
            problems.push("the repeated-failure count must be at least 1".to_string());
        }
        for (name, value) in [
            ("repeated-failure window", &self.repeated_window),
            ("rate window", &self.rate_window),
            ("for duration", &self.for_duration),
        ] {
            if let Err(e) = parse_duration(value) {
                problems.push(format!("{name}: {e}"));
            }
        }
        if self.runbook_base.chars().any(char::is_control) {
            problems.push("the runbook base must not hold control characters".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// Parses a duration of the form Prometheus writes and `expectedEvery`
/// takes: a positive whole number and one unit, `s`, `m`, `h` or `d`
/// (`"90s"`, `"30m"`, `"6h"`, `"1d"`). Returns seconds.
///
/// ```
/// assert_eq!(event_codegen::alerts::parse_duration("30m"), Ok(1800));
/// assert!(event_codegen::alerts::parse_duration("30 minutes").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{s}` is not a duration: write a whole number and one unit, s, m, h or d (`30m`, `6h`)"
        )
    };
    let unit = s.chars().last().ok_or_else(bad)?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let digits = &s[..s.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(format!("`{s}` is zero: a duration must be positive"));
    }
    n.checked_mul(factor)
        .filter(|&secs| secs <= 366 * 86_400)
        .ok_or_else(|| format!("`{s}` is longer than a year"))
}

/// Checks that a service name can name a file: ASCII letters, digits, `-`,
/// `_` and `.`, starting with a letter or digit, no `..`. The name is used
/// as one path component, never as a path.
pub fn check_service_name(name: &str) -> Result<(), String> {
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !first_ok || !chars_ok || name.contains("..") {
        return Err(format!(
            "service name `{}` cannot name an output file: use letters, digits, `-`, `_` and `.`, starting with a letter or digit (no `/`, `\\` or `..`)",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// One event type as the rules see it: its newest version's contract, the
/// consumers of any version, the cadence of the newest version.
pub(crate) struct EventType {
    pub event_type: String,
    pub producer: String,
    pub consumers: BTreeSet<String>,
    pub expected_every: Option<(String, u64)>,
    pub page: String,
}

/// The event types of the catalog, with every problem reported together.
pub(crate) fn event_types(files: &BTreeMap<PathBuf, Value>) -> Result<Vec<EventType>, String> {
    let all = contracts(files)?;
    let mut problems = Vec::new();
    let mut by_type: BTreeMap<&str, Vec<&Contract<'_>>> = BTreeMap::new();
    for c in &all {
        by_type.entry(c.event_type.as_str()).or_default().push(c);
    }
    let mut out = Vec::new();
    for (ty, versions) in by_type {
        let Some(newest) = versions.last() else {
            continue;
        };
        let mut consumers = BTreeSet::new();
        for c in &versions {
            for k in &c.consumers {
                match check_service_name(&k.service) {
                    Ok(()) => {
                        consumers.insert(k.service.clone());
                    }
                    Err(e) => {
                        problems.push(format!("{}#/x-event/consumers: {e}", c.file.display()))
                    }
                }
            }
        }
        if let Err(e) = check_service_name(&newest.producer) {
            problems.push(format!("{}#/x-event/producer: {e}", newest.file.display()));
        }
        let expected_every = match newest.schema.pointer("/x-event/expectedEvery") {
            None => None,
            Some(Value::String(s)) => match parse_duration(s) {
                Ok(secs) => Some((s.clone(), secs)),
                Err(e) => {
                    problems.push(format!(
                        "{}#/x-event/expectedEvery: {e}",
                        newest.file.display()
                    ));
                    None
                }
            },
            Some(_) => {
                problems.push(format!(
                    "{}#/x-event/expectedEvery: not a string",
                    newest.file.display()
                ));
                None
            }
        };
        out.push(EventType {
            event_type: ty.to_string(),
            producer: newest.producer.clone(),
            consumers,
            expected_every,
            page: page_of(ty),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("\n"))
    }
}

fn page_of(event_type: &str) -> String {
    format!("{}/{event_type}.md", crate::docs::domain(event_type))
}

/// The alerts of the catalog: one alert rule as the catalog page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSummary {
    /// The alert name.
    pub name: String,
    /// `warning` or `critical`.
    pub severity: &'static str,
    /// The consumer it watches, or `None` for a producer's silence.
    pub consumer: Option<String>,
    /// When it fires, in words.
    pub condition: String,
}

struct Rule {
    name: &'static str,
    severity: &'static str,
    expr: String,
    for_duration: Option<String>,
    summary: String,
    condition: String,
    event_type: String,
    consumer: Option<String>,
    producer: String,
    page: String,
}

impl Rule {
    fn annotations(&self, config: &AlertConfig) -> [(&'static str, String); 3] {
        [
            ("summary", self.summary.clone()),
            ("description", self.condition.clone()),
            (
                "runbook_url",
                format!(
                    "{}/{}",
                    config.runbook_base.trim_end_matches('/'),
                    self.page
                ),
            ),
        ]
    }
}

fn selector(consumer: &str, event_type: &str) -> String {
    format!("consumer=\"{consumer}\",type=\"{event_type}\"")
}

fn rate_text(r: f64) -> String {
    let percent = r * 100.0;
    if (percent - percent.round()).abs() < 1e-9 {
        format!("{percent:.0} %")
    } else {
        format!("{percent} %")
    }
}

fn consumer_rules(config: &AlertConfig, e: &EventType, consumer: &str) -> Vec<Rule> {
    let sel = selector(consumer, &e.event_type);
    let ty = &e.event_type;
    let window = &config.rate_window;
    let rule = |name, severity, expr: String, summary: String, condition: String| Rule {
        name,
        severity,
        expr,
        for_duration: Some(config.for_duration.clone()),
        summary,
        condition,
        event_type: ty.clone(),
        consumer: Some(consumer.to_string()),
        producer: e.producer.clone(),
        page: e.page.clone(),
    };
    let lag = |threshold: u64| format!("max({}{{{sel}}}) > {threshold}", metric::LAG_SECONDS);
    let errors = |threshold: f64| {
        format!(
            "sum(rate({c}{{{sel},outcome=~\"{f}\"}}[{window}])) / sum(rate({c}{{{sel}}}[{window}])) > {threshold}",
            c = metric::CONSUMED,
            f = metric::FAILED_OUTCOMES
        )
    };
    let dlq = |threshold: u64| format!("sum({}{{{sel}}}) > {threshold}", metric::DLQ_DEPTH);
    let mut rules = Vec::new();
    for (severity, secs) in [
        ("warning", config.lag_warning_seconds),
        ("critical", config.lag_critical_seconds),
    ] {
        rules.push(rule(
            "EventConsumerLag",
            severity,
            lag(secs),
            format!("{consumer} is more than {secs} s behind on {ty}"),
            format!("lag over {secs} s for {}", config.for_duration),
        ));
    }
    for (severity, share) in [
        ("warning", config.error_rate_warning),
        ("critical", config.error_rate_critical),
    ] {
        rules.push(rule(
            "EventConsumerErrorRate",
            severity,
            errors(share),
            format!(
                "{consumer} fails more than {} of its {ty} deliveries",
                rate_text(share)
            ),
            format!(
                "over {} of deliveries retried or dead-lettered ({window} rate) for {}",
                rate_text(share),
                config.for_duration
            ),
        ));
    }
    for (severity, depth) in [
        ("warning", config.dlq_warning),
        ("critical", config.dlq_critical),
    ] {
        rules.push(rule(
            "EventDeadLetters",
            severity,
            dlq(depth),
            format!("{consumer} has more than {depth} {ty} event(s) in its dead letter queue"),
            format!(
                "more than {depth} dead letter(s) for {}",
                config.for_duration
            ),
        ));
    }
    let mut repeated = rule(
        "EventConsumerFailingRepeatedly",
        "critical",
        format!(
            "sum(increase({c}{{{sel},outcome=~\"{f}\"}}[{w}])) >= {n}",
            c = metric::CONSUMED,
            f = metric::FAILED_OUTCOMES,
            w = config.repeated_window,
            n = config.repeated_failures
        ),
        format!(
            "{consumer} keeps failing on {ty}: {} or more failures in {}",
            config.repeated_failures, config.repeated_window
        ),
        format!(
            "{} or more failed deliveries within {}",
            config.repeated_failures, config.repeated_window
        ),
    );
    repeated.for_duration = None;
    rules.push(repeated);
    rules
}

fn silence_rule(e: &EventType, every: &str) -> Rule {
    Rule {
        name: "EventPublishingSilent",
        severity: "warning",
        expr: format!(
            "(sum(increase({}{{type=\"{}\"}}[{every}])) or vector(0)) == 0",
            metric::PUBLISHED,
            e.event_type
        ),
        for_duration: None,
        summary: format!(
            "{} published no {} for {every} (expected at least one every {every}); its consumers {} wait",
            e.producer,
            e.event_type,
            e.consumers.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        condition: format!("no event published for {every}"),
        event_type: e.event_type.clone(),
        consumer: None,
        producer: e.producer.clone(),
        page: e.page.clone(),
    }
}

/// Every rule of the catalog, by service file name.
fn rules_by_service(
    config: &AlertConfig,
    types: &[EventType],
) -> BTreeMap<String, Vec<(String, Vec<Rule>)>> {
    let mut out: BTreeMap<String, Vec<(String, Vec<Rule>)>> = BTreeMap::new();
    for e in types {
        for consumer in &e.consumers {
            out.entry(consumer.clone()).or_default().push((
                format!("{consumer}: consuming {}", e.event_type),
                consumer_rules(config, e, consumer),
            ));
        }
        if let Some((every, _)) = &e.expected_every {
            out.entry(e.producer.clone()).or_default().push((
                format!("{}: publishing {}", e.producer, e.event_type),
                vec![silence_rule(e, every)],
            ));
        }
    }
    out
}

/// The alerts an event type's catalog page lists.
pub fn alerts_of(
    files: &BTreeMap<PathBuf, Value>,
    config: &AlertConfig,
) -> Result<BTreeMap<String, Vec<AlertSummary>>, String> {
    config.validate()?;
    let types = event_types(files)?;
    let mut out: BTreeMap<String, Vec<AlertSummary>> = BTreeMap::new();
    for (_, groups) in rules_by_service(config, &types) {
        for (_, rules) in groups {
            for r in rules {
                out.entry(r.event_type.clone())
                    .or_default()
                    .push(AlertSummary {
                        name: r.name.to_string(),
                        severity: r.severity,
                        consumer: r.consumer,
                        condition: r.condition,
                    });
            }
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| {
            (&a.consumer, &a.name, a.severity).cmp(&(&b.consumer, &b.name, b.severity))
        });
    }
    Ok(out)
}

/// A YAML scalar: a double-quoted string, whose escapes are JSON's.
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn render_rules(config: &AlertConfig, groups: &[(String, Vec<Rule>)]) -> String {
    let mut y = String::from(
        "# @generated by `event-codegen alerts`; edit the schemas, not this file.\ngroups:\n",
    );
    for (name, rules) in groups {
        let _ = writeln!(y, "  - name: {}\n    rules:", q(name));
        for r in rules {
            let _ = writeln!(y, "      - alert: {}", r.name);
            let _ = writeln!(y, "        expr: {}", q(&r.expr));
            if let Some(d) = &r.for_duration {
                let _ = writeln!(y, "        for: {d}");
            }
            let _ = writeln!(y, "        labels:");
            let _ = writeln!(y, "          severity: {}", r.severity);
            let _ = writeln!(y, "          event_type: {}", q(&r.event_type));
            match &r.consumer {
                Some(c) => {
                    let _ = writeln!(y, "          consumer: {}", q(c));
                }
                None => {
                    let _ = writeln!(y, "          producer: {}", q(&r.producer));
                }
            }
            let _ = writeln!(y, "        annotations:");
            for (key, value) in r.annotations(config) {
                let _ = writeln!(y, "          {key}: {}", q(&value));
            }
        }
    }
    y
}

/// Synthetic series of one scenario, and the alerts expected of it.
struct Scenario {
    name: &'static str,
    /// (series selector, promtool values notation)
    series: Vec<(String, String)>,
    eval_minutes: u64,
}

fn num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// The `promtool test rules` file of one service's rules: a quiet
/// scenario (every value under its warning threshold, nothing fires), a
/// warning one (between the thresholds: warnings only), a critical one
/// (over the critical thresholds: everything fires) and a silent one (no
/// event published: the silence alerts fire, nothing else).
fn render_tests(
    config: &AlertConfig,
    service: &str,
    rule_file: &str,
    groups: &[(String, Vec<Rule>)],
) -> String {
    let rules: Vec<&Rule> = groups.iter().flat_map(|(_, r)| r).collect();
    let longest_silence = rules
        .iter()
        .filter(|r| r.consumer.is_none())
        .filter_map(|r| r.expr.split('[').nth(1)?.split(']').next())
        .filter_map(|d| parse_duration(d).ok())
        .max()
        .unwrap_or(0);
    let window = [
        &config.for_duration,
        &config.rate_window,
        &config.repeated_window,
    ]
    .iter()
    .filter_map(|d| parse_duration(d).ok())
    .sum::<u64>();
    let eval_minutes = (longest_silence.max(window)).div_ceil(60) + 10;
    let samples = eval_minutes + 5;
    // One delivery a minute; failures a share `f` of all outcomes.
    let failures_per_minute = |f: f64| f / (1.0 - f);
    let w = config.error_rate_warning;
    let c = config.error_rate_critical;
    #[derive(Clone, Copy, PartialEq)]
    enum Level {
        Quiet,
        Warning,
        Critical,
        Silent,
    }
    let levels = [
        ("quiet", Level::Quiet),
        ("warning", Level::Warning),
        ("critical", Level::Critical),
        ("silent", Level::Silent),
    ];
    let mut consumed_pairs: Vec<(&str, &str)> = rules
        .iter()
        .filter_map(|r| Some((r.consumer.as_deref()?, r.event_type.as_str())))
        .collect();
    consumed_pairs.dedup();
    let published: BTreeSet<&str> = rules
        .iter()
        .filter(|r| r.consumer.is_none())
        .map(|r| r.event_type.as_str())
        .collect();
    let mut y = format!(
        "# @generated by `event-codegen alerts`; edit the schemas, not this file.\n# promtool test rules {service}.test.yml\nrule_files:\n  - {}\nevaluation_interval: 1m\ntests:\n",
        q(rule_file)
    );
    for (name, level) in levels {
        let mut scenario = Scenario {
            name,
            series: Vec::new(),
            eval_minutes,
        };
        let (lag, share, dlq) = match level {
            // The quiet dead-letter depth is at the warning threshold,
            // which is not over it.
            Level::Quiet | Level::Silent => {
                (config.lag_warning_seconds / 2, w / 2.0, config.dlq_warning)
            }
            Level::Warning => (
                (config.lag_warning_seconds + config.lag_critical_seconds) / 2,
                (w + c) / 2.0,
                (config.dlq_warning + config.dlq_critical).div_ceil(2),
            ),
            Level::Critical => (
                config.lag_critical_seconds * 2,
                (c + 1.0) / 2.0,
                config.dlq_critical * 2,
            ),
        };
        // In the warning scenario the failures stay under the repeated-
        // failure count; in the critical one they pass it.
        let repeated_secs = parse_duration(&config.repeated_window).unwrap_or(600) as f64;
        let per_minute = match level {
            Level::Critical => {
                let needed = config.repeated_failures as f64 * 2.0 * 60.0 / repeated_secs;
                needed.max(1.0)
            }
            _ => {
                let allowed = (config.repeated_failures as f64 * 0.5) * 60.0 / repeated_secs;
                let f = failures_per_minute(share);
                if f > 0.0 { (allowed / f).min(1.0) } else { 1.0 }
            }
        };
        for &(consumer, ty) in &consumed_pairs {
            let sel = selector(consumer, ty);
            scenario.series.push((
                format!("{}{{{sel}}}", metric::LAG_SECONDS),
                format!("{lag}x{samples}"),
            ));
            scenario.series.push((
                format!("{}{{{sel},outcome=\"processed\"}}", metric::CONSUMED),
                format!("0+{}x{samples}", num(per_minute)),
            ));
            scenario.series.push((
                format!("{}{{{sel},outcome=\"retried\"}}", metric::CONSUMED),
                format!(
                    "0+{}x{samples}",
                    num(per_minute * failures_per_minute(share))
                ),
            ));
            scenario.series.push((
                format!("{}{{{sel}}}", metric::DLQ_DEPTH),
                format!("{dlq}x{samples}"),
            ));
        }
        for ty in &published {
            let values = if level == Level::Silent {
                format!("7x{samples}")
            } else {
                format!("0+1x{samples}")
            };
            scenario.series.push((
                format!("{}{{type=\"{ty}\",version=\"1.0\"}}", metric::PUBLISHED),
                values,
            ));
        }
        let _ = writeln!(
            y,
            "  - name: {}\n    interval: 1m\n    input_series:",
            q(scenario.name)
        );
        for (series, values) in &scenario.series {
            let _ = writeln!(
                y,
                "      - series: {}\n        values: {}",
                q(series),
                q(values)
            );
        }
        let _ = writeln!(y, "    alert_rule_test:");
        let mut names: Vec<&str> = rules.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        for alert in names {
            let expected: Vec<&&Rule> = rules
                .iter()
                .filter(|r| r.name == alert)
                .filter(|r| match level {
                    Level::Quiet => false,
                    Level::Silent => r.consumer.is_none(),
                    Level::Warning => r.consumer.is_some() && r.severity == "warning",
                    Level::Critical => r.consumer.is_some(),
                })
                .collect();
            let _ = writeln!(
                y,
                "      - eval_time: {}m\n        alertname: {alert}",
                scenario.eval_minutes
            );
            if expected.is_empty() {
                let _ = writeln!(y, "        exp_alerts: []");
                continue;
            }
            let _ = writeln!(y, "        exp_alerts:");
            for r in expected {
                let _ = writeln!(y, "          - exp_labels:");
                let _ = writeln!(y, "              severity: {}", r.severity);
                let _ = writeln!(y, "              event_type: {}", q(&r.event_type));
                match &r.consumer {
                    Some(c) => {
                        let _ = writeln!(y, "              consumer: {}", q(c));
                    }
                    None => {
                        let _ = writeln!(y, "              producer: {}", q(&r.producer));
                    }
                }
                let _ = writeln!(y, "            exp_annotations:");
                for (key, value) in r.annotations(config) {
                    let _ = writeln!(y, "              {key}: {}", q(&value));
                }
            }
        }
    }
    y
}

/// The rule files of the catalog, `<service>.rules.yml`, and beside each
/// its `promtool test rules` file, `<service>.test.yml`.
pub fn render_alerts(
    files: &BTreeMap<PathBuf, Value>,
    config: &AlertConfig,
) -> Result<BTreeMap<String, String>, String> {
    config.validate()?;
    let types = event_types(files)?;
    let mut out = BTreeMap::new();
    for (service, groups) in rules_by_service(config, &types) {
        check_service_name(&service)?;
        let rule_file = format!("{service}.rules.yml");
        out.insert(
            format!("{service}.test.yml"),
            render_tests(config, &service, &rule_file, &groups),
        );
        out.insert(rule_file, render_rules(config, &groups));
    }
    Ok(out)
}

/// Writes generated files named by [`render_alerts`] (or the dashboard)
/// into `out`, each only if it changed; returns how many were written.
///
/// Every name goes through [`crate::outpath::join_file_name`] before the
/// first file is written, so a name that is not one plain file name (`..`,
/// a `/`, a `\`, a device name) refuses the whole run; each file is then
/// written by [`crate::outpath::write_if_changed`], which refuses to write
/// through a symbolic link left in `out`.
pub fn write_files(out: &Path, files: &BTreeMap<String, String>) -> Result<usize, String> {
    for name in files.keys() {
        crate::outpath::join_file_name(out, name).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut written = 0;
    for (name, text) in files {
        if crate::outpath::write_if_changed(out, name, text.as_bytes())
            .map_err(|e| e.to_string())?
        {
            written += 1;
        }
    }
    Ok(written)
}

/// The arguments of `event-codegen alerts`.
#[derive(Debug, clap::Args)]
pub struct AlertArgs {
    /// The schema root.
    pub dir: PathBuf,
    /// The output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the Grafana dashboard, OUT/events-dashboard.json.
    #[arg(long)]
    pub dashboard: bool,
    /// Lag, in seconds, over which a consumer warns.
    #[arg(long, default_value_t = 300)]
    pub lag_warning: u64,
    /// Lag, in seconds, over which a consumer is critical.
    #[arg(long, default_value_t = 1800)]
    pub lag_critical: u64,
    /// Share of failed deliveries over which a consumer warns.
    #[arg(long, default_value_t = 0.05)]
    pub error_rate_warning: f64,
    /// Share of failed deliveries over which a consumer is critical.
    #[arg(long, default_value_t = 0.20)]
    pub error_rate_critical: f64,
    /// Dead letters over which a consumer warns.
    #[arg(long, default_value_t = 0)]
    pub dlq_warning: u64,
    /// Dead letters over which a consumer is critical.
    #[arg(long, default_value_t = 10)]
    pub dlq_critical: u64,
    /// Failures of one event type within --repeated-window that are critical.
    #[arg(long, default_value_t = 5)]
    pub repeated_failures: u64,
    /// The window of the repeated-failure alert.
    #[arg(long, default_value = "10m")]
    pub repeated_window: String,
    /// The range of every rate.
    #[arg(long, default_value = "5m")]
    pub rate_window: String,
    /// How long a condition holds before its alert fires.
    #[arg(long = "for", default_value = "5m")]
    pub for_duration: String,
    /// The base of the runbook links: `<BASE>/<domain>/<type>.md`.
    #[arg(long, default_value = "docs/catalog")]
    pub runbook_base: String,
}

impl AlertArgs {
    /// The thresholds the arguments give.
    pub fn config(&self) -> AlertConfig {
        AlertConfig {
            lag_warning_seconds: self.lag_warning,
            lag_critical_seconds: self.lag_critical,
            error_rate_warning: self.error_rate_warning,
            error_rate_critical: self.error_rate_critical,
            dlq_warning: self.dlq_warning,
            dlq_critical: self.dlq_critical,
            repeated_failures: self.repeated_failures,
            repeated_window: self.repeated_window.clone(),
            rate_window: self.rate_window.clone(),
            for_duration: self.for_duration.clone(),
            runbook_base: self.runbook_base.clone(),
        }
    }
}

/// Runs `event-codegen alerts`: a one-line summary, or every problem.
pub fn run(args: &AlertArgs) -> Result<String, String> {
    let config = args.config();
    let files = crate::compat::load_dir(&args.dir)?;
    let mut out = render_alerts(&files, &config)?;
    if args.dashboard {
        let dashboard = crate::dashboard::render_dashboard(&files, &config.rate_window)?;
        let mut text = serde_json::to_string_pretty(&dashboard).map_err(|e| e.to_string())?;
        text.push('\n');
        out.insert(crate::dashboard::FILE_NAME.to_string(), text);
    }
    let written = write_files(&args.out, &out)?;
    Ok(format!(
        "{} file(s) in {}, {written} written",
        out.len(),
        args.out.display()
    ))
}

/// The "Metrics and alerts" section of an event type's catalog page: the
/// series that concern it and the alerts generated with the default
/// thresholds.
pub fn catalog_section(event_type: &str, alerts: &BTreeMap<String, Vec<AlertSummary>>) -> String {
    let mut md = String::from("## Metrics and alerts\n\n");
    let _ = writeln!(
        md,
        "The series of this event type (see [the metric table](../../observability.md#metrics)):\n"
    );
    md.push_str("| Metric | Series of this event |\n|---|---|\n");
    for (name, labels) in [
        (metric::PUBLISHED, "`version`"),
        (metric::CONSUMED, "`consumer`, `outcome`"),
        (metric::HANDLE_SECONDS, "`consumer`"),
        (metric::LAG_SECONDS, "`consumer`"),
        (metric::DLQ_DEPTH, "`consumer`"),
        (metric::RETRIES, "`consumer`, `class`"),
    ] {
        let _ = writeln!(md, "| `{name}` | `type=\"{event_type}\"`, by {labels} |");
    }
    let list = alerts
        .get(event_type)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let _ = writeln!(
        md,
        "\nThe alerts `event-codegen alerts` generates for it, with the default thresholds:\n"
    );
    if list.is_empty() {
        md.push_str("None: the event type has no consumer.\n\n");
        return md;
    }
    md.push_str("| Alert | Severity | Consumer | Fires when |\n|---|---|---|---|\n");
    for a in list {
        let who = a
            .consumer
            .as_deref()
            .map_or_else(|| "(producer)".to_string(), |c| format!("`{c}`"));
        let _ = writeln!(
            md,
            "| `{}` | {} | {who} | {} |",
            a.name, a.severity, a.condition
        );
    }
    md
}
