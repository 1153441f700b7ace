//! Seeding a mixed two-region account through the AWS SDK for Rust.
//!
//! [`seed_mixed_account`] creates, in `us-east-1` and `us-west-2`, a resource that passes
//! and one that fails for every rule of the HIPAA baseline wherever moto can represent both,
//! named so the intent is obvious (`phi-good-…`, `phi-bad-…`), and returns the exact
//! (rule, ARN, status) findings a correct scan must produce — including those for the
//! resources moto creates by itself (default VPCs, subnets, security groups, NACLs, root
//! volumes, automated RDS snapshots).
//!
//! Account-level rules have one subject per account, so one scan shows one state; the
//! seed puts each in a known state and [`ONE_STATE_RULES`] lists them, with the rules moto
//! cannot put in one of the states, and why. Their other state is covered by the rules'
//! unit tests in `posture-check`.

mod acm;
mod backup;
mod cloudtrail;
mod cloudwatch;
mod detect;
mod ec2;
mod efs;
mod elb;
mod iam;
mod kms;
mod provenance;
mod rds;
mod s3;

use std::fmt;

use anyhow::Context;
use aws_config::{Region, SdkConfig};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::{Expectations, Status};

/// The primary region (home of global services and of most "good" resources).
pub const PRIMARY: &str = "us-east-1";
/// The second region.
pub const SECONDARY: &str = "us-west-2";
/// Both seeded regions, in scan order.
pub const REGIONS: [&str; 2] = [PRIMARY, SECONDARY];

