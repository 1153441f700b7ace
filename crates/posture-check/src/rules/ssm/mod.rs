//! Systems Manager rules: instances are managed, patched and in their associations' state.

use posture_model::resources::{Instance, SsmCompliance, SsmFleet};
use posture_model::{Resource, ResourceBody, ResourceKind};

use crate::{Ctx, Outcome, Rule};

mod ec2_instance_association_compliant;
mod ec2_instance_patch_compliant;
mod ec2_instance_ssm_managed;

/// The Systems Manager rules.
pub const RULES: &[&dyn Rule] = &[
    &ec2_instance_association_compliant::Ec2InstanceAssociationCompliant,
    &ec2_instance_patch_compliant::Ec2InstancePatchCompliant,
    &ec2_instance_ssm_managed::Ec2InstanceSsmManaged,
];

/// The instance a rule looks at, if it is running (stopped instances cannot check in or be
/// patched, and terminated ones are gone): `Err` is the outcome to report instead.
fn running_instance(subject: &Resource) -> Result<&Instance, Outcome> {
    let ResourceBody::Instance(instance) = &subject.body else {
        return Err(Outcome::not_applicable("not an EC2 instance"));
    };
    match instance.state.as_deref() {
        Some("running") => Ok(instance),
        other => Err(Outcome::not_applicable(format!(
            "instance {} is {}, not running",
            instance.instance_id,
            other.unwrap_or("in an unknown state")
        ))
        .with("instance_id", &instance.instance_id)
        .with("state", other)),
    }
}

/// The region's Systems Manager fleet record, or the `Error` when it was not collected.
fn fleet_of<'a>(subject: &Resource, ctx: &Ctx<'a>) -> Result<&'a SsmFleet, Outcome> {
    ctx.index
        .in_scope(ResourceKind::SsmFleet, &subject.account, &subject.region)
        .find_map(|r| match &r.body {
            ResourceBody::SsmFleet(f) => Some(f),
            _ => None,
        })
        .ok_or_else(|| {
            Outcome::error(format!(
                "Systems Manager was not collected in {}; include ssm in the scan",
                subject.region
            ))
        })
}

/// Shared body of the two compliance rules: the instance's summary of `compliance_type`.
fn compliance_outcome(subject: &Resource, ctx: &Ctx<'_>, compliance_type: &str) -> Outcome {
    let instance = match running_instance(subject) {
        Ok(i) => i,
        Err(o) => return o,
    };
    let fleet = match fleet_of(subject, ctx) {
        Ok(f) => f,
        Err(o) => return o.with("instance_id", &instance.instance_id),
    };
    let all = match fleet.compliance.get() {
        Ok(all) => all,
        Err(why) => {
            return Outcome::unavailable("Systems Manager compliance", why)
                .with("instance_id", &instance.instance_id);
        }
    };
    let summary: Option<&SsmCompliance> = all
        .and_then(|m| m.get(&instance.instance_id))
        .and_then(|m| m.get(compliance_type));
    let Some(summary) = summary else {
        return Outcome::fail(format!(
            "Systems Manager has no {compliance_type} compliance for instance {}: it is not \
             managed, or no {} has run on it",
            instance.instance_id,
            if compliance_type == "Patch" {
                "patch scan"
            } else {
                "association"
            }
        ))
        .with("instance_id", &instance.instance_id)
        .with("compliance_type", compliance_type)
        .with("status", "none recorded");
    };
    let outcome = if summary.status == "COMPLIANT" {
        Outcome::pass(format!(
            "instance {} is {compliance_type} compliant",
            instance.instance_id
        ))
    } else {
        Outcome::fail(format!(
            "instance {} is {compliance_type} {}: {} non-compliant item(s), highest severity {}",
            instance.instance_id,
            summary.status,
            summary.non_compliant_count,
            summary.overall_severity.as_deref().unwrap_or("unspecified")
        ))
    };
    outcome
        .with("instance_id", &instance.instance_id)
        .with("compliance_type", compliance_type)
        .with("status", &summary.status)
        .with("non_compliant_count", summary.non_compliant_count)
        .with("overall_severity", &summary.overall_severity)
        .with("execution_time", summary.execution_time)
}

