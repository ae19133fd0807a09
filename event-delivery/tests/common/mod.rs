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
