//! `s3_phi_discovery_macie`: in every region that has S3 buckets, Amazon Macie is enabled
//! and looks for sensitive data in them, by automated discovery or a scheduled job.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct S3PhiDiscoveryMacie;

static META: RuleMeta = RuleMeta {
    id: "s3_phi_discovery_macie",
    title: "Macie discovers sensitive data in the region's S3 buckets",
    severity: Severity::Medium,
    subject: ResourceKind::MacieSession,
    rationale: "A risk analysis has to know where ePHI is; buckets fill with PHI nobody \
                declared (exports, logs, uploads), and only content inspection finds it. Macie \
                automated sensitive data discovery or a scheduled job keeps that inventory \
                current (164.308(a)(1)(ii)(A)).",
    remediation: "Enable Macie in the region (Macie console > Get started, or EnableMacie) and \
                  turn on automated sensitive data discovery \
                  (UpdateAutomatedDiscoveryConfiguration status ENABLED), or create a \
                  scheduled sensitive data discovery job over the buckets that may hold ePHI.",
    api_calls: &[
        "macie2:GetMacieSession",
        "macie2:GetAutomatedDiscoveryConfiguration",
        "macie2:ListClassificationJobs",
        "s3:ListBuckets",
    ],
    params: &[],
};

/// Job states in which a scheduled job still runs on its schedule.
const LIVE_JOB: &[&str] = &["RUNNING", "IDLE"];

impl Rule for S3PhiDiscoveryMacie {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::MacieSession(session) = &subject.body else {
            return Outcome::not_applicable("not a Macie session");
        };
        let region = subject.region.as_str();
        // Buckets are listed once per account (region `global`): without that listing, "no
        // bucket here" is unknown. The evaluator does not call the rule where S3 was not
        // collected (`s3:ListBuckets` is an input); a failed listing is checked here.
        if let Some(gap) = ctx
            .gaps_in_account(&subject.account, "s3:ListBuckets")
            .next()
        {
            return Outcome::error(format!(
                "s3:ListBuckets failed in account {}: {}",
                subject.account, gap.message
            ))
            .with("region", region);
        }
        let buckets = ctx
            .resources(ResourceKind::S3Bucket, &subject.account, &subject.region)
            .count();
        let described = |o: Outcome| {
            o.with("region", region)
                .with("buckets_in_region", buckets)
                .with("macie_status", &session.status)
        };
        if buckets == 0 {
            return described(Outcome::not_applicable(format!(
                "no S3 bucket in {region} to discover PHI in"
            )));
        }
        if session.status != "ENABLED" {
            return described(Outcome::fail(format!(
                "Macie is {} in {region}, where {buckets} bucket(s) live",
                if session.status == "DISABLED" {
                    "not enabled".to_owned()
                } else {
                    session.status.to_lowercase()
                }
            )));
        }
        let discovery = session.automated_discovery.get();
        if let Ok(Some(status)) = discovery
            && status == "ENABLED"
        {
            return described(Outcome::pass(format!(
                "Macie automated sensitive data discovery is on in {region}"
            )))
            .with("automated_discovery", status);
        }
        let jobs = session.classification_jobs.get();
        if let Ok(Some(jobs)) = jobs
            && let Some(job) = jobs.iter().find(|j| {
                j.job_type.as_deref() == Some("SCHEDULED")
                    && j.status.as_deref().is_some_and(|s| LIVE_JOB.contains(&s))
            })
        {
            return described(Outcome::pass(format!(
                "Macie job {} scans buckets in {region} on a schedule",
                job.name.as_deref().unwrap_or(&job.job_id)
            )))
            .with("scheduled_job", job);
        }
        // Neither path is known to be on: a read that failed could be hiding one.
        if let Err(why) = discovery {
            return described(Outcome::unavailable("Macie automated discovery", why));
        }
        if let Err(why) = jobs {
            return described(Outcome::unavailable("the Macie classification jobs", why));
        }
        described(Outcome::fail(format!(
            "Macie is enabled in {region} but neither automated discovery nor a scheduled \
             job looks for sensitive data"
        )))
        .with(
            "automated_discovery",
            discovery
                .ok()
                .flatten()
                .map_or("not configured", String::as_str),
        )
        .with("classification_jobs", jobs.ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{MacieJob, MacieSession};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn session(status: &str, discovery: Observed<String>, jobs: Vec<MacieJob>) -> Resource {
        resource(
            "arn:aws:macie2:us-east-1:111122223333:session",
            region(),
            ResourceBody::MacieSession(MacieSession {
                status: status.into(),
                automated_discovery: discovery,
                classification_jobs: Observed::Collected(jobs),
            }),
        )
    }

    fn job(kind: &str, status: &str) -> MacieJob {
        MacieJob {
            job_id: "j1".into(),
            name: Some("weekly-phi".into()),
            job_type: Some(kind.into()),
            status: Some(status.into()),
        }
    }

    fn with_bucket(subject: Resource) -> Outcome {
        run(
            &S3PhiDiscoveryMacie,
            &subject,
            &[bucket_resource(bucket("phi"))],
        )
    }

    #[test]
    fn pass_with_automated_discovery_or_a_scheduled_job() {
        let o = expect(
            with_bucket(session(
                "ENABLED",
                Observed::Collected("ENABLED".into()),
                vec![],
            )),
            Status::Pass,
        );
        assert_eq!(o.evidence["automated_discovery"], "ENABLED");
        let o = expect(
            with_bucket(session(
                "ENABLED",
                Observed::Collected("DISABLED".into()),
                vec![job("SCHEDULED", "IDLE")],
            )),
            Status::Pass,
        );
        assert_eq!(o.evidence["scheduled_job"]["name"], "weekly-phi");
    }

    #[test]
    fn fail_when_off_paused_or_not_looking() {
        let o = expect(
            with_bucket(session("DISABLED", Observed::Absent, vec![])),
            Status::Fail,
        );
        assert!(o.reason.contains("not enabled"), "{}", o.reason);
        expect(
            with_bucket(session("PAUSED", Observed::Absent, vec![])),
            Status::Fail,
        );
        let o = expect(
            with_bucket(session(
                "ENABLED",
                Observed::Collected("DISABLED".into()),
                vec![job("ONE_TIME", "COMPLETE"), job("SCHEDULED", "CANCELLED")],
            )),
            Status::Fail,
        );
        assert_eq!(o.evidence["automated_discovery"], "DISABLED");
    }

    #[test]
    fn error_when_the_discovery_settings_could_not_be_read() {
        let o = expect(
            with_bucket(session(
                "ENABLED",
                denied("macie2:GetAutomatedDiscoveryConfiguration"),
                vec![],
            )),
            Status::Error,
        );
        assert!(
            o.reason
                .contains("macie2:GetAutomatedDiscoveryConfiguration"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_without_buckets() {
        let o = expect(
            run(
                &S3PhiDiscoveryMacie,
                &session("DISABLED", Observed::Absent, vec![]),
                &[],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["buckets_in_region"], 0);
    }
}
