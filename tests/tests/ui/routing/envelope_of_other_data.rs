// An envelope of one event type cannot be built from another event's data.
use event_contracts_tests::{CoursePublishedV1, UserDeletedV1};
use event_runtime::Envelope;

fn announce(user_deleted: UserDeletedV1) -> Envelope<CoursePublishedV1> {
    Envelope::new(user_deleted).tenant("t").correlation("c").build()
}

fn main() {
    let _ = announce;
}
