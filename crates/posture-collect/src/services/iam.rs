//! IAM, once per account: identities and policies from `GetAccountAuthorizationDetails`
//! (paginated) joined with the credential report, plus the account summary and password
//! policy. No per-user calls.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iam::types::{AssignmentStatusType, EntityType, ReportStateType};
use chrono::{DateTime, Utc};
use posture_model::resources::{
    AccessKeyInfo, CredentialReportRow, IamAccountSummary, IamCredentialReport, IamGroup,
    IamPasswordPolicy, IamPolicy, IamRole, IamServerCertificate, IamUser, InlinePolicy,
    PasswordPolicy, UserCredentials, VirtualMfaDevice,
};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags, Unavailable, UnavailableKind};

use super::{Ctx, Sink, arn, malformed, parse_policy, time};
use crate::CollectError;

/// How long to wait for AWS to finish generating the credential report.
const REPORT_POLLS: u32 = 20;
const REPORT_POLL_INTERVAL: Duration = Duration::from_millis(500);

pub(crate) async fn collect(ctx: &Ctx<'_>) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, Region::global(), "iam");
    let iam = ctx.clients.iam(&ctx.clients.home_region());
    let account = ctx.account.as_str().to_owned();

    // Account summary: root MFA and root access keys.
    let summary_arn = Arn::from_parts("iam", "", &account, "account-summary");
    let summary = sink
        .observe(
            "iam:GetAccountSummary",
            &summary_arn,
            iam.get_account_summary().send().await,
            &[],
        )
        .map(|o| {
            o.summary_map()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), *v))
                        .collect::<BTreeMap<_, _>>()
                })
                .unwrap_or_default()
        });
    // Assigned virtual MFA devices: tells a virtual root MFA device from a hardware one.
    let virtual_mfa_devices = virtual_mfa_devices(&iam, &summary_arn, &mut sink).await;
    sink.emit(
        summary_arn,
        Observed::Absent,
        ResourceBody::IamAccountSummary(IamAccountSummary {
            summary,
            virtual_mfa_devices,
        }),
    )
    .await?;

    // Server certificates stored in IAM (metadata only).
    let mut pages = iam.list_server_certificates().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("iam:ListServerCertificates", page) else {
            break;
        };
        for c in page.server_certificate_metadata_list() {
            let name = c.server_certificate_name().to_owned();
            let body = IamServerCertificate {
                name: name.clone(),
                path: c.path().to_owned(),
                id: c.server_certificate_id().to_owned(),
                upload_date: time(c.upload_date()),
                expiration: time(c.expiration()),
            };
            let arn = arn(
                Some(c.arn()),
                "iam",
                "",
                &account,
                &format!("server-certificate/{name}"),
            );
            // Tags are not read (ListServerCertificateTags is a call per certificate).
            sink.emit(
                arn,
                Observed::Absent,
                ResourceBody::IamServerCertificate(body),
            )
            .await?;
        }
    }

    // Password policy: `NoSuchEntity` means the account has none.
    let pp_arn = Arn::from_parts("iam", "", &account, "account-password-policy");
    let policy = sink
        .observe(
            "iam:GetAccountPasswordPolicy",
            &pp_arn,
            iam.get_account_password_policy().send().await,
            &["NoSuchEntity"],
        )
        .map(|o| {
            o.password_policy().map(|p| PasswordPolicy {
                minimum_password_length: p.minimum_password_length(),
                require_symbols: p.require_symbols(),
                require_numbers: p.require_numbers(),
                require_uppercase_characters: p.require_uppercase_characters(),
                require_lowercase_characters: p.require_lowercase_characters(),
                max_password_age: p.max_password_age(),
                password_reuse_prevention: p.password_reuse_prevention(),
            })
        });
    let policy = match policy {
        Observed::Collected(Some(p)) => Observed::Collected(p),
        Observed::Collected(None) | Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };
    sink.emit(
        pp_arn,
        Observed::Absent,
        ResourceBody::IamPasswordPolicy(IamPasswordPolicy { policy }),
    )
    .await?;

    // Credential report.
    let report_arn = Arn::from_parts("iam", "", &account, "credential-report");
    let (generated_at, rows) = credential_report(&iam, &report_arn, &mut sink).await;
    let by_user: BTreeMap<String, UserCredentials> = match &rows {
        Observed::Collected(rows) => rows
            .iter()
            .map(|r| (r.user.clone(), r.credentials.clone()))
            .collect(),
        _ => BTreeMap::new(),
    };
    let report_problem = rows.unavailable().cloned();
    sink.emit(
        report_arn,
        Observed::Absent,
        ResourceBody::IamCredentialReport(IamCredentialReport { generated_at, rows }),
    )
    .await?;

    // Identities and policies.
    let mut pages = iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Group)
        .filter(EntityType::Role)
        .filter(EntityType::LocalManagedPolicy)
        .filter(EntityType::AwsManagedPolicy)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("iam:GetAccountAuthorizationDetails", page) else {
            break;
        };
        for u in page.user_detail_list() {
            let name = u.user_name().unwrap_or_default().to_owned();
            let credentials = match (by_user.get(&name), &report_problem) {
                (Some(c), _) => Observed::Collected(c.clone()),
                (None, Some(problem)) => Observed::Unavailable(problem.clone()),
                (None, None) => Observed::Unavailable(Unavailable {
                    kind: UnavailableKind::Failed,
                    operation: "iam:GetCredentialReport".to_owned(),
                    code: None,
                    message: format!(
                        "the credential report has no row for user {name} (it may predate the user)"
                    ),
                }),
            };
            let body = IamUser {
                name: name.clone(),
                path: u.path().unwrap_or("/").to_owned(),
                create_date: time(u.create_date()),
                groups: u.group_list().to_vec(),
                attached_policies: attached(u.attached_managed_policies()),
                inline_policies: inline(
                    u.user_policy_list()
                        .iter()
                        .map(|p| (p.policy_name(), p.policy_document())),
                ),
                credentials,
                permissions_boundary: u
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
            };
            let arn = arn(u.arn(), "iam", "", &account, &format!("user/{name}"));
            sink.emit(arn, iam_tags(u.tags()), ResourceBody::IamUser(body))
                .await?;
        }
        for g in page.group_detail_list() {
            let name = g.group_name().unwrap_or_default().to_owned();
            let body = IamGroup {
                name: name.clone(),
                attached_policies: attached(g.attached_managed_policies()),
                inline_policies: inline(
                    g.group_policy_list()
                        .iter()
                        .map(|p| (p.policy_name(), p.policy_document())),
                ),
            };
            let arn = arn(g.arn(), "iam", "", &account, &format!("group/{name}"));
            // Groups cannot be tagged.
            sink.emit(
                arn,
                Observed::Collected(Tags::new()),
                ResourceBody::IamGroup(body),
            )
            .await?;
        }
        for r in page.role_detail_list() {
            let name = r.role_name().unwrap_or_default().to_owned();
            let body = IamRole {
                name: name.clone(),
                path: r.path().unwrap_or("/").to_owned(),
                assume_role_policy: r
                    .assume_role_policy_document()
                    .and_then(|d| parse_policy(d).ok()),
                attached_policies: attached(r.attached_managed_policies()),
                inline_policies: inline(
                    r.role_policy_list()
                        .iter()
                        .map(|p| (p.policy_name(), p.policy_document())),
                ),
                last_used: r.role_last_used().and_then(|l| time(l.last_used_date())),
                permissions_boundary: r
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
            };
            let arn = arn(r.arn(), "iam", "", &account, &format!("role/{name}"));
            sink.emit(arn, iam_tags(r.tags()), ResourceBody::IamRole(body))
                .await?;
        }
        for p in page.policies() {
            let policy_arn = p.arn().unwrap_or_default();
            let aws_managed = policy_arn.starts_with("arn:aws:iam::aws:");
            let attachment_count = p.attachment_count().unwrap_or(0);
            if aws_managed
                && attachment_count == 0
                && p.permissions_boundary_usage_count().unwrap_or(0) == 0
            {
                // Hundreds of AWS-managed policies exist; only attached ones grant anything
                // (or, as permissions boundaries, limit something).
                continue;
            }
            let name = p.policy_name().unwrap_or_default().to_owned();
            let default_doc = p
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version())
                .and_then(|v| v.document());
            let document = match default_doc {
                Some(text) => match parse_policy(text) {
                    Ok(v) => Observed::Collected(v),
                    Err(e) => {
                        Observed::Unavailable(malformed("iam:GetAccountAuthorizationDetails", e))
                    }
                },
                None => Observed::Unavailable(malformed(
                    "iam:GetAccountAuthorizationDetails",
                    "the default policy version was not returned".to_owned(),
                )),
            };
            let body = IamPolicy {
                name: name.clone(),
                aws_managed,
                attachment_count,
                document,
            };
            let arn = arn(p.arn(), "iam", "", &account, &format!("policy/{name}"));
            sink.emit(arn, Observed::Absent, ResourceBody::IamPolicy(body))
                .await?;
        }
    }
    sink.finish().await
}

