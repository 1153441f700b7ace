//! `acm_certificate_not_expiring`: an issued ACM certificate is valid for at least
//! `min_days_to_expiry` more days (expired ones fail).
//!
//! Certificates that were never issued (pending validation, failed, timed out) or were
//! revoked or are inactive have no validity that protects anything, and are not applicable.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct AcmCertificateNotExpiring;

static META: RuleMeta = RuleMeta {
    id: "acm_certificate_not_expiring",
    title: "ACM certificate does not expire within the warning period",
    severity: Severity::Medium,
    subject: ResourceKind::AcmCertificate,
    rationale: "When a certificate expires, TLS connections to the endpoints using it fail or \
                clients are pushed to accept untrusted certificates, undermining the \
                encryption of ePHI in transit (164.312(e)(1)). Imported certificates, and ACM \
                certificates whose DNS validation broke, are not renewed automatically.",
    remediation: "Renew the certificate before it expires: for an imported certificate, obtain \
                  a new one and re-import it (ImportCertificate with the same ARN); for an \
                  ACM-issued one, fix its domain validation (ACM console > certificate > \
                  Domains) so managed renewal can complete, or request a new certificate.",
    api_calls: &["acm:ListCertificates", "acm:DescribeCertificate"],
    params: &[ParamSpec {
        name: "min_days_to_expiry",
        ty: ParamType::Integer,
        default: "30",
        doc: "Fail when fewer days than this remain before NotAfter (Steampipe uses 30, AWS \
              Config's acm-certificate-expiration-check 14)",
    }],
};

impl Rule for AcmCertificateNotExpiring {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::AcmCertificate(cert) = &subject.body else {
            return Outcome::not_applicable("not an ACM certificate");
        };
        let described = |o: Outcome| {
            o.with("domain_name", &cert.domain_name)
                .with("status", &cert.status)
                .with("type", &cert.cert_type)
                .with("in_use", cert.in_use)
                .with("renewal_eligibility", &cert.renewal_eligibility)
        };
        if !cert.status.is_empty() && !cert.has_validity() {
            return described(Outcome::not_applicable(format!(
                "the certificate is {}, not issued or expired",
                cert.status
            )));
        }
        let Some(&not_after) = try_observed!(cert.not_after, "the certificate's expiry date")
        else {
            return described(Outcome::error(
                "ACM reported no NotAfter for an issued or expired certificate",
            ));
        };
        let min_days = ctx.int("min_days_to_expiry");
        let left = not_after - ctx.now;
        let days_left = left.num_days();
        let outcome = if left <= chrono::Duration::zero() {
            Outcome::fail(format!(
                "the certificate expired on {}",
                not_after.date_naive()
            ))
        } else if days_left < min_days {
            Outcome::fail(format!(
                "the certificate expires on {} ({days_left} days left, fewer than {min_days})",
                not_after.date_naive()
            ))
        } else {
            Outcome::pass(format!(
                "the certificate is valid until {} ({days_left} days left)",
                not_after.date_naive()
            ))
        };
        described(
            outcome
                .with("not_after", not_after)
                .with("days_left", days_left)
                .with("min_days_to_expiry", min_days),
        )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::acm::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    #[test]
    fn pass_when_valid_long_enough() {
        let o = expect(
            run(
                &AcmCertificateNotExpiring,
                &certificate_resource(certificate(90)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["days_left"], 90);
        assert_eq!(o.evidence["min_days_to_expiry"], 30);
    }

    #[test]
    fn fail_when_expiring_soon_or_expired() {
        let o = expect(
            run(
                &AcmCertificateNotExpiring,
                &certificate_resource(certificate(10)),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["days_left"], 10);
        assert!(o.reason.contains("10 days left"), "{}", o.reason);

        let mut c = certificate(-3);
        c.status = "EXPIRED".into();
        let o = expect(
            run(&AcmCertificateNotExpiring, &certificate_resource(c), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("expired on 2026-05-29"), "{}", o.reason);
    }

    #[test]
    fn threshold_is_a_parameter() {
        let mut params = Params::defaults(&AcmCertificateNotExpiring);
        params.set("min_days_to_expiry", ParamValue::Integer(7));
        let o = expect(
            run_with(
                &AcmCertificateNotExpiring,
                &certificate_resource(certificate(10)),
                &[],
                &params,
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["min_days_to_expiry"], 7);
    }

    #[test]
    fn error_when_expiry_unavailable_or_missing() {
        let mut c = certificate(90);
        c.not_after = denied("acm:DescribeCertificate");
        let o = expect(
            run(
                &AcmCertificateNotExpiring,
                &certificate_resource(c.clone()),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("acm:DescribeCertificate"), "{}", o.reason);
        c.not_after = Observed::Absent;
        let o = expect(
            run(&AcmCertificateNotExpiring, &certificate_resource(c), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("no NotAfter"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_when_not_issued() {
        let mut c = certificate(90);
        c.status = "PENDING_VALIDATION".into();
        let o = expect(
            run(&AcmCertificateNotExpiring, &certificate_resource(c), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["status"], "PENDING_VALIDATION");
        expect(
            run(
                &AcmCertificateNotExpiring,
                &bucket_resource(bucket("phi")),
                &[],
            ),
            Status::NotApplicable,
        );
    }
}
