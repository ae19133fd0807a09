//! A producer and an idempotent consumer of `enrollment.completed`, end to
//! end: encode, decode, a redelivery handled once, a malformed event
//! dead-lettered with its reason.
//!
//! `cargo run -p event-runtime --example produce_consume`

use event_runtime::idempotency::{Handled, IdempotencyKey, IdempotentConsumer, InMemoryStore};
use event_runtime::{DecodeError, Envelope, Event, Header, OffsetDateTime, Uuid, Version};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A learner completed a course.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnrollmentCompleted {
    enrollment_id: Uuid,
    user_id: Uuid,
    course_id: Uuid,
    course_title: String,
    #[serde(with = "time::serde::rfc3339")]
    completed_at: OffsetDateTime,
    score: u8,
    total_duration: u32,
}

impl Event for EnrollmentCompleted {
    const TYPE: &'static str = "enrollment.completed";
    const VERSION: Version = Version::new(1, 0);
    const PRODUCER: &'static str = "enrollment-service";

    /// One certificate per enrollment, however many times the fact is
    /// published.
    fn natural_key(&self) -> Option<String> {
        Some(self.enrollment_id.to_string())
    }
}

/// What the dead letter queue keeps: the original bytes and why.
struct DeadLetter {
    bytes: Vec<u8>,
    error: DecodeError,
}

fn completed(title: &str, score: u8) -> EnrollmentCompleted {
    EnrollmentCompleted {
        enrollment_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        course_id: Uuid::new_v4(),
        course_title: title.to_owned(),
        completed_at: OffsetDateTime::now_utc(),
        score,
        total_duration: 340,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The producer: two events of one request, encoded for the broker.
    let mut broker: VecDeque<Vec<u8>> = VecDeque::new();
    for (title, score) in [("Event-driven design", 85), ("Rust for services", 92)] {
        let event = Envelope::new(completed(title, score))
            .tenant("tenant_7f3c")
            .correlation("req_xyz789")
            .build();
        println!("produced  {} {} ({title})", event.id(), event.event_type());
        broker.push_back(event.to_json_vec()?);
    }
    // At-least-once delivery: the broker redelivers the first event.
    let redelivered = broker[0].clone();
    broker.push_back(redelivered);
    // And a producer with a bug sends a score as a string.
    let mut broken: serde_json::Value = serde_json::from_slice(&broker[1])?;
    broken["id"] = "evt_broken_1".into();
    broken["data"]["score"] = "ninety".into();
    broker.push_back(serde_json::to_vec(&broken)?);

    // The consumer: route by header, decode, handle once per enrollment.
    let certificates = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
    let mut dead_letters = Vec::new();
    let mut issued = 0;
    while let Some(bytes) = broker.pop_front() {
        let header = match Header::from_json_slice(&bytes) {
            Ok(header) if header.is::<EnrollmentCompleted>() => header,
            Ok(header) => {
                println!(
                    "skipped   {} {}: not for us",
                    header.id(),
                    header.event_type()
                );
                continue;
            }
            Err(error) => {
                dead_letters.push(DeadLetter { bytes, error });
                continue;
            }
        };
        let event = match Envelope::<EnrollmentCompleted>::from_json_slice(&bytes) {
            Ok(event) => event,
            Err(error) => {
                println!("refused   {}: {error}", header.id());
                dead_letters.push(DeadLetter { bytes, error });
                continue;
            }
        };
        let outcome = certificates.handle(&event, |data| {
            issued += 1;
            Ok::<_, std::io::Error>(format!(
                "certificate crt_{issued} for {}",
                data.course_title
            ))
        })?;
        match outcome {
            Handled::Processed(certificate) => {
                println!("handled   {}: issued {certificate}", event.id());
            }
            Handled::Duplicate(record) => println!(
                "duplicate {}: {} already handled at {} (result: {})",
                event.id(),
                IdempotencyKey::of(&event),
                record.processed_at,
                record.result
            ),
            Handled::InFlight { claimed_at } => {
                println!(
                    "in flight {}: claimed at {claimed_at}, redeliver later",
                    event.id()
                );
            }
        }
    }

    println!("certificates issued: {issued}");
    for letter in &dead_letters {
        println!(
            "dead letter ({} bytes): {} [path `{}`, {:?}, permanent: {}]",
            letter.bytes.len(),
            letter.error,
            letter.error.path(),
            letter.error.kind(),
            letter.error.is_permanent()
        );
    }
    Ok(())
}