/// Baseline rules for which one scan of the seeded account shows only one of pass/fail,
/// with the reason. Everything else in the baseline gets at least one pass and one fail.
pub const ONE_STATE_RULES: &[(&str, &str)] = &[
    (
        "ebs_volume_iac_provenance",
        "not applicable only: no seeded volume is tagged as holding PHI (the seeds' \
         data-class tag is outside the default PHI scope); the provenance decision is the one \
         s3_bucket_iac_provenance is seeded to pass and fail with, and each kind's unit tests \
         cover both",
    ),
    (
        "rds_instance_iac_provenance",
        "not applicable only: no seeded DB instance is tagged as holding PHI (see \
         ebs_volume_iac_provenance)",
    ),
    (
        "rds_cluster_iac_provenance",
        "not applicable only: no seeded DB cluster is tagged as holding PHI (see \
         ebs_volume_iac_provenance)",
    ),
    (
        "efs_iac_provenance",
        "fail (and not applicable) only: the PHI file system is made by hand; a file system \
         with a stack tag is covered by the unit tests (see ebs_volume_iac_provenance)",
    ),
    (
        "iam_root_mfa",
        "fail only: account-level, and moto always reports AccountMFAEnabled = 0 (root MFA \
         cannot be enabled through the API)",
    ),
    (
        "iam_root_no_access_keys",
        "pass only: account-level, and moto always reports AccountAccessKeysPresent = 0 \
         (root keys cannot be created through the API)",
    ),
    (
        "iam_access_key_rotated_90d",
        "pass (and not applicable) only: moto creates access keys 'now' and cannot backdate \
         them, so no key is ever older than 90 days",
    ),
    (
        "iam_unused_access_keys_disabled",
        "pass (and not applicable) only: moto creates access keys 'now', cannot backdate them \
         and never records a use, so no key has gone unused for 90 days",
    ),
    (
        "iam_unused_console_password_disabled",
        "pass (and not applicable) only: moto creates users 'now' and cannot backdate them or \
         record a console sign-in, so no password has gone unused for 90 days",
    ),
    (
        "iam_password_policy_length_14",
        "fail only: one password policy per account; seeded with minimum length 8",
    ),
    (
        "iam_password_policy_reuse_24",
        "pass only: one password policy per account; seeded with reuse prevention 24",
    ),
    (
        "s3_account_public_access_block_all",
        "fail only: one setting per account; seeded with BlockPublicAcls and \
         BlockPublicPolicy on, IgnorePublicAcls and RestrictPublicBuckets off",
    ),
    (
        "cloudtrail_multi_region_trail",
        "pass only: one subject per account; phi-trail-monitored (seeded by the CloudWatch \
         seed for the alarm rules) is multi-region and logging all management events",
    ),
    (
        "cloudtrail_trail_logging_in_region",
        "pass only: the multi-region logging trail the CloudWatch alarm rules need \
         (phi-trail-monitored) covers both seeded regions; the fail state is covered by the \
         rule's unit tests",
    ),
    (
        "s3_bucket_mfa_delete",
        "fail only: MFA Delete can only be enabled by root with its MFA device, which moto \
         cannot represent, so no bucket has it",
    ),
    (
        "iam_password_policy_complexity",
        "fail only: one password policy per account; seeded requiring symbols and numbers \
         but not uppercase or lowercase",
    ),
    (
        "iam_password_policy_max_age_90",
        "pass only: one password policy per account; seeded with a maximum age of 90 days",
    ),
    (
        "ec2_instance_in_vpc",
        "pass (and not applicable) only: moto launches every instance in a VPC (there is no \
         EC2-Classic to launch into)",
    ),
    (
        "ec2_instance_max_age",
        "pass (and not applicable) only: moto sets LaunchTime to the moment of RunInstances \
         and cannot backdate it, so no instance is older than 180 days",
    ),
    (
        "cloudtrail_s3_data_events_read",
        "fail only: one subject per account; phi-trail-east records S3 object-level read \
         data events for all buckets, but it is single-region (us-east-1) and the seed has \
         buckets in us-west-2, which it does not cover (the pass state is covered by the \
         rule's unit tests)",
    ),
    (
        "cloudtrail_s3_data_events_write",
        "fail only: one subject per account; the only S3 data-event selector is ReadOnly \
         (the pass state is covered by the rule's unit tests)",
    ),
    (
        "cloudtrail_log_bucket_mfa_delete",
        "fail only: MFA Delete on the log buckets can only be enabled by root with its MFA \
         device, which moto cannot represent",
    ),
    (
        "cloudtrail_insights",
        "fail only: one subject per account; the only trail with Insights (phi-trail-east) \
         is single-region, which covers one region, not the account (the pass state is \
         covered by the rule's unit tests)",
    ),
    (
        "cloudtrail_bedrock_data_events",
        "fail only: one subject per account; no trail selects AWS::Bedrock::* data events \
         (the pass state is covered by the rule's unit tests)",
    ),
    (
        "iam_root_hardware_mfa",
        "fail only: account-level, and moto always reports AccountMFAEnabled = 0",
    ),
    (
        "iam_root_not_used",
        "error only: moto's credential report has no <root_account> row, so root's last use \
         is unknown (pass and fail are covered by the rule's unit tests)",
    ),
    (
        "iam_no_privilege_escalation",
        "fail only: one subject per account; phi-role-policy-editor may \
         iam:CreatePolicyVersion on every policy",
    ),
    (
        "iam_no_expired_server_certificates",
        "fail only: moto reports the expiration 2012-05-08 for every server certificate",
    ),
    (
        "ebs_snapshot_block_public_access",
        "error only: moto does not implement GetSnapshotBlockPublicAccessState (HTTP 500), \
         which the scan must record as a gap and report as error, never as pass",
    ),
    (
        "ec2_account_imdsv2_default",
        "error only: moto does not implement GetInstanceMetadataDefaults (HTTP 500), which the \
         scan must record as a gap and report as error, never as pass",
    ),
    (
        "ec2_stopped_instance_age",
        "pass (and not applicable) only: moto stamps StateTransitionReason with the moment of \
         StopInstances and cannot backdate it, so no instance has been stopped for 30 days",
    ),
    (
        "vpn_both_tunnels_up",
        "error only: moto reports no VgwTelemetry for VPN connections (AWS always reports two \
         tunnels), so whether the tunnels are up is unknown",
    ),
    (
        "rds_ca_certificate_valid",
        "error only: moto does not implement DescribeCertificates (HTTP 500), which the scan \
         must record as a gap and report as error for every instance, never as pass",
    ),
    (
        "guardduty_no_unresolved_high_findings",
        "error only: moto 5.2.5 does not implement GuardDuty ListFindings (HTTP 404); the scan \
         must record a gap per detector and report error, never pass",
    ),
    (
        "config_recorder_all_regions",
        "fail and error only: moto 5.2.5 does not implement DescribeDeliveryChannelStatus \
         (HTTP 500), so the region with a recording recorder is an error (delivery unknown) \
         and the region without one a failure",
    ),
    (
        "ebs_volume_in_backup_plan",
        "error (us-east-1) and fail (us-west-2) only: moto 5.2.5 does not implement \
         ListBackupSelections (HTTP 500), so no resource can be shown to be in the us-east-1 \
         plans (error, never pass); us-west-2 has no plan (fail)",
    ),
    (
        "ec2_instance_in_backup_plan",
        "error (us-east-1), fail (us-west-2) and not applicable (terminated) only: moto \
         5.2.5 does not implement ListBackupSelections (see ebs_volume_in_backup_plan)",
    ),
    (
        "rds_instance_in_backup_plan",
        "error (us-east-1), fail (us-west-2) and not applicable (cluster members) only: \
         moto 5.2.5 does not implement ListBackupSelections (see ebs_volume_in_backup_plan)",
    ),
    (
        "rds_cluster_in_backup_plan",
        "error (us-east-1) and fail (us-west-2) only: moto 5.2.5 does not implement \
         ListBackupSelections (see ebs_volume_in_backup_plan)",
    ),
    (
        "backup_recovery_point_manual_deletion_disabled",
        "pass (a vault with Vault Lock) and error only: moto 5.2.5 does not implement \
         GetBackupVaultAccessPolicy or PutBackupVaultAccessPolicy (HTTP 404), so an unlocked \
         vault's policy can never be read",
    ),
    (
        "backup_recovery_point_encrypted",
        "error only, on the regions: moto 5.2.5 does not implement \
         ListRecoveryPointsByBackupVault (HTTP 404) and cannot create recovery points (no \
         StartBackupJob); the scan must record the gap and report error, never pass",
    ),
    (
        "backup_recovery_point_min_retention",
        "error only, on the regions: moto 5.2.5 does not implement \
         ListRecoveryPointsByBackupVault (see backup_recovery_point_encrypted)",
    ),
    (
        "alarm_cloudtrail_config_changes",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so no alarm can be seeded \
         or read; the complete metric filter seeded for it makes the account an error (never \
         a pass), and the DescribeAlarms gaps make each region an error",
    ),
    (
        "alarm_console_auth_failures",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so no alarm can be seeded \
         or read; the complete metric filter seeded for it makes the account an error (never \
         a pass), and the DescribeAlarms gaps make each region an error",
    ),
    (
        "alarm_iam_policy_changes",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so no alarm can be seeded \
         or read; the complete metric filter seeded for it makes the account an error (never \
         a pass), and the DescribeAlarms gaps make each region an error",
    ),
    (
        "alarm_kms_cmk_disable_delete",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so no alarm can be seeded \
         or read; the complete metric filter seeded for it makes the account an error (never \
         a pass), and the DescribeAlarms gaps make each region an error",
    ),
    (
        "alarm_root_usage",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so no alarm can be seeded \
         or read; the complete metric filter seeded for it makes the account an error (never \
         a pass), and the DescribeAlarms gaps make each region an error",
    ),
    (
        "alarm_security_group_changes",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so no alarm can be seeded \
         or read; the complete metric filter seeded for it makes the account an error (never \
         a pass), and the DescribeAlarms gaps make each region an error",
    ),
    (
        "alarm_unauthorized_api_calls",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so no alarm can be seeded \
         or read; the complete metric filter seeded for it makes the account an error (never \
         a pass), and the DescribeAlarms gaps make each region an error",
    ),
    (
        "alarm_console_login_without_mfa",
        "fail (and error) only: one subject per account; its seeded metric filter is broken \
         (see seed/cloudwatch.rs), which fails whatever the alarms, and no pass can be seeded \
         because moto cannot serve CloudWatch alarms to the SDK for Rust (HTML 404: regions \
         are errors)",
    ),
    (
        "alarm_nacl_changes",
        "fail (and error) only: one subject per account; its seeded metric filter is broken \
         (see seed/cloudwatch.rs), which fails whatever the alarms, and no pass can be seeded \
         because moto cannot serve CloudWatch alarms to the SDK for Rust (HTML 404: regions \
         are errors)",
    ),
    (
        "alarm_network_gateway_changes",
        "fail (and error) only: one subject per account; its seeded metric filter is broken \
         (see seed/cloudwatch.rs), which fails whatever the alarms, and no pass can be seeded \
         because moto cannot serve CloudWatch alarms to the SDK for Rust (HTML 404: regions \
         are errors)",
    ),
    (
        "alarm_route_table_changes",
        "fail (and error) only: one subject per account; its seeded metric filter is broken \
         (see seed/cloudwatch.rs), which fails whatever the alarms, and no pass can be seeded \
         because moto cannot serve CloudWatch alarms to the SDK for Rust (HTML 404: regions \
         are errors)",
    ),
    (
        "alarm_s3_bucket_policy_changes",
        "fail (and error) only: one subject per account; its seeded metric filter is broken \
         (see seed/cloudwatch.rs), which fails whatever the alarms, and no pass can be seeded \
         because moto cannot serve CloudWatch alarms to the SDK for Rust (HTML 404: regions \
         are errors)",
    ),
    (
        "alarm_vpc_changes",
        "fail (and error) only: one subject per account; its seeded metric filter is broken \
         (see seed/cloudwatch.rs), which fails whatever the alarms, and no pass can be seeded \
         because moto cannot serve CloudWatch alarms to the SDK for Rust (HTML 404: regions \
         are errors)",
    ),
    (
        "cloudwatch_alarm_has_actions",
        "error only: moto 5.2.5 serves CloudWatch only over the query protocol and the SDK \
         for Rust's CloudWatch client speaks RPC v2 CBOR (HTML 404), so DescribeAlarms is a \
         gap in each region and no alarm is seen",
    ),
    (
        "securityhub_enabled",
        "fail and error only: moto 5.2.5 does not implement GetEnabledStandards (HTTP 404), so \
         the region where Security Hub is on is an error (standards unknown) and the other a \
         failure",
    ),
    (
        "iam_access_analyzer_enabled",
        "error only: moto 5.2.5 does not implement ListAnalyzers (HTTP 500)",
    ),
    (
        "ec2_instance_ssm_managed",
        "error and not applicable only: moto 5.2.5 does not implement \
         DescribeInstanceInformation (HTTP 500)",
    ),
    (
        "ec2_instance_patch_compliant",
        "error and not applicable only: moto 5.2.5 does not implement \
         ListResourceComplianceSummaries (HTTP 500)",
    ),
    (
        "ec2_instance_association_compliant",
        "error and not applicable only: moto 5.2.5 does not implement \
         ListResourceComplianceSummaries (HTTP 500)",
    ),
    (
        "s3_phi_discovery_macie",
        "error only: moto 5.2.5 answers GetMacieSession with timestamps that lack a UTC \
         offset (the SDK rejects them), reports Macie enabled everywhere, and does not \
         implement GetAutomatedDiscoveryConfiguration or ListClassificationJobs (HTTP 404)",
    ),
    (
        "ec2_nitro_enclave_host_hardening",
        "error (and not applicable for terminated instances) only: moto 5.2.5 ignores \
         EnclaveOptions in RunInstances and reports none, which AWS always reports, so \
         whether an instance hosts an enclave is unknown",
    ),
    (
        "ec2_instance_ebs_optimized",
        "pass (and not applicable) only: every seeded instance is a t3.micro, which is \
         EBS-optimized by default even when its EbsOptimized attribute is false; the fail state \
         (a type that supports optimization without defaulting to it) is covered by unit tests",
    ),
];

