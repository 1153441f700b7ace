//! `ec2_stopped_instance_age`: no instance has been stopped for longer than
//! `max_stopped_days`, judged by the date in its `StateTransitionReason`.

use chrono::{DateTime, NaiveDateTime, Utc};
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2StoppedInstanceAge;

static META: RuleMeta = RuleMeta {
    id: "ec2_stopped_instance_age",
    title: "EC2 instance not stopped for longer than the allowed days",
    severity: Severity::Low,
    subject: ResourceKind::Instance,
    rationale: "Long-stopped instances keep their volumes (and any ePHI on them) and miss \
                patches while stopped; the risk analysis should account for them or they should \
                be removed (164.308(a)(1)(ii)(B)).",
    remediation: "Terminate instances no longer needed (after snapshotting what must be kept), \
                  or start and patch them; waive instances kept stopped on purpose.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[ParamSpec {
        name: "max_stopped_days",
        ty: ParamType::Integer,
        default: "30",
        doc: "How many days an instance may stay stopped.",
    }],
};

/// The time in a `StateTransitionReason` such as `User initiated (2026-01-02 03:04:05 GMT)`.
pub(super) fn transition_time(reason: &str) -> Option<DateTime<Utc>> {
    let open = reason.rfind('(')?;
    let close = open + reason[open..].find(')')?;
    let inside = reason[open + 1..close].trim();
    let text = inside
        .strip_suffix("GMT")
        .or_else(|| inside.strip_suffix("UTC"))
        .unwrap_or(inside)
        .trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

impl Rule for Ec2StoppedInstanceAge {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Instance(instance) = &subject.body else {
            return Outcome::not_applicable("not an EC2 instance");
        };
        let id = &instance.instance_id;
        let state = instance.state.as_deref();
        if state != Some("stopped") {
            return Outcome::not_applicable(format!(
                "instance {id} is {}, not stopped",
                state.unwrap_or("in an unknown state")
            ))
            .with("state", state);
        }
        let max = ctx.int("max_stopped_days");
        let reason = instance.state_transition_reason.as_deref();
        let Some(since) = reason.and_then(transition_time) else {
            return Outcome::error(format!(
                "instance {id} is stopped but its StateTransitionReason carries no date, so how \
                 long it has been stopped is unknown"
            ))
            .with("state_transition_reason", reason);
        };
        let days = (ctx.now - since).num_days();
        let outcome = if days > max {
            Outcome::fail(format!(
                "instance {id} has been stopped for {days} days (since {}), more than {max}",
                since.format("%Y-%m-%d")
            ))
        } else {
            Outcome::pass(format!(
                "instance {id} has been stopped for {days} days, within {max}"
            ))
        };
        outcome
            .with("stopped_since", since)
            .with("stopped_days", days)
            .with("max_stopped_days", max)
            .with("state_transition_reason", reason)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn stopped(reason: Option<&str>) -> Resource {
        let mut i = instance();
        i.state = Some("stopped".into());
        i.state_transition_reason = reason.map(str::to_owned);
        instance_resource(i)
    }

    #[test]
    fn parses_aws_and_moto_forms() {
        assert!(transition_time("User initiated (2026-01-02 03:04:05 GMT)").is_some());
        assert!(transition_time("User initiated (2026-11-25 04:36:29 UTC)").is_some());
        assert!(transition_time("Server.ScheduledStop: Stopped due to event").is_none());
    }

    #[test]
    fn pass_when_recently_stopped() {
        // now() is 2026-06-01.
        let o = expect(
            run(
                &Ec2StoppedInstanceAge,
                &stopped(Some("User initiated (2026-05-25 10:00:00 GMT)")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["stopped_days"], 6);
    }

    #[test]
    fn fail_when_stopped_long_ago() {
        let o = expect(
            run(
                &Ec2StoppedInstanceAge,
                &stopped(Some("User initiated (2026-01-02 03:04:05 GMT)")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["max_stopped_days"], 30);
        assert!(o.reason.contains("2026-01-02"), "{}", o.reason);
    }

    #[test]
    fn error_when_no_date() {
        let o = expect(
            run(&Ec2StoppedInstanceAge, &stopped(None), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("no date"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_when_running() {
        let o = expect(
            run(&Ec2StoppedInstanceAge, &instance_resource(instance()), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "running");
    }
}
