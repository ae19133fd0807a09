//! Prints the JetStream topology of a catalog without touching a server:
//! what `Topology::ensure` would create. With `--ensure URL` it creates it
//! and prints what it found.
//!
//! ```text
//! cargo run -p event-nats --example event-nats-plan
//! cargo run -p event-nats --example event-nats-plan -- --ensure 127.0.0.1:4222
//! ```

use event_nats::Topology;
use event_runtime::Event;

/// Fired when a user completes a course.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service",
    consumer(service = "notification-service", reason = "completion email"),
    consumer(service = "certificate-service", reason = "certificate"),
    consumer(service = "analytics-service", reason = "completion metrics"),
    consumer(service = "gamification-service", reason = "completion coins"),
    consumer(service = "activity-log", reason = "activity entry")
)]
struct EnrollmentCompleted {
    enrollment_id: String,
}

/// Fired when a course goes live.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "course.published",
    version = "1.0",
    producer = "course-service",
    consumer(service = "analytics-service", reason = "catalogue metrics")
)]
struct CoursePublished {
    course_id: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    print!("{}", topology.plan());
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, url] = args.as_slice() {
        if flag == "--ensure" {
            let js = event_nats::connect(url).await?;
            let report = topology.ensure(&js).await?;
            for c in &report.created {
                println!("created {c}");
            }
            for u in &report.unchanged {
                println!("unchanged {u}");
            }
            for d in &report.drift {
                println!("drift {d}");
            }
        }
    }
    Ok(())
}
