//! Contracts and services shared by the delivery tests.
#![allow(dead_code)]

use event_runtime::{Envelope, Event, ProducedBy, Service, catalog};

/// Fired when a user completes a course.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service",
    ordering = "per-entity"
)]
pub struct EnrollmentCompleted {
    #[event(partition)]
    pub enrollment_id: String,
    pub seq: u32,
}

/// The same event at a major the first release of a consumer did not know.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "2.0",
    producer = "enrollment-service"
)]
pub struct EnrollmentCompletedV2 {
    pub enrollment_id: String,
    pub grade: String,
}

/// Fire-and-forget analytics.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "page.viewed",
    version = "1.0",
    producer = "enrollment-service",
    delivery = "at-most-once"
)]
pub struct PageViewed {
    pub page: String,
}

pub struct EnrollmentService;
impl Service for EnrollmentService {
    const NAME: &'static str = "enrollment-service";
}
impl ProducedBy<EnrollmentService> for EnrollmentCompleted {}
impl ProducedBy<EnrollmentService> for EnrollmentCompletedV2 {}
impl ProducedBy<EnrollmentService> for PageViewed {}

pub struct CertificateService;
impl Service for CertificateService {
    const NAME: &'static str = "certificate-service";
}

catalog! {
    /// What the certificate service handles.
    #[derive(Debug, Clone, PartialEq)]
    pub enum CertificateInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

catalog! {
    /// A consumer release that only knew major 2.
    #[derive(Debug, Clone, PartialEq)]
    pub enum V2OnlyInbound {
        EnrollmentCompletedV2(EnrollmentCompletedV2),
    }
}

catalog! {
    /// The fixed release: both majors.
    #[derive(Debug, Clone, PartialEq)]
    pub enum BothMajorsInbound {
        EnrollmentCompleted(EnrollmentCompleted),
        EnrollmentCompletedV2(EnrollmentCompletedV2),
    }
}

catalog! {
    /// Analytics.
    #[derive(Debug, Clone, PartialEq)]
    pub enum AnalyticsInbound {
        PageViewed(PageViewed),
    }
}

pub fn completed(enrollment: &str, seq: u32) -> Envelope<EnrollmentCompleted> {
    Envelope::new(EnrollmentCompleted {
        enrollment_id: enrollment.to_owned(),
        seq,
    })
    .tenant("tenant_7f3c")
    .correlation("req_1")
    .build()
}

pub fn seq_of(event: &CertificateInbound) -> (String, u32) {
    let CertificateInbound::EnrollmentCompleted(e) = event;
    (e.data().enrollment_id.clone(), e.data().seq)
}

catalog! {
    /// What the notification service handles.
    #[derive(Debug, Clone, PartialEq)]
    pub enum NotificationInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

catalog! {
    /// What the activity log handles.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ActivityInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

/// The server the tests use: `NATS_URL`, or the machine's JetStream server.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// A subject prefix no other test (or run) uses, so tests run in parallel.
pub fn unique_prefix(test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{test}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Waits until `done` holds, at most `limit`; returns whether it held.
pub async fn until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if done() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    done()
}

/// Waits until the async check `done` holds, at most `limit`.
pub async fn until_async<F, Fut>(limit: std::time::Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if done().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    done().await
}

/// Deletes the test's streams; called at the end of a test that passed.
pub async fn cleanup(
    js: &event_nats::async_nats::jetstream::Context,
    topology: &event_nats::Topology,
) {
    for s in topology.plan().streams {
        let _ = js.delete_stream(&s.name).await;
    }
}
