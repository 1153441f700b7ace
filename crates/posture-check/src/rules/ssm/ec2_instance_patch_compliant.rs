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
    use super::*;
    use crate::rules::ssm::fixtures::compliance_cases;

    #[test]
    fn pass_when_compliant() {
        compliance_cases::pass(&Ec2InstancePatchCompliant, "Patch");
    }

    #[test]
    fn fail_when_patches_are_missing_or_never_scanned() {
        compliance_cases::fail(&Ec2InstancePatchCompliant, "Patch");
    }

    #[test]
    fn error_when_compliance_was_not_read() {
        compliance_cases::error(&Ec2InstancePatchCompliant);
    }

    #[test]
    fn not_applicable_to_stopped_instances() {
        compliance_cases::not_applicable(&Ec2InstancePatchCompliant);
    }
}
