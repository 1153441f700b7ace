//! Infrastructure-as-code provenance: was an ePHI resource created by a stack, or by hand in
//! the console? The answer every `*_iac_provenance` rule shares (S3 buckets, RDS instances
//! and clusters, EBS volumes, EFS file systems: one rule per kind, since a rule has one
//! subject kind).
//!
//! The only evidence a snapshot holds is the resource's tags:
//!
//! - **CloudFormation** tags every taggable resource of a stack itself with
//!   `aws:cloudformation:stack-name`, `aws:cloudformation:stack-id` and
//!   `aws:cloudformation:logical-id`. Keys with the `aws:` prefix are reserved: nobody can
//!   add or change them by hand, so they are strong evidence. They are always recognised.
//! - **Terraform and Pulumi** set no tag by themselves. Teams configure provider-wide
//!   tags (Terraform's AWS provider `default_tags`, Pulumi's `aws:defaultTags`), and the
//!   keys they choose are the rule parameter [`PARAM`]. Such a tag can also be typed in the
//!   console, so it is weaker evidence: it shows the organisation's convention is followed.
//!
//! An entry of [`PARAM`] is `KEY` (the tag present with a non-empty value, which names the
//! stack: `pulumi:stack`) or `KEY=VALUE` (the tag present with that value, compared without
//! case: `ManagedBy=terraform`, so that `ManagedBy=console` does not count). The first `=`
//! splits an entry. Tag keys are compared exactly, as AWS does.
//!
//! Tags that could not be read are an `Error`, never a pass or a failure; tags AWS answered
//! are absent (`Absent`) are no tags.

use posture_model::{Resource, Tags};

use crate::{Ctx, Outcome, ParamSpec, ParamType, try_observed};

/// The CloudFormation tag naming the stack.
pub(crate) const CLOUDFORMATION_STACK_NAME: &str = "aws:cloudformation:stack-name";
/// The CloudFormation tag holding the stack's ARN.
pub(crate) const CLOUDFORMATION_STACK_ID: &str = "aws:cloudformation:stack-id";
/// The parameter naming the Terraform / Pulumi (or any other) provenance tags.
pub(crate) const PARAM: &str = "provenance_tag_keys";

/// The parameters of every `*_iac_provenance` rule.
pub(crate) const PARAMS: &[ParamSpec] = &[ParamSpec {
    name: PARAM,
    ty: ParamType::StringList,
    default: "pulumi:stack,pulumi:project,terraform:workspace,Terraform=true,\
              ManagedBy=terraform,ManagedBy=pulumi",
    doc: "Tags that show a resource was created by infrastructure as code, besides \
          CloudFormation's aws:cloudformation:stack-name / stack-id (always recognised). \
          KEY: the tag with any non-empty value (which names the stack); KEY=VALUE: the tag \
          with that value, compared without case. Terraform and Pulumi set no tag \
          themselves: the defaults are common conventions set through the Terraform AWS \
          provider's default_tags or Pulumi's aws:defaultTags; list the keys your stacks set.",
}];

/// The shared rationale's core (each rule adds its kind).
pub(crate) const RATIONALE: &str = "An ePHI resource created or changed by hand in the \
    console has no reviewed, versioned definition: its configuration cannot be reproduced, \
    reviewed before it changes, or restored after a disaster, and nothing records why it is \
    as it is. CloudFormation tags every resource of a stack with aws:cloudformation:stack-id \
    (reserved tags no user can set); Terraform and Pulumi set no tag themselves, so their \
    stacks must be configured to set one of provenance_tag_keys (default_tags, \
    aws:defaultTags) (164.308(a)(1)(ii)(B), 164.312(c)(1), 164.316(b)(1)).";

/// The shared remediation.
pub(crate) const REMEDIATION: &str = "Bring the resource under a stack: import it into \
    CloudFormation (resource import), Terraform (`terraform import` or an import block) or \
    Pulumi (`pulumi import`), or recreate it from one; configure Terraform's default_tags or \
    Pulumi's aws:defaultTags to set one of provenance_tag_keys (e.g. ManagedBy=terraform, \
    pulumi:stack=<stack>), or list the tag your stacks already set in the baseline's \
    [parameters.<rule>] provenance_tag_keys.";

/// One entry of [`PARAM`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted<'a> {
    key: &'a str,
    /// `Some` for `KEY=VALUE`.
    value: Option<&'a str>,
}

impl<'a> Wanted<'a> {
    fn parse(entry: &'a str) -> Option<Self> {
        let (key, value) = match entry.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (entry.trim(), None),
        };
        (!key.is_empty()).then_some(Wanted { key, value })
    }

    /// Whether `found` (the tag's value) satisfies the entry.
    fn accepts(&self, found: &str) -> bool {
        match self.value {
            Some(v) => found.trim().eq_ignore_ascii_case(v),
            None => !found.trim().is_empty(),
        }
    }
}

