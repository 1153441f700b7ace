//! The IAM policies Posture needs, generated from the one table of collectors
//! ([`crate::catalog`]): the read-only policy of the member-account role, the security
//! account's scanner policy and the member role's trust policy, as IAM JSON, as a Terraform
//! `aws_iam_policy_document`, or as the CloudFormation templates that create the roles.
//! `posture iam-policy` prints them; the files in `deploy/iam` and `deploy/cloudformation`
//! are its output (a test here fails when they differ; regenerate them with
//! `POSTURE_REGENERATE_DEPLOY=1 cargo test -p posture-model --lib iam_policy`).
//!
//! Pure: no IO, the output depends only on the table and the arguments.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::Service;
use crate::catalog::{self, Call};

/// The default name of the read-only role in every member account (`accounts.role_name`).
pub const MEMBER_ROLE_NAME: &str = "PostureAudit";
/// The default name of the scanner role in the security account.
pub const SCANNER_ROLE_NAME: &str = "posture-scanner";

/// An action of the generated policies that the end-to-end scan against moto does not
/// exercise, and why. Every other action of the policies must be called by that scan
/// (`tests/tests/iam_policy.rs`), so nothing stays in the policy unexplained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unexercised {
    /// The IAM action.
    pub action: &'static str,
    /// Why the seeded scan on moto does not call it.
    pub reason: &'static str,
}

const fn unexercised(action: &'static str, reason: &'static str) -> Unexercised {
    Unexercised { action, reason }
}

/// The actions the end-to-end scan on moto cannot exercise, each with its reason.
pub const NOT_EXERCISED_ON_MOTO: &[Unexercised] = &[
    unexercised(
        "sts:AssumeRole",
        "the seeded scan reads the caller's own account; entering member accounts is \
         exercised by tests/tests/org.rs",
    ),
    unexercised(
        "organizations:ListAccounts",
        "only with accounts.source = \"organization\" (tests/tests/org.rs), not in the \
         single-account scan",
    ),
    unexercised(
        "acm:DescribeCertificate",
        "read only for a certificate whose ListCertificates summary lacks its status or \
         validity dates; moto's summaries carry them",
    ),
    unexercised(
        "backup:GetBackupSelection",
        "read per selection ListBackupSelections returns; moto 5.2.5 does not implement \
         ListBackupSelections (HTTP 500), so no selection is listed",
    ),
    unexercised(
        "guardduty:GetFindings",
        "reads a sample of the finding ids ListFindings returns; moto's detectors have no \
         findings",
    ),
    unexercised(
        "macie2:GetAutomatedDiscoveryConfiguration",
        "read only when the Macie session is enabled; moto's GetMacieSession answer has \
         timestamps without a UTC offset, which the SDK rejects, so the session stays unknown",
    ),
    unexercised(
        "macie2:ListClassificationJobs",
        "read only when the Macie session is enabled; moto's GetMacieSession answer has \
         timestamps without a UTC offset, which the SDK rejects, so the session stays unknown",
    ),
    unexercised(
        "rds:DescribeDBClusterSnapshotAttributes",
        "read per manual cluster snapshot (automated ones are never shared); the seed's \
         cluster snapshots are automated",
    ),
    unexercised(
        "sns:ListSubscriptionsByTopic",
        "read for the topics alarms notify; moto 5.2.5 answers the SDK's DescribeAlarms \
         (CBOR protocol) with a 404, so no alarm and no topic is read",
    ),
];

/// Which document to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The read-only policy of the role in every scanned account.
    Member,
    /// The security account's scanner policy: assume the member roles, list the
    /// organization's accounts (its own reads are the member policy, attached as well).
    Scanner,
    /// The member role's trust policy: the scanner role, with an external id.
    MemberTrust,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The IAM policy document.
    Json,
    /// A Terraform `data "aws_iam_policy_document"` block.
    Terraform,
    /// The CloudFormation template that creates the role (member: the StackSet template;
    /// scanner: the security account's template).
    CloudFormation,
}

