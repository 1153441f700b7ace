//! The IAM policy evaluator every rule uses to read identity policies, bucket policies and
//! key policies. Pure: a document in, typed answers with the deciding statements out.
//!
//! [`Policy::parse`] turns a document into typed [`Statement`]s (effect, principals,
//! actions, resources, conditions); a document IAM would not store is a
//! [`PolicyError`], which rules report as `Error`, never as a pass. Then:
//!
//! - [`Policy::allows`]: is *some* request of a shape ([`Request`]: a kind of
//!   [`Caller`], an action pattern, a resource pattern) allowed, and by which statements?
//!   The core the other questions are built on (see [`eval`] for the
//!   semantics).
//! - [`Policy::public_access`] / [`Policy::is_public`]: which actions a resource policy
//!   grants to anyone ([`Caller::Anyone`]), per statement, and which statements to anyone
//!   were limited by conditions or cancelled by a `Deny`.
//! - [`Policy::insecure_transport_denial`]: does one statement deny every non-TLS
//!   request to the given resources?
//! - [`Policy::admin_access`]: does an identity policy grant every action on every
//!   resource, or nearly (`NotAction`, `NotResource`)?
//! - [`Policy::external_grants`]: does the policy grant to principals outside a set of
//!   trusted accounts?
//!
//! # Semantics
//!
//! - **Explicit Deny wins.** A `Deny` cancels an `Allow` when it certainly applies: it
//!   names every such caller (`Principal "*"`, or a `NotPrincipal` that does not exempt
//!   everyone), covers all that the `Allow` grants within the request (wildcards are
//!   compared as sets), and each of its conditions holds for every such caller. A `Deny`
//!   with `Bool aws:SecureTransport false` does not cancel a public `Allow`: the caller
//!   uses HTTPS. A `Deny` with `StringNotEquals aws:PrincipalOrgID o-…` does: every
//!   outsider fails the test.
//! - **Wildcards.** `Action`/`NotAction` match case-insensitively, `Resource`/`NotResource`
//!   case-sensitively, with `*` and `?`. `NotAction` and `NotResource` select everything
//!   but their patterns. A statement without `Resource` (trust policies) reads as
//!   `Resource "*"`.
//! - **Principals.** `"*"` and `{"AWS": "*"}` are anyone; `NotPrincipal` with `Allow` is
//!   everyone but the few named, so anyone. Account ids, account roots, and role/user ARNs
//!   are those principals (not public; see [`Policy::external_grants`] for cross-account);
//!   `Service`, `Federated` and `CanonicalUser` principals are never public.
//! - **Conditions that limit exposure** (they pin who can call to something the policy
//!   owner controls, following S3's definition of a non-public policy, extended to the
//!   identity keys IAM added since): `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`,
//!   `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:SourceAccount`, `aws:SourceOwner`,
//!   `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceIp`, `aws:userid`,
//!   `aws:PrincipalServiceName`, `aws:PrincipalIsAWSService` (`true`), `kms:CallerAccount`,
//!   `s3:DataAccessPointAccount`, `s3:DataAccessPointArn`. They limit only with a positive
//!   test (`StringEquals`, `StringLike`, `ArnLike`, `IpAddress`, ...; `ForAnyValue:`
//!   allowed) on fixed values: no wildcard that admits anyone's resource (`vpce-*`,
//!   `o-*`, an ARN with a wildcard account), no `/0` range, no caller-relative policy
//!   variable (`${aws:ResourceAccount}` is fixed). `…IfExists` and `ForAllValues:` do not
//!   limit: an anonymous or internet caller lacks the key, and the test passes.
//!   **`kms:ViaService` does not limit**: it says *how* the key is reached (through S3 in
//!   a region), not *who* reaches it; any account's principal can use S3. Nor does any
//!   other key (`aws:SecureTransport`, `aws:Referer`, `aws:CurrentTime`, `s3:x-amz-acl`,
//!   `aws:PrincipalTag/…`): the caller can meet them.
//! - **Identity policies** have no caller to reason about, so their conditions are all
//!   "may hold". [`Policy::admin_access`] counts a conditioned admin grant as an admin
//!   grant, quoting its conditions; only a condition that pins the caller to named
//!   principals is told apart ([`classify_condition`]).

mod admin;
mod condition;
pub mod eval;
mod external;
pub(crate) mod glob;
mod parse;
mod public;
mod statement;
mod transport;

pub use admin::{AdminAccess, AdminGrant, AdminScope, ConditionClass, classify_condition};
pub use condition::{BaseOperator, Caller, Condition, ExposureKey, Holds, Operator, SetQualifier};
pub use eval::{Decision, Grant, Limited, Overridden, Request, Verdict};
pub use external::ExternalGrant;
pub use glob::Case;
pub use parse::{MAX_DOCUMENT_BYTES, PolicyError};
pub use public::{Denied, Exposed, Exposure, Restricted, Target};
pub use statement::{Effect, Matcher, PrincipalId, Principals, Selection, Statement};
pub use transport::{NARROWED, Rejected, TransportDenial};

use serde_json::Value;

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

impl Policy {
    /// Parses a policy document (identity, bucket, key or trust policy).
    pub fn parse(document: &Value) -> Result<Self, PolicyError> {
        Ok(Self {
            statements: parse::statements(document)?,
        })
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Whether some request of the shape `request` is allowed, and which statements
    /// decide it (see [`eval`]).
    pub fn allows(&self, request: &Request<'_>) -> Decision<'_> {
        eval::decide(&self.statements, request)
    }
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
