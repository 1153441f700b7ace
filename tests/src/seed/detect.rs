//! GuardDuty detectors, AWS Config recorders and Secrets Manager secrets.
//!
//! moto 5.2.5 serves `ListDetectors`, `GetDetector` (with `Features`) and
//! `GetAdministratorAccount`, but not `ListFindings` (HTTP 404): the high-findings rule
//! must be an error with a gap on each detector. It serves the recorder calls but not
//! `DescribeDeliveryChannelStatus` (HTTP 500), so a region with a recording recorder is an
//! error there, and a region without one a failure. `ListSecrets` returns rotation and the
//! key as set. Launch configurations round-trip; Security Hub answers `DescribeHub` (and
//! "not subscribed" where it is off) but not `GetEnabledStandards` (HTTP 404); IAM Access
//! Analyzer's `ListAnalyzers` and Systems Manager's `DescribeInstanceInformation` and
//! `ListResourceComplianceSummaries` are not implemented (HTTP 500), so those rules are
//! errors with gaps: never passes.

use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, FeatureStatus};

use super::{Keys, PRIMARY, SECONDARY, Seed, Step};
use crate::Status::{Error, Fail, NotApplicable, Pass};

const GD_ENABLED: &str = "guardduty_enabled";
const GD_FINDINGS: &str = "guardduty_no_unresolved_high_findings";
const GD_PLANS: &str = "guardduty_data_protection_plans";
const CONFIG: &str = "config_recorder_all_regions";
const ROTATION: &str = "secret_rotation_enabled";
const CMK: &str = "secret_encrypted_with_cmk";

pub(crate) async fn seed(s: &mut Seed, keys: &Keys) -> anyhow::Result<()> {
    guardduty(s).await?;
    config(s).await?;
    secrets(s, keys).await?;
    launch_configurations(s).await?;
    security_hub(s).await?;
    access_analyzer(s);
    macie(s);
    enclave_keys(s).await?;
    ssm(s).await
}

const ENCLAVE_KEY: &str = "kms_enclave_attestation_enforced";

/// Two enclave keys in us-east-1 (one denies decryption without attestation, one only
/// conditions an Allow), and the rule's not-applicable answer on every other key. Runs
/// after every seed that creates keys.
async fn enclave_keys(s: &mut Seed) -> anyhow::Result<()> {
    let kms = aws_sdk_kms::Client::new(&s.config(PRIMARY));
    let image = "4cd3c1a8f6a0b9e2d1c0ffee".repeat(4);
    let mut mine = Vec::new();
    for (name, guard) in [
        ("phi-enclave-key-good-guarded", true),
        ("phi-enclave-key-bad-bypassable", false),
    ] {
        let mut statements = vec![
            serde_json::json!({"Sid": "Admin", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{}:root", s.account)},
                "Action": "kms:*", "Resource": "*"}),
            serde_json::json!({"Sid": "EnclaveDecrypt", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{}:role/enclave-parent", s.account)},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
                "Condition": {"StringEqualsIgnoreCase":
                    {"kms:RecipientAttestation:ImageSha384": image}}}),
        ];
        if guard {
            statements.push(serde_json::json!({"Sid": "DenyWithoutAttestation",
                "Effect": "Deny", "Principal": "*",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DeriveSharedSecret"],
                "Resource": "*",
                "Condition": {"Null": {"kms:RecipientAttestation:ImageSha384": "true"}}}));
        }
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        let out = kms
            .create_key()
            .description(name)
            .policy(policy.to_string())
            .send()
            .await
            .step(format!("kms CreateKey {name}"))?;
        let meta = out
            .key_metadata()
            .ok_or_else(|| anyhow::anyhow!("CreateKey {name} returned no metadata"))?;
        let arn = meta
            .arn()
            .ok_or_else(|| anyhow::anyhow!("CreateKey {name} returned no ARN"))?
            .to_owned();
        kms.enable_key_rotation()
            .key_id(meta.key_id())
            .send()
            .await
            .step(format!("kms EnableKeyRotation {name}"))?;
        s.expect(
            "kms_cmk_rotation",
            &arn,
            Pass,
            format!("{name}: rotation enabled"),
        );
        s.expect(
            "kms_cmk_not_pending_deletion",
            &arn,
            Pass,
            format!("{name}: enabled"),
        );
        s.expect(
            "kms_key_policy_not_public",
            &arn,
            Pass,
            format!("{name}: allows only the account and one role; the \"*\" statement denies"),
        );
        let (status, why) = if guard {
            (Pass, "denies decryption without an attestation document")
        } else {
            (
                Fail,
                "only an Allow is conditioned: the root statement is a bypass",
            )
        };
        s.expect(ENCLAVE_KEY, &arn, status, format!("{name}: {why}"));
        mine.push(arn);
    }
    for region in [PRIMARY, SECONDARY] {
        let kms = aws_sdk_kms::Client::new(&s.config(region));
        let out = kms
            .list_keys()
            .send()
            .await
            .step(format!("kms ListKeys in {region}"))?;
        for key in out.keys() {
            let Some(arn) = key.key_arn() else { continue };
            if !mine.iter().any(|m| m == arn) {
                s.expect(
                    ENCLAVE_KEY,
                    arn,
                    NotApplicable,
                    "no kms:RecipientAttestation condition and no enclave tag",
                );
            }
        }
    }
    Ok(())
}

