//! `cloudtrail_cloudwatch_logs`: the trail also delivers its events to a CloudWatch Logs
//! log group, where metric filters and alarms can act on them.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailCloudwatchLogs;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_cloudwatch_logs",
    title: "CloudTrail trail delivers events to CloudWatch Logs",
    severity: Severity::Medium,
    subject: ResourceKind::Trail,
    rationale: "Events that only land in S3 are reviewed, if ever, after the fact; in CloudWatch \
                Logs, metric filters and alarms can flag root use, failed sign-ins and changes to \
                the controls protecting ePHI as they happen, supporting activity review and \
                incident response (164.308(a)(1)(ii)(D), 164.308(a)(6)(ii), 164.312(b)).",
    remediation: "Create a log group and a role CloudTrail can assume to write to it, then set \
                  them on the trail (UpdateTrail --cloud-watch-logs-log-group-arn \
                  --cloud-watch-logs-role-arn).",
    api_calls: &["cloudtrail:DescribeTrails"],
    params: &[],
};

impl Rule for CloudtrailCloudwatchLogs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Trail(trail) = &subject.body else {
            return Outcome::not_applicable("not a CloudTrail trail");
        };
        let outcome = match &trail.cloudwatch_logs_log_group_arn {
            Some(group) => Outcome::pass(format!(
                "the trail delivers to the CloudWatch Logs group {group}"
            )),
            None => Outcome::fail("the trail delivers to no CloudWatch Logs log group"),
        };
        outcome.with(
            "cloudwatch_logs_log_group_arn",
            &trail.cloudwatch_logs_log_group_arn,
        )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::rules::rds::fixtures::finding_with_list_gap;
    use crate::testing::*;

    #[test]
    fn pass_with_a_log_group() {
        let mut t = trail("main");
        t.cloudwatch_logs_log_group_arn =
            Some("arn:aws:logs:us-east-1:111122223333:log-group:trail:*".into());
        let o = expect(
            run(&CloudtrailCloudwatchLogs, &trail_resource(t), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("log-group:trail"), "{}", o.reason);
        assert_evidence(
            &o,
            "cloudwatch_logs_log_group_arn",
            serde_json::json!("arn:aws:logs:us-east-1:111122223333:log-group:trail:*"),
        );
    }

    #[test]
    fn fail_without_a_log_group() {
        let o = expect(
            run(
                &CloudtrailCloudwatchLogs,
                &trail_resource(trail("main")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["cloudwatch_logs_log_group_arn"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn error_when_trails_could_not_be_listed() {
        let f = finding_with_list_gap(
            &CloudtrailCloudwatchLogs,
            trail_resource(trail("main")),
            "cloudtrail:DescribeTrails",
        );
        assert_eq!(f.status, Status::Error);
        assert!(
            f.reason.contains("cloudtrail:DescribeTrails"),
            "{}",
            f.reason
        );
    }
}
