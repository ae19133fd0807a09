// The course service may not publish `enrollment.started`: the catalog names
// enrollment-service as its producer.
use event_contracts_tests::EnrollmentStartedV1;
use event_contracts_tests::services::CourseService;
use event_runtime::{Envelope, OutboundMessage, Publisher, Transport};

struct Stdout;

impl Transport for Stdout {
    type Error = std::io::Error;
    fn send(&self, message: OutboundMessage) -> Result<(), Self::Error> {
        println!("{}", message.event_type);
        Ok(())
    }
}

fn publish(publisher: &Publisher<CourseService, Stdout>, event: EnrollmentStartedV1) {
    let envelope = Envelope::new(event).tenant("t").correlation("c").build();
    publisher.publish(&envelope).unwrap();
}

fn main() {
    let _ = publish;
}
