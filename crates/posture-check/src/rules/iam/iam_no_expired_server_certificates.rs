//! `iam_no_expired_server_certificates`: a server certificate stored in IAM has not expired.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamNoExpiredServerCertificates;

static META: RuleMeta = RuleMeta {
    id: "iam_no_expired_server_certificates",
    title: "IAM server certificate has not expired",
    severity: Severity::Medium,
    subject: ResourceKind::IamServerCertificate,
    rationale: "An expired certificate left in IAM can still be attached to a load balancer or \
                CloudFront distribution by mistake, breaking TLS for clients that send ePHI or \
                pushing them to accept certificate warnings; transmission security needs \
                valid certificates (164.312(e)(1)).",
    remediation: "Delete the expired certificate (DeleteServerCertificate) after moving any \
                  listener that uses it to a current certificate, preferably one issued and \
                  renewed by AWS Certificate Manager.",
    api_calls: &["iam:ListServerCertificates"],
    params: &[],
};

impl Rule for IamNoExpiredServerCertificates {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamServerCertificate(cert) = &subject.body else {
            return Outcome::not_applicable("not an IAM server certificate");
        };
        let Some(expiration) = cert.expiration else {
            return Outcome::error(
                "ListServerCertificates returned no expiration date for the certificate",
            )
            .with("name", &cert.name);
        };
        let days = (expiration - ctx.now).num_days();
        if expiration <= ctx.now {
            Outcome::fail(format!(
                "the certificate {} expired {} day(s) ago",
                cert.name, -days
            ))
        } else {
            Outcome::pass(format!(
                "the certificate {} expires in {days} day(s)",
                cert.name
            ))
        }
        .with("name", &cert.name)
        .with("expiration", expiration)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use posture_model::resources::IamServerCertificate;
    use posture_model::{Region, Status};

    use super::*;
    use crate::testing::*;

    fn cert(expiration: Option<chrono::DateTime<chrono::Utc>>) -> Resource {
        resource(
            "arn:aws:iam::111122223333:server-certificate/web",
            Region::global(),
            ResourceBody::IamServerCertificate(IamServerCertificate {
                name: "web".into(),
                path: "/".into(),
                id: "ASCAEXAMPLE".into(),
                upload_date: None,
                expiration,
            }),
        )
    }

    #[test]
    fn pass_when_current() {
        let o = expect(
            run(
                &IamNoExpiredServerCertificates,
                &cert(Some(now() + Duration::days(30))),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("expires in 30"), "{}", o.reason);
    }

    #[test]
    fn fail_when_expired() {
        let o = expect(
            run(
                &IamNoExpiredServerCertificates,
                &cert(Some(days_ago(10))),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("expired 10"), "{}", o.reason);
        assert!(o.evidence["expiration"].is_string());
    }

    #[test]
    fn error_without_expiration() {
        let o = expect(
            run(&IamNoExpiredServerCertificates, &cert(None), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["name"], "web");
    }
}