fn iam_tags(tags: &[aws_sdk_iam::types::Tag]) -> Observed<Tags> {
    Observed::Collected(
        tags.iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    )
}

fn attached(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

fn inline<'a>(list: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Vec<InlinePolicy> {
    list.map(|(name, doc)| InlinePolicy {
        name: name.unwrap_or_default().to_owned(),
        // An undecodable inline document is kept as its raw text so a rule sees something
        // that is not a policy and reports Error, rather than an empty (permissive-looking) one.
        document: doc
            .map(|d| parse_policy(d).unwrap_or_else(|_| serde_json::Value::String(d.to_owned())))
            .unwrap_or(serde_json::Value::Null),
    })
    .collect()
}

/// Every assigned virtual MFA device (paginated); `Unavailable` when a page fails.
async fn virtual_mfa_devices(
    iam: &aws_sdk_iam::Client,
    summary_arn: &Arn,
    sink: &mut Sink<'_>,
) -> Observed<Vec<VirtualMfaDevice>> {
    let mut devices = Vec::new();
    let mut pages = iam
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Assigned)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match sink.observe("iam:ListVirtualMFADevices", summary_arn, page, &[]) {
            Observed::Collected(page) => {
                devices.extend(page.virtual_mfa_devices().iter().map(|d| VirtualMfaDevice {
                    serial_number: d.serial_number().to_owned(),
                    user_arn: d.user().map(|u| u.arn().to_owned()),
                }))
            }
            Observed::Absent => break,
            Observed::Unavailable(u) => return Observed::Unavailable(u),
        }
    }
    Observed::Collected(devices)
}

