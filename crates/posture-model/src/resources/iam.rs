//! IAM identities, policies and the account-wide IAM settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// An inline policy attached to a user, group or role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlinePolicy {
    /// Policy name.
    pub name: String,
    /// The policy document.
    pub document: serde_json::Value,
}

/// An IAM user, from `GetAccountAuthorizationDetails` joined with the credential report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamUser {
    /// User name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Created.
    pub create_date: Option<DateTime<Utc>>,
    /// Group names.
    pub groups: Vec<String>,
    /// ARNs of attached managed policies.
    pub attached_policies: Vec<String>,
    /// Inline policies.
    pub inline_policies: Vec<InlinePolicy>,
    /// Credentials from the credential report; `Unavailable` when the report could not be
    /// read or has no row for the user.
    pub credentials: Observed<UserCredentials>,
    /// The permissions boundary (a managed policy ARN): the most the identity's own
    /// policies can grant.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
}

/// A user's credentials, as the credential report states them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCredentials {
    /// Has a console password.
    pub password_enabled: bool,
    /// Last console sign-in.
    pub password_last_used: Option<DateTime<Utc>>,
    /// Has an MFA device.
    pub mfa_active: bool,
    /// Access keys (slots 1 and 2 of the report that exist).
    pub access_keys: Vec<AccessKeyInfo>,
}

/// One access key of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessKeyInfo {
    /// Slot in the credential report (1 or 2).
    pub slot: u8,
    /// Active.
    pub active: bool,
    /// Created or last rotated.
    pub last_rotated: Option<DateTime<Utc>>,
    /// Last used.
    pub last_used: Option<DateTime<Utc>>,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamGroup {
    /// Group name.
    pub name: String,
    /// ARNs of attached managed policies.
    pub attached_policies: Vec<String>,
    /// Inline policies.
    pub inline_policies: Vec<InlinePolicy>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamRole {
    /// Role name.
    pub name: String,
    /// Path (`/aws-service-role/` for service-linked roles).
    pub path: String,
    /// The trust policy.
    pub assume_role_policy: Option<serde_json::Value>,
    /// ARNs of attached managed policies.
    pub attached_policies: Vec<String>,
    /// Inline policies.
    pub inline_policies: Vec<InlinePolicy>,
    /// Last time the role was used.
    pub last_used: Option<DateTime<Utc>>,
    /// The permissions boundary (a managed policy ARN): the most the identity's own
    /// policies can grant.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
}

/// A managed policy: customer-managed, or AWS-managed and attached to something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamPolicy {
    /// Policy name.
    pub name: String,
    /// AWS-managed (`arn:aws:iam::aws:policy/...`) rather than customer-managed.
    pub aws_managed: bool,
    /// How many identities it is attached to.
    pub attachment_count: i32,
    /// The default version's document; `Unavailable` when it could not be decoded.
    pub document: Observed<serde_json::Value>,
}

/// The account password policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamPasswordPolicy {
    /// The policy; `Absent` when the account has none (`NoSuchEntity`).
    pub policy: Observed<PasswordPolicy>,
}

/// Password policy settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// Minimum length.
    pub minimum_password_length: Option<i32>,
    /// Requires a symbol.
    pub require_symbols: bool,
    /// Requires a digit.
    pub require_numbers: bool,
    /// Requires an uppercase letter.
    pub require_uppercase_characters: bool,
    /// Requires a lowercase letter.
    pub require_lowercase_characters: bool,
    /// Days before a password expires (`None` = never).
    pub max_password_age: Option<i32>,
    /// Previous passwords that cannot be reused (`None` = no restriction).
    pub password_reuse_prevention: Option<i32>,
}

/// The IAM account summary (`GetAccountSummary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamAccountSummary {
    /// The summary map; `AccountMFAEnabled` and `AccountAccessKeysPresent` describe root.
    pub summary: Observed<BTreeMap<String, i32>>,
    /// The virtual MFA devices assigned to a user or to root
    /// (`ListVirtualMFADevices` with `AssignmentStatus=Assigned`).
    #[serde(default = "Observed::not_recorded")]
    pub virtual_mfa_devices: Observed<Vec<VirtualMfaDevice>>,
}

/// A virtual MFA device assigned to an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMfaDevice {
    /// Serial number (an ARN, `arn:aws:iam::ACCOUNT:mfa/NAME`).
    pub serial_number: String,
    /// ARN of the user it is assigned to (`arn:aws:iam::ACCOUNT:root` for root).
    pub user_arn: Option<String>,
}

/// A server certificate stored in IAM (`ListServerCertificates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamServerCertificate {
    /// Certificate name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Certificate id.
    pub id: String,
    /// When it was uploaded.
    pub upload_date: Option<DateTime<Utc>>,
    /// When it expires.
    pub expiration: Option<DateTime<Utc>>,
}

/// The IAM credential report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamCredentialReport {
    /// When AWS generated the report.
    pub generated_at: Option<DateTime<Utc>>,
    /// The rows; `Unavailable` when the report could not be generated or read.
    pub rows: Observed<Vec<CredentialReportRow>>,
}

/// One row of the credential report. The root user's row is named `<root_account>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialReportRow {
    /// User name, or `<root_account>`.
    pub user: String,
    /// User ARN.
    pub arn: String,
    /// The user's credentials.
    pub credentials: UserCredentials,
}

/// The user name of the root row in the credential report.
pub const ROOT_ACCOUNT_ROW: &str = "<root_account>";
