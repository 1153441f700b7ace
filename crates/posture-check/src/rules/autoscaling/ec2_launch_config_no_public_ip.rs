//! `ec2_launch_config_no_public_ip`: an Auto Scaling launch configuration does not give its
//! instances public IPv4 addresses.

use posture_model::resources::{LaunchConfiguration, Subnet};
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
    api_calls: &[
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeAutoScalingGroups",
        "ec2:DescribeSubnets",
    ],
    params: &[],
};

/// A configuration that leaves public addressing unset gets whatever the subnets of the
/// groups that use it do (`MapPublicIpOnLaunch`).
fn subnet_default(subject: &Resource, lc: &LaunchConfiguration, ctx: &Ctx<'_>) -> Outcome {
    let unset = |o: Outcome| {
        o.with("launch_configuration", &lc.name)
            .with("associate_public_ip_address", "unset (subnet default)")
    };
    let groups = match lc.used_by.get() {
        Ok(g) => g.map(Vec::as_slice).unwrap_or_default(),
        Err(why) => {
            return unset(Outcome::unavailable(
                "the Auto Scaling groups that use it (their subnets decide)",
                why,
            ));
        }
    };
    if groups.is_empty() {
        return unset(Outcome::not_applicable(format!(
            "no Auto Scaling group launches from {}",
            lc.name
        )));
    }
    let subnets: Vec<&Subnet> = ctx
        .resources(ResourceKind::Subnet, &subject.account, &subject.region)
        .filter_map(|r| match &r.body {
            ResourceBody::Subnet(s) => Some(s),
            _ => None,
        })
        .collect();
    let mut public = Vec::new();
    let mut missing = Vec::new();
    for g in groups {
        for id in &g.subnets {
            match subnets.iter().find(|s| &s.subnet_id == id) {
                Some(s) if s.map_public_ip_on_launch => public.push(format!("{} ({id})", g.name)),
                Some(_) => {}
                None => missing.push(id.as_str()),
            }
        }
    }
    let o = if !public.is_empty() {
        Outcome::fail(format!(
            "launch configuration {} leaves public addressing to subnets that assign public \
             IPs: {}",
            lc.name,
            public.join(", ")
        ))
    } else if !missing.is_empty() {
        Outcome::error(format!(
            "the subnets {} of the groups using {} were not collected, so whether they assign \
             public IPs is unknown",
            missing.join(", "),
            lc.name
        ))
    } else {
        Outcome::pass(format!(
            "launch configuration {} leaves public addressing to its groups' subnets, none of \
             which assigns public IPs",
            lc.name
        ))
    };
    unset(o).with("used_by", groups)
}

impl Rule for Ec2LaunchConfigNoPublicIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
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
            None => return subnet_default(subject, lc, ctx),
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
    use posture_model::resources::AutoScalingGroupRef;
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
                used_by: Observed::Collected(vec![AutoScalingGroupRef {
                    name: "web-asg".into(),
                    subnets: vec!["subnet-1".into()],
                }]),
            }),
        )
    }

    fn subnet(auto_public: bool) -> Resource {
        crate::rules::ec2::fixtures::subnet_resource(auto_public)
    }

    #[test]
    fn pass_when_public_ip_off_or_left_to_the_subnet() {
        let o = expect(
            run(&Ec2LaunchConfigNoPublicIp, &lc(Some(false)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["associate_public_ip_address"], "false");
        let o = expect(
            run(&Ec2LaunchConfigNoPublicIp, &lc(None), &[subnet(false)]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["associate_public_ip_address"],
            "unset (subnet default)"
        );
        assert_eq!(o.evidence["used_by"][0]["name"], "web-asg");
    }

    #[test]
    fn fail_when_unset_and_a_group_subnet_assigns_public_ips() {
        let o = expect(
            run(&Ec2LaunchConfigNoPublicIp, &lc(None), &[subnet(true)]),
            Status::Fail,
        );
        assert!(o.reason.contains("web-asg (subnet-1)"), "{}", o.reason);
    }

    #[test]
    fn error_when_unset_and_the_groups_or_subnets_are_unknown() {
        expect(
            run(&Ec2LaunchConfigNoPublicIp, &lc(None), &[]),
            Status::Error,
        );
        let ResourceBody::LaunchConfiguration(mut c) = lc(None).body else {
            unreachable!()
        };
        c.used_by = denied("autoscaling:DescribeAutoScalingGroups");
        let r = resource(
            "arn:aws:autoscaling:us-east-1:111122223333:launchConfiguration:0a1b:launchConfigurationName/web",
            region(),
            ResourceBody::LaunchConfiguration(c),
        );
        let o = expect(run(&Ec2LaunchConfigNoPublicIp, &r, &[]), Status::Error);
        assert!(
            o.reason.contains("autoscaling:DescribeAutoScalingGroups"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_when_unset_and_unused() {
        let ResourceBody::LaunchConfiguration(mut c) = lc(None).body else {
            unreachable!()
        };
        c.used_by = Observed::Collected(vec![]);
        let r = resource(
            "arn:aws:autoscaling:us-east-1:111122223333:launchConfiguration:0a1b:launchConfigurationName/web",
            region(),
            ResourceBody::LaunchConfiguration(c),
        );
        let o = expect(
            run(&Ec2LaunchConfigNoPublicIp, &r, &[]),
            Status::NotApplicable,
        );
        assert!(
            o.reason.contains("no Auto Scaling group launches from web"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "launch_configuration", serde_json::json!("web"));
        assert_evidence(
            &o,
            "associate_public_ip_address",
            serde_json::json!("unset (subnet default)"),
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
        assert!(
            findings
                .iter()
                .all(|f| f.evidence["gap"]["operation"]
                    == "autoscaling:DescribeLaunchConfigurations"),
            "{findings:?}"
        );
    }
}
