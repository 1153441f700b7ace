//! `rds_ca_certificate_valid`: a DB instance's certificate authority (and, when reported,
//! its server certificate) stays valid for at least `min_days_valid` more days.

use chrono::{DateTime, Utc};
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsCaCertificateValid;

static META: RuleMeta = RuleMeta {
    id: "rds_ca_certificate_valid",
    title: "RDS DB instance's CA certificate is not expiring soon",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: "When the CA behind a DB instance's TLS certificate expires, clients that verify \
                the server can no longer connect over TLS, and the pressure is to turn \
                verification off, exposing ePHI in transit (164.312(e)(1)).",
    remediation: "Rotate the instance to a current CA (aws rds modify-db-instance \
                  --db-instance-identifier ID --ca-certificate-identifier rds-ca-rsa2048-g1 \
                  --apply-immediately, or in the next maintenance window) after adding the new \
                  CA bundle to the clients' trust stores.",
    api_calls: &["rds:DescribeDBInstances", "rds:DescribeCertificates"],
    params: &[ParamSpec {
        name: "min_days_valid",
        ty: ParamType::Integer,
        default: "30",
        doc: "How many more days the CA (and server certificate) must stay valid.",
    }],
};

impl Rule for RdsCaCertificateValid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        let id = &db.identifier;
        let min = ctx.int("min_days_valid");
        let days = |t: DateTime<Utc>| (t - ctx.now).num_days();
        // The instance's own server certificate can prove a failure even when its CA's
        // validity is unknown (a retired CA that DescribeCertificates no longer lists).
        let server_failure = || {
            db.server_certificate_valid_till
                .filter(|t| days(*t) < min)
                .map(|t| {
                    Outcome::fail(format!(
                        "the server certificate of {id} {} on {}",
                        if t <= ctx.now { "expired" } else { "expires" },
                        t.format("%Y-%m-%d")
                    ))
                    .with("server_certificate_valid_till", t)
                    .with("ca_certificate_identifier", &db.ca_certificate_identifier)
                    .with("min_days_valid", min)
                })
        };
        let Some(ca_id) = db.ca_certificate_identifier.as_deref() else {
            return server_failure().unwrap_or_else(|| {
                Outcome::error(format!("{id} reports no CA certificate identifier"))
            });
        };
        let ca = match db.ca_certificate.get() {
            Ok(ca) => ca,
            Err(why) => {
                return server_failure().unwrap_or_else(|| {
                    Outcome::unavailable("the CA certificate list", why)
                        .with("ca_certificate_identifier", ca_id)
                });
            }
        };
        let Some(ca) = ca else {
            return server_failure().unwrap_or_else(|| {
                Outcome::error(format!(
                    "{id} uses CA {ca_id}, which DescribeCertificates did not list, so its \
                     validity is unknown"
                ))
                .with("ca_certificate_identifier", ca_id)
            });
        };
        let Some(ca_till) = ca.valid_till else {
            return server_failure().unwrap_or_else(|| {
                Outcome::error(format!("CA {ca_id} was listed without a ValidTill date"))
                    .with("ca_certificate_identifier", ca_id)
            });
        };
        let mut expiring = Vec::new();
        if days(ca_till) < min {
            expiring.push(format!(
                "CA {ca_id} {} on {}",
                if ca_till <= ctx.now {
                    "expired"
                } else {
                    "expires"
                },
                ca_till.format("%Y-%m-%d")
            ));
        }
        if let Some(server_till) = db.server_certificate_valid_till
            && days(server_till) < min
        {
            expiring.push(format!(
                "the server certificate {} on {}",
                if server_till <= ctx.now {
                    "expired"
                } else {
                    "expires"
                },
                server_till.format("%Y-%m-%d")
            ));
        }
        let outcome = if expiring.is_empty() {
            Outcome::pass(format!(
                "{id}'s CA {ca_id} is valid until {} ({} days, at least {min} required)",
                ca_till.format("%Y-%m-%d"),
                days(ca_till)
            ))
        } else {
            Outcome::fail(format!(
                "{id}: {} (at least {min} days of validity required)",
                expiring.join("; ")
            ))
        };
        outcome
            .with("ca_certificate_identifier", ca_id)
            .with("ca_valid_till", ca_till)
            .with("ca_days_left", days(ca_till))
            .with(
                "server_certificate_valid_till",
                db.server_certificate_valid_till,
            )
            .with("min_days_valid", min)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::RdsCaCertificate;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    fn db(valid_till_days: i64, server_days: Option<i64>) -> Resource {
        let mut i = instance("db1");
        i.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
        i.ca_certificate = Observed::Collected(RdsCaCertificate {
            identifier: "rds-ca-rsa2048-g1".into(),
            certificate_type: Some("CA".into()),
            valid_from: None,
            valid_till: Some(days_ago(-valid_till_days)),
        });
        i.server_certificate_valid_till = server_days.map(|d| days_ago(-d));
        instance_resource(i)
    }

    #[test]
    fn pass_when_valid_long_enough() {
        let o = expect(
            run(&RdsCaCertificateValid, &db(400, Some(300)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["ca_days_left"], 400);
    }

    #[test]
    fn fail_when_ca_expires_soon_or_expired() {
        let o = expect(
            run(&RdsCaCertificateValid, &db(10, None), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("expires on"), "{}", o.reason);
        let o = expect(
            run(&RdsCaCertificateValid, &db(-100, None), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("expired on"), "{}", o.reason);
    }

    /// The boundary at the default `min_days_valid` of 30: a CA valid for 30 more days
    /// passes, 29 fails (the rule's `days < min` as `<=` fails the first half); the same for
    /// the server certificate.
    #[test]
    fn pass_at_30_days_left_and_fail_at_29() {
        let o = expect(
            run(&RdsCaCertificateValid, &db(30, Some(30)), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "ca_days_left", serde_json::json!(30));
        assert_evidence(&o, "min_days_valid", serde_json::json!(30));
        assert!(
            o.reason.contains("(30 days, at least 30 required)"),
            "{}",
            o.reason
        );
        let o = expect(
            run(&RdsCaCertificateValid, &db(29, Some(30)), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "ca_days_left", serde_json::json!(29));
        assert!(
            o.reason.contains("CA rds-ca-rsa2048-g1 expires on"),
            "{}",
            o.reason
        );
        assert!(!o.reason.contains("server certificate"), "{}", o.reason);
        let o = expect(
            run(&RdsCaCertificateValid, &db(400, Some(29)), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "ca_days_left", serde_json::json!(400));
        assert_evidence(
            &o,
            "server_certificate_valid_till",
            serde_json::json!(days_ago(-29)),
        );
        assert!(
            o.reason.contains("db1: the server certificate expires on"),
            "{}",
            o.reason
        );
        assert!(!o.reason.contains("CA rds-ca"), "{}", o.reason);
        // The server certificate alone can prove a failure when the CA is unlisted, at the
        // same boundary.
        let mut i = instance("db1");
        i.ca_certificate_identifier = Some("rds-ca-2019".into());
        i.ca_certificate = Observed::Absent;
        i.server_certificate_valid_till = Some(days_ago(-30));
        let o = expect(
            run(&RdsCaCertificateValid, &instance_resource(i.clone()), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("did not list"), "{}", o.reason);
        i.server_certificate_valid_till = Some(days_ago(-29));
        let o = expect(
            run(&RdsCaCertificateValid, &instance_resource(i), &[]),
            Status::Fail,
        );
        assert_evidence(
            &o,
            "ca_certificate_identifier",
            serde_json::json!("rds-ca-2019"),
        );
        assert_evidence(&o, "min_days_valid", serde_json::json!(30));
    }

    #[test]
    fn fail_when_server_certificate_expires_soon() {
        let o = expect(
            run(&RdsCaCertificateValid, &db(400, Some(5)), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("server certificate"), "{}", o.reason);
    }

    #[test]
    fn error_when_certificates_unavailable_or_unlisted() {
        let mut i = instance("db1");
        i.ca_certificate_identifier = Some("rds-ca-2019".into());
        i.ca_certificate = denied("rds:DescribeCertificates");
        let o = expect(
            run(&RdsCaCertificateValid, &instance_resource(i.clone()), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("rds:DescribeCertificates"),
            "{}",
            o.reason
        );
        i.ca_certificate = Observed::Absent;
        let o = expect(
            run(&RdsCaCertificateValid, &instance_resource(i), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["ca_certificate_identifier"], "rds-ca-2019");
    }

    #[test]
    fn fail_on_an_expiring_server_certificate_even_when_the_ca_is_unlisted() {
        let mut i = instance("db1");
        i.ca_certificate_identifier = Some("rds-ca-2019".into());
        i.ca_certificate = Observed::Absent;
        i.server_certificate_valid_till = Some(days_ago(-5));
        let o = expect(
            run(&RdsCaCertificateValid, &instance_resource(i), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("server certificate of db1 expires"),
            "{}",
            o.reason
        );
    }
}