async fn credential_report(
    iam: &aws_sdk_iam::Client,
    arn: &Arn,
    sink: &mut Sink<'_>,
) -> (Option<DateTime<Utc>>, Observed<Vec<CredentialReportRow>>) {
    for _ in 0..REPORT_POLLS {
        let generated = sink.observe(
            "iam:GenerateCredentialReport",
            arn,
            iam.generate_credential_report().send().await,
            &[],
        );
        match generated {
            Observed::Collected(out) if out.state() == Some(&ReportStateType::Complete) => break,
            Observed::Collected(_) => tokio::time::sleep(REPORT_POLL_INTERVAL).await,
            Observed::Absent => break,
            Observed::Unavailable(u) => return (None, Observed::Unavailable(u)),
        }
    }
    match sink.observe(
        "iam:GetCredentialReport",
        arn,
        iam.get_credential_report().send().await,
        &[],
    ) {
        Observed::Collected(out) => {
            let generated_at = time(out.generated_time());
            let bytes = out
                .content()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default();
            match parse_report(&bytes) {
                Ok(rows) => (generated_at, Observed::Collected(rows)),
                Err(e) => (
                    generated_at,
                    Observed::Unavailable(malformed("iam:GetCredentialReport", e)),
                ),
            }
        }
        Observed::Absent => (None, Observed::Absent),
        Observed::Unavailable(u) => (None, Observed::Unavailable(u)),
    }
}