/// What cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerateError {
    /// The trust policy has no CloudFormation template of its own.
    NoTemplate(Document),
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GenerateError::NoTemplate(_) => f.write_str(
                "the trust policy is part of the member role's CloudFormation template: \
                 use --policy member --format cloudformation",
            ),
        }
    }
}

impl std::error::Error for GenerateError {}

/// The IAM actions the member role needs for `services`: every call of their collectors
/// and the planning in each account, sorted, without duplicates.
pub fn member_actions(services: &[Service]) -> BTreeSet<&'static str> {
    catalog::COLLECTORS
        .iter()
        .filter(|c| services.contains(&c.service))
        .flat_map(|c| c.calls.iter())
        .chain(catalog::MEMBER_PLANNING_CALLS)
        .map(|c| c.iam_action)
        .collect()
}

/// The IAM actions of the security account's own planning (those needing a permission).
pub fn scanner_actions() -> BTreeSet<&'static str> {
    catalog::SCANNER_CALLS
        .iter()
        .map(|c: &Call| c.iam_action)
        .filter(|a| !a.is_empty())
        .collect()
}

/// One statement of a policy document, in IAM's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// The statement's id.
    pub sid: String,
    /// Always `Allow`: Posture's policies grant, they deny nothing.
    pub effect: &'static str,
    /// Who may act (trust policies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// The actions, sorted.
    #[serde(serialize_with = "one_or_many")]
    pub action: Vec<String>,
    /// The resources (none in a trust policy).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "one_or_many")]
    pub resource: Vec<String>,
    /// `StringEquals` on one key (the external id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

/// `{"AWS": arn}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The trusted role's ARN.
    #[serde(rename = "AWS")]
    pub aws: String,
}

/// `{"StringEquals": {key: value}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The condition key.
    pub key: &'static str,
    /// The value it must equal.
    pub value: String,
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut inner = std::collections::BTreeMap::new();
        inner.insert(self.key, &self.value);
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("StringEquals", &inner)?;
        m.end()
    }
}

fn one_or_many<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    match v {
        [one] => s.serialize_str(one),
        many => many.serialize(s),
    }
}

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// `2012-10-17`.
    pub version: &'static str,
    /// The statements.
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// Every action the document names.
    pub fn actions(&self) -> BTreeSet<&str> {
        self.statement
            .iter()
            .flat_map(|s| s.action.iter().map(String::as_str))
            .collect()
    }
}

fn allow(
    sid: &str,
    actions: impl IntoIterator<Item = impl Into<String>>,
    resource: &str,
) -> Statement {
    Statement {
        sid: sid.to_owned(),
        effect: "Allow",
        principal: None,
        action: actions.into_iter().map(Into::into).collect(),
        resource: vec![resource.to_owned()],
        condition: None,
    }
}

/// The member role's read-only policy for `services`. `Resource` is `*`: the scan reads
/// every resource of the account, which no policy can name in advance; every action is a
/// read named in full (no wildcard).
pub fn member_policy(services: &[Service]) -> PolicyDocument {
    PolicyDocument {
        version: "2012-10-17",
        statement: vec![allow(
            "PostureReadsConfiguration",
            member_actions(services),
            "*",
        )],
    }
}

/// The scanner's policy: assume `member_role` (by name, in any account: the organization's
/// accounts are not known in advance) and list the organization's accounts.
pub fn scanner_policy(member_role: &str) -> PolicyDocument {
    let mut statement = Vec::new();
    for call in catalog::SCANNER_CALLS {
        let sid = match call.iam_action {
            "" => continue,
            "sts:AssumeRole" => "EnterMemberAccounts",
            "organizations:ListAccounts" => "ListTheOrganization",
            _ => "PosturePlanning",
        };
        let resource = if call.iam_action == "sts:AssumeRole" {
            format!("arn:aws:iam::*:role/{member_role}")
        } else {
            "*".to_owned()
        };
        statement.push(allow(sid, [call.iam_action], &resource));
    }
    PolicyDocument {
        version: "2012-10-17",
        statement,
    }
}

