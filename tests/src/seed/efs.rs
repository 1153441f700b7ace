//! EFS: file systems that pass and fail each EFS rule.
//!
//! Backup membership of the file systems depends on the backup plans seeded by
//! [`super::backup`]: us-east-1 has plans whose selections moto cannot list (so a file
//! system without automatic backups is `error` there), us-west-2 has none (`fail`).

use aws_sdk_efs::types::Tag;
use serde_json::json;

use super::{Keys, PRIMARY, SECONDARY, Seed, Step};
use crate::Status::{Error, Fail, Pass};

const ENCRYPTED: &str = "efs_encrypted_at_rest";
const IN_PLAN: &str = "efs_in_backup_plan";
const TLS: &str = "efs_tls_enforced";
const PUBLIC: &str = "efs_not_public";

/// One file system to create.
struct FsSeed {
    region: &'static str,
    name: &'static str,
    /// Encrypt with this key (`Some(None)`: the AWS-managed key).
    encrypt: Option<Option<String>>,
    /// Turn on EFS automatic backups.
    backup: bool,
    /// The file system policy, if any.
    policy: Option<serde_json::Value>,
}

pub(crate) async fn seed(s: &mut Seed, keys: &Keys) -> anyhow::Result<()> {
    let tls_deny = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyPlainNfs",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    });
    let open = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AnyoneMounts",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
            "Resource": "*"
        }]
    });
    let specs = [
        FsSeed {
            region: PRIMARY,
            name: "phi-efs-good",
            encrypt: Some(Some(keys.primary.clone())),
            backup: true,
            policy: Some(tls_deny),
        },
        FsSeed {
            region: PRIMARY,
            name: "phi-efs-bad-open-plain",
            encrypt: None,
            backup: false,
            policy: Some(open),
        },
        FsSeed {
            region: SECONDARY,
            name: "phi-efs-west-no-policy",
            encrypt: Some(None),
            backup: false,
            policy: None,
        },
    ];
    for spec in specs {
        let efs = aws_sdk_efs::Client::new(&s.config(spec.region));
        let mut create = efs
            .create_file_system()
            .creation_token(spec.name)
            .backup(spec.backup)
            .tags(Tag::builder().key("Name").value(spec.name).build()?)
            .tags(Tag::builder().key("phi").value("true").build()?);
        if let Some(key) = &spec.encrypt {
            create = create.encrypted(true);
            if let Some(key) = key {
                create = create.kms_key_id(key);
            }
        }
        let out = create
            .send()
            .await
            .step(format!("efs CreateFileSystem {}", spec.name))?;
        let id = out.file_system_id().to_owned();
        if let Some(policy) = &spec.policy {
            efs.put_file_system_policy()
                .file_system_id(&id)
                .policy(policy.to_string())
                .send()
                .await
                .step(format!("efs PutFileSystemPolicy {}", spec.name))?;
        }
        let a = out.file_system_arn().map(str::to_owned).unwrap_or_else(|| {
            format!(
                "arn:aws:elasticfilesystem:{}:{}:file-system/{id}",
                spec.region, s.account
            )
        });
        s.exp.tags.insert(
            a.clone(),
            [("Name".to_owned(), spec.name.to_owned())].into(),
        );
        let n = spec.name;
        match &spec.encrypt {
            Some(_) => s.expect(ENCRYPTED, &a, Pass, format!("{n}: encrypted at rest")),
            None => s.expect(ENCRYPTED, &a, Fail, format!("{n}: not encrypted")),
        }
        let (status, why) = if spec.backup {
            (Pass, "automatic backups on (aws/efs/automatic-backup-plan)")
        } else if spec.region == PRIMARY {
            (
                Error,
                "automatic backups off, and the region's plans' selections cannot be read \
                 (moto does not implement ListBackupSelections)",
            )
        } else {
            (
                Fail,
                "automatic backups off and no backup plan in the region",
            )
        };
        s.expect(IN_PLAN, &a, status, format!("{n}: {why}"));
        let (tls, public) = match spec
            .policy
            .as_ref()
            .map(|p| p["Statement"][0]["Effect"].clone())
        {
            Some(effect) if effect == "Deny" => (
                (
                    Pass,
                    "the policy denies clients without aws:SecureTransport",
                ),
                (Pass, "the policy grants nothing to anyone"),
            ),
            Some(_) => (
                (Fail, "the policy has no aws:SecureTransport deny"),
                (Fail, "the policy allows Principal * to mount and write"),
            ),
            None => (
                (
                    Fail,
                    "no file system policy, so clients without TLS are allowed",
                ),
                (
                    Pass,
                    "no file system policy: only clients reaching the mount targets",
                ),
            ),
        };
        s.expect(TLS, &a, tls.0, format!("{n}: {}", tls.1));
        s.expect(PUBLIC, &a, public.0, format!("{n}: {}", public.1));
    }
    Ok(())
}
