//! The Catalog methods the pipeline reads, on a routed decode.

mod common;

use common::*;
use event_runtime::idempotency::IdempotencyKey;
use event_runtime::{Catalog, Routed, catalog};

catalog! {
    /// A consumer of nothing yet: still a catalog.
    #[derive(Debug)]
    pub enum NothingInbound {}
}

#[test]
fn a_routed_event_gives_its_id_type_and_idempotency_key() {
    let event = completed("enr_1", 1);
    let bytes = event.to_json_vec().unwrap();
    let Routed::Known(routed) = CertificateInbound::decode(&bytes).unwrap() else {
        panic!("not routed")
    };
    assert_eq!(routed.event_id(), event.id());
    assert_eq!(routed.event_type(), "enrollment.completed");
    assert_eq!(routed.idempotency_key(), IdempotencyKey::of(&event));
    assert!(matches!(
        NothingInbound::decode(&bytes).unwrap(),
        Routed::Unknown(_)
    ));
}