/// The member role's trust policy: only `scanner_role_arn`, with `external_id`.
pub fn member_trust_policy(scanner_role_arn: &str, external_id: &str) -> PolicyDocument {
    PolicyDocument {
        version: "2012-10-17",
        statement: vec![Statement {
            sid: "PostureFromTheSecurityAccount".to_owned(),
            effect: "Allow",
            principal: Some(Principal {
                aws: scanner_role_arn.to_owned(),
            }),
            action: vec!["sts:AssumeRole".to_owned()],
            resource: Vec::new(),
            condition: Some(Condition {
                key: "sts:ExternalId",
                value: external_id.to_owned(),
            }),
        }],
    }
}

/// Placeholders of the files in `deploy/iam`.
const SCANNER_ARN_PLACEHOLDER: &str = "arn:aws:iam::SECURITY_ACCOUNT_ID:role/posture-scanner";
const EXTERNAL_ID_PLACEHOLDER: &str = "REPLACE_WITH_YOUR_EXTERNAL_ID";

/// What `posture iam-policy` prints: `document` for `services` in `format`, ending in a
/// newline.
pub fn generate(
    document: Document,
    services: &[Service],
    format: Format,
) -> Result<String, GenerateError> {
    let doc = match document {
        Document::Member => member_policy(services),
        Document::Scanner => scanner_policy(MEMBER_ROLE_NAME),
        Document::MemberTrust => {
            member_trust_policy(SCANNER_ARN_PLACEHOLDER, EXTERNAL_ID_PLACEHOLDER)
        }
    };
    Ok(match format {
        Format::Json => pretty(&doc),
        Format::Terraform => terraform(document, &doc),
        Format::CloudFormation => match document {
            Document::Member => pretty(&member_template(services)),
            Document::Scanner => pretty(&scanner_template(services)),
            Document::MemberTrust => return Err(GenerateError::NoTemplate(document)),
        },
    })
}

fn pretty<T: Serialize>(value: &T) -> String {
    // Serialising these plain structs and JSON values cannot fail.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

fn hcl_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    if quoted.len() == 1 {
        format!("[{}]", quoted[0])
    } else {
        let mut s = String::from("[\n");
        for q in quoted {
            let _ = writeln!(s, "      {q},");
        }
        s.push_str("    ]");
        s
    }
}

fn terraform(document: Document, doc: &PolicyDocument) -> String {
    let name = match document {
        Document::Member => "posture_read_only",
        Document::Scanner => "posture_scanner",
        Document::MemberTrust => "posture_member_trust",
    };
    let mut s = format!(
        "# Generated by `posture iam-policy --format terraform`; do not edit.\n\
         data \"aws_iam_policy_document\" \"{name}\" {{\n"
    );
    for st in &doc.statement {
        let _ = writeln!(s, "  statement {{");
        let _ = writeln!(s, "    sid     = {:?}", st.sid);
        let _ = writeln!(s, "    effect  = {:?}", st.effect);
        let _ = writeln!(s, "    actions = {}", hcl_list(&st.action));
        if !st.resource.is_empty() {
            let _ = writeln!(s, "    resources = {}", hcl_list(&st.resource));
        }
        if let Some(p) = &st.principal {
            let _ = writeln!(s, "    principals {{");
            let _ = writeln!(s, "      type        = \"AWS\"");
            let _ = writeln!(s, "      identifiers = [{:?}]", p.aws);
            let _ = writeln!(s, "    }}");
        }
        if let Some(c) = &st.condition {
            let _ = writeln!(s, "    condition {{");
            let _ = writeln!(s, "      test     = \"StringEquals\"");
            let _ = writeln!(s, "      variable = {:?}", c.key);
            let _ = writeln!(s, "      values   = [{:?}]", c.value);
            let _ = writeln!(s, "    }}");
        }
        let _ = writeln!(s, "  }}");
    }
    s.push_str("}\n");
    s
}

