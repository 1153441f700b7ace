//! ACM certificates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// An ACM certificate, from `ListCertificates` (whose summaries carry status and validity),
/// with `DescribeCertificate` only when a summary lacks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcmCertificate {
    /// The primary domain name.
    pub domain_name: Option<String>,
    /// `ISSUED`, `PENDING_VALIDATION`, `EXPIRED`, `REVOKED`, `INACTIVE`, `FAILED`,
    /// `VALIDATION_TIMED_OUT`.
    pub status: String,
    /// `AMAZON_ISSUED`, `IMPORTED` or `PRIVATE`.
    pub cert_type: Option<String>,
    /// `RSA_2048`, `EC_prime256v1`, ...
    pub key_algorithm: Option<String>,
    /// Whether an AWS service (a load balancer, CloudFront, ...) uses it.
    pub in_use: Option<bool>,
    /// `ELIGIBLE` or `INELIGIBLE` for managed renewal.
    pub renewal_eligibility: Option<String>,
    /// Start of validity.
    pub not_before: Option<DateTime<Utc>>,
    /// End of validity; `Absent` for a certificate that has none (not issued).
    pub not_after: Observed<DateTime<Utc>>,
}

impl AcmCertificate {
    /// Issued or expired: the statuses in which a certificate has a validity period that
    /// matters (the others were never issued, or were revoked or are no longer used).
    pub fn has_validity(&self) -> bool {
        matches!(self.status.as_str(), "ISSUED" | "EXPIRED")
    }
}
