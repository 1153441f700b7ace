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
    use super::*;
    use crate::rules::ssm::fixtures::compliance_cases;

    #[test]
    fn pass_when_compliant() {
        compliance_cases::pass(&Ec2InstanceAssociationCompliant, "Association");
    }

    #[test]
    fn fail_when_associations_drift_or_never_ran() {
        compliance_cases::fail(&Ec2InstanceAssociationCompliant, "Association");
    }

    #[test]
    fn error_when_compliance_was_not_read() {
        compliance_cases::error(&Ec2InstanceAssociationCompliant);
    }

    #[test]
    fn not_applicable_to_stopped_instances() {
        compliance_cases::not_applicable(&Ec2InstanceAssociationCompliant);
    }
}
