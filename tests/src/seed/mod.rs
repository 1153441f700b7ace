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

mod cloudtrail;
mod ec2;
mod iam;
mod kms;
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
        "fail only: one subject per account; the only multi-region trail is not logging",
    ),
    (
        "s3_bucket_versioning",
        "error only: moto 5.2.5 answers GetBucketVersioning with the XML root \
         GetBucketVersioningResponse instead of VersioningConfiguration, which the SDK for Rust \
         rejects; the scan must record a gap per bucket and report error, never pass",
    ),
    (
        "s3_bucket_mfa_delete",
        "error only: it reads GetBucketVersioning, which moto 5.2.5 answers unreadably (see \
         s3_bucket_versioning); even when readable, MFA Delete can only be enabled by root \
         with its MFA device, which moto cannot represent, so every bucket would fail",
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
        "pass only: one subject per account; phi-trail-east records S3 object-level read \
         data events for all buckets (the fail state is covered by the rule's unit tests)",
    ),
    (
        "cloudtrail_s3_data_events_write",
        "fail only: one subject per account; the only S3 data-event selector is ReadOnly \
         (the pass state is covered by the rule's unit tests)",
    ),
    (
        "ebs_snapshot_block_public_access",
        "error only: moto does not implement GetSnapshotBlockPublicAccessState (HTTP 500), \
         which the scan must record as a gap and report as error, never as pass",
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
    cloudtrail::seed(&mut s, &keys, &buckets)
        .await
        .context("seeding CloudTrail")?;
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
