//! `log_group_retention_min`: the log group keeps its events at least a minimum number of
//! days (365 by default), or never expires them.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct LogGroupRetentionMin;

const MIN_DAYS: &str = "min_retention_days";

static META: RuleMeta = RuleMeta {
    id: "log_group_retention_min",
    title: "CloudWatch Logs log group retains events for at least the minimum period",
    severity: Severity::Medium,
    subject: ResourceKind::LogGroup,
    rationale: "Audit controls must record and keep activity in systems holding ePHI long \
                enough to examine it; a log group that expires events after days or weeks \
                loses the record before most incidents are even discovered (164.312(b)).",
    remediation: "Set the log group's retention to at least the minimum (365 days by default) or \
                  to never expire: CloudWatch console > Log group > Actions > Edit retention \
                  setting, or PutRetentionPolicy --log-group-name NAME --retention-in-days 365 \
                  (DeleteRetentionPolicy keeps events forever).",
    api_calls: &["logs:DescribeLogGroups"],
    params: &[ParamSpec {
        name: MIN_DAYS,
        ty: ParamType::Integer,
        default: "365",
        doc: "The shortest retention, in days, that passes; never-expiring groups always pass.",
    }],
};

impl Rule for LogGroupRetentionMin {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LogGroup(group) = &subject.body else {
            return Outcome::not_applicable("not a CloudWatch Logs log group");
        };
        let min = ctx.int(MIN_DAYS);
        let outcome = match group.retention_in_days {
            None => Outcome::pass("the log group never expires its events"),
            Some(days) if i64::from(days) >= min => Outcome::pass(format!(
                "the log group keeps events for {days} days (at least {min})"
            )),
            Some(days) => Outcome::fail(format!(
                "the log group keeps events for only {days} days (fewer than {min})"
            )),
        };
        outcome
            .with("log_group", &group.name)
            .with("retention_in_days", group.retention_in_days)
            .with(MIN_DAYS, min)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::cloudwatch::fixtures::{finding_with_list_gap, group_resource};
    use crate::testing::*;
    use crate::{ParamValue, Params};

    #[test]
    fn pass_when_never_expiring_or_long_enough() {
        let o = expect(
            run(
                &LogGroupRetentionMin,
                &group_resource("app", None, None),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["retention_in_days"], serde_json::Value::Null);
        assert!(o.reason.contains("never expires"), "{}", o.reason);
        let o = expect(
            run(
                &LogGroupRetentionMin,
                &group_resource("app", None, Some(400)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["retention_in_days"], 400);
        assert_eq!(o.evidence[MIN_DAYS], 365);
    }

    #[test]
    fn fail_when_too_short() {
        let o = expect(
            run(
                &LogGroupRetentionMin,
                &group_resource("app", None, Some(30)),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["retention_in_days"], 30);
        assert!(o.reason.contains("only 30 days"), "{}", o.reason);
    }

    #[test]
    fn the_minimum_is_a_parameter() {
        let mut params = Params::defaults(&LogGroupRetentionMin);
        params.set(MIN_DAYS, ParamValue::Integer(30));
        let o = expect(
            run_with(
                &LogGroupRetentionMin,
                &group_resource("app", None, Some(30)),
                &[],
                &params,
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence[MIN_DAYS], 30);
    }

    #[test]
    fn error_when_log_groups_could_not_be_listed() {
        let f = finding_with_list_gap(
            &LogGroupRetentionMin,
            &[group_resource("app", None, Some(30))],
            "logs:DescribeLogGroups",
            "arn:aws:logs:us-east-1:111122223333:log-group:app",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("logs:DescribeLogGroups"), "{}", f.reason);
    }
}
