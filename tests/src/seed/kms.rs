//! KMS keys: rotation, scheduled deletion and key policies.
//!
//! moto's `ListKeys` starts empty in each region (the `alias/aws/*` aliases point at keys it
//! does not list), so every key in the scan is one of these. Volumes are encrypted with an
//! explicit key below: without one, moto invents a *customer-managed* "default EBS key"
//! (AWS uses the AWS-managed `aws/ebs`), which would add an unplanned key to the scan.

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use serde_json::json;

use super::{Keys, PRIMARY, SECONDARY, Seed, Step};
use crate::Status::{Fail, NotApplicable, Pass};

const ROTATION: &str = "kms_cmk_rotation";
const DELETION: &str = "kms_cmk_not_pending_deletion";
const POLICY: &str = "kms_key_policy_not_public";

struct KeySpecSeed {
    region: &'static str,
    alias: &'static str,
    rotate: bool,
    public_policy: bool,
    schedule_deletion: bool,
    asymmetric: bool,
}

pub(crate) async fn seed(s: &mut Seed) -> anyhow::Result<Keys> {
    let specs = [
        KeySpecSeed {
            region: PRIMARY,
            alias: "alias/phi-key-good",
            rotate: true,
            public_policy: false,
            schedule_deletion: false,
            asymmetric: false,
        },
        KeySpecSeed {
            region: PRIMARY,
            alias: "alias/phi-key-bad-public-no-rotation",
            rotate: false,
            public_policy: true,
            schedule_deletion: false,
            asymmetric: false,
        },
        KeySpecSeed {
            region: SECONDARY,
            alias: "alias/phi-key-good-west",
            rotate: true,
            public_policy: false,
            schedule_deletion: false,
            asymmetric: false,
        },
        KeySpecSeed {
            region: SECONDARY,
            alias: "alias/phi-key-bad-pending-deletion-west",
            rotate: false,
            public_policy: false,
            schedule_deletion: true,
            asymmetric: false,
        },
        KeySpecSeed {
            region: SECONDARY,
            alias: "alias/phi-key-signing-rsa-west",
            rotate: false,
            public_policy: false,
            schedule_deletion: false,
            asymmetric: true,
        },
    ];
    let mut arns = Vec::new();
    for spec in &specs {
        let arn = seed_key(s, spec).await?;
        arns.push(arn);
    }
    Ok(Keys {
        primary: arns[0].clone(),
        secondary: arns[2].clone(),
    })
}

async fn seed_key(s: &mut Seed, spec: &KeySpecSeed) -> anyhow::Result<String> {
    let kms = aws_sdk_kms::Client::new(&s.config(spec.region));
    let name = spec.alias.trim_start_matches("alias/");
    let mut req = kms.create_key().description(name);
    if spec.public_policy {
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdmin",
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{}:root", s.account)},
                    "Action": "kms:*",
                    "Resource": "*"
                },
                {
                    "Sid": "AnyoneMayDecrypt",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*"
                }
            ]
        });
        req = req.policy(policy.to_string());
    }
    if spec.asymmetric {
        req = req
            .key_spec(KeySpec::Rsa2048)
            .key_usage(KeyUsageType::SignVerify);
    }
    let out = req.send().await.step(format!("kms CreateKey {name}"))?;
    let meta = out
        .key_metadata()
        .ok_or_else(|| anyhow::anyhow!("CreateKey {name} returned no metadata"))?;
    let key_id = meta.key_id().to_owned();
    let arn = meta
        .arn()
        .ok_or_else(|| anyhow::anyhow!("CreateKey {name} returned no ARN"))?
        .to_owned();
    kms.create_alias()
        .alias_name(spec.alias)
        .target_key_id(&key_id)
        .send()
        .await
        .step(format!("kms CreateAlias {}", spec.alias))?;
    if spec.rotate {
        kms.enable_key_rotation()
            .key_id(&key_id)
            .send()
            .await
            .step(format!("kms EnableKeyRotation {name}"))?;
    }
    if spec.schedule_deletion {
        kms.schedule_key_deletion()
            .key_id(&key_id)
            .pending_window_in_days(7)
            .send()
            .await
            .step(format!("kms ScheduleKeyDeletion {name}"))?;
    }

    // Rotation.
    let (status, why) = if spec.schedule_deletion {
        (NotApplicable, "a key pending deletion cannot be rotated")
    } else if spec.asymmetric {
        (
            NotApplicable,
            "automatic rotation does not apply to an RSA signing key",
        )
    } else if spec.rotate {
        (Pass, "rotation enabled")
    } else {
        (Fail, "rotation never enabled")
    };
    s.expect(ROTATION, &arn, status, format!("{name}: {why}"));
    // Deletion.
    let (status, why) = if spec.schedule_deletion {
        (Fail, "scheduled for deletion in 7 days")
    } else {
        (Pass, "enabled")
    };
    s.expect(DELETION, &arn, status, format!("{name}: {why}"));
    // Policy.
    let (status, why) = if spec.public_policy {
        (Fail, "the key policy allows Principal \"*\" to decrypt")
    } else {
        (Pass, "the default key policy names only the account")
    };
    s.expect(POLICY, &arn, status, format!("{name}: {why}"));
    Ok(arn)
}