/// The outcome for `subject`, a `what` (`S3 bucket`), with the rule's parameters.
pub(crate) fn check(subject: &Resource, ctx: &Ctx<'_>, what: &str) -> Outcome {
    let tags = try_observed!(subject.tags, &format!("the {what}'s tags"));
    let no_tags = Tags::new();
    let tags = tags.unwrap_or(&no_tags);
    let configured = ctx.strings(PARAM);
    let looked_for: Vec<&str> = [CLOUDFORMATION_STACK_NAME, CLOUDFORMATION_STACK_ID]
        .into_iter()
        .chain(configured.iter().map(String::as_str))
        .collect();
    let outcome = decide(tags, &configured, what);
    outcome.with("tag_keys_looked_for", looked_for)
}

fn decide(tags: &Tags, configured: &[String], what: &str) -> Outcome {
    let non_empty = |k: &str| tags.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let stack_name = non_empty(CLOUDFORMATION_STACK_NAME);
    let stack_id = non_empty(CLOUDFORMATION_STACK_ID);
    // The stack's name comes from its tag, or else from its ARN
    // (`arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`).
    let cloudformation = match (stack_name, stack_id) {
        (Some(n), _) => Some((CLOUDFORMATION_STACK_NAME, n, Some(n))),
        (None, Some(id)) => Some((CLOUDFORMATION_STACK_ID, id, id.split('/').nth(1))),
        (None, None) => None,
    };
    if let Some((key, value, name)) = cloudformation {
        return Outcome::pass(format!(
            "the {what} belongs to CloudFormation stack {}",
            name.unwrap_or(value)
        ))
        .with("source", "cloudformation")
        .with("stack", name.unwrap_or(value))
        .with("stack_name", stack_name)
        .with("stack_id", stack_id)
        .with("tag_key", key)
        .with("tag_value", value);
    }
    let mut near_misses = Tags::new();
    for entry in configured {
        let Some(wanted) = Wanted::parse(entry) else {
            continue;
        };
        let Some(found) = tags.get(wanted.key) else {
            continue;
        };
        if !wanted.accepts(found) {
            near_misses.insert(wanted.key.to_owned(), found.clone());
            continue;
        }
        let reason = match wanted.value {
            None => format!(
                "the {what} carries provenance tag {} = {} (stack {})",
                wanted.key,
                found.trim(),
                found.trim()
            ),
            Some(_) => format!(
                "the {what} carries provenance tag {} = {}",
                wanted.key,
                found.trim()
            ),
        };
        return Outcome::pass(reason)
            .with("source", "configured_tag")
            // A `KEY` entry's value names the stack; a `KEY=VALUE` one names the tool.
            .with("stack", wanted.value.is_none().then(|| found.trim()))
            .with("tag_key", wanted.key)
            .with("tag_value", found);
    }
    let mut reason = format!(
        "the {what} carries no infrastructure-as-code provenance tag (none of the CloudFormation \
         stack tags or provenance_tag_keys is present): created or imported by hand?"
    );
    if !near_misses.is_empty() {
        let listed: Vec<String> = near_misses
            .iter()
            .map(|(k, v)| format!("{k} = {v:?}"))
            .collect();
        reason.push_str(&format!(
            " ({} present with a value that does not count)",
            listed.join(", ")
        ));
    }
    Outcome::fail(reason)
        .with("provenance_tags_present", Vec::<&str>::new())
        .with("near_misses", near_misses)
}

/// The cases every `*_iac_provenance` rule is tested on, with `make` building a subject of
/// its kind with the given tags.
#[cfg(test)]
pub(crate) mod cases {
    use posture_model::{Observed, Resource, Status, Tags};
    use serde_json::json;

    use crate::baseline::ParamValue;
    use crate::testing::{assert_evidence, denied, expect, run, run_with};
    use crate::{Outcome, Params, Rule};

    /// Builds a subject with `tags`.
    pub(crate) type Make = fn(Observed<Tags>) -> Resource;

    pub(crate) const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/\
                                       phi-data/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";