/// Seeds the account behind `sdk` (its credentials and endpoint; the region is replaced per
/// call) in [`REGIONS`] and returns what a correct scan must report.
///
/// Meant for a fresh moto: run it once per emulator (names are fixed, so a second run fails
/// on "already exists").
pub async fn seed_mixed_account(sdk: &SdkConfig) -> anyhow::Result<Expectations> {
    let sts = aws_sdk_sts::Client::new(sdk);
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .step("sts GetCallerIdentity")?;
    let account = identity
        .account()
        .context("GetCallerIdentity returned no account")?
        .to_owned();
    let mut s = Seed {
        sdk: sdk.clone(),
        account: account.clone(),
        exp: Expectations {
            account,
            regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
            ..Expectations::default()
        },
    };
    let keys = kms::seed(&mut s).await.context("seeding KMS")?;
    let buckets = s3::seed_buckets(&mut s, &keys)
        .await
        .context("seeding S3 buckets")?;
    iam::seed(&mut s).await.context("seeding IAM")?;
    ec2::seed(&mut s, &keys, &buckets)
        .await
        .context("seeding EC2")?;
    rds::seed(&mut s, &keys).await.context("seeding RDS")?;
    let certs = acm::seed(&mut s).await.context("seeding ACM")?;
    elb::seed(&mut s, &certs, &buckets)
        .await
        .context("seeding load balancers")?;
    cloudtrail::seed(&mut s, &keys, &buckets)
        .await
        .context("seeding CloudTrail")?;
    // After CloudTrail: adds the multi-region trail the alarm rules need and replaces two
    // of CloudTrail's account- and region-level expectations accordingly.
    cloudwatch::seed(&mut s, &keys)
        .await
        .context("seeding CloudWatch")?;
    efs::seed(&mut s, &keys).await.context("seeding EFS")?;
    // After every seed that creates volumes, instances or databases: expects the
    // backup-plan membership rules on each of them as moto then reports them.
    backup::seed(&mut s, &keys)
        .await
        .context("seeding AWS Backup")?;
    // After every seed that creates buckets, volumes, databases or file systems: expects
    // the IaC-provenance rules on each as moto then reports them.
    provenance::seed(&mut s)
        .await
        .context("expecting the IaC-provenance rules")?;
    // After every seed that launches instances: expects the Systems Manager rules on each.
    detect::seed(&mut s, &keys).await.context(
        "seeding GuardDuty, AWS Config, Secrets Manager, Security Hub, Access Analyzer, \
         Auto Scaling and Systems Manager",
    )?;
    // Last: with BlockPublicAcls/BlockPublicPolicy on, AWS would refuse the public ACLs and
    // policies above; set after them, it leaves them in place, as on a real account.
    s3::seed_account_public_access_block(&mut s)
        .await
        .context("seeding the account-level S3 Block Public Access")?;
    Ok(s.exp)
}