/// Parses the credential report CSV.
pub(crate) fn parse_report(bytes: &[u8]) -> Result<Vec<CredentialReportRow>, String> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("credential report: {e}"))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need =
        |name: &str| col(name).ok_or_else(|| format!("credential report has no column {name:?}"));
    let (user, arn, pw, pw_used, mfa) = (
        need("user")?,
        need("arn")?,
        need("password_enabled")?,
        need("password_last_used")?,
        need("mfa_active")?,
    );
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("credential report: {e}"))?;
        let field = |i: usize| record.get(i).unwrap_or_default();
        let mut access_keys = Vec::new();
        for slot in [1u8, 2] {
            let get = |suffix: &str| {
                col(&format!("access_key_{slot}_{suffix}"))
                    .map(field)
                    .unwrap_or_default()
            };
            let active = get("active") == "true";
            let last_rotated = report_time(get("last_rotated"));
            if active || last_rotated.is_some() {
                access_keys.push(AccessKeyInfo {
                    slot,
                    active,
                    last_rotated,
                    last_used: report_time(get("last_used_date")),
                });
            }
        }
        rows.push(CredentialReportRow {
            user: field(user).to_owned(),
            arn: field(arn).to_owned(),
            credentials: UserCredentials {
                // The root row says "not_supported"; root's password is always enabled.
                password_enabled: matches!(field(pw), "true" | "not_supported"),
                password_last_used: report_time(field(pw_used)),
                mfa_active: field(mfa) == "true",
                access_keys,
            },
        });
    }
    Ok(rows)
}

fn report_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_report_with_root_and_users() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
\"alice,ops\",arn:aws:iam::111122223333:user/alice,2021-01-01T00:00:00+00:00,true,no_information,2021-01-01T00:00:00+00:00,N/A,false,true,2021-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";
        let rows = parse_report(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].user, "<root_account>");
        assert!(rows[0].credentials.mfa_active);
        assert!(rows[0].credentials.access_keys.is_empty());
        assert_eq!(rows[1].user, "alice,ops");
        assert!(rows[1].credentials.password_enabled);
        assert!(!rows[1].credentials.mfa_active);
        assert_eq!(rows[1].credentials.access_keys.len(), 1);
        assert!(rows[1].credentials.access_keys[0].active);
        assert_eq!(
            rows[1].credentials.access_keys[0]
                .last_rotated
                .unwrap()
                .to_rfc3339(),
            "2021-02-01T00:00:00+00:00"
        );
    }

    #[test]
    fn a_report_without_required_columns_is_an_error() {
        assert!(
            parse_report(b"user,arn\nx,y\n")
                .unwrap_err()
                .contains("password_enabled")
        );
    }

    /// Hostile input (issue 12, item 8): the report is CSV that IAM builds from names an
    /// attacker with `iam:CreateUser` chooses. Any bytes give rows or an error, never a
    /// panic; so do well-formed headers with rows of any shape.
    mod hostile {
        use proptest::prelude::*;

        use super::super::parse_report;

        const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date";

        fn field() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                Just("true".to_owned()),
                Just("N/A".to_owned()),
                Just("no_information".to_owned()),
                Just("2026-01-01T00:00:00+00:00".to_owned()),
                Just("9999-99-99T99:99:99+99:99".to_owned()),
                "\\PC{0,40}",
                "[\",\\r\\n]{1,5}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn any_bytes_give_rows_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let _ = parse_report(&bytes);
            }

            #[test]
            fn rows_of_any_shape_under_a_real_header(rows in proptest::collection::vec(proptest::collection::vec(field(), 0..20), 0..20)) {
                let mut text = HEADER.to_owned();
                for row in &rows {
                    text.push('\n');
                    text.push_str(&row.join(","));
                }
                if let Ok(parsed) = parse_report(text.as_bytes()) {
                    prop_assert!(parsed.len() <= rows.len());
                }
            }
        }

        #[test]
        fn ten_thousand_users_parse() {
            let mut text = HEADER.to_owned();
            for i in 0..10_000 {
                text.push_str(&format!(
                    "\nuser{i},arn:aws:iam::111122223333:user/user{i},N/A,true,N/A,N/A,N/A,false,true,2026-01-01T00:00:00+00:00,N/A,false,N/A,N/A"
                ));
            }
            assert_eq!(parse_report(text.as_bytes()).unwrap().len(), 10_000);
        }
    }
}
