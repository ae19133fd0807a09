// Every event carries a tenant id: an envelope without one does not build.
use event_contracts_tests::UserDeletedV1;
use event_runtime::Envelope;

fn delete(event: UserDeletedV1) -> Envelope<UserDeletedV1> {
    Envelope::new(event).correlation("req_1").build()
}

fn main() {
    let _ = delete;
}
