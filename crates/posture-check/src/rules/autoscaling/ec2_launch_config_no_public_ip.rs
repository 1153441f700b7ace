//! `ec2_launch_config_no_public_ip`: an Auto Scaling launch configuration does not give its
//! instances public IPv4 addresses.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2LaunchConfigNoPublicIp;

static META: RuleMeta = RuleMeta {
    id: "ec2_launch_config_no_public_ip",
    title: "Auto Scaling launch configuration does not assign public IP addresses",
    severity: Severity::High,
    subject: ResourceKind::LaunchConfiguration,
    rationale: "Every instance an Auto Scaling group launches from this configuration is \
                reachable from the internet on whatever its security groups open; instances \
                that process ePHI belong behind load balancers in private subnets \
                (164.308(a)(3)(i), 164.308(a)(4)(ii)(B), 164.312(a)(1), 164.312(e)(1)).",
    remediation: "Create a launch template (launch configurations cannot be edited) with \
                  AssociatePublicIpAddress=false on its network interface, point the Auto \
                  Scaling group at it, and delete the old launch configuration.",
    api_calls: &["autoscaling:DescribeLaunchConfigurations"],
    params: &[],
};

impl Rule for Ec2LaunchConfigNoPublicIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LaunchConfiguration(lc) = &subject.body else {
            return Outcome::not_applicable("not a launch configuration");
        };
        let outcome = match lc.associate_public_ip_address {
            Some(true) => Outcome::fail(format!(
                "launch configuration {} assigns a public IP address to every instance",
                lc.name
            )),
            Some(false) => Outcome::pass(format!(
                "launch configuration {} does not assign public IP addresses",
                lc.name
            )),
            None => Outcome::pass(format!(
                "launch configuration {} leaves public addressing to the subnet (see \
                 subnet_no_auto_public_ip)",
                lc.name
            )),
        };
        outcome.with("launch_configuration", &lc.name).with(
            "associate_public_ip_address",
            lc.associate_public_ip_address
                .map_or_else(|| "unset (subnet default)".into(), |v| v.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::LaunchConfiguration;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn lc(public: Option<bool>) -> Resource {
        resource(
            "arn:aws:autoscaling:us-east-1:111122223333:launchConfiguration:0a1b:launchConfigurationName/web",
            region(),
            ResourceBody::LaunchConfiguration(LaunchConfiguration {
                name: "web".into(),
                image_id: Some("ami-0abc".into()),
                instance_type: Some("t3.micro".into()),
                associate_public_ip_address: public,
                http_tokens: Some("required".into()),
                created: None,
            }),
        )
    }

    #[test]
    fn pass_when_public_ip_off_or_left_to_the_subnet() {
        let o = expect(
            run(&Ec2LaunchConfigNoPublicIp, &lc(Some(false)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["associate_public_ip_address"], "false");
        let o = expect(
            run(&Ec2LaunchConfigNoPublicIp, &lc(None), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["associate_public_ip_address"],
            "unset (subnet default)"
        );
    }

    #[test]
    fn fail_when_public_ip_on() {
        let o = expect(
            run(&Ec2LaunchConfigNoPublicIp, &lc(Some(true)), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["associate_public_ip_address"], "true");
    }

    #[test]
    fn error_when_the_launch_configurations_could_not_be_listed() {
        let subject = lc(Some(false));
        let coverage = posture_model::Coverage {
            failed: vec![list_gap(
                "autoscaling:DescribeLaunchConfigurations",
                region(),
            )],
            ..Default::default()
        };
        let findings = evaluate(
            &[subject],
            &coverage,
            &baseline_of(&Ec2LaunchConfigNoPublicIp),
            now(),
        );
        // The listed configuration and the region (where more may hide) are both errors.
        assert!(
            findings.iter().all(|f| f.status == Status::Error),
            "{findings:?}"
        );
        assert!(
            findings.iter().any(|f| f
                .resource
                .arn
                .as_str()
                .ends_with("launchConfigurationName/web")),
            "{findings:?}"
        );
    }

    #[test]
    fn not_applicable_to_other_kinds() {
        let mut b = bucket("phi");
        b.policy = Observed::Absent;
        expect(
            run(&Ec2LaunchConfigNoPublicIp, &bucket_resource(b), &[]),
            Status::NotApplicable,
        );
    }
}
