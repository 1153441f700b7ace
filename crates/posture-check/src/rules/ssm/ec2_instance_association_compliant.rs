//! `ec2_instance_association_compliant`: Systems Manager State Manager reports a running
//! instance compliant with every association applied to it.

use posture_model::{Resource, ResourceKind, Severity};

use super::compliance_outcome;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceAssociationCompliant;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_association_compliant",
    title: "Running EC2 instance is compliant with its State Manager associations",
    severity: Severity::Medium,
    subject: ResourceKind::Instance,
    rationale: "State Manager associations keep hardening, anti-malware agents and log \
                shipping in their configured state; an instance out of association compliance \
                has drifted from the configuration risk management relies on \
                (164.308(a)(1)(ii)(B), 164.308(a)(5)(ii)(B)).",
    remediation: "Open Systems Manager > Compliance for the instance, read the failed \
                  association's output (State Manager > association > Execution history), fix \
                  the cause and re-apply the association.",
    api_calls: &[
        "ec2:DescribeInstances",
        "ssm:ListResourceComplianceSummaries",
    ],
    params: &[],
};

impl Rule for Ec2InstanceAssociationCompliant {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        compliance_outcome(subject, ctx, "Association")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::ec2::fixtures::{instance, instance_resource};
    use crate::rules::ssm::fixtures::*;
    use crate::testing::*;

    fn with_association(status: &str, missing: i32) -> Resource {
        let mut f = fleet();
        if let Observed::Collected(c) = &mut f.compliance {
            c.get_mut("i-1")
                .expect("fixture")
                .insert("Association".into(), compliance(status, missing));
        }
        fleet_resource(f)
    }

    #[test]
    fn pass_when_compliant() {
        let o = expect(
            run(
                &Ec2InstanceAssociationCompliant,
                &instance_resource(instance()),
                &[with_association("COMPLIANT", 0)],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["compliance_type"], "Association");
    }

    #[test]
    fn fail_when_associations_drift_or_never_ran() {
        let o = expect(
            run(
                &Ec2InstanceAssociationCompliant,
                &instance_resource(instance()),
                &[with_association("NON_COMPLIANT", 3)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["non_compliant_count"], 3);
        assert_eq!(o.evidence["overall_severity"], "CRITICAL");

        let mut i = instance();
        i.instance_id = "i-unmanaged".into();
        let o = expect(
            run(
                &Ec2InstanceAssociationCompliant,
                &instance_resource(i),
                &[fleet_resource(fleet())],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["status"], "none recorded");
    }

    #[test]
    fn error_when_compliance_was_not_read() {
        let mut f = fleet();
        f.compliance = denied("ssm:ListResourceComplianceSummaries");
        let o = expect(
            run(
                &Ec2InstanceAssociationCompliant,
                &instance_resource(instance()),
                &[fleet_resource(f)],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("ssm:ListResourceComplianceSummaries"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_to_stopped_instances() {
        let mut i = instance();
        i.state = Some("stopped".into());
        let o = expect(
            run(
                &Ec2InstanceAssociationCompliant,
                &instance_resource(i),
                &[fleet_resource(fleet())],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "stopped");
    }
}