    pub(crate) fn tags(pairs: &[(&str, &str)]) -> Observed<Tags> {
        Observed::Collected(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn default_looked_for() -> serde_json::Value {
        json!([
            "aws:cloudformation:stack-name",
            "aws:cloudformation:stack-id",
            "pulumi:stack",
            "pulumi:project",
            "terraform:workspace",
            "Terraform=true",
            "ManagedBy=terraform",
            "ManagedBy=pulumi"
        ])
    }

    /// CloudFormation's tags pass and name the stack; the stack id alone names it too.
    pub(crate) fn pass_with_cloudformation(rule: &dyn Rule, make: Make) {
        let o = expect(
            run(
                rule,
                &make(tags(&[
                    ("aws:cloudformation:stack-name", "phi-data"),
                    ("aws:cloudformation:stack-id", STACK_ID),
                    ("aws:cloudformation:logical-id", "Store"),
                ])),
                &[],
            ),
            Status::Pass,
        );
        assert!(
            o.reason.contains("CloudFormation stack phi-data"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "source", json!("cloudformation"));
        assert_evidence(&o, "stack", json!("phi-data"));
        assert_evidence(&o, "stack_name", json!("phi-data"));
        assert_evidence(&o, "stack_id", json!(STACK_ID));
        assert_evidence(&o, "tag_key", json!("aws:cloudformation:stack-name"));
        // Only the stack id: the name comes from the ARN.
        let o = expect(
            run(
                rule,
                &make(tags(&[("aws:cloudformation:stack-id", STACK_ID)])),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "stack", json!("phi-data"));
        assert_evidence(&o, "stack_name", json!(null));
        assert_evidence(&o, "tag_key", json!("aws:cloudformation:stack-id"));
        assert_evidence(&o, "tag_value", json!(STACK_ID));
    }

    /// A default Pulumi key passes with its value as the stack; a Terraform `KEY=VALUE`
    /// convention passes naming the tag, whatever the case of the value.
    pub(crate) fn pass_with_configured_tag(rule: &dyn Rule, make: Make) {
        let o = expect(
            run(rule, &make(tags(&[("pulumi:stack", "prod")])), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("pulumi:stack = prod"), "{}", o.reason);
        assert_evidence(&o, "source", json!("configured_tag"));
        assert_evidence(&o, "stack", json!("prod"));
        assert_evidence(&o, "tag_key", json!("pulumi:stack"));
        assert_evidence(&o, "tag_value", json!("prod"));
        let o = expect(
            run(rule, &make(tags(&[("ManagedBy", "Terraform")])), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "tag_key", json!("ManagedBy"));
        assert_evidence(&o, "tag_value", json!("Terraform"));
        assert_evidence(&o, "stack", json!(null));
    }

    /// No provenance tag fails and lists what was looked for; so do an empty value and a
    /// `KEY=VALUE` tag with another value, which are shown as near misses; no tags at all
    /// (Absent) fails the same way.
    pub(crate) fn fail_without_provenance(rule: &dyn Rule, make: Make) {
        let o = expect(
            run(
                rule,
                &make(tags(&[("Name", "claims"), ("phi", "true")])),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason
                .contains("no infrastructure-as-code provenance tag"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "tag_keys_looked_for", default_looked_for());
        assert_evidence(&o, "provenance_tags_present", json!([]));
        assert_evidence(&o, "near_misses", json!({}));
        let o = expect(
            run(
                rule,
                &make(tags(&[
                    ("ManagedBy", "console"),
                    ("pulumi:stack", " "),
                    ("aws:cloudformation:stack-name", ""),
                ])),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("ManagedBy = \"console\""), "{}", o.reason);
        assert_evidence(
            &o,
            "near_misses",
            json!({"ManagedBy": "console", "pulumi:stack": " "}),
        );
        let o = expect(run(rule, &make(Observed::Absent), &[]), Status::Fail);
        assert_evidence(&o, "tag_keys_looked_for", default_looked_for());
    }

    fn with_keys(rule: &dyn Rule, keys: &[&str]) -> Params {
        let mut params = Params::defaults(rule);
        params.set(
            super::PARAM,
            ParamValue::StringList(keys.iter().map(|k| (*k).to_owned()).collect()),
        );
        params
    }

    /// A custom key list replaces the defaults: its key passes, a default key no longer
    /// does, and CloudFormation's tags still do. An empty list leaves only CloudFormation.
    pub(crate) fn custom_key_list(rule: &dyn Rule, make: Make) {
        let custom = with_keys(rule, &["iac:stack", "Owner=platform"]);
        let o: Outcome = expect(
            run_with(
                rule,
                &make(tags(&[("iac:stack", "ehr-prod")])),
                &[],
                &custom,
            ),
            Status::Pass,
        );
        assert_evidence(&o, "stack", json!("ehr-prod"));
        assert_evidence(&o, "tag_key", json!("iac:stack"));
        let o = expect(
            run_with(rule, &make(tags(&[("Owner", "Platform")])), &[], &custom),
            Status::Pass,
        );
        assert_evidence(&o, "tag_key", json!("Owner"));
        let o = expect(
            run_with(rule, &make(tags(&[("pulumi:stack", "prod")])), &[], &custom),
            Status::Fail,
        );
        assert_evidence(
            &o,
            "tag_keys_looked_for",
            json!([
                "aws:cloudformation:stack-name",
                "aws:cloudformation:stack-id",
                "iac:stack",
                "Owner=platform"
            ]),
        );
        // Keys are case-sensitive, as AWS's are.
        expect(
            run_with(rule, &make(tags(&[("IAC:STACK", "x")])), &[], &custom),
            Status::Fail,
        );
        let none = with_keys(rule, &[]);
        expect(
            run_with(rule, &make(tags(&[("ManagedBy", "terraform")])), &[], &none),
            Status::Fail,
        );
        let o = expect(
            run_with(
                rule,
                &make(tags(&[("aws:cloudformation:stack-id", STACK_ID)])),
                &[],
                &none,
            ),
            Status::Pass,
        );
        assert_evidence(&o, "stack", json!("phi-data"));
    }

    /// Tags that could not be read are an error naming the failed call, never a verdict.
    pub(crate) fn error_when_tags_unavailable(rule: &dyn Rule, make: Make, operation: &str) {
        let o = expect(run(rule, &make(denied(operation)), &[]), Status::Error);
        assert!(
            o.reason.contains("tags could not be collected"),
            "{}",
            o.reason
        );
        assert!(o.reason.contains(operation), "{}", o.reason);
        assert_eq!(o.evidence["unavailable"]["operation"], json!(operation));
    }
}

/// The rules as the shipped baseline includes them: PHI-scoped and cited.
#[cfg(test)]
mod tests {
    use posture_model::{Coverage, Status};
    use serde_json::json;

    use super::cases::{STACK_ID, tags};
    use crate::testing::{bucket, bucket_resource, denied, evaluate, now};
    use crate::{Baseline, RuleScope};

    const RULES: &[&str] = &[
        "ebs_volume_iac_provenance",
        "efs_iac_provenance",
        "rds_cluster_iac_provenance",
        "rds_instance_iac_provenance",
        "s3_bucket_iac_provenance",
    ];

    #[test]
    fn the_shipped_baseline_scopes_every_provenance_rule_to_phi_and_cites_it() {
        let b = Baseline::hipaa().expect("shipped baseline");
        for id in RULES {
            let entry = b
                .rules
                .iter()
                .find(|e| e.rule.meta().id == *id)
                .unwrap_or_else(|| panic!("{id} is not in the shipped baseline"));
            assert_eq!(entry.scope, RuleScope::PhiOnly, "{id}");
            let cited: Vec<&str> = entry.citations.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(
                cited,
                ["164.308(a)(1)(ii)(B)", "164.312(c)(1)", "164.316(b)(1)"],
                "{id}"
            );
        }
    }

    /// Through the evaluator with the shipped baseline: a bucket not tagged as PHI is not
    /// applicable, a PHI bucket whose tags could not be read is an error (never a pass), a
    /// PHI bucket of a stack passes naming it and an untracked PHI bucket fails.
    #[test]
    fn phi_scope_in_the_shipped_baseline_not_applicable_error_pass_and_fail() {
        let b = Baseline::hipaa().expect("shipped baseline");
        let with = |name: &str, t| {
            let mut r = bucket_resource(bucket(name));
            r.tags = t;
            r
        };
        let resources = [
            with("plain", tags(&[("ManagedBy", "console")])),
            with("phi-unreadable", denied("s3:GetBucketTagging")),
            with(
                "phi-stack",
                tags(&[("phi", "true"), ("aws:cloudformation:stack-id", STACK_ID)]),
            ),
            with("phi-by-hand", tags(&[("phi", "true")])),
        ];
        let findings = evaluate(&resources, &Coverage::default(), &b, now());
        let status = |arn: &str| {
            findings
                .iter()
                .find(|f| {
                    f.rule_id.as_str() == "s3_bucket_iac_provenance"
                        && f.resource.arn.as_str() == arn
                })
                .unwrap_or_else(|| panic!("no finding for {arn}"))
        };
        let f = status("arn:aws:s3:::plain");
        assert_eq!(f.status, Status::NotApplicable, "{f:?}");
        assert_eq!(f.evidence["phi_only"], json!(true));
        let f = status("arn:aws:s3:::phi-unreadable");
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert_eq!(
            f.evidence["unavailable"]["operation"],
            json!("s3:GetBucketTagging")
        );
        let f = status("arn:aws:s3:::phi-stack");
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(f.evidence["stack"], json!("phi-data"));
        let f = status("arn:aws:s3:::phi-by-hand");
        assert_eq!(f.status, Status::Fail, "{f:?}");
        assert_eq!(f.evidence["provenance_tags_present"], json!([]));
    }
}
