//! `iam_root_hardware_mfa`: the root user has MFA, and it is not a virtual device.
//!
//! `GetAccountSummary` says whether root has MFA (`AccountMFAEnabled`);
//! `ListVirtualMFADevices` (assigned devices) says whether one of them is root's: a device
//! whose user is `arn:aws:iam::ACCOUNT:root`. Root MFA with no virtual device assigned to
//! root is a hardware device (a FIDO key or a hardware TOTP token).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamRootHardwareMfa;

static META: RuleMeta = RuleMeta {
    id: "iam_root_hardware_mfa",
    title: "Root user MFA is a hardware device",
    severity: Severity::High,
    subject: ResourceKind::IamAccountSummary,
    rationale: "A virtual MFA app lives on a phone or laptop that can be lost, cloned, backed up \
                to the cloud or compromised along with the password it protects; root can read \
                every store of ePHI, so its second factor should be a dedicated hardware device \
                kept under physical control (164.312(d), 164.308(a)(3)(ii)(A)).",
    remediation: "Sign in as root, register a hardware MFA device (FIDO security key or \
                  hardware TOTP token) under Security credentials, then deactivate and delete \
                  the virtual MFA device; store the hardware device in a controlled location.",
    api_calls: &["iam:GetAccountSummary", "iam:ListVirtualMFADevices"],
    params: &[],
};

const KEY: &str = "AccountMFAEnabled";

impl Rule for IamRootHardwareMfa {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamAccountSummary(s) = &subject.body else {
            return Outcome::not_applicable("not the IAM account summary");
        };
        let summary = try_observed!(s.summary, "the IAM account summary");
        match summary.and_then(|m| m.get(KEY)).copied() {
            Some(1) => {}
            Some(0) => {
                return Outcome::fail("the root user has no MFA device at all").with(KEY, 0);
            }
            other => {
                return Outcome::error(format!(
                    "the account summary's {KEY} is {other:?}, so whether root has MFA is \
                     unknown"
                ))
                .with(KEY, other);
            }
        }
        let devices = try_observed!(s.virtual_mfa_devices, "the assigned virtual MFA devices");
        let root_arn = format!("arn:aws:iam::{}:root", subject.account);
        let root_virtual: Vec<&str> = devices
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|d| d.user_arn.as_deref() == Some(root_arn.as_str()))
            .map(|d| d.serial_number.as_str())
            .collect();
        let outcome = if root_virtual.is_empty() {
            Outcome::pass("the root user has MFA and no virtual MFA device: a hardware device")
        } else {
            Outcome::fail(format!(
                "the root user's MFA is a virtual device ({})",
                root_virtual.join(", ")
            ))
        };
        outcome
            .with(KEY, 1)
            .with("root_virtual_mfa_devices", root_virtual)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::VirtualMfaDevice;
    use posture_model::{Observed, ResourceBody, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn with_devices(mfa: i32, devices: Observed<Vec<VirtualMfaDevice>>) -> Resource {
        let mut r = summary_resource(&[(KEY, mfa)]);
        if let ResourceBody::IamAccountSummary(s) = &mut r.body {
            s.virtual_mfa_devices = devices;
        }
        r
    }

    fn device(user: &str) -> VirtualMfaDevice {
        VirtualMfaDevice {
            serial_number: format!("arn:aws:iam::111122223333:mfa/{user}"),
            user_arn: Some(format!("arn:aws:iam::111122223333:{user}")),
        }
    }

    #[test]
    fn pass_when_root_mfa_is_not_virtual() {
        let o = expect(
            run(
                &IamRootHardwareMfa,
                &with_devices(1, Observed::Collected(vec![device("user/alice")])),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["root_virtual_mfa_devices"],
            serde_json::json!([])
        );
    }

    #[test]
    fn fail_when_root_mfa_is_virtual_or_missing() {
        let o = expect(
            run(
                &IamRootHardwareMfa,
                &with_devices(1, Observed::Collected(vec![device("root")])),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["root_virtual_mfa_devices"][0],
            "arn:aws:iam::111122223333:mfa/root"
        );
        let o = expect(
            run(
                &IamRootHardwareMfa,
                &with_devices(0, Observed::Collected(vec![])),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("no MFA"), "{}", o.reason);
    }

    #[test]
    fn error_when_devices_or_summary_unavailable() {
        let o = expect(
            run(
                &IamRootHardwareMfa,
                &with_devices(1, denied("iam:ListVirtualMFADevices")),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("iam:ListVirtualMFADevices"),
            "{}",
            o.reason
        );
        let o = expect(
            run(
                &IamRootHardwareMfa,
                &summary_resource_observed(denied("iam:GetAccountSummary")),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetAccountSummary"), "{}", o.reason);
    }
}
