//! `cloudwatch_alarm_has_actions`: the metric alarm has its actions enabled and an action
//! for the `ALARM` state (and, by default, for `INSUFFICIENT_DATA`), the shape of AWS
//! Config's `cloudwatch-alarm-action-check` in its HIPAA conformance pack.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudwatchAlarmHasActions;

const INSUFFICIENT: &str = "require_insufficient_data_action";
const OK: &str = "require_ok_action";

static META: RuleMeta = RuleMeta {
    id: "cloudwatch_alarm_has_actions",
    title: "CloudWatch metric alarm has actions for the ALARM (and INSUFFICIENT_DATA) state",
    severity: Severity::Low,
    subject: ResourceKind::MetricAlarm,
    rationale: "An alarm that notifies no one, or whose actions are disabled, detects a security \
                event or an outage of an ePHI system without anyone learning of it, so the \
                incident procedures never start; missing data usually means the monitored \
                system or its logging stopped (164.308(a)(6)(i), 164.312(b)).",
    remediation: "Enable the alarm's actions and give it an ALARM action (and, unless the \
                  baseline turns it off, an INSUFFICIENT_DATA action), usually an SNS topic with \
                  a subscribed, monitored endpoint: CloudWatch console > Alarms > Edit > \
                  Notification, or PutMetricAlarm --alarm-actions TOPIC_ARN \
                  --insufficient-data-actions TOPIC_ARN --actions-enabled (EnableAlarmActions \
                  for disabled actions).",
    api_calls: &["cloudwatch:DescribeAlarms"],
    params: &[
        ParamSpec {
            name: INSUFFICIENT,
            ty: ParamType::Boolean,
            default: "true",
            doc: "Also require an action for the INSUFFICIENT_DATA state.",
        },
        ParamSpec {
            name: OK,
            ty: ParamType::Boolean,
            default: "false",
            doc: "Also require an action for the OK state.",
        },
    ],
};

impl Rule for CloudwatchAlarmHasActions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::MetricAlarm(alarm) = &subject.body else {
            return Outcome::not_applicable("not a CloudWatch metric alarm");
        };
        let mut missing = Vec::new();
        if alarm.alarm_actions.is_empty() {
            missing.push("ALARM");
        }
        if ctx.bool(INSUFFICIENT) && alarm.insufficient_data_actions.is_empty() {
            missing.push("INSUFFICIENT_DATA");
        }
        if ctx.bool(OK) && alarm.ok_actions.is_empty() {
            missing.push("OK");
        }
        let outcome = if !alarm.actions_enabled {
            Outcome::fail("the alarm's actions are disabled, so it notifies no one")
        } else if !missing.is_empty() {
            Outcome::fail(format!(
                "the alarm has no action for the {} state(s)",
                missing.join(" and ")
            ))
        } else {
            Outcome::pass(format!(
                "the alarm's actions are enabled, with {} ALARM action(s)",
                alarm.alarm_actions.len()
            ))
        };
        outcome
            .with("alarm", &alarm.name)
            .with("actions_enabled", alarm.actions_enabled)
            .with("alarm_actions", &alarm.alarm_actions)
            .with(
                "insufficient_data_actions",
                &alarm.insufficient_data_actions,
            )
            .with("ok_actions", &alarm.ok_actions)
            .with("states_without_action", missing)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::ParamValue;
    use crate::rules::cloudwatch::fixtures::finding_with_list_gap;
    use crate::rules::cloudwatch::metric_alarm::fixtures::{TOPIC, alarm, alarm_resource};
    use crate::testing::*;

    #[test]
    fn pass_with_alarm_and_insufficient_data_actions() {
        let o = expect(
            run(
                &CloudwatchAlarmHasActions,
                &alarm_resource(alarm("a", "M", TOPIC)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["alarm_actions"][0], TOPIC);
        assert_eq!(o.evidence["states_without_action"], serde_json::json!([]));
    }

    #[test]
    fn fail_without_actions_or_with_actions_disabled() {
        let mut a = alarm("a", "M", TOPIC);
        a.alarm_actions.clear();
        let o = expect(
            run(&CloudwatchAlarmHasActions, &alarm_resource(a), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["states_without_action"][0], "ALARM");

        let mut a = alarm("a", "M", TOPIC);
        a.insufficient_data_actions.clear();
        let o = expect(
            run(&CloudwatchAlarmHasActions, &alarm_resource(a), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("INSUFFICIENT_DATA"), "{}", o.reason);

        let mut a = alarm("a", "M", TOPIC);
        a.actions_enabled = false;
        let o = expect(
            run(&CloudwatchAlarmHasActions, &alarm_resource(a), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["actions_enabled"], false);
    }

    #[test]
    fn the_required_states_are_parameters() {
        let mut a = alarm("a", "M", TOPIC);
        a.insufficient_data_actions.clear();
        let mut params = crate::Params::defaults(&CloudwatchAlarmHasActions);
        params.set(INSUFFICIENT, ParamValue::Boolean(false));
        expect(
            run_with(
                &CloudwatchAlarmHasActions,
                &alarm_resource(a.clone()),
                &[],
                &params,
            ),
            Status::Pass,
        );
        params.set(OK, ParamValue::Boolean(true));
        let o = expect(
            run_with(&CloudwatchAlarmHasActions, &alarm_resource(a), &[], &params),
            Status::Fail,
        );
        assert_eq!(o.evidence["states_without_action"][0], "OK");
    }

    #[test]
    fn error_when_alarms_could_not_be_listed() {
        let f = finding_with_list_gap(
            &CloudwatchAlarmHasActions,
            &[alarm_resource(alarm("a", "M", TOPIC))],
            "cloudwatch:DescribeAlarms",
            "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("cloudwatch:DescribeAlarms"),
            "{}",
            f.reason
        );
    }
}
