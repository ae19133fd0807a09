//! A small in-process `metrics` recorder that keeps every series in memory
//! and prints a summary: for examples, tests and a first look. Production
//! exporters (Prometheus and the like) plug into the same facade.

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct CounterCell(AtomicU64);

impl CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct GaugeCell(Mutex<f64>);

impl GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += value;
    }
    fn decrement(&self, value: f64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) -= value;
    }
    fn set(&self, value: f64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = value;
    }
}

#[derive(Debug, Default)]
struct HistogramCell(Mutex<Vec<f64>>);

impl HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(value);
    }
}

#[derive(Debug, Default)]
struct Series {
    counters: BTreeMap<String, Arc<CounterCell>>,
    gauges: BTreeMap<String, Arc<GaugeCell>>,
    histograms: BTreeMap<String, Arc<HistogramCell>>,
}

/// Keeps every series in memory. Clones share the series.
#[derive(Debug, Clone, Default)]
pub struct SummaryRecorder {
    series: Arc<Mutex<Series>>,
}

fn series_name(key: &Key) -> String {
    let mut labels: Vec<_> = key
        .labels()
        .map(|l| format!("{}=\"{}\"", l.key(), l.value()))
        .collect();
    labels.sort();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

impl SummaryRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Series> {
        self.series.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of a counter, by its series name
    /// (`events_consumed_total{consumer="a",outcome="processed",type="t"}`,
    /// labels sorted).
    pub fn counter(&self, series: &str) -> Option<u64> {
        self.lock()
            .counters
            .get(series)
            .map(|c| c.0.load(Ordering::Relaxed))
    }

    /// The value of a gauge.
    pub fn gauge(&self, series: &str) -> Option<f64> {
        self.lock()
            .gauges
            .get(series)
            .map(|g| *g.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The samples of a histogram.
    pub fn histogram(&self, series: &str) -> Option<Vec<f64>> {
        self.lock()
            .histograms
            .get(series)
            .map(|h| h.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Every series and its value, one a line; histograms as count, p50,
    /// p99.
    pub fn summary(&self) -> Summary {
        let series = self.lock();
        let mut lines = Vec::new();
        for (name, c) in &series.counters {
            lines.push(format!("{name} {}", c.0.load(Ordering::Relaxed)));
        }
        for (name, g) in &series.gauges {
            lines.push(format!(
                "{name} {}",
                *g.0.lock().unwrap_or_else(|e| e.into_inner())
            ));
        }
        for (name, h) in &series.histograms {
            let mut samples = h.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
            samples.sort_by(f64::total_cmp);
            let pct = |p: f64| {
                samples
                    .get(((samples.len() as f64 - 1.0) * p).round() as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            lines.push(format!(
                "{name} count={} p50={:.6}s p99={:.6}s",
                samples.len(),
                pct(0.5),
                pct(0.99)
            ));
        }
        Summary(lines)
    }
}

/// The printed form of a [`SummaryRecorder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary(pub Vec<String>);

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.0 {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

impl Recorder for SummaryRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let cell = self
            .lock()
            .counters
            .entry(series_name(key))
            .or_default()
            .clone();
        Counter::from_arc(cell)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let cell = self
            .lock()
            .gauges
            .entry(series_name(key))
            .or_default()
            .clone();
        Gauge::from_arc(cell)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let cell = self
            .lock()
            .histograms
            .entry(series_name(key))
            .or_default()
            .clone();
        Histogram::from_arc(cell)
    }
}
