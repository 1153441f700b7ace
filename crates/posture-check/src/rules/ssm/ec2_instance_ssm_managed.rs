//! `ec2_instance_ssm_managed`: a running instance is managed by Systems Manager and its
//! agent is online, so it can be patched, inventoried and accessed without open SSH.

use posture_model::{Resource, ResourceKind, Severity};

use super::{fleet_of, running_instance};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceSsmManaged;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_ssm_managed",
    title: "Running EC2 instance is managed by Systems Manager",
    severity: Severity::Medium,
    subject: ResourceKind::Instance,
    rationale: "An instance outside Systems Manager is not patched, inventoried or audited by \
                it, so protection from malicious software and risk management depend on \
                manual work nobody can evidence (164.308(a)(1)(ii)(B), 164.308(a)(5)(ii)(B)).",
    remediation: "Attach an instance profile with AmazonSSMManagedInstanceCore (or enable \
                  Default Host Management Configuration), make sure the SSM Agent runs and can \
                  reach the SSM endpoints (VPC endpoints or NAT), and check Fleet Manager.",
    api_calls: &["ec2:DescribeInstances", "ssm:DescribeInstanceInformation"],
    params: &[],
};

impl Rule for Ec2InstanceSsmManaged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let instance = match running_instance(subject) {
            Ok(i) => i,
            Err(o) => return o,
        };
        let fleet = match fleet_of(subject, ctx) {
            Ok(f) => f,
            Err(o) => return o.with("instance_id", &instance.instance_id),
        };
        let managed = match fleet.managed.get() {
            Ok(m) => m,
            Err(why) => {
                return Outcome::unavailable("the Systems Manager managed instances", why)
                    .with("instance_id", &instance.instance_id);
            }
        };
        match managed.and_then(|m| m.get(&instance.instance_id)) {
            None => Outcome::fail(format!(
                "instance {} is not managed by Systems Manager",
                instance.instance_id
            ))
            .with("instance_id", &instance.instance_id)
            .with("managed", false),
            Some(m) if m.ping_status.as_deref() == Some("Online") => Outcome::pass(format!(
                "instance {} is managed by Systems Manager and its agent is online",
                instance.instance_id
            ))
            .with("instance_id", &instance.instance_id)
            .with("managed", true)
            .with("ping_status", &m.ping_status)
            .with("agent_version", &m.agent_version),
            Some(m) => Outcome::fail(format!(
                "instance {} is registered with Systems Manager but its agent is {}",
                instance.instance_id,
                m.ping_status.as_deref().unwrap_or("not reporting")
            ))
            .with("instance_id", &instance.instance_id)
            .with("managed", true)
            .with("ping_status", &m.ping_status)
            .with("last_ping", m.last_ping),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::ec2::fixtures::{instance, instance_resource};
    use crate::rules::ssm::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_managed_and_online() {
        let o = expect(
            run(
                &Ec2InstanceSsmManaged,
                &instance_resource(instance()),
                &[fleet_resource(fleet())],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["ping_status"], "Online");
        assert_eq!(o.evidence["managed"], true);
        assert_eq!(o.evidence["instance_id"], "i-1");
        assert_eq!(o.evidence["agent_version"], "3.3.0.0");
        assert!(o.reason.contains("agent is online"), "{}", o.reason);
    }

    #[test]
    fn fail_when_not_managed_or_offline() {
        let mut i = instance();
        i.instance_id = "i-2".into();
        let o = expect(
            run(
                &Ec2InstanceSsmManaged,
                &instance_resource(i),
                &[fleet_resource(fleet())],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["managed"], false);
        assert_eq!(o.evidence["instance_id"], "i-2");
        assert!(
            o.reason
                .contains("instance i-2 is not managed by Systems Manager"),
            "{}",
            o.reason
        );

        let mut f = fleet();
        if let Observed::Collected(m) = &mut f.managed {
            m.get_mut("i-1").expect("fixture").ping_status = Some("ConnectionLost".into());
        }
        let o = expect(
            run(
                &Ec2InstanceSsmManaged,
                &instance_resource(instance()),
                &[fleet_resource(f)],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("ConnectionLost"), "{}", o.reason);
        assert_eq!(o.evidence["managed"], true);
        assert_eq!(o.evidence["ping_status"], "ConnectionLost");

        // Registered but never reporting a ping status is not online either.
        let mut f = fleet();
        if let Observed::Collected(m) = &mut f.managed {
            m.get_mut("i-1").expect("fixture").ping_status = None;
        }
        let o = expect(
            run(
                &Ec2InstanceSsmManaged,
                &instance_resource(instance()),
                &[fleet_resource(f)],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("agent is not reporting"), "{}", o.reason);
        assert_evidence(&o, "ping_status", serde_json::Value::Null);
    }

    #[test]
    fn error_when_ssm_was_not_read() {
        let mut f = fleet();
        f.managed = denied("ssm:DescribeInstanceInformation");
        let o = expect(
            run(
                &Ec2InstanceSsmManaged,
                &instance_resource(instance()),
                &[fleet_resource(f)],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("ssm:DescribeInstanceInformation"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["unavailable"]["operation"],
            "ssm:DescribeInstanceInformation"
        );
        assert_eq!(o.evidence["instance_id"], "i-1");
        let o = expect(
            run(&Ec2InstanceSsmManaged, &instance_resource(instance()), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("include ssm"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_stopped_instances() {
        let mut i = instance();
        i.state = Some("stopped".into());
        let o = expect(
            run(
                &Ec2InstanceSsmManaged,
                &instance_resource(i),
                &[fleet_resource(fleet())],
            ),
            Status::NotApplicable,
        );
        assert!(
            o.reason.contains("i-1 is stopped, not running"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "state", serde_json::json!("stopped"));
        assert_evidence(&o, "instance_id", serde_json::json!("i-1"));
    }
}
