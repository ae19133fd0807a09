//! The Prometheus example, scraped over HTTP: every series the traffic
//! produces is in the exposition text with its labels and value, the
//! latency histogram with the buckets of `docs/observability.md`, and every
//! metric name is one of that table.

#[path = "../examples/prometheus.rs"]
#[allow(dead_code)]
mod example;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// `name{labels}` with the labels sorted, so label order does not matter.
fn series_key(series: &str) -> String {
    let Some((name, rest)) = series.split_once('{') else {
        return series.to_string();
    };
    let labels = rest.trim_end_matches('}');
    let mut parts: Vec<&str> = labels.split(',').filter(|p| !p.is_empty()).collect();
    parts.sort_unstable();
    format!("{name}{{{}}}", parts.join(","))
}

/// The samples of an exposition text, by sorted series key.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("`series value`");
            let value = value.parse().unwrap_or_else(|_| panic!("value of `{l}`"));
            (series_key(series), value)
        })
        .collect()
}

fn scrape(addr: SocketAddr) -> String {
    let mut last_error = String::new();
    for _ in 0..100 {
        match TcpStream::connect(addr) {
            Ok(mut stream) => {
                stream
                    .write_all(
                        format!(
                            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).unwrap();
                let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                return body.to_string();
            }
            Err(e) => last_error = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no listener on {addr}: {last_error}");
}

fn documented_metrics() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/observability.md"
    ))
    .unwrap();
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

/// The bucket bounds the table's semantics list for the latency histogram.
fn documented_buckets() -> Vec<f64> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/observability.md"
    ))
    .unwrap();
    let line = doc
        .split("`event_handler_duration_seconds` has explicit buckets")
        .nth(1)
        .expect("the bucket paragraph of docs/observability.md");
    let list = line
        .split("instances:")
        .nth(1)
        .unwrap()
        .split("seconds")
        .next()
        .unwrap();
    list.split(',')
        .map(|b| b.trim().parse().unwrap_or_else(|_| panic!("bucket `{b}`")))
        .collect()
}

#[test]
fn every_metric_name_of_the_crate_is_documented() {
    let documented = documented_metrics();
    let names: BTreeSet<String> = event_delivery::metrics_names::ALL
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, documented);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exporter_serves_every_series_of_the_traffic() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    example::install(addr).unwrap();
    example::traffic().await;
    let text = tokio::task::spawn_blocking(move || scrape(addr))
        .await
        .unwrap();
    let got = samples(&text);

    let c = "consumer=\"certificate-service\"";
    let t = "type=\"enrollment.completed\"";
    for (series, value) in [
        (
            format!("events_published_total{{{t},version=\"1.0\"}}"),
            3.0,
        ),
        (
            format!("events_consumed_total{{{c},outcome=\"processed\",{t}}}"),
            2.0,
        ),
        (
            format!("events_consumed_total{{{c},outcome=\"retried\",{t}}}"),
            1.0,
        ),
        (
            format!("events_consumed_total{{{c},outcome=\"dead_lettered\",{t}}}"),
            1.0,
        ),
        (
            format!("event_retries_total{{class=\"transient\",{c},{t}}}"),
            1.0,
        ),
        (
            format!("event_handler_duration_seconds_count{{{c},{t}}}"),
            4.0,
        ),
        (format!("event_dead_letters{{{c},{t}}}"), 1.0),
        (format!("event_circuit_breaker_state{{{c}}}"), 0.0),
    ] {
        assert_eq!(
            got.get(&series_key(&series)),
            Some(&value),
            "{series} in\n{text}"
        );
    }
    // Every outcome of the traffic, and no other (the handles registered
    // at the first delivery serve 0 until used): four attempts.
    let outcomes: BTreeSet<&str> = got
        .iter()
        .filter(|(k, v)| k.starts_with("events_consumed_total{") && **v > 0.0)
        .map(|(k, _)| k)
        .map(|k| {
            k.split("outcome=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        outcomes,
        BTreeSet::from(["dead_lettered", "processed", "retried"]),
        "{text}"
    );
    // The events were stamped `BEHIND` before they were published, and the
    // scrape follows at once: the lag is that, plus the run's few seconds.
    let lag = got[&series_key(&format!("event_consumer_lag_seconds{{{c},{t}}}"))];
    let behind = example::BEHIND.as_secs_f64();
    assert!(
        (behind..behind + 60.0).contains(&lag),
        "lag {lag} s, expected about {behind} s\n{text}"
    );
    assert!(
        text.contains("# TYPE event_consumer_lag_seconds gauge"),
        "{text}"
    );
    // The explicit buckets, cumulative, ending with +Inf at the count.
    let buckets: Vec<(String, f64)> = got
        .iter()
        .filter(|(k, _)| k.starts_with("event_handler_duration_seconds_bucket{"))
        .map(|(k, v)| {
            let le = k.split("le=\"").nth(1).unwrap().split('"').next().unwrap();
            (le.to_string(), *v)
        })
        .collect();
    let mut bounds: Vec<f64> = buckets
        .iter()
        .filter(|(le, _)| le != "+Inf")
        .map(|(le, _)| le.parse().unwrap())
        .collect();
    bounds.sort_by(f64::total_cmp);
    assert_eq!(bounds, documented_buckets(), "{text}");
    assert_eq!(
        bounds,
        event_delivery::metrics_names::HANDLE_SECONDS_BUCKETS,
        "{text}"
    );
    assert!(buckets.contains(&("+Inf".to_string(), 4.0)), "{text}");
    assert!(
        text.contains("# TYPE event_handler_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE events_published_total counter"),
        "{text}"
    );
    assert!(text.contains("# TYPE event_dead_letters gauge"), "{text}");
    // Every name served is in the documented table.
    let documented = documented_metrics();
    for key in got.keys() {
        let name = key.split('{').next().unwrap();
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            documented.contains(base),
            "`{name}` is not in docs/observability.md"
        );
    }
}
