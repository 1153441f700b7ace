//! CloudWatch rules: log groups, metric alarms, and the CIS monitoring set (`alarm_*`), which
//! share one implementation in [`metric_alarm`].

use crate::Rule;

mod alarm_cloudtrail_config_changes;
mod alarm_console_auth_failures;
mod alarm_console_login_without_mfa;
mod alarm_iam_policy_changes;
mod alarm_kms_cmk_disable_delete;
mod alarm_nacl_changes;
mod alarm_network_gateway_changes;
mod alarm_root_usage;
mod alarm_route_table_changes;
mod alarm_s3_bucket_policy_changes;
mod alarm_security_group_changes;
mod alarm_unauthorized_api_calls;
mod alarm_vpc_changes;
mod cloudwatch_alarm_has_actions;
mod log_group_kms_encrypted;
mod log_group_retention_min;
pub(crate) mod metric_alarm;
pub(crate) mod pattern;

/// The CloudWatch rules.
pub const RULES: &[&dyn Rule] = &[
    &alarm_cloudtrail_config_changes::AlarmCloudtrailConfigChanges,
    &alarm_console_auth_failures::AlarmConsoleAuthFailures,
    &alarm_console_login_without_mfa::AlarmConsoleLoginWithoutMfa,
    &alarm_iam_policy_changes::AlarmIamPolicyChanges,
    &alarm_kms_cmk_disable_delete::AlarmKmsCmkDisableDelete,
    &alarm_nacl_changes::AlarmNaclChanges,
    &alarm_network_gateway_changes::AlarmNetworkGatewayChanges,
    &alarm_root_usage::AlarmRootUsage,
    &alarm_route_table_changes::AlarmRouteTableChanges,
    &alarm_s3_bucket_policy_changes::AlarmS3BucketPolicyChanges,
    &alarm_security_group_changes::AlarmSecurityGroupChanges,
    &alarm_unauthorized_api_calls::AlarmUnauthorizedApiCalls,
    &alarm_vpc_changes::AlarmVpcChanges,
    &cloudwatch_alarm_has_actions::CloudwatchAlarmHasActions,
    &log_group_kms_encrypted::LogGroupKmsEncrypted,
    &log_group_retention_min::LogGroupRetentionMin,
];

/// Fixtures shared by the CloudWatch rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::LogGroup;
    use posture_model::{Coverage, Finding, Observed, Resource, ResourceBody};

    use crate::testing::{list_gap, now, region, resource};
    use crate::{Baseline, Rule};

    /// A log group in the fixture region with no metric filters.
    pub(crate) fn group_resource(
        name: &str,
        kms: Option<&str>,
        retention: Option<i32>,
    ) -> Resource {
        resource(
            &format!("arn:aws:logs:us-east-1:111122223333:log-group:{name}"),
            region(),
            ResourceBody::LogGroup(LogGroup {
                name: name.into(),
                kms_key_id: kms.map(str::to_owned),
                retention_in_days: retention,
                creation_time: None,
                metric_filters: Observed::Collected(vec![]),
            }),
        )
    }

    /// Evaluates `rule` alone over `resources` with a failed `operation` in the fixture
    /// region; returns the finding about `arn`.
    pub(crate) fn finding_with_list_gap(
        rule: &dyn Rule,
        resources: &[Resource],
        operation: &str,
        arn: &str,
    ) -> Finding {
        let toml = format!(
            "name = \"t\"\nversion = \"1\"\n[[citations]]\nid = \"t\"\ntitle = \"t\"\nrules = [\"{}\"]\n",
            rule.meta().id
        );
        let baseline = Baseline::from_toml("test.toml", &toml).expect("valid baseline");
        let coverage = Coverage {
            failed: vec![list_gap(operation, region())],
            ..Default::default()
        };
        crate::testing::evaluate(resources, &coverage, &baseline, now())
            .into_iter()
            .find(|f| f.resource.arn.as_str() == arn)
            .expect("a finding about the subject")
    }
}

#[cfg(test)]
mod tests {
    use super::metric_alarm::AlarmSpec;
    use super::pattern::clause;

    fn specs() -> Vec<&'static AlarmSpec> {
        vec![
            &super::alarm_cloudtrail_config_changes::SPEC,
            &super::alarm_console_auth_failures::SPEC,
            &super::alarm_console_login_without_mfa::SPEC,
            &super::alarm_iam_policy_changes::SPEC,
            &super::alarm_kms_cmk_disable_delete::SPEC,
            &super::alarm_nacl_changes::SPEC,
            &super::alarm_network_gateway_changes::SPEC,
            &super::alarm_root_usage::SPEC,
            &super::alarm_route_table_changes::SPEC,
            &super::alarm_s3_bucket_policy_changes::SPEC,
            &super::alarm_security_group_changes::SPEC,
            &super::alarm_unauthorized_api_calls::SPEC,
            &super::alarm_vpc_changes::SPEC,
        ]
    }

    #[test]
    fn every_required_clause_parses() {
        for spec in specs() {
            let r = &spec.requirement;
            for c in r.required.iter().chain(r.any_of).chain(r.optional) {
                assert!(clause(c).is_ok(), "{}: {c} does not parse", spec.what);
            }
            assert!(
                !r.required.is_empty() || !r.any_of.is_empty(),
                "{}",
                spec.what
            );
        }
    }
}
