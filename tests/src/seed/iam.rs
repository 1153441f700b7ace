//! IAM: the password policy, users (console passwords, MFA, access keys), groups and roles
//! with inline and managed policies, customer-managed policies. Root's MFA and access keys
//! cannot be set through the API (moto reports 0 for both), and access keys cannot be
//! backdated.
//!
//! Issue 12's administrators hidden in the usual places each fail an administrator rule at
//! high severity (asserted): full access behind a condition any session can meet
//! (`phi-role-conditional-admin-inline`, MFA), inline on a group (`phi-group-admin-inline`)
//! and inline on a user (`phi-user-admin-inline`, `*:*`).

use serde_json::json;

use super::{Seed, Step};
use crate::Severity::High;
use crate::Status::{Error, Fail, NotApplicable, Pass};

const ADMIN_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// A role: (name, inline policy document, attached managed policy, expected
/// `iam_no_admin_inline_policy` status, why).
type RoleCase<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    crate::Status,
    &'a str,
);

pub(crate) async fn seed(s: &mut Seed) -> anyhow::Result<()> {
    let iam = aws_sdk_iam::Client::new(&s.config(super::PRIMARY));
    let account = s.account.clone();

    // Account-wide settings: one subject each per account.
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .password_reuse_prevention(24)
        .require_symbols(true)
        .require_numbers(true)
        .max_password_age(90)
        .send()
        .await
        .step("iam UpdateAccountPasswordPolicy")?;
    let pp = format!("arn:aws:iam::{account}:account-password-policy");
    s.expect(
        "iam_password_policy_length_14",
        &pp,
        Fail,
        "minimum password length 8 < 14 (one policy per account: pass is unit-tested)",
    );
    s.expect(
        "iam_password_policy_reuse_24",
        &pp,
        Pass,
        "password reuse prevention 24 (one policy per account: fail is unit-tested)",
    );
    s.expect(
        "iam_password_policy_complexity",
        &pp,
        Fail,
        "symbols and numbers required, uppercase and lowercase not (one policy per account: \
         pass is unit-tested)",
    );
    s.expect(
        "iam_password_policy_max_age_90",
        &pp,
        Pass,
        "passwords expire after 90 days (one policy per account: fail is unit-tested)",
    );
    let summary = format!("arn:aws:iam::{account}:account-summary");
    s.expect(
        "iam_root_mfa",
        &summary,
        Fail,
        "moto always reports AccountMFAEnabled = 0 (root MFA cannot be enabled by API)",
    );
    s.expect(
        "iam_root_no_access_keys",
        &summary,
        Pass,
        "moto always reports AccountAccessKeysPresent = 0 (root keys cannot be created by API)",
    );
    s.expect(
        "iam_root_hardware_mfa",
        &summary,
        Fail,
        "moto always reports AccountMFAEnabled = 0: root has no MFA device at all",
    );
    s.expect(
        "iam_root_not_used",
        &format!("arn:aws:iam::{account}:credential-report"),
        Error,
        "moto's credential report has no <root_account> row, so root's last use is unknown",
    );

    // A server certificate: moto reports every one as expired on 2012-05-08.
    let cert = "phi-cert-legacy";
    iam.upload_server_certificate()
        .server_certificate_name(cert)
        .certificate_body("-----BEGIN CERTIFICATE-----\nMIIBphi\n-----END CERTIFICATE-----")
        .private_key("-----BEGIN PRIVATE KEY-----\nMIIEphi\n-----END PRIVATE KEY-----")
        .send()
        .await
        .step(format!("iam UploadServerCertificate {cert}"))?;
    s.expect(
        "iam_no_expired_server_certificates",
        &format!("arn:aws:iam::{account}:server-certificate/{cert}"),
        Fail,
        "moto reports the expiration 2012-05-08 for every server certificate",
    );
    s.expect(
        "iam_no_privilege_escalation",
        &format!("arn:aws:iam::{account}:root"),
        Fail,
        "phi-role-policy-editor may iam:CreatePolicyVersion on every policy (the \
         administrators, conditional or not, on roles, users or groups, are listed but fail \
         the administrator rules, not this one)",
    );

    // Users.
    let console_mfa = "phi-user-console-mfa";
    create_user(&iam, console_mfa).await?;
    iam.create_login_profile()
        .user_name(console_mfa)
        .password("Corr3ct-Horse-Battery-Staple!")
        .send()
        .await
        .step(format!("iam CreateLoginProfile {console_mfa}"))?;
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(console_mfa)
        .send()
        .await
        .step("iam CreateVirtualMFADevice")?;
    let serial = device
        .virtual_mfa_device()
        .map(|d| d.serial_number().to_owned())
        .ok_or_else(|| anyhow::anyhow!("CreateVirtualMFADevice returned no device"))?;
    iam.enable_mfa_device()
        .user_name(console_mfa)
        .serial_number(&serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .step(format!("iam EnableMFADevice {console_mfa}"))?;
    // The one user in a group; the others belong to none.
    let group = "phi-group-clinicians";
    iam.create_group()
        .group_name(group)
        .send()
        .await
        .step(format!("iam CreateGroup {group}"))?;
    iam.add_user_to_group()
        .group_name(group)
        .user_name(console_mfa)
        .send()
        .await
        .step(format!("iam AddUserToGroup {group} {console_mfa}"))?;
    // A group inline policy that is not administrator access: the compliant case of
    // iam_group_no_admin_inline_policy with a document to read.
    iam.put_group_policy()
        .group_name(group)
        .policy_name(format!("{group}-read"))
        .policy_document(
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": "arn:aws:s3:::phi-good-encrypted/*"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .step(format!("iam PutGroupPolicy {group}"))?;
    s.expect(
        "iam_group_no_admin_inline_policy",
        &format!("arn:aws:iam::{account}:group/{group}"),
        Pass,
        "inline group policy allows only s3:GetObject on one bucket",
    );
    let arn = user_arn(&account, console_mfa);
    s.expect(
        "iam_user_in_group",
        &arn,
        Pass,
        format!("member of {group}"),
    );
    s.expect(
        "iam_user_no_direct_policies",
        &arn,
        Pass,
        "no attached or inline user policies",
    );
    s.expect(
        "iam_user_console_mfa",
        &arn,
        Pass,
        "console password and a virtual MFA device",
    );
    s.expect("iam_user_mfa_all", &arn, Pass, "a virtual MFA device");
    s.expect(
        "iam_access_key_rotated_90d",
        &arn,
        NotApplicable,
        "no access keys",
    );
    expect_user_extras(s, &arn, console_mfa, false, true, false);
    s.expect(
        "iam_user_no_admin_inline_policy",
        &arn,
        Pass,
        "no inline user policy (its group's scoped policy is the group rule's)",
    );

    // A group nobody belongs to.
    let empty_group = "phi-group-empty";
    iam.create_group()
        .group_name(empty_group)
        .send()
        .await
        .step(format!("iam CreateGroup {empty_group}"))?;
    s.expect(
        "iam_group_not_empty",
        &format!("arn:aws:iam::{account}:group/{group}"),
        Pass,
        format!("{console_mfa} is a member"),
    );
    s.expect(
        "iam_group_not_empty",
        &format!("arn:aws:iam::{account}:group/{empty_group}"),
        Fail,
        "no user was added to it",
    );
    s.expect(
        "iam_group_no_admin_inline_policy",
        &format!("arn:aws:iam::{account}:group/{empty_group}"),
        Pass,
        "no inline group policy",
    );

    let console_no_mfa = "phi-user-console-no-mfa";
    create_user(&iam, console_no_mfa).await?;
    iam.create_login_profile()
        .user_name(console_no_mfa)
        .password("Corr3ct-Horse-Battery-Staple!")
        .send()
        .await
        .step(format!("iam CreateLoginProfile {console_no_mfa}"))?;
    let arn = user_arn(&account, console_no_mfa);
    s.expect("iam_user_in_group", &arn, Fail, "in no group");
    s.expect(
        "iam_user_no_direct_policies",
        &arn,
        Pass,
        "no attached or inline user policies",
    );
    s.expect(
        "iam_user_console_mfa",
        &arn,
        Fail,
        "console password without MFA",
    );
    s.expect("iam_user_mfa_all", &arn, Fail, "no MFA device");
    s.expect(
        "iam_access_key_rotated_90d",
        &arn,
        NotApplicable,
        "no access keys",
    );
    expect_user_extras(s, &arn, console_no_mfa, false, true, false);
    s.expect(
        "iam_user_no_admin_inline_policy",
        &arn,
        Pass,
        "no inline user policy",
    );

    let service = "phi-svc-fresh-access-key";
    create_user(&iam, service).await?;
    iam.create_access_key()
        .user_name(service)
        .send()
        .await
        .step(format!("iam CreateAccessKey {service}"))?;
    // A permission granted to the user directly rather than through a group. Inline, so
    // no AWS-managed policy becomes attached (and reported by iam_no_admin_managed_policy).
    iam.put_user_policy()
        .user_name(service)
        .policy_name(format!("{service}-direct"))
        .policy_document(
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": "arn:aws:s3:::phi-good-encrypted/*"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .step(format!("iam PutUserPolicy {service}"))?;
    let arn = user_arn(&account, service);
    s.expect("iam_user_in_group", &arn, Fail, "in no group");
    s.expect(
        "iam_user_no_direct_policies",
        &arn,
        Fail,
        "an inline user policy grants s3:GetObject directly",
    );
    s.expect(
        "iam_user_console_mfa",
        &arn,
        NotApplicable,
        "no console password",
    );
    s.expect(
        "iam_user_mfa_all",
        &arn,
        Fail,
        "no MFA device (access key only: the rule covers every user)",
    );
    s.expect(
        "iam_access_key_rotated_90d",
        &arn,
        Pass,
        "the key was created just now (moto cannot backdate keys: the fail state is \
         unit-tested on credential-report fixtures)",
    );
    expect_user_extras(s, &arn, service, true, false, true);
    s.expect(
        "iam_user_no_admin_inline_policy",
        &arn,
        Pass,
        "its inline policy allows only s3:GetObject on one bucket",
    );

    seed_hidden_administrators(s, &iam, &account).await?;

    // Roles and their inline policies.
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string();
    let admin_doc = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    })
    .to_string();
    let conditional_admin_doc = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BreakGlassWithMfa",
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        }]
    })
    .to_string();
    let scoped_doc = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::phi-good-encrypted/*"
        }]
    })
    .to_string();

    let policy_editor_doc = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EditAnyPolicy",
            "Effect": "Allow",
            "Action": "iam:CreatePolicyVersion",
            "Resource": "*"
        }]
    })
    .to_string();

    let roles: [RoleCase<'_>; 5] = [
        (
            "phi-role-admin-inline",
            Some(admin_doc.as_str()),
            None,
            Fail,
            "inline policy allows * on *",
        ),
        (
            "phi-role-scoped-inline",
            Some(scoped_doc.as_str()),
            None,
            Pass,
            "inline policy allows only s3:GetObject on one bucket",
        ),
        (
            "phi-role-conditional-admin-inline",
            Some(conditional_admin_doc.as_str()),
            None,
            // Was pass: a condition any session of the holder can meet (it can present
            // MFA) decides when the power is used, not who holds it (issue 12).
            Fail,
            "inline policy allows * on * under an MFA condition, which any session of the \
             role can meet: still an administrator",
        ),
        (
            "phi-role-admin-managed",
            None,
            Some(ADMIN_ACCESS),
            Pass,
            "no inline policy (AdministratorAccess is managed: see iam_no_admin_managed_policy)",
        ),
        (
            "phi-role-policy-editor",
            Some(policy_editor_doc.as_str()),
            None,
            Pass,
            "inline policy allows only iam:CreatePolicyVersion (a privilege-escalation path, \
             not administrator access)",
        ),
    ];
    for (name, inline, managed, status, why) in roles {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(&trust)
            .send()
            .await
            .step(format!("iam CreateRole {name}"))?;
        if let Some(doc) = inline {
            iam.put_role_policy()
                .role_name(name)
                .policy_name(format!("{name}-policy"))
                .policy_document(doc)
                .send()
                .await
                .step(format!("iam PutRolePolicy {name}"))?;
        }
        if let Some(policy) = managed {
            iam.attach_role_policy()
                .role_name(name)
                .policy_arn(policy)
                .send()
                .await
                .step(format!("iam AttachRolePolicy {name} {policy}"))?;
        }
        let role_arn = format!("arn:aws:iam::{account}:role/{name}");
        s.expect(
            "iam_no_admin_inline_policy",
            &role_arn,
            status,
            format!("{name}: {why}"),
        );
        if status == Fail {
            // Reported at the rule's full severity, the condition notwithstanding.
            s.exp
                .expect_severity("iam_no_admin_inline_policy", role_arn, High);
        }
        // Allow * on * includes kms:Decrypt on every key; an MFA condition does not limit
        // which keys, so the conditional grant counts too.
        let (kms, kms_why) = match name {
            "phi-role-admin-inline" => (Fail, "inline policy allows * on *"),
            "phi-role-conditional-admin-inline" => (
                Fail,
                "inline policy allows * on * under an MFA condition, which does not limit \
                 the keys",
            ),
            "phi-role-scoped-inline" => (Pass, "inline policy allows only s3:GetObject"),
            "phi-role-policy-editor" => (Pass, "inline policy allows only iam:CreatePolicyVersion"),
            _ => (Pass, "no inline policy"),
        };
        s.expect(
            "iam_inline_policy_blocked_kms_actions",
            &format!("arn:aws:iam::{account}:role/{name}"),
            kms,
            format!("{name}: {kms_why}"),
        );
    }

    // Managed policies. AWS-managed policies appear only when attached (moto loads all of
    // them; the collector skips unattached ones).
    s.expect(
        "iam_no_admin_managed_policy",
        ADMIN_ACCESS,
        Fail,
        "AWS-managed AdministratorAccess attached to phi-role-admin-managed",
    );
    s.expect(
        "iam_no_full_service_wildcard",
        ADMIN_ACCESS,
        NotApplicable,
        "AWS-managed: not the account's to change",
    );
    s.expect(
        "iam_customer_policy_blocked_kms_actions",
        ADMIN_ACCESS,
        NotApplicable,
        "AWS-managed: not the account's to change",
    );
    s.expect(
        "iam_no_wildcard_marketplace_subscribe",
        ADMIN_ACCESS,
        NotApplicable,
        "AWS-managed: not the account's to change",
    );
    // (name, document, role to attach to, iam_no_admin_managed_policy status, why,
    //  iam_no_full_service_wildcard status)
    type CustomerPolicy<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        crate::Status,
        &'a str,
        crate::Status,
    );
    let customer: [CustomerPolicy<'_>; 2] = [
        (
            "phi-policy-admin-unattached",
            admin_doc.as_str(),
            None,
            Fail,
            "allows * on * (unattached customer-managed policies are reported too)",
            Fail,
        ),
        (
            "phi-policy-scoped-read",
            scoped_doc.as_str(),
            Some("phi-role-scoped-inline"),
            Pass,
            "allows only s3:GetObject on one bucket",
            Pass,
        ),
    ];
    for (name, doc, attach_to, status, why, wildcard) in customer {
        let out = iam
            .create_policy()
            .policy_name(name)
            .policy_document(doc)
            .send()
            .await
            .step(format!("iam CreatePolicy {name}"))?;
        let arn = out
            .policy()
            .and_then(|p| p.arn())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("arn:aws:iam::{account}:policy/{name}"));
        if let Some(role) = attach_to {
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(&arn)
                .send()
                .await
                .step(format!("iam AttachRolePolicy {role} {name}"))?;
        }
        s.expect(
            "iam_no_admin_managed_policy",
            &arn,
            status,
            format!("{name}: {why}"),
        );
        s.expect(
            "iam_no_full_service_wildcard",
            &arn,
            wildcard,
            format!("{name}: {why} (\"*\" is every service's full access)"),
        );
        // Here the two coincide: "*" on "*" includes kms:Decrypt on every key, and the
        // scoped policy grants no KMS action.
        s.expect(
            "iam_customer_policy_blocked_kms_actions",
            &arn,
            wildcard,
            format!("{name}: {why}"),
        );
        // "*" on "*" includes aws-marketplace:Subscribe on every product.
        s.expect(
            "iam_no_wildcard_marketplace_subscribe",
            &arn,
            wildcard,
            format!("{name}: {why}"),
        );
    }
    Ok(())
}

/// Issue 12's administrators hidden inline on a group and inline on a user: a user with an
/// inline `*:*` policy, in a group whose inline policy allows `*` on `*`. Each grant fails
/// once, where its document lives, at high severity.
async fn seed_hidden_administrators(
    s: &mut Seed,
    iam: &aws_sdk_iam::Client,
    account: &str,
) -> anyhow::Result<()> {
    let admin_group = "phi-group-admin-inline";
    let admin_user = "phi-user-admin-inline";
    iam.create_group()
        .group_name(admin_group)
        .send()
        .await
        .step(format!("iam CreateGroup {admin_group}"))?;
    iam.put_group_policy()
        .group_name(admin_group)
        .policy_name(format!("{admin_group}-all"))
        .policy_document(
            json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
            })
            .to_string(),
        )
        .send()
        .await
        .step(format!("iam PutGroupPolicy {admin_group}"))?;
    create_user(iam, admin_user).await?;
    iam.put_user_policy()
        .user_name(admin_user)
        .policy_name(format!("{admin_user}-all"))
        .policy_document(
            json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]
            })
            .to_string(),
        )
        .send()
        .await
        .step(format!("iam PutUserPolicy {admin_user}"))?;
    iam.add_user_to_group()
        .group_name(admin_group)
        .user_name(admin_user)
        .send()
        .await
        .step(format!("iam AddUserToGroup {admin_group} {admin_user}"))?;

    let group_arn = format!("arn:aws:iam::{account}:group/{admin_group}");
    s.expect_fail_at(
        "iam_group_no_admin_inline_policy",
        &group_arn,
        High,
        "inline group policy allows * on *: every member is an administrator",
    );
    s.expect(
        "iam_group_not_empty",
        &group_arn,
        Pass,
        format!("{admin_user} is a member"),
    );

    let arn = user_arn(account, admin_user);
    s.expect_fail_at(
        "iam_user_no_admin_inline_policy",
        &arn,
        High,
        "inline user policy allows *:* on *",
    );
    s.expect(
        "iam_user_in_group",
        &arn,
        Pass,
        format!("member of {admin_group}"),
    );
    s.expect(
        "iam_user_no_direct_policies",
        &arn,
        Fail,
        "an inline user policy (allowing *:* on *)",
    );
    s.expect(
        "iam_user_console_mfa",
        &arn,
        NotApplicable,
        "no console password",
    );
    s.expect("iam_user_mfa_all", &arn, Fail, "no MFA device");
    s.expect(
        "iam_access_key_rotated_90d",
        &arn,
        NotApplicable,
        "no access keys",
    );
    expect_user_extras(s, &arn, admin_user, true, false, false);
    Ok(())
}

/// The findings of the user rules that depend only on inline policies, keys and the
/// console password: moto creates users and keys "now" and never records a use, so neither
/// unused-credential rule can fail here (the fail states are unit-tested).
fn expect_user_extras(
    s: &mut Seed,
    arn: &str,
    name: &str,
    inline_policy: bool,
    console_password: bool,
    access_key: bool,
) {
    s.expect(
        "iam_no_inline_policies",
        arn,
        if inline_policy { Fail } else { Pass },
        format!(
            "{name}: {}",
            if inline_policy {
                "an inline user policy"
            } else {
                "no inline user policy"
            }
        ),
    );
    s.expect(
        "iam_unused_console_password_disabled",
        arn,
        if console_password {
            Pass
        } else {
            NotApplicable
        },
        format!(
            "{name}: {}",
            if console_password {
                "console password never used, user created just now"
            } else {
                "no console password"
            }
        ),
    );
    s.expect(
        "iam_unused_access_keys_disabled",
        arn,
        if access_key { Pass } else { NotApplicable },
        format!(
            "{name}: {}",
            if access_key {
                "key never used, created just now"
            } else {
                "no access keys"
            }
        ),
    );
}

async fn create_user(iam: &aws_sdk_iam::Client, name: &str) -> anyhow::Result<()> {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .step(format!("iam CreateUser {name}"))?;
    Ok(())
}

fn user_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user/{name}")
}
