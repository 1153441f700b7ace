//! `vpc_flow_logs_enabled`: every VPC has a flow log.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct VpcFlowLogsEnabled;

/// The list call whose failure hides every flow log in a region.
const DESCRIBE_FLOW_LOGS: &str = "ec2:DescribeFlowLogs";

static META: RuleMeta = RuleMeta {
    id: "vpc_flow_logs_enabled",
    title: "VPC has flow logging enabled",
    severity: Severity::Medium,
    subject: ResourceKind::Vpc,
    rationale: "Flow logs are the record of which hosts talked to the systems holding ePHI; without \
                them network activity cannot be reviewed or an incident's reach established \
                (164.308(a)(1)(ii)(D), 164.312(b)).",
    remediation: "Create a flow log for the VPC (CreateFlowLogs --resource-type VPC --traffic-type \
                  ALL) delivering to CloudWatch Logs or S3 with a retention that meets the audit \
                  policy.",
    api_calls: &["ec2:DescribeVpcs", DESCRIBE_FLOW_LOGS],
    params: &[],
};

impl Rule for VpcFlowLogsEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Vpc(vpc) = &subject.body else {
            return Outcome::not_applicable("not a VPC");
        };
        // Flow logs that could not be listed must not read as "no flow logs".
        if let Some(gap) = ctx
            .index
            .list_gaps_in(&subject.account)
            .iter()
            .find(|g| g.operation == DESCRIBE_FLOW_LOGS && g.region == subject.region)
        {
            return Outcome::error(format!(
                "flow logs in {}/{} could not be listed ({DESCRIBE_FLOW_LOGS}: {}), so whether {} \
                 has one is unknown",
                subject.account, subject.region, gap.message, vpc.vpc_id
            ))
            .with("vpc_id", &vpc.vpc_id)
            .with("gap", gap);
        }
        let flow_logs: Vec<Value> = ctx
            .resources(ResourceKind::FlowLog, &subject.account, &subject.region)
            .filter_map(|r| match &r.body {
                ResourceBody::FlowLog(fl) if fl.resource_id == vpc.vpc_id => Some(json!({
                    "flow_log_id": fl.flow_log_id,
                    "traffic_type": fl.traffic_type,
                    "flow_log_status": fl.flow_log_status,
                })),
                _ => None,
            })
            .collect();
        if flow_logs.is_empty() {
            Outcome::fail(format!("VPC {} has no flow log", vpc.vpc_id))
                .with("vpc_id", &vpc.vpc_id)
                .with("flow_logs", flow_logs)
        } else {
            let ids: Vec<&str> = flow_logs
                .iter()
                .filter_map(|f| f["flow_log_id"].as_str())
                .collect();
            Outcome::pass(format!(
                "VPC {} has flow log(s) {}",
                vpc.vpc_id,
                ids.join(", ")
            ))
            .with("vpc_id", &vpc.vpc_id)
            .with("flow_logs", flow_logs)
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Region, Status};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

    #[test]
    fn pass_with_flow_log_on_the_vpc() {
        let o = expect(
            run(
                &VpcFlowLogsEnabled,
                &vpc_resource(),
                &[flow_log_resource("vpc-1")],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["flow_logs"],
            serde_json::json!([{
                "flow_log_id": "fl-1",
                "traffic_type": "ALL",
                "flow_log_status": "ACTIVE",
            }])
        );
    }

    #[test]
    fn fail_without_flow_log() {
        let o = expect(run(&VpcFlowLogsEnabled, &vpc_resource(), &[]), Status::Fail);
        assert_eq!(o.evidence["vpc_id"], serde_json::json!("vpc-1"));
        assert_eq!(o.evidence["flow_logs"], serde_json::json!([]));
    }

    #[test]
    fn fail_when_flow_log_watches_something_else() {
        let o = expect(
            run(
                &VpcFlowLogsEnabled,
                &vpc_resource(),
                &[flow_log_resource("subnet-1"), flow_log_resource("vpc-2")],
            ),
            Status::Fail,
        );
        assert_evidence(&o, "vpc_id", json!("vpc-1"));
        assert_evidence(&o, "flow_logs", json!([]));
        assert!(!o.evidence.contains_key("gap"), "{o:?}");
    }

    #[test]
    fn flow_log_in_another_region_does_not_count() {
        let mut elsewhere = flow_log_resource("vpc-1");
        elsewhere.region = Region::new("us-west-2").expect("valid");
        let o = expect(
            run(&VpcFlowLogsEnabled, &vpc_resource(), &[elsewhere]),
            Status::Fail,
        );
        assert_evidence(&o, "vpc_id", json!("vpc-1"));
        assert_evidence(&o, "flow_logs", json!([]));
        assert!(!o.evidence.contains_key("gap"), "{o:?}");
    }

    #[test]
    fn error_when_flow_logs_could_not_be_listed() {
        let o = expect(
            run_with_coverage(
                &VpcFlowLogsEnabled,
                &vpc_resource(),
                &[],
                &gap_coverage("ec2:DescribeFlowLogs"),
            ),
            Status::Error,
        );
        assert!(o.reason.contains("ec2:DescribeFlowLogs"), "{}", o.reason);
        assert!(o.evidence.contains_key("gap"));
    }

    #[test]
    fn gap_in_another_region_does_not_block() {
        let coverage = posture_model::Coverage {
            failed: vec![list_gap(
                "ec2:DescribeFlowLogs",
                Region::new("eu-west-1").expect("valid"),
            )],
            ..Default::default()
        };
        let o = expect(
            run_with_coverage(&VpcFlowLogsEnabled, &vpc_resource(), &[], &coverage),
            Status::Fail,
        );
        assert_evidence(&o, "vpc_id", json!("vpc-1"));
        assert_evidence(&o, "flow_logs", json!([]));
        assert!(!o.evidence.contains_key("gap"), "{o:?}");
    }

    /// Through the evaluator: a failed `ec2:DescribeFlowLogs` in the VPC's region turns
    /// the result into `Error`, never `Fail`.
    #[test]
    fn evaluate_reports_error_when_flow_logs_could_not_be_listed() {
        let baseline = crate::Baseline::from_toml(
            "t.toml",
            "name=\"t\"\nversion=\"1\"\n[[citations]]\nid=\"x\"\ntitle=\"t\"\nrules=[\"vpc_flow_logs_enabled\"]\n",
        )
        .expect("valid baseline");
        let coverage = posture_model::Coverage {
            failed: vec![list_gap("ec2:DescribeFlowLogs", region())],
            ..Default::default()
        };
        let vpc = vpc_resource();
        let findings =
            crate::testing::evaluate(std::slice::from_ref(&vpc), &coverage, &baseline, now());
        let f = findings
            .iter()
            .find(|f| f.resource.arn == vpc.arn)
            .expect("a finding about the VPC");
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeFlowLogs"), "{}", f.reason);
        assert!(
            findings.iter().all(|f| f.status != Status::Fail),
            "{findings:?}"
        );
    }
}
