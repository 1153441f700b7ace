//! `ec2_instance_patch_compliant`: Systems Manager Patch Manager reports a running instance
//! compliant with its patch baseline.

use posture_model::{Resource, ResourceKind, Severity};

use super::compliance_outcome;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstancePatchCompliant;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_patch_compliant",
    title: "Running EC2 instance is compliant with its patch baseline",
    severity: Severity::High,
    subject: ResourceKind::Instance,
    rationale: "Missing security patches are the most common way into servers that process \
                ePHI; patch compliance is the evidence of protection from malicious software \
                and of risk management (164.308(a)(1)(ii)(B), 164.308(a)(5)(ii)(B)).",
    remediation: "Scan and install patches with Patch Manager (a patch policy in Quick Setup, \
                  or AWS-RunPatchBaseline with Operation=Install in a maintenance window), \
                  then review the instance's non-compliant patches in Compliance.",
    api_calls: &[
        "ec2:DescribeInstances",
        "ssm:ListResourceComplianceSummaries",
    ],
    params: &[],
};

impl Rule for Ec2InstancePatchCompliant {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        compliance_outcome(subject, ctx, "Patch")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::ec2::fixtures::{instance, instance_resource};
    use crate::rules::ssm::fixtures::*;
    use crate::testing::*;

    fn with_patch(status: &str, missing: i32) -> Resource {
        let mut f = fleet();
        if let Observed::Collected(c) = &mut f.compliance {
            c.get_mut("i-1")
                .expect("fixture")
                .insert("Patch".into(), compliance(status, missing));
        }
        fleet_resource(f)
    }

    #[test]
    fn pass_when_compliant() {
        let o = expect(
            run(
                &Ec2InstancePatchCompliant,
                &instance_resource(instance()),
                &[with_patch("COMPLIANT", 0)],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["compliance_type"], "Patch");
    }

    #[test]
    fn fail_when_patches_are_missing_or_never_scanned() {
        let o = expect(
            run(
                &Ec2InstancePatchCompliant,
                &instance_resource(instance()),
                &[with_patch("NON_COMPLIANT", 3)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["non_compliant_count"], 3);
        assert_eq!(o.evidence["overall_severity"], "CRITICAL");

        let mut i = instance();
        i.instance_id = "i-unmanaged".into();
        let o = expect(
            run(
                &Ec2InstancePatchCompliant,
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
                &Ec2InstancePatchCompliant,
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
                &Ec2InstancePatchCompliant,
                &instance_resource(i),
                &[fleet_resource(fleet())],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "stopped");
    }
}
