//! A Grafana dashboard from the catalog: a row of publishing and outbox
//! panels, then one row per consumer service with its consumption rate,
//! latency p50/p95/p99, lag, errors, dead letter depth and circuit breaker
//! state. The queries use the metrics of `docs/observability.md` (the names
//! in [`crate::alerts::metric`]).
//!
//! ```
//! let schema = serde_json::json!({
//!     "title": "CoursePublished",
//!     "x-event": {
//!         "type": "course.published", "version": "1.0", "producer": "course-service",
//!         "consumers": [{ "service": "search-service", "reason": "indexes the course" }]
//!     },
//!     "type": "object"
//! });
//! let files = [("course.published.v1.0.json".into(), schema)].into_iter().collect();
//! let dashboard = event_codegen::dashboard::render_dashboard(&files, "5m").unwrap();
//! assert_eq!(dashboard["panels"][0]["type"], "row");
//! ```

use crate::alerts::{event_types, metric, parse_duration};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The file name the CLI writes the dashboard to.
pub const FILE_NAME: &str = "events-dashboard.json";

const WIDTH: u64 = 24;
const PANEL_WIDTH: u64 = 8;
const PANEL_HEIGHT: u64 = 8;

struct Layout {
    y: u64,
    x: u64,
    id: u64,
    panels: Vec<Value>,
}

impl Layout {
    fn row(&mut self, title: &str) {
        if self.x > 0 {
            self.x = 0;
            self.y += PANEL_HEIGHT;
        }
        self.id += 1;
        self.panels.push(json!({
            "type": "row",
            "id": self.id,
            "title": title,
            "collapsed": false,
            "gridPos": { "h": 1, "w": WIDTH, "x": 0, "y": self.y },
            "panels": []
        }));
        self.y += 1;
    }

    fn panel(&mut self, title: &str, unit: &str, targets: &[(&str, String)]) {
        if self.x + PANEL_WIDTH > WIDTH {
            self.x = 0;
            self.y += PANEL_HEIGHT;
        }
        self.id += 1;
        let targets: Vec<Value> = targets
            .iter()
            .zip('A'..)
            .map(|((legend, expr), ref_id)| {
                json!({
                    "refId": ref_id.to_string(),
                    "datasource": { "type": "prometheus", "uid": "${datasource}" },
                    "expr": expr,
                    "legendFormat": legend
                })
            })
            .collect();
        self.panels.push(json!({
            "type": "timeseries",
            "id": self.id,
            "title": title,
            "datasource": { "type": "prometheus", "uid": "${datasource}" },
            "gridPos": { "h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": self.x, "y": self.y },
            "fieldConfig": { "defaults": { "unit": unit }, "overrides": [] },
            "targets": targets
        }));
        self.x += PANEL_WIDTH;
    }
}

/// The dashboard of the catalog, as Grafana's JSON model; `window` is the
/// range of every `rate` (`5m`).
pub fn render_dashboard(files: &BTreeMap<PathBuf, Value>, window: &str) -> Result<Value, String> {
    parse_duration(window).map_err(|e| format!("rate window: {e}"))?;
    let types = event_types(files)?;
    let mut consumers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &types {
        for c in &e.consumers {
            consumers.entry(c).or_default().insert(&e.event_type);
        }
    }
    let mut l = Layout {
        y: 0,
        x: 0,
        id: 0,
        panels: Vec::new(),
    };
    l.row("Publishing");
    l.panel(
        "Published per minute, by type and version",
        "short",
        &[(
            "{{type}} {{version}}",
            format!(
                "sum by (type, version) (rate({}[{window}])) * 60",
                metric::PUBLISHED
            ),
        )],
    );
    l.panel(
        "Outbox pending rows",
        "short",
        &[("pending", format!("sum({})", metric::OUTBOX_PENDING))],
    );
    l.panel(
        "Outbox oldest pending row",
        "s",
        &[("oldest", format!("max({})", metric::OUTBOX_OLDEST_SECONDS))],
    );
    for (consumer, event_types) in consumers {
        let sel = format!("consumer=\"{consumer}\"");
        let list: Vec<&str> = event_types.into_iter().collect();
        l.row(&format!("{consumer} (consumes {})", list.join(", ")));
        l.panel(
            "Consumed per minute, by type and outcome",
            "short",
            &[(
                "{{type}} {{outcome}}",
                format!(
                    "sum by (type, outcome) (rate({}{{{sel}}}[{window}])) * 60",
                    metric::CONSUMED
                ),
            )],
        );
        let quantiles: Vec<(String, String)> = [("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")]
            .iter()
            .map(|(name, q)| {
                (
                    format!("{name} {{{{type}}}}"),
                    format!(
                        "histogram_quantile({q}, sum by (le, type) (rate({}_bucket{{{sel}}}[{window}])))",
                        metric::HANDLE_SECONDS
                    ),
                )
            })
            .collect();
        let quantiles: Vec<(&str, String)> = quantiles
            .iter()
            .map(|(n, e)| (n.as_str(), e.clone()))
            .collect();
        l.panel("Handling latency p50 / p95 / p99", "s", &quantiles);
        l.panel(
            "Lag",
            "s",
            &[
                (
                    "{{type}} seconds behind",
                    format!("max by (type) ({}{{{sel}}})", metric::LAG_SECONDS),
                ),
                (
                    "pending at the broker",
                    format!("sum({}{{{sel}}})", metric::PENDING),
                ),
            ],
        );
        l.panel(
            "Error rate (retried or dead-lettered)",
            "percentunit",
            &[(
                "{{type}}",
                format!(
                    "sum by (type) (rate({c}{{{sel},outcome=~\"{f}\"}}[{window}])) / sum by (type) (rate({c}{{{sel}}}[{window}]))",
                    c = metric::CONSUMED,
                    f = metric::FAILED_OUTCOMES
                ),
            )],
        );
        l.panel(
            "Dead letter depth",
            "short",
            &[(
                "{{type}}",
                format!("sum by (type) ({}{{{sel}}})", metric::DLQ_DEPTH),
            )],
        );
        l.panel(
            "Circuit breaker (0 closed, 1 half-open, 2 open)",
            "short",
            &[(
                "breaker",
                format!("max({}{{{sel}}})", metric::BREAKER_STATE),
            )],
        );
    }
    Ok(json!({
        "title": "Event catalog",
        "uid": "event-catalog",
        "description": "Generated by `event-codegen dashboard` from the schema catalog; edit the schemas, not this file.",
        "tags": ["events", "generated"],
        "timezone": "utc",
        "schemaVersion": 39,
        "editable": false,
        "time": { "from": "now-6h", "to": "now" },
        "refresh": "1m",
        "templating": {
            "list": [{
                "name": "datasource",
                "type": "datasource",
                "query": "prometheus",
                "label": "Prometheus"
            }]
        },
        "panels": l.panels
    }))
}
