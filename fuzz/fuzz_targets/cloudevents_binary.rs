//! CloudEvents binary mode on arbitrary headers and body, for each binding:
//! never a panic, and an accepted event survives a binary round trip.
//!
//! The input reads like a message on the wire: the first byte picks the
//! binding (Kafka, HTTP, NATS), then one `name:value` header a line up to
//! an empty line, then the body. Header values are bytes, as brokers carry
//! them; the seeds in `corpus/` are real messages in this form.
#![no_main]

use event_contracts_tests::EnrollmentCompletedV1;
use event_runtime::Envelope;
use event_runtime::cloudevents::Binding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&selector, rest)) = bytes.split_first() else {
        return;
    };
    let binding = match selector % 3 {
        0 => Binding::Kafka,
        1 => Binding::Http,
        _ => Binding::Nats,
    };
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, &[][..]),
    };
    let mut headers = Vec::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(&line[..colon]) else {
            continue;
        };
        headers.push((name, &line[colon + 1..]));
    }
    let read = Envelope::<EnrollmentCompletedV1>::from_binary(binding, headers.iter().copied(), body);
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
