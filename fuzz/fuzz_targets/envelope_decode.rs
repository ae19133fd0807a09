//! The envelope decoders on arbitrary bytes: the tolerant and the preserving
//! decode of one typed contract must agree on what they accept, the encoding
//! of an accepted envelope must decode and encode to the same bytes, and the
//! routed decode over the whole catalog must never panic.
#![no_main]

use event_contracts_tests::{CatalogEvent, EnrollmentCompletedV1};
use event_runtime::{Catalog, Envelope, Routed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let tolerant = Envelope::<EnrollmentCompletedV1>::from_json_slice(bytes);
    let preserving = Envelope::<EnrollmentCompletedV1>::from_json_slice_preserving(bytes);
    match (&tolerant, &preserving) {
        (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => panic!("the preserving decode refused what the tolerant one took: {e}"),
        (Err(e), Ok(_)) => panic!("the tolerant decode refused what the preserving one took: {e}"),
    }
    if let Ok(env) = tolerant {
        // A newer minor is written back under the version the reader knows,
        // so the fixed point is the encoding: encoding what an encoding
        // decodes to gives the same bytes.
        let again = env.to_json_vec().expect("an accepted envelope encodes");
        let back = Envelope::<EnrollmentCompletedV1>::from_json_slice(&again)
            .expect("an encoded envelope decodes");
        assert_eq!(back.id(), env.id());
        assert_eq!(back.data(), env.data());
        let twice = back.to_json_vec().expect("a decoded envelope encodes");
        assert_eq!(twice, again, "decode -> encode is not stable");
    }
    if let Ok(Routed::Known(event)) = CatalogEvent::decode(bytes) {
        // A routed event is a typed envelope; it has a type name.
        assert!(!format!("{event:?}").is_empty());
    }
});
