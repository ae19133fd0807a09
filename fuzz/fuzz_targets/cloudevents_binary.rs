//! CloudEvents binary mode on arbitrary headers and body, for each binding:
//! never a panic, and an accepted event survives a binary round trip.
#![no_main]

use arbitrary::Arbitrary;
use event_contracts_tests::EnrollmentCompletedV1;
use event_runtime::Envelope;
use event_runtime::cloudevents::Binding;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Message<'a> {
    binding: u8,
    headers: Vec<(&'a str, &'a [u8])>,
    body: &'a [u8],
}

fuzz_target!(|message: Message<'_>| {
    let binding = match message.binding % 3 {
        0 => Binding::Kafka,
        1 => Binding::Http,
        _ => Binding::Nats,
    };
    let read = Envelope::<EnrollmentCompletedV1>::from_binary(
        binding,
        message.headers.iter().copied(),
        message.body,
    );
    if let Ok(env) = read {
        let out = env.to_binary(binding).expect("an accepted CloudEvent encodes");
        let back = Envelope::<EnrollmentCompletedV1>::from_binary(
            binding,
            out.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())),
            &out.body,
        )
        .expect("an encoded CloudEvent decodes");
        assert_eq!(back, env);
    }
});
