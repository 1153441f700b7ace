//! `cloudtrail_log_file_validation`: the trail has log file integrity validation enabled.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailLogFileValidation;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_log_file_validation",
    title: "CloudTrail trail has log file validation enabled",
    severity: Severity::Medium,
    subject: ResourceKind::Trail,
    rationale: "Log file validation writes signed digest files, so anyone reviewing the audit \
                trail of access to ePHI can prove the log files were not altered or deleted \
                after delivery (164.312(b), 164.312(c)(1), 164.312(c)(2)).",
    remediation: "Enable log file validation on the trail: CloudTrail console > trail > General \
                  details > Log file validation, or UpdateTrail with \
                  EnableLogFileValidation=true.",
    api_calls: &["cloudtrail:DescribeTrails"],
    params: &[],
};

impl Rule for CloudtrailLogFileValidation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Trail(trail) = &subject.body else {
            return Outcome::not_applicable("not a CloudTrail trail");
        };
        let outcome = if trail.log_file_validation_enabled {
            Outcome::pass(format!(
                "trail {} has log file validation enabled",
                trail.name
            ))
        } else {
            Outcome::fail(format!(
                "trail {} has log file validation disabled",
                trail.name
            ))
        };
        outcome.with("trail", &trail.name).with(
            "log_file_validation_enabled",
            trail.log_file_validation_enabled,
        )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_enabled() {
        let o = expect(
            run(
                &CloudtrailLogFileValidation,
                &trail_resource(trail("main")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["log_file_validation_enabled"], true);
    }

    #[test]
    fn fail_when_disabled() {
        let mut t = trail("main");
        t.log_file_validation_enabled = false;
        let o = expect(
            run(&CloudtrailLogFileValidation, &trail_resource(t), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["log_file_validation_enabled"], false);
        assert_eq!(o.evidence["trail"], "main");
    }

    #[test]
    fn error_when_describe_trails_failed() {
        // The rule's only input is DescribeTrails: when it fails the trail is unknown, and
        // the evaluator reports the region as Error.
        let f = finding_with_describe_gap(
            &CloudtrailLogFileValidation,
            &[],
            "us-east-1",
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("cloudtrail:DescribeTrails"),
            "{}",
            f.reason
        );
    }
}