fn sub(s: &str) -> serde_json::Value {
    serde_json::json!({ "Fn::Sub": s })
}

/// The StackSet template: the read-only role in a member account, trusting only the
/// security account's scanner role with an external id.
fn member_template(services: &[Service]) -> serde_json::Value {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PostureFromTheSecurityAccount",
            "Effect": "Allow",
            "Principal": {
                "AWS": sub("arn:${AWS::Partition}:iam::${SecurityAccountId}:role/${ScannerRoleName}")
            },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "sts:ExternalId": { "Ref": "ExternalId" } } }
        }]
    });
    serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Posture's read-only audit role, for a StackSet over the organization's member accounts. Generated by `posture iam-policy --format cloudformation`; do not edit.",
        "Parameters": {
            "SecurityAccountId": {
                "Type": "String",
                "AllowedPattern": "^[0-9]{12}$",
                "Description": "The account the scanner runs in"
            },
            "ScannerRoleName": {
                "Type": "String",
                "Default": SCANNER_ROLE_NAME,
                "Description": "The scanner role in the security account, the only principal trusted"
            },
            "ExternalId": {
                "Type": "String",
                "MinLength": 16,
                "NoEcho": true,
                "Description": "The external id the scanner presents (accounts.external_id)"
            },
            "RoleName": {
                "Type": "String",
                "Default": MEMBER_ROLE_NAME,
                "Description": "The role's name (accounts.role_name)"
            }
        },
        "Resources": {
            "PostureAuditRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": { "Ref": "RoleName" },
                    "Description": "Posture: read-only HIPAA posture scan",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": trust,
                    "ManagedPolicyArns": [{ "Ref": "PostureReadOnlyPolicy" }]
                }
            },
            "PostureReadOnlyPolicy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "Description": "Posture: exactly the read calls its collectors make",
                    "PolicyDocument": member_policy(services)
                }
            }
        },
        "Outputs": {
            "RoleArn": { "Value": { "Fn::GetAtt": ["PostureAuditRole", "Arn"] } }
        }
    })
}

/// The security account's template: the scanner role (trusting the workload that runs
/// Posture) with the scanner policy and, to scan the security account itself, the
/// read-only policy.
fn scanner_template(services: &[Service]) -> serde_json::Value {
    let mut scanner = serde_json::to_value(scanner_policy(MEMBER_ROLE_NAME)).unwrap_or_default();
    if let Some(statements) = scanner["Statement"].as_array_mut() {
        for st in statements {
            if st["Action"] == "sts:AssumeRole" {
                st["Resource"] = sub("arn:${AWS::Partition}:iam::*:role/${MemberRoleName}");
            }
        }
    }
    serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Posture's scanner role in the security account. Generated by `posture iam-policy --policy scanner --format cloudformation`; do not edit.",
        "Parameters": {
            "RoleName": {
                "Type": "String",
                "Default": SCANNER_ROLE_NAME,
                "Description": "The scanner role's name (the member roles trust it by name)"
            },
            "MemberRoleName": {
                "Type": "String",
                "Default": MEMBER_ROLE_NAME,
                "Description": "The read-only role in every member account (accounts.role_name)"
            },
            "TrustedService": {
                "Type": "String",
                "Default": "ecs-tasks.amazonaws.com",
                "AllowedValues": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"],
                "Description": "Where Posture runs: an ECS task or an EC2 instance (on EKS, attach the two policies of the outputs to an IRSA role)"
            }
        },
        "Resources": {
            "PostureScannerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": { "Ref": "RoleName" },
                    "Description": "Posture: the scanner, which assumes the read-only role in member accounts",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": "PostureRunsHere",
                            "Effect": "Allow",
                            "Principal": { "Service": { "Ref": "TrustedService" } },
                            "Action": "sts:AssumeRole"
                        }]
                    },
                    "ManagedPolicyArns": [
                        { "Ref": "PostureScannerPolicy" },
                        { "Ref": "PostureReadOnlyPolicy" }
                    ]
                }
            },
            "PostureScannerPolicy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "Description": "Posture: assume the member roles, list the organization's accounts",
                    "PolicyDocument": scanner
                }
            },
            "PostureReadOnlyPolicy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "Description": "Posture: exactly the read calls its collectors make (to scan the security account itself)",
                    "PolicyDocument": member_policy(services)
                }
            }
        },
        "Outputs": {
            "RoleArn": { "Value": { "Fn::GetAtt": ["PostureScannerRole", "Arn"] } },
            "ScannerPolicyArn": {
                "Description": "For an EKS (IRSA) role made elsewhere (deploy/terraform/scanner-role)",
                "Value": { "Ref": "PostureScannerPolicy" }
            },
            "ReadOnlyPolicyArn": { "Value": { "Ref": "PostureReadOnlyPolicy" } }
        }
    })
}