const MACIE: &str = "s3_phi_discovery_macie";

/// moto answers `GetMacieSession` with timestamps that lack a UTC offset, which the SDK
/// for Rust rejects: no session is seen, the call is a gap, and the region itself is an
/// error for the Macie rule, never a pass.
fn macie(s: &mut Seed) {
    for region in [PRIMARY, SECONDARY] {
        let subject = region_arn(s, region);
        s.expect(
            MACIE,
            &subject,
            Error,
            "moto's GetMacieSession answer has timestamps without a UTC offset, which the SDK \
             rejects: Macie's state is unknown",
        );
        s.exp.expect_gap(
            "macie2:GetMacieSession",
            Some(region),
            None,
            "moto's answer cannot be parsed (timestamps without a UTC offset)",
        );
    }
}

const LAUNCH_CONFIG: &str = "ec2_launch_config_no_public_ip";
const NITRO: &str = "ec2_nitro_enclave_host_hardening";
const SECURITY_HUB: &str = "securityhub_enabled";
const ACCESS_ANALYZER: &str = "iam_access_analyzer_enabled";
const SSM_RULES: [&str; 3] = [
    "ec2_instance_ssm_managed",
    "ec2_instance_patch_compliant",
    "ec2_instance_association_compliant",
];

async fn launch_configurations(s: &mut Seed) -> anyhow::Result<()> {
    let asg = aws_sdk_autoscaling::Client::new(&s.config(PRIMARY));
    for (name, public) in [
        ("phi-lc-good-private", false),
        ("phi-lc-bad-public-ip", true),
    ] {
        asg.create_launch_configuration()
            .launch_configuration_name(name)
            .image_id("ami-12c6146b")
            .instance_type("t3.micro")
            .associate_public_ip_address(public)
            .send()
            .await
            .step(format!("autoscaling CreateLaunchConfiguration {name}"))?;
    }
    let out = asg
        .describe_launch_configurations()
        .send()
        .await
        .step("autoscaling DescribeLaunchConfigurations")?;
    for lc in out.launch_configurations() {
        let (Some(name), Some(arn)) = (
            lc.launch_configuration_name(),
            lc.launch_configuration_arn(),
        ) else {
            anyhow::bail!(
                "DescribeLaunchConfigurations returned a configuration without name or ARN"
            );
        };
        let (status, why) = if name.contains("bad") {
            (Fail, "AssociatePublicIpAddress=true")
        } else {
            (Pass, "AssociatePublicIpAddress=false")
        };
        s.expect(LAUNCH_CONFIG, arn, status, format!("{name}: {why}"));
    }
    Ok(())
}

async fn security_hub(s: &mut Seed) -> anyhow::Result<()> {
    let sh = aws_sdk_securityhub::Client::new(&s.config(PRIMARY));
    sh.enable_security_hub()
        .enable_default_standards(true)
        .send()
        .await
        .step("securityhub EnableSecurityHub")?;
    let hub = format!("arn:aws:securityhub:{PRIMARY}:{}:hub/default", s.account);
    let primary = region_arn(s, PRIMARY);
    s.expect(
        SECURITY_HUB,
        &primary,
        Error,
        "enabled, but moto does not implement GetEnabledStandards (HTTP 404): standards unknown",
    );
    s.exp.expect_gap(
        "securityhub:GetEnabledStandards",
        Some(PRIMARY),
        Some(hub),
        "moto answers HTTP 404 (not implemented)",
    );
    let secondary = region_arn(s, SECONDARY);
    s.expect(
        SECURITY_HUB,
        &secondary,
        Fail,
        "Security Hub never enabled in us-west-2 (DescribeHub: InvalidAccessException)",
    );
    Ok(())
}

