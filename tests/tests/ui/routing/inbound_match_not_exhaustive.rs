// A consumer's exhaustive match, written when the certificate service handled
// four events. The catalog since lists it as a consumer of `user.updated`
// too, so its inbound enum has a fifth variant and the match stops compiling.
use event_contracts_tests::services::CertificateServiceInbound;

fn handle(event: CertificateServiceInbound) -> &'static str {
    match event {
        CertificateServiceInbound::CourseDeletedV1(_) => "revoke certificates",
        CertificateServiceInbound::EnrollmentCompletedV1(_) => "issue certificate",
        CertificateServiceInbound::EnrollmentCompletedV2(_) => "issue certificate",
        CertificateServiceInbound::UserDeletedV1(_) => "anonymise certificates",
    }
}

fn main() {
    let _ = handle;
}