/// Seeding state shared by the service modules.
pub(crate) struct Seed {
    sdk: SdkConfig,
    account: String,
    exp: Expectations,
}

impl Seed {
    /// The SDK configuration with `region`.
    fn config(&self, region: &str) -> SdkConfig {
        self.sdk
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build()
    }

    fn expect(&mut self, rule: &str, arn: &str, status: Status, why: impl Into<String>) {
        self.exp.expect(rule, arn, status, why);
    }

    /// Expects a failure of `rule` on `arn` reported at `severity` (asserted as well as the
    /// status).
    fn expect_fail_at(
        &mut self,
        rule: &str,
        arn: &str,
        severity: crate::Severity,
        why: impl Into<String>,
    ) {
        self.exp.expect(rule, arn, Status::Fail, why);
        self.exp.expect_severity(rule, arn, severity);
    }

    /// Replaces an earlier expectation for (`rule`, `arn`), for a seed that changes what an
    /// earlier one set up (the CloudWatch seed's multi-region trail).
    fn reexpect(&mut self, rule: &str, arn: &str, status: Status, why: impl Into<String>) {
        self.exp
            .findings
            .retain(|e| !(e.rule_id == rule && e.arn == arn));
        self.exp.expect(rule, arn, status, why);
    }
}

/// KMS keys the other services encrypt with.
pub(crate) struct Keys {
    /// A rotating, privately-held key in us-east-1.
    pub primary: String,
    /// A rotating, privately-held key in us-west-2.
    pub secondary: String,
}

/// Buckets other services deliver logs to.
pub(crate) struct LogBuckets {
    /// In us-east-1.
    pub primary: String,
    /// In us-west-2.
    pub secondary: String,
}

/// Turns an SDK error into an error that says which step failed and the whole error chain.
pub(crate) trait Step<T> {
    fn step(self, what: impl fmt::Display) -> anyhow::Result<T>;
}

impl<T, E: std::error::Error> Step<T> for Result<T, E> {
    fn step(self, what: impl fmt::Display) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::anyhow!("{what}: {}", DisplayErrorContext(&e)))
    }
}
