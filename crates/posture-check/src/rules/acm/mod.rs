//! ACM rules.

use crate::Rule;

mod acm_certificate_not_expiring;

/// The ACM rules.
pub const RULES: &[&dyn Rule] = &[&acm_certificate_not_expiring::AcmCertificateNotExpiring];

/// Fixtures shared by the ACM rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::AcmCertificate;
    use posture_model::{Observed, Resource, ResourceBody};

    use crate::testing::{days_ago, now, region, resource};

    /// An issued, in-use, imported certificate valid for `days_left` more days.
    pub(crate) fn certificate(days_left: i64) -> AcmCertificate {
        AcmCertificate {
            domain_name: Some("phi.example.com".into()),
            status: "ISSUED".into(),
            cert_type: Some("IMPORTED".into()),
            key_algorithm: Some("RSA_2048".into()),
            in_use: Some(true),
            renewal_eligibility: Some("INELIGIBLE".into()),
            not_before: Some(days_ago(300)),
            not_after: Observed::Collected(now() + chrono::Duration::days(days_left)),
        }
    }

    /// A certificate resource in the fixture account and region.
    pub(crate) fn certificate_resource(c: AcmCertificate) -> Resource {
        resource(
            "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666",
            region(),
            ResourceBody::AcmCertificate(c),
        )
    }
}
