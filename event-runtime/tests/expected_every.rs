//! `#[event(expected_every = "...")]` reaches the contract, which the
//! silence alert of `event-codegen alerts` reads as `x-event.expectedEvery`.

use event_runtime::Event;

/// A user signed up.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "user.created",
    version = "1.0",
    producer = "user-service",
    expected_every = "1h"
)]
pub struct UserCreated {
    pub user_id: String,
}

/// A user left.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(type = "user.deleted", version = "1.0", producer = "user-service")]
pub struct UserDeleted {
    pub user_id: String,
}

#[test]
fn the_cadence_is_in_the_contract_and_absent_when_not_declared() {
    assert_eq!(UserCreated::contract().expected_every, Some("1h"));
    assert_eq!(UserDeleted::contract().expected_every, None);
}
