//! `ec2_user_data_no_secrets`: in a region, no instance's user data and no launch
//! template's default or latest version's user data contains a suspected secret.
//!
//! The subject is the region, because the check covers two kinds of resource (instances
//! and launch templates) under one id; the evidence names each offending instance or
//! template version. The collector decodes user data and keeps only redacted findings
//! (pattern, line, masked excerpt), never the content. The patterns (`private_key`,
//! `aws_access_key_id`, `github_token`, `slack_token`, `url_credentials`,
//! `credential_assignment`) are documented on `posture_collect`'s `services::ec2::secrets`
//! module. Gzip-compressed or binary user data cannot be scanned and makes the result
//! `Error`, never `Pass`.

use posture_model::resources::UserDataScan;
use posture_model::{Observed, Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use super::is_gone;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2UserDataNoSecrets;

static META: RuleMeta = RuleMeta {
    id: "ec2_user_data_no_secrets",
    title: "No instance or launch template user data in the region contains secrets",
    severity: Severity::High,
    subject: ResourceKind::Region,
    rationale: "User data is readable by anyone with ec2:DescribeInstanceAttribute and from \
                inside the instance without credentials (IMDS); passwords, keys or tokens in it \
                bypass the access controls that protect ePHI (164.312(a)(1)) and the \
                password management the workforce is trained on (164.308(a)(5)(ii)(D)).",
    remediation: "Move the secret to Secrets Manager or SSM Parameter Store (SecureString) and \
                  have the script fetch it with the instance role; then rotate the exposed \
                  secret. User data of a stopped instance can be replaced with aws ec2 \
                  modify-instance-attribute --attribute userData; for a launch template, create \
                  a clean version, make it the default and delete the old versions.",
    api_calls: &[
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceAttribute",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
    ],
    params: &[],
};

/// What the scans of one region found.
#[derive(Default)]
struct Tally {
    /// Instances and template versions looked at.
    scanned: usize,
    /// Offenders: `{resource, pattern, line, excerpt}` per suspected secret.
    secrets: Vec<Value>,
    /// Names of the offending resources, for the reason.
    offenders: Vec<String>,
    /// Resources whose user data is unknown, with why.
    unknown: Vec<Value>,
}

impl Tally {
    fn add(&mut self, what: String, scan: &UserDataScan) {
        self.scanned += 1;
        if scan.size_bytes > 0 && !scan.scanned {
            let encoding = scan.unscanned_encoding.as_deref().unwrap_or("unreadable");
            self.unknown.push(json!({
                "resource": what,
                "why": format!("user data is {encoding} and could not be scanned"),
            }));
            return;
        }
        if scan.findings.is_empty() {
            return;
        }
        for f in &scan.findings {
            self.secrets.push(json!({
                "resource": what,
                "pattern": f.pattern,
                "line": f.line,
                "excerpt": f.excerpt,
            }));
        }
        self.offenders.push(what);
    }
}

impl Rule for Ec2UserDataNoSecrets {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Region(info) = &subject.body else {
            return Outcome::not_applicable("not a region");
        };
        let region = info.name.as_str();
        let mut tally = Tally::default();
        for r in ctx.resources(ResourceKind::Instance, &subject.account, &subject.region) {
            let ResourceBody::Instance(i) = &r.body else {
                continue;
            };
            if is_gone(i.state.as_deref()) {
                continue;
            }
            let what = format!("instance {}", i.instance_id);
            match &i.user_data {
                Observed::Collected(scan) => tally.add(what, scan),
                Observed::Unavailable(why) => {
                    tally.scanned += 1;
                    tally
                        .unknown
                        .push(json!({"resource": what, "why": why.to_string()}));
                }
                Observed::Absent => {
                    tally.scanned += 1;
                    tally
                        .unknown
                        .push(json!({"resource": what, "why": "user data was not read"}));
                }
            }
        }
        for r in ctx.resources(
            ResourceKind::LaunchTemplate,
            &subject.account,
            &subject.region,
        ) {
            let ResourceBody::LaunchTemplate(t) = &r.body else {
                continue;
            };
            match &t.versions {
                Observed::Collected(versions) => {
                    for v in versions {
                        let what = format!(
                            "launch template {} ({}) version {}",
                            t.name, t.launch_template_id, v.version_number
                        );
                        tally.add(what, &v.user_data);
                    }
                }
                Observed::Unavailable(why) => {
                    tally.scanned += 1;
                    tally.unknown.push(json!({
                        "resource": format!("launch template {}", t.name),
                        "why": why.to_string(),
                    }));
                }
                Observed::Absent => {}
            }
        }
        if !tally.offenders.is_empty() {
            return Outcome::fail(format!(
                "suspected secrets in the user data of {}",
                tally.offenders.join(", ")
            ))
            .with("region", region)
            .with("suspected_secrets", tally.secrets)
            .with("not_scanned", tally.unknown);
        }
        if !tally.unknown.is_empty() {
            return Outcome::error(format!(
                "the user data of {} resource(s) in {region} could not be scanned",
                tally.unknown.len()
            ))
            .with("region", region)
            .with("not_scanned", tally.unknown);
        }
        if tally.scanned == 0 {
            return Outcome::not_applicable(format!(
                "{region} has no running or stopped instances and no launch templates"
            ))
            .with("region", region);
        }
        Outcome::pass(format!(
            "the user data of {} instance(s) and launch template version(s) in {region} matched \
             no secret pattern",
            tally.scanned
        ))
        .with("region", region)
        .with("scanned", tally.scanned)
        .with("suspected_secrets", tally.secrets)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::SecretFinding;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn region_subject() -> Resource {
        resource(
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
            region(),
            ResourceBody::Region(posture_model::resources::RegionInfo { name: region() }),
        )
    }

    fn with(user_data: Observed<UserDataScan>) -> Resource {
        let mut i = instance();
        i.user_data = user_data;
        instance_resource(i)
    }

    fn secret() -> SecretFinding {
        SecretFinding {
            pattern: "credential_assignment".into(),
            line: 3,
            excerpt: "DB_PASSWORD=****(14 chars)".into(),
        }
    }

    fn scan(findings: Vec<SecretFinding>) -> UserDataScan {
        UserDataScan {
            size_bytes: 120,
            scanned: true,
            unscanned_encoding: None,
            findings,
        }
    }

    #[test]
    fn pass_when_instances_and_templates_are_clean() {
        let o = expect(
            run(
                &Ec2UserDataNoSecrets,
                &region_subject(),
                &[
                    with(Observed::Collected(scan(vec![]))),
                    launch_template_resource(Some("required"), None),
                ],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["scanned"], 2);
    }

    #[test]
    fn fail_names_instance_with_redacted_excerpt() {
        let o = expect(
            run(
                &Ec2UserDataNoSecrets,
                &region_subject(),
                &[with(Observed::Collected(scan(vec![secret()])))],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("instance i-1"), "{}", o.reason);
        assert_eq!(
            o.evidence["suspected_secrets"][0]["excerpt"],
            "DB_PASSWORD=****(14 chars)"
        );
        assert_eq!(o.evidence["suspected_secrets"][0]["line"], 3);
    }

    #[test]
    fn fail_names_launch_template_version() {
        let o = expect(
            run(
                &Ec2UserDataNoSecrets,
                &region_subject(),
                &[launch_template_resource(
                    Some("required"),
                    Some(scan(vec![secret()])),
                )],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("launch template phi-lt"), "{}", o.reason);
    }

    #[test]
    fn error_when_unavailable_or_unscannable() {
        let o = expect(
            run(
                &Ec2UserDataNoSecrets,
                &region_subject(),
                &[with(denied("ec2:DescribeInstanceAttribute"))],
            ),
            Status::Error,
        );
        assert!(
            o.evidence["not_scanned"][0]["why"]
                .as_str()
                .is_some_and(|w| w.contains("ec2:DescribeInstanceAttribute")),
            "{o:?}"
        );
        let o = expect(
            run(
                &Ec2UserDataNoSecrets,
                &region_subject(),
                &[with(Observed::Collected(UserDataScan {
                    size_bytes: 300,
                    scanned: false,
                    unscanned_encoding: Some("gzip".into()),
                    findings: vec![],
                }))],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("could not be scanned"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_without_instances_or_templates() {
        let mut i = instance();
        i.state = Some("terminated".into());
        i.user_data = Observed::Absent;
        let o = expect(
            run(
                &Ec2UserDataNoSecrets,
                &region_subject(),
                &[instance_resource(i)],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["region"], "us-east-1");
    }
}