/// The files generated from this module, relative to the workspace root, with the
/// arguments of `posture iam-policy` that print each.
pub const GENERATED_FILES: &[(&str, Document, Format)] = &[
    (
        "deploy/iam/posture-read-only-policy.json",
        Document::Member,
        Format::Json,
    ),
    (
        "deploy/iam/security-account-scanner-policy.json",
        Document::Scanner,
        Format::Json,
    ),
    (
        "deploy/iam/member-role-trust-policy.json",
        Document::MemberTrust,
        Format::Json,
    ),
    (
        "deploy/cloudformation/posture-member-role.json",
        Document::Member,
        Format::CloudFormation,
    ),
    (
        "deploy/cloudformation/posture-scanner-role.json",
        Document::Scanner,
        Format::CloudFormation,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> BTreeSet<&'static str> {
        member_actions(&Service::ALL)
    }

    #[test]
    fn the_member_policy_grants_exactly_the_tables_named_reads() {
        let doc = member_policy(&Service::ALL);
        let actions = doc.actions();
        assert_eq!(actions, all());
        assert!(actions.contains("s3:GetEncryptionConfiguration"));
        assert!(
            actions.contains("ec2:DescribeRegions"),
            "the planning's call"
        );
        assert!(
            !actions.contains("s3:GetBucketEncryption"),
            "an operation, not an action"
        );
        for a in &actions {
            let (prefix, name) = a.split_once(':').unwrap();
            assert!(!prefix.is_empty() && !a.contains('*'), "{a}: a wildcard");
            assert!(
                ["Describe", "Get", "List"]
                    .iter()
                    .any(|v| name.starts_with(v))
                    || *a == "iam:GenerateCredentialReport",
                "{a} is not a read"
            );
        }
        assert_eq!(doc.statement.len(), 1);
        assert_eq!(doc.statement[0].resource, ["*"]);
        // Small enough for a customer managed policy (6,144 characters without whitespace).
        let compact = serde_json::to_string(&doc).unwrap();
        assert!(compact.len() < 6144, "{} characters", compact.len());
    }

    #[test]
    fn services_select_their_collectors_and_keep_the_planning() {
        let s3 = member_actions(&[Service::S3]);
        assert!(s3.contains("s3:ListAllMyBuckets"));
        assert!(s3.contains("ec2:DescribeRegions"));
        assert!(!s3.contains("iam:GetAccountAuthorizationDetails"));
        assert!(
            s3.iter()
                .all(|a| a.starts_with("s3:") || *a == "ec2:DescribeRegions")
        );
        let none = member_actions(&[]);
        assert_eq!(none, BTreeSet::from(["ec2:DescribeRegions"]));
    }

    #[test]
    fn the_scanner_policy_assumes_only_the_member_role_and_lists_accounts() {
        let doc = scanner_policy("Audit");
        assert_eq!(doc.actions(), scanner_actions());
        assert_eq!(
            scanner_actions(),
            BTreeSet::from(["organizations:ListAccounts", "sts:AssumeRole"])
        );
        let assume = doc
            .statement
            .iter()
            .find(|s| s.action == ["sts:AssumeRole"])
            .unwrap();
        assert_eq!(assume.resource, ["arn:aws:iam::*:role/Audit"]);
    }

    #[test]
    fn the_trust_policy_names_one_principal_and_the_external_id() {
        let doc = member_trust_policy("arn:aws:iam::111122223333:role/s", "x");
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            json["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::111122223333:role/s"
        );
        assert_eq!(
            json["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
            "x"
        );
        assert_eq!(json["Statement"][0]["Action"], "sts:AssumeRole");
        assert!(json["Statement"][0].get("Resource").is_none());
    }

    #[test]
    fn every_allow_listed_action_is_in_a_policy_and_says_why() {
        let granted: BTreeSet<&str> = all().into_iter().chain(scanner_actions()).collect();
        let mut seen = BTreeSet::new();
        for u in NOT_EXERCISED_ON_MOTO {
            assert!(
                granted.contains(u.action),
                "{} is granted by no policy",
                u.action
            );
            assert!(u.reason.len() > 20, "{}: say why", u.action);
            assert!(seen.insert(u.action), "{} twice", u.action);
        }
    }

    #[test]
    fn the_templates_embed_the_generated_policies() {
        let t: serde_json::Value = serde_json::from_str(
            &generate(Document::Member, &Service::ALL, Format::CloudFormation).unwrap(),
        )
        .unwrap();
        let policy = &t["Resources"]["PostureReadOnlyPolicy"]["Properties"]["PolicyDocument"];
        assert_eq!(
            *policy,
            serde_json::to_value(member_policy(&Service::ALL)).unwrap()
        );
        let trust = &t["Resources"]["PostureAuditRole"]["Properties"]["AssumeRolePolicyDocument"];
        assert_eq!(trust["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(
            trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"]["Ref"],
            "ExternalId"
        );
        let s: serde_json::Value = serde_json::from_str(
            &generate(Document::Scanner, &[Service::S3], Format::CloudFormation).unwrap(),
        )
        .unwrap();
        let reads = &s["Resources"]["PostureReadOnlyPolicy"]["Properties"]["PolicyDocument"];
        assert_eq!(
            *reads,
            serde_json::to_value(member_policy(&[Service::S3])).unwrap()
        );
        assert_eq!(
            generate(Document::MemberTrust, &Service::ALL, Format::CloudFormation),
            Err(GenerateError::NoTemplate(Document::MemberTrust))
        );
    }

    #[test]
    fn terraform_lists_every_action_once() {
        let tf = generate(Document::Member, &Service::ALL, Format::Terraform).unwrap();
        assert!(tf.contains("data \"aws_iam_policy_document\" \"posture_read_only\" {"));
        for a in all() {
            assert_eq!(tf.matches(&format!("\"{a}\",")).count(), 1, "{a}");
        }
        assert!(tf.contains("resources = [\"*\"]"));
        let trust = generate(Document::MemberTrust, &Service::ALL, Format::Terraform).unwrap();
        assert!(trust.contains("variable = \"sts:ExternalId\""), "{trust}");
        assert!(trust.contains("type        = \"AWS\""), "{trust}");
    }

    /// The committed files are this module's output. Set POSTURE_REGENERATE_DEPLOY=1 to
    /// write them instead.
    #[test]
    fn the_deploy_files_are_generated() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let regenerate = std::env::var_os("POSTURE_REGENERATE_DEPLOY").is_some();
        let mut stale = Vec::new();
        for (path, document, format) in GENERATED_FILES {
            let want = generate(*document, &Service::ALL, *format).unwrap();
            let file = root.join(path);
            if regenerate {
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, &want).unwrap();
            } else if std::fs::read_to_string(&file).ok().as_deref() != Some(want.as_str()) {
                stale.push(*path);
            }
        }
        assert!(
            stale.is_empty(),
            "{stale:?} differ from `posture iam-policy`'s output; regenerate with \
             POSTURE_REGENERATE_DEPLOY=1 cargo test -p posture-model --lib iam_policy"
        );
    }
}
