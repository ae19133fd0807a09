//! The plan read from the contracts' consumers, without a server.

use event_nats::Topology;
use event_runtime::Event;

#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service",
    consumer(service = "certificate-service", reason = "certificate"),
    consumer(service = "analytics-service", reason = "completion metrics")
)]
struct EnrollmentCompleted {
    enrollment_id: String,
}

#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "course.published",
    version = "2.0",
    producer = "course-service",
    consumer(service = "analytics-service", reason = "catalogue metrics")
)]
struct CoursePublished {
    course_id: String,
}

#[test]
fn the_plan_has_a_consumer_per_declared_consumer_service_filtering_on_what_it_consumes() {
    let topology = Topology::from_contracts([
        (
            EnrollmentCompleted::TYPE,
            EnrollmentCompleted::VERSION.major(),
            EnrollmentCompleted::contract(),
        ),
        (
            CoursePublished::TYPE,
            CoursePublished::VERSION.major(),
            CoursePublished::contract(),
        ),
    ]);
    let plan = topology.plan();
    let streams: Vec<_> = plan.streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        streams,
        [
            "EVENTS",
            "EVENTS_DLQ_ANALYTICS-SERVICE",
            "EVENTS_DLQ_CERTIFICATE-SERVICE"
        ]
    );
    let consumers: Vec<_> = plan
        .consumers
        .iter()
        .map(|c| (c.durable.as_str(), c.filter_subjects.clone()))
        .collect();
    assert_eq!(
        consumers,
        [
            (
                "analytics-service",
                vec![
                    "events.course.published.v2".to_owned(),
                    "events.enrollment.completed.v1".to_owned()
                ]
            ),
            (
                "analytics-service_retry",
                vec!["events._retry.analytics-service.*".to_owned()]
            ),
            (
                "certificate-service",
                vec!["events.enrollment.completed.v1".to_owned()]
            ),
            (
                "certificate-service_retry",
                vec!["events._retry.certificate-service.*".to_owned()]
            ),
        ]
    );
    let printed = plan.to_string();
    assert!(printed.contains("consumer EVENTS/certificate-service (durable, pull)"));
    assert!(printed.contains("  filter events.course.published.v2"));
}
