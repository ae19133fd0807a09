//! `Topology::check` against the machine's JetStream server: what `ensure`
//! would do, read-only.

mod common;

use common::*;
use event_nats::{Subjects, Topology};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_missing_then_matching_then_drift_and_creates_nothing() {
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let subjects = Subjects::new(unique_prefix("check"));
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(subjects.clone());

    let report = topology.check(&js).await.unwrap();
    assert_eq!(
        report.missing,
        [
            format!("stream {}", subjects.stream()),
            format!("stream {}", subjects.dlq_stream("certificate-service")),
            format!("consumer {}/certificate-service", subjects.stream()),
            format!("consumer {}/certificate-service_retry", subjects.stream()),
        ]
    );
    assert!(report.created.is_empty() && report.unchanged.is_empty());
    assert!(!report.matches());
    assert!(
        js.get_stream(subjects.stream()).await.is_err(),
        "created nothing"
    );

    let created = topology.ensure(&js).await.unwrap();
    assert_eq!(created.created, report.missing);
    let report = topology.check(&js).await.unwrap();
    assert!(report.matches(), "{report:?}");
    assert_eq!(report.unchanged.len(), 4);

    let other = topology.clone().ack_wait(Duration::from_secs(7));
    let report = other.check(&js).await.unwrap();
    assert!(!report.matches());
    assert!(report.missing.is_empty());
    let fields: Vec<_> = report
        .drift
        .iter()
        .map(|d| (d.what.as_str(), d.field))
        .collect();
    let what = format!("consumer {}/certificate-service", subjects.stream());
    let retry = format!("consumer {}/certificate-service_retry", subjects.stream());
    assert_eq!(
        fields,
        [(what.as_str(), "ack_wait"), (retry.as_str(), "ack_wait")]
    );
    println!("check: 4 missing, then 4 unchanged, then 2 drifted (ack_wait)");
    cleanup(&js, &topology).await;
}
