//! The header-only decode on arbitrary bytes: never a panic, and a header it
//! accepts agrees with the full decode's header wherever the full decode
//! accepts the same bytes.
#![no_main]

use event_contracts_tests::EnrollmentCompletedV1;
use event_runtime::{Envelope, Header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let header = Header::from_json_slice(bytes);
    if let Ok(full) = Envelope::<EnrollmentCompletedV1>::from_json_slice(bytes) {
        let header = header.expect("the header decode refused an envelope the full decode took");
        assert_eq!(header.id(), full.id().as_str());
        assert_eq!(header.event_type(), full.event_type());
        assert_eq!(header.tenant_id(), full.tenant_id());
        assert_eq!(header.correlation_id(), full.correlation_id());
    }
});
