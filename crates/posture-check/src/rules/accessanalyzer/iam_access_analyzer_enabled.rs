//! `iam_access_analyzer_enabled`: an active IAM Access Analyzer external-access analyzer
//! (account or organization zone of trust) exists in every scanned region.
//!
//! An active ORGANIZATION analyzer of another scanned account in the same region (the
//! management or delegated administrator account) covers member accounts, which do not list
//! it themselves.

use posture_model::resources::AccessAnalyzer;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamAccessAnalyzerEnabled;

static META: RuleMeta = RuleMeta {
    id: "iam_access_analyzer_enabled",
    title: "IAM Access Analyzer analyzes external access in the region",
    severity: Severity::Medium,
    subject: ResourceKind::Region,
    rationale: "Access Analyzer continuously finds buckets, keys, roles, snapshots and secrets \
                shared outside the account or organization; without it, unintended access to \
                ePHI resources is found only by periodic review (164.308(a)(1)(ii)(D), \
                164.308(a)(4)(i), 164.312(a)(1)).",
    remediation: "Create an analyzer in the region (IAM console > Access analyzer > Create \
                  analyzer, or CreateAnalyzer with type ACCOUNT, or ORGANIZATION from the \
                  delegated administrator) and review its active findings.",
    api_calls: &["access-analyzer:ListAnalyzers"],
    params: &[],
};

/// Analyzer types that look for external access (the unused-access types do not).
const EXTERNAL_ACCESS: &[&str] = &["ACCOUNT", "ORGANIZATION"];

/// An active ORGANIZATION analyzer in `region` of another scanned account: it lives only in
/// the management or delegated administrator account, and member accounts do not list it.
fn organization_analyzer<'a>(
    ctx: &Ctx<'a>,
    subject: &Resource,
    region: &posture_model::Region,
) -> Option<(&'a str, &'a AccessAnalyzer)> {
    ctx.index
        .everywhere(ResourceKind::AccessAnalyzer)
        .iter()
        .filter(|r| &r.region == region && r.account != subject.account)
        .find_map(|r| match &r.body {
            ResourceBody::AccessAnalyzer(a)
                if a.analyzer_type == "ORGANIZATION" && a.status == "ACTIVE" =>
            {
                Some((r.account.as_str(), a))
            }
            _ => None,
        })
}

impl Rule for IamAccessAnalyzerEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Region(info) = &subject.body else {
            return Outcome::not_applicable("not a region");
        };
        let region = info.name.as_str();
        let analyzers: Vec<&AccessAnalyzer> = ctx
            .resources(ResourceKind::AccessAnalyzer, &subject.account, &info.name)
            .filter_map(|r| match &r.body {
                ResourceBody::AccessAnalyzer(a) => Some(a),
                _ => None,
            })
            .collect();
        let listed: Vec<String> = analyzers
            .iter()
            .map(|a| format!("{} ({}, {})", a.name, a.analyzer_type, a.status))
            .collect();
        match analyzers
            .iter()
            .find(|a| EXTERNAL_ACCESS.contains(&a.analyzer_type.as_str()) && a.status == "ACTIVE")
        {
            Some(a) => Outcome::pass(format!(
                "analyzer {} ({}) is active in {region}",
                a.name, a.analyzer_type
            ))
            .with("region", region)
            .with("analyzers", listed),
            None if let Some((account, a)) = organization_analyzer(ctx, subject, &info.name) => {
                Outcome::pass(format!(
                    "organization analyzer {} of account {account} is active in {region} and \
                     covers the organization's accounts",
                    a.name
                ))
                .with("region", region)
                .with("organization_analyzer_account", account)
                .with("analyzers", listed)
            }
            None => Outcome::fail(if analyzers.is_empty() {
                format!("no IAM Access Analyzer analyzer exists in {region}")
            } else {
                format!("no active external-access analyzer in {region}")
            })
            .with("region", region)
            .with("analyzers", listed),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::RegionInfo;
    use posture_model::{Region, Status};

    use super::*;
    use crate::testing::*;

    fn analyzer(kind: &str, status: &str) -> Resource {
        resource(
            "arn:aws:access-analyzer:us-east-1:111122223333:analyzer/main",
            region(),
            ResourceBody::AccessAnalyzer(AccessAnalyzer {
                name: "main".into(),
                analyzer_type: kind.into(),
                status: status.into(),
            }),
        )
    }

    fn region_subject() -> Resource {
        let r = Region::new("us-east-1").expect("valid");
        resource(
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
            r.clone(),
            ResourceBody::Region(RegionInfo { name: r }),
        )
    }

    #[test]
    fn pass_with_an_active_account_or_organization_analyzer() {
        for kind in ["ACCOUNT", "ORGANIZATION"] {
            let o = expect(
                run(
                    &IamAccessAnalyzerEnabled,
                    &region_subject(),
                    &[analyzer(kind, "ACTIVE")],
                ),
                Status::Pass,
            );
            assert_eq!(o.evidence["analyzers"][0], format!("main ({kind}, ACTIVE)"));
        }
    }

    #[test]
    fn fail_without_an_active_external_access_analyzer() {
        let o = expect(
            run(&IamAccessAnalyzerEnabled, &region_subject(), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no IAM Access Analyzer"), "{}", o.reason);
        expect(
            run(
                &IamAccessAnalyzerEnabled,
                &region_subject(),
                &[analyzer("ACCOUNT", "DISABLED")],
            ),
            Status::Fail,
        );
        expect(
            run(
                &IamAccessAnalyzerEnabled,
                &region_subject(),
                &[analyzer("ACCOUNT_UNUSED_ACCESS", "ACTIVE")],
            ),
            Status::Fail,
        );
    }

    #[test]
    fn pass_in_a_member_account_covered_by_the_organization_analyzer() {
        let mut admin = analyzer("ORGANIZATION", "ACTIVE");
        admin.account = posture_model::AccountId::new("999988887777").expect("valid");
        let o = expect(
            run(&IamAccessAnalyzerEnabled, &region_subject(), &[admin]),
            Status::Pass,
        );
        assert_eq!(o.evidence["organization_analyzer_account"], "999988887777");
        // Another account's ACCOUNT analyzer covers only that account.
        let mut other = analyzer("ACCOUNT", "ACTIVE");
        other.account = posture_model::AccountId::new("999988887777").expect("valid");
        expect(
            run(&IamAccessAnalyzerEnabled, &region_subject(), &[other]),
            Status::Fail,
        );
    }

    #[test]
    fn error_when_analyzers_could_not_be_listed() {
        let coverage = posture_model::Coverage {
            failed: vec![list_gap("access-analyzer:ListAnalyzers", region())],
            ..Default::default()
        };
        let findings = evaluate(
            &[region_subject()],
            &coverage,
            &baseline_of(&IamAccessAnalyzerEnabled),
            now(),
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].status, Status::Error, "{findings:?}");
        assert!(
            findings[0]
                .reason
                .contains("access-analyzer:ListAnalyzers failed in 111122223333/us-east-1"),
            "{}",
            findings[0].reason
        );
        assert_eq!(
            findings[0].evidence["gap"]["operation"],
            "access-analyzer:ListAnalyzers"
        );
    }
}