/// Fixtures shared by the Systems Manager rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use posture_model::resources::{SsmCompliance, SsmFleet, SsmManagedInstance};
    use posture_model::{Observed, Resource, ResourceBody};

    use crate::testing::{region, resource};

    /// A fleet where instance `i-1` (the EC2 fixture instance) is managed and online, and
    /// compliant for patches and associations.
    pub(crate) fn fleet() -> SsmFleet {
        SsmFleet {
            managed: Observed::Collected(BTreeMap::from([(
                "i-1".to_owned(),
                SsmManagedInstance {
                    ping_status: Some("Online".into()),
                    agent_version: Some("3.3.0.0".into()),
                    platform_type: Some("Linux".into()),
                    last_ping: None,
                },
            )])),
            compliance: Observed::Collected(BTreeMap::from([(
                "i-1".to_owned(),
                BTreeMap::from([
                    ("Patch".to_owned(), compliance("COMPLIANT", 0)),
                    ("Association".to_owned(), compliance("COMPLIANT", 0)),
                ]),
            )])),
        }
    }

    /// A compliance summary.
    pub(crate) fn compliance(status: &str, non_compliant: i32) -> SsmCompliance {
        SsmCompliance {
            status: status.into(),
            overall_severity: (non_compliant > 0).then(|| "CRITICAL".to_owned()),
            non_compliant_count: non_compliant,
            execution_time: None,
        }
    }

    /// The four cases of a compliance rule over `compliance_type`: compliant passes;
    /// non-compliant or never recorded fails; unreadable compliance is an error; a stopped
    /// instance is not applicable.
    pub(crate) mod compliance_cases {
        use posture_model::resources::SsmFleet;
        use posture_model::{Observed, Resource, Status};

        use super::{compliance, fleet, fleet_resource};
        use crate::Rule;
        use crate::rules::ec2::fixtures::{instance, instance_resource};
        use crate::testing::{assert_evidence, denied, expect, run};

        fn with(compliance_type: &str, status: &str, missing: i32) -> Resource {
            let mut f: SsmFleet = fleet();
            if let Observed::Collected(c) = &mut f.compliance {
                c.get_mut("i-1")
                    .expect("fixture")
                    .insert(compliance_type.into(), compliance(status, missing));
            }
            fleet_resource(f)
        }

        pub(crate) fn pass(rule: &dyn Rule, compliance_type: &str) {
            let o = expect(
                run(
                    rule,
                    &instance_resource(instance()),
                    &[with(compliance_type, "COMPLIANT", 0)],
                ),
                Status::Pass,
            );
            assert_eq!(o.evidence["compliance_type"], compliance_type);
            assert_eq!(o.evidence["status"], "COMPLIANT");
            assert_eq!(o.evidence["instance_id"], "i-1");
            assert_eq!(o.evidence["non_compliant_count"], 0);
            assert!(
                o.reason
                    .contains(&format!("instance i-1 is {compliance_type} compliant")),
                "{}",
                o.reason
            );
            // The other compliance type's state does not decide this rule.
            let other = if compliance_type == "Patch" {
                "Association"
            } else {
                "Patch"
            };
            let o = expect(
                run(
                    rule,
                    &instance_resource(instance()),
                    &[with(other, "NON_COMPLIANT", 7)],
                ),
                Status::Pass,
            );
            assert_eq!(o.evidence["compliance_type"], compliance_type);
        }

        pub(crate) fn fail(rule: &dyn Rule, compliance_type: &str) {
            let o = expect(
                run(
                    rule,
                    &instance_resource(instance()),
                    &[with(compliance_type, "NON_COMPLIANT", 3)],
                ),
                Status::Fail,
            );
            assert_eq!(o.evidence["non_compliant_count"], 3);
            assert_eq!(o.evidence["overall_severity"], "CRITICAL");
            assert_eq!(o.evidence["status"], "NON_COMPLIANT");
            assert_eq!(o.evidence["compliance_type"], compliance_type);
            assert!(
                o.reason.contains(&format!(
                    "instance i-1 is {compliance_type} NON_COMPLIANT: 3 non-compliant item(s), \
                     highest severity CRITICAL"
                )),
                "{}",
                o.reason
            );
            let mut i = instance();
            i.instance_id = "i-unmanaged".into();
            let o = expect(
                run(rule, &instance_resource(i), &[fleet_resource(fleet())]),
                Status::Fail,
            );
            assert_eq!(o.evidence["status"], "none recorded");
            assert_eq!(o.evidence["instance_id"], "i-unmanaged");
            assert_eq!(o.evidence["compliance_type"], compliance_type);
            let never = if compliance_type == "Patch" {
                "no patch scan has run"
            } else {
                "no association has run"
            };
            assert!(
                o.reason.contains(&format!(
                    "no {compliance_type} compliance for instance i-unmanaged"
                )) && o.reason.contains(never),
                "{}",
                o.reason
            );
            // A managed instance with a summary of the other type only: none recorded.
            let mut f = fleet();
            if let Observed::Collected(c) = &mut f.compliance {
                c.get_mut("i-1").expect("fixture").remove(compliance_type);
            }
            let o = expect(
                run(rule, &instance_resource(instance()), &[fleet_resource(f)]),
                Status::Fail,
            );
            assert_eq!(o.evidence["status"], "none recorded");
        }

        pub(crate) fn error(rule: &dyn Rule) {
            let mut f = fleet();
            f.compliance = denied("ssm:ListResourceComplianceSummaries");
            let o = expect(
                run(rule, &instance_resource(instance()), &[fleet_resource(f)]),
                Status::Error,
            );
            assert!(
                o.reason.contains("ssm:ListResourceComplianceSummaries"),
                "{}",
                o.reason
            );
            assert_eq!(
                o.evidence["unavailable"]["operation"],
                "ssm:ListResourceComplianceSummaries"
            );
            assert_evidence(&o, "instance_id", serde_json::json!("i-1"));
            // No fleet record for the region: Systems Manager was not collected there.
            let o = expect(
                run(rule, &instance_resource(instance()), &[]),
                Status::Error,
            );
            assert!(o.reason.contains("include ssm"), "{}", o.reason);
            assert_evidence(&o, "instance_id", serde_json::json!("i-1"));
        }

        pub(crate) fn not_applicable(rule: &dyn Rule) {
            let mut i = instance();
            i.state = Some("stopped".into());
            let o = expect(
                run(rule, &instance_resource(i), &[fleet_resource(fleet())]),
                Status::NotApplicable,
            );
            assert_eq!(o.evidence["state"], "stopped");
            assert_eq!(o.evidence["instance_id"], "i-1");
            assert!(
                o.reason.contains("i-1 is stopped, not running"),
                "{}",
                o.reason
            );
            // An instance whose state is unknown is not judged running.
            let mut i = instance();
            i.state = None;
            let o = expect(
                run(rule, &instance_resource(i), &[fleet_resource(fleet())]),
                Status::NotApplicable,
            );
            assert_evidence(&o, "state", serde_json::Value::Null);
            assert!(o.reason.contains("in an unknown state"), "{}", o.reason);
        }
    }

    /// The fleet resource of the fixture region.
    pub(crate) fn fleet_resource(f: SsmFleet) -> Resource {
        resource(
            "arn:aws:ssm:us-east-1:111122223333:managed-instance-inventory",
            region(),
            ResourceBody::SsmFleet(f),
        )
    }
}
