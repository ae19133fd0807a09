//! CloudEvents structured mode on arbitrary bytes: never a panic, and an
//! accepted event survives a structured round trip unchanged.
#![no_main]

use event_contracts_tests::EnrollmentCompletedV1;
use event_runtime::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(env) = Envelope::<EnrollmentCompletedV1>::from_cloudevent_json(bytes) {
        let json = env.to_cloudevent_json().expect("an accepted CloudEvent encodes");
        let back = Envelope::<EnrollmentCompletedV1>::from_cloudevent_json(&json)
            .expect("an encoded CloudEvent decodes");
        assert_eq!(back, env);
    }
});