fn access_analyzer(s: &mut Seed) {
    for region in [PRIMARY, SECONDARY] {
        let subject = region_arn(s, region);
        s.expect(
            ACCESS_ANALYZER,
            &subject,
            Error,
            "moto does not implement ListAnalyzers (HTTP 500): unknown, never a pass",
        );
        s.exp.expect_gap(
            "access-analyzer:ListAnalyzers",
            Some(region),
            None,
            "moto answers HTTP 500 (not implemented)",
        );
    }
}

/// Every instance the other seeds launched: running ones are errors for the Systems Manager
/// rules (moto cannot say whether they are managed or compliant), others not applicable.
async fn ssm(s: &mut Seed) -> anyhow::Result<()> {
    for region in [PRIMARY, SECONDARY] {
        let ec2 = aws_sdk_ec2::Client::new(&s.config(region));
        let out = ec2
            .describe_instances()
            .send()
            .await
            .step(format!("ec2 DescribeInstances in {region}"))?;
        for instance in out.reservations().iter().flat_map(|r| r.instances()) {
            let Some(id) = instance.instance_id() else {
                continue;
            };
            let arn = format!("arn:aws:ec2:{region}:{}:instance/{id}", s.account);
            let state = instance
                .state()
                .and_then(|st| st.name())
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default();
            // moto neither stores nor reports EnclaveOptions, which AWS always reports:
            // unknown, so an error, except for instances that are gone.
            if matches!(state.as_str(), "terminated" | "shutting-down") {
                s.expect(NITRO, &arn, NotApplicable, format!("{id} is {state}"));
            } else {
                s.expect(
                    NITRO,
                    &arn,
                    Error,
                    format!("{id}: moto reports no EnclaveOptions"),
                );
            }
            for rule in SSM_RULES {
                if state == "running" {
                    s.expect(
                        rule,
                        &arn,
                        Error,
                        format!("{id}: moto does not implement the Systems Manager reads"),
                    );
                } else {
                    s.expect(rule, &arn, NotApplicable, format!("{id} is {state}"));
                }
            }
        }
        let fleet = format!(
            "arn:aws:ssm:{region}:{}:managed-instance-inventory",
            s.account
        );
        for op in [
            "ssm:DescribeInstanceInformation",
            "ssm:ListResourceComplianceSummaries",
        ] {
            s.exp.expect_gap(
                op,
                Some(region),
                Some(fleet.clone()),
                "moto answers HTTP 500 (not implemented)",
            );
        }
    }
    Ok(())
}

fn region_arn(s: &Seed, region: &str) -> String {
    format!("arn:aws:ec2:{region}:{}:region/{region}", s.account)
}

async fn guardduty(s: &mut Seed) -> anyhow::Result<()> {
    // (region, enabled, RDS Protection)
    for (region, enable, rds) in [(PRIMARY, true, true), (SECONDARY, false, false)] {
        let gd = aws_sdk_guardduty::Client::new(&s.config(region));
        let feature = |name: DetectorFeature, on: bool| {
            DetectorFeatureConfiguration::builder()
                .name(name)
                .status(if on {
                    FeatureStatus::Enabled
                } else {
                    FeatureStatus::Disabled
                })
                .build()
        };
        let out = gd
            .create_detector()
            .enable(enable)
            .features(feature(DetectorFeature::S3DataEvents, true))
            .features(feature(DetectorFeature::RdsLoginEvents, rds))
            .send()
            .await
            .step(format!("guardduty CreateDetector in {region}"))?;
        let id = out
            .detector_id()
            .ok_or_else(|| anyhow::anyhow!("CreateDetector returned no id"))?;
        let arn = format!("arn:aws:guardduty:{region}:{}:detector/{id}", s.account);
        let region_subject = region_arn(s, region);
        if enable {
            s.expect(
                GD_ENABLED,
                &region_subject,
                Pass,
                format!("an enabled detector in {region}"),
            );
            s.expect(
                GD_PLANS,
                &arn,
                Pass,
                "S3 Protection and RDS Protection enabled",
            );
        } else {
            s.expect(
                GD_ENABLED,
                &region_subject,
                Fail,
                format!("the detector in {region} is suspended (DISABLED)"),
            );
            s.expect(
                GD_PLANS,
                &arn,
                Fail,
                "the detector is suspended, so no plan is active (and RDS Protection is off)",
            );
        }
        s.expect(
            GD_FINDINGS,
            &arn,
            Error,
            "moto does not implement ListFindings (HTTP 404): unknown, never a pass",
        );
        s.exp.expect_gap(
            "guardduty:ListFindings",
            Some(region),
            Some(arn.clone()),
            "moto answers HTTP 404 (not implemented)",
        );
    }
    Ok(())
}

async fn config(s: &mut Seed) -> anyhow::Result<()> {
    // us-east-1: a recorder of all types, recording; us-west-2: none.
    let cfg = aws_sdk_config::Client::new(&s.config(PRIMARY));
    let recorder = aws_sdk_config::types::ConfigurationRecorder::builder()
        .name("default")
        .role_arn(format!("arn:aws:iam::{}:role/aws-config", s.account))
        .recording_group(
            aws_sdk_config::types::RecordingGroup::builder()
                .all_supported(true)
                .include_global_resource_types(true)
                .build(),
        )
        .build();
    cfg.put_configuration_recorder()
        .configuration_recorder(recorder)
        .send()
        .await
        .step("config PutConfigurationRecorder")?;
    cfg.put_delivery_channel()
        .delivery_channel(
            aws_sdk_config::types::DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name("posture-config-history")
                .build(),
        )
        .send()
        .await
        .step("config PutDeliveryChannel")?;
    cfg.start_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .step("config StartConfigurationRecorder")?;
    let primary = region_arn(s, PRIMARY);
    s.expect(
        CONFIG,
        &primary,
        Error,
        "recorder 'default' records all types, but moto does not implement \
         DescribeDeliveryChannelStatus (HTTP 500): delivery unknown, never a pass",
    );
    s.exp.expect_gap(
        "config:DescribeDeliveryChannelStatus",
        Some(PRIMARY),
        None,
        "moto answers HTTP 500 (not implemented)",
    );
    let secondary = region_arn(s, SECONDARY);
    s.expect(
        CONFIG,
        &secondary,
        Fail,
        "no configuration recorder in us-west-2",
    );
    Ok(())
}

async fn secrets(s: &mut Seed, keys: &Keys) -> anyhow::Result<()> {
    let sm = aws_sdk_secretsmanager::Client::new(&s.config(PRIMARY));
    // A rotating secret under the customer-managed key.
    let good = sm
        .create_secret()
        .name("phi-db-rotated-cmk")
        .secret_string("not-a-real-password")
        .kms_key_id(&keys.primary)
        .send()
        .await
        .step("secretsmanager CreateSecret phi-db-rotated-cmk")?;
    let good_arn = good
        .arn()
        .ok_or_else(|| anyhow::anyhow!("CreateSecret returned no ARN"))?
        .to_owned();
    sm.rotate_secret()
        .secret_id(&good_arn)
        .rotation_rules(
            aws_sdk_secretsmanager::types::RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .rotate_immediately(true)
        .send()
        .await
        .step("secretsmanager RotateSecret phi-db-rotated-cmk")?;
    s.expect(
        ROTATION,
        &good_arn,
        Pass,
        "rotates every 30 days, rotated at seeding",
    );
    s.expect(
        CMK,
        &good_arn,
        Pass,
        "encrypted with the customer-managed key alias/phi-key-good",
    );

    // Never rotated, default key.
    let bad = sm
        .create_secret()
        .name("phi-api-key-static-default-key")
        .secret_string("not-a-real-key")
        .send()
        .await
        .step("secretsmanager CreateSecret phi-api-key-static-default-key")?;
    let bad_arn = bad
        .arn()
        .ok_or_else(|| anyhow::anyhow!("CreateSecret returned no ARN"))?
        .to_owned();
    s.expect(ROTATION, &bad_arn, Fail, "rotation never configured");
    s.expect(
        CMK,
        &bad_arn,
        Fail,
        "no KmsKeyId: the AWS-managed aws/secretsmanager key",
    );
    Ok(())
}
