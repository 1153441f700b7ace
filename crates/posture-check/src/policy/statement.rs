//! The typed form of a policy statement: effect, principals, actions, resources and
//! conditions, each keeping what the document said so findings can quote it.

use std::fmt;

use serde_json::{Value, json};

use super::condition::Condition;
use super::glob::{self, Case};

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants what the statement describes.
    Allow,
    /// Refuses it, whatever any `Allow` says.
    Deny,
}

/// One statement of a policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the document's `Statement` list (0 for a lone statement object).
    pub index: usize,
    /// `Sid`, when present and not empty.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`; `Unspecified` in identity policies.
    pub principals: Principals,
    /// `Action` / `NotAction`.
    pub actions: Matcher,
    /// `Resource` / `NotResource`. A statement without either (a role trust policy) is
    /// about the resource the policy is attached to, and is read as `Resource: "*"`.
    pub resources: Matcher,
    /// `Condition`, flattened to one entry per operator and key; all must hold (AND).
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// How findings name the statement: its `Sid`, else `Statement[index]`.
    pub fn label(&self) -> String {
        self.sid
            .clone()
            .unwrap_or_else(|| format!("Statement[{}]", self.index))
    }

    /// The statement's `Principal` or `NotPrincipal` as written, for evidence:
    /// `{"principal": ...}` or `{"not_principal": ...}`; empty for identity policies.
    pub fn principal_evidence(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        match &self.principals {
            Principals::Only { raw, .. } => {
                map.insert("principal".into(), raw.clone());
            }
            Principals::AllExcept { raw, .. } => {
                map.insert("not_principal".into(), raw.clone());
            }
            Principals::Unspecified => {}
        }
        map
    }

    /// The conditions as evidence strings (`StringEquals aws:PrincipalOrgID o-abc`).
    pub fn condition_evidence(&self) -> Vec<String> {
        self.conditions.iter().map(ToString::to_string).collect()
    }
}

/// Who a statement is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Principals {
    /// `Principal`: exactly these.
    Only {
        /// The principals named.
        ids: Vec<PrincipalId>,
        /// The element as written.
        raw: Value,
    },
    /// `NotPrincipal`: everyone except these.
    AllExcept {
        /// The principals excepted.
        ids: Vec<PrincipalId>,
        /// The element as written.
        raw: Value,
    },
    /// Neither element: an identity policy, about whoever it is attached to.
    Unspecified,
}

impl Principals {
    /// Whether the list names everyone (`"*"`, `{"AWS": "*"}`).
    pub fn names_anyone(ids: &[PrincipalId]) -> bool {
        ids.iter().any(|p| matches!(p, PrincipalId::Anyone))
    }
}

/// One principal as a policy can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalId {
    /// `"*"` or `{"AWS": "*"}`: every caller, signed or anonymous, of any account. An AWS
    /// principal containing a wildcard anywhere else (not valid in IAM) is read the same
    /// way, the cautious reading.
    Anyone,
    /// A whole account: `{"AWS": "111122223333"}` or `arn:aws:iam::111122223333:root`.
    Account(String),
    /// One IAM or STS principal (user, role, assumed-role session, federated user), with
    /// its account when the ARN has a 12-digit one.
    Arn {
        /// The ARN as written.
        arn: String,
        /// Its account field, when it is an account id.
        account: Option<String>,
    },
    /// `{"Service": "cloudtrail.amazonaws.com"}`: an AWS service acting for a customer.
    Service(String),
    /// `{"Federated": ...}`: a SAML or OIDC provider (trust policies).
    Federated(String),
    /// `{"CanonicalUser": ...}`: an S3 canonical user id (CloudFront origin identities).
    CanonicalUser(String),
    /// An `AWS` value that is none of the above, typically the unique id (`AIDA…`,
    /// `AROA…`) IAM substitutes when a named principal is deleted. It names one principal
    /// that no longer exists, so it grants no one.
    UniqueId(String),
}

impl PrincipalId {
    /// The account a principal belongs to, when the policy says.
    pub fn account(&self) -> Option<&str> {
        match self {
            PrincipalId::Account(a) => Some(a),
            PrincipalId::Arn { account, .. } => account.as_deref(),
            _ => None,
        }
    }

    /// Reads one `AWS` principal value.
    pub(super) fn aws(value: &str) -> Self {
        if value.contains('*') || value.contains('?') {
            return PrincipalId::Anyone;
        }
        if is_account_id(value) {
            return PrincipalId::Account(value.to_owned());
        }
        let fields: Vec<&str> = value.splitn(6, ':').collect();
        if let [arn, _partition, service, _region, account, resource] = fields[..]
            && arn == "arn"
        {
            let account = is_account_id(account).then(|| account.to_owned());
            if let Some(id) = &account
                && service == "iam"
                && resource == "root"
            {
                return PrincipalId::Account(id.clone());
            }
            return PrincipalId::Arn {
                arn: value.to_owned(),
                account,
            };
        }
        PrincipalId::UniqueId(value.to_owned())
    }
}

/// Whether `s` is a 12-digit account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

/// Whether the set of names an element selects is the patterns, or everything but them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// `Action` / `Resource`.
    Only,
    /// `NotAction` / `NotResource`.
    AllExcept,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: a set of names given by wildcard
/// patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// Whether the patterns are what is selected or what is excluded.
    pub selection: Selection,
    /// The patterns as written.
    pub patterns: Vec<String>,
    /// How letters compare (actions: insensitive; resources: sensitive).
    pub case: Case,
}

impl Matcher {
    /// Everything: `Resource: "*"`.
    pub(super) fn everything(case: Case) -> Self {
        Self {
            selection: Selection::Only,
            patterns: vec!["*".to_owned()],
            case,
        }
    }

    /// Whether the concrete `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        let hit = self
            .patterns
            .iter()
            .any(|p| glob::matches(p, name, self.case));
        match self.selection {
            Selection::Only => hit,
            Selection::AllExcept => !hit,
        }
    }

    /// Whether some name matched by `pattern` is selected.
    pub fn may_match(&self, pattern: &str) -> bool {
        match self.selection {
            Selection::Only => self
                .patterns
                .iter()
                .any(|p| glob::intersects(p, pattern, self.case)),
            Selection::AllExcept => !self
                .patterns
                .iter()
                .any(|p| glob::covers(p, pattern, self.case)),
        }
    }

    /// Whether every name matched by `pattern` is selected. Sound, not complete: patterns
    /// that cover `pattern` only together are not seen, and callers treat "not covered" as
    /// the cautious answer.
    pub fn covers(&self, pattern: &str) -> bool {
        match self.selection {
            Selection::Only => self
                .patterns
                .iter()
                .any(|p| glob::covers(p, pattern, self.case)),
            Selection::AllExcept => !self
                .patterns
                .iter()
                .any(|p| glob::intersects(p, pattern, self.case)),
        }
    }

    /// Whether this matcher selects every name `other` selects (used to decide that a
    /// Deny takes away all of what an Allow gives).
    pub fn covers_matcher(&self, other: &Matcher) -> bool {
        match other.selection {
            Selection::Only => other.patterns.iter().all(|p| self.covers(p)),
            // Everything but a few names: only "everything" covers that.
            Selection::AllExcept => self.covers("*"),
        }
    }

    /// The element as evidence: `{"Action": [...]}`, `{"NotResource": [...]}`, ...
    pub fn evidence(&self, element: &str) -> Value {
        let name = match self.selection {
            Selection::Only => element.to_owned(),
            Selection::AllExcept => format!("Not{element}"),
        };
        json!({ name: self.patterns })
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.selection == Selection::AllExcept {
            f.write_str("all except ")?;
        }
        f.write_str(&self.patterns.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_principal_forms() {
        assert_eq!(PrincipalId::aws("*"), PrincipalId::Anyone);
        assert_eq!(
            PrincipalId::aws("111122223333"),
            PrincipalId::Account("111122223333".into())
        );
        assert_eq!(
            PrincipalId::aws("arn:aws:iam::111122223333:root"),
            PrincipalId::Account("111122223333".into())
        );
        assert_eq!(
            PrincipalId::aws("arn:aws-us-gov:iam::111122223333:root"),
            PrincipalId::Account("111122223333".into())
        );
        assert_eq!(
            PrincipalId::aws("arn:aws:iam::444455556666:role/app").account(),
            Some("444455556666")
        );
        assert_eq!(
            PrincipalId::aws("arn:aws:sts::444455556666:assumed-role/app/s").account(),
            Some("444455556666")
        );
        assert_eq!(
            PrincipalId::aws("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1")
                .account(),
            None
        );
        assert_eq!(
            PrincipalId::aws("AROAEXAMPLEID"),
            PrincipalId::UniqueId("AROAEXAMPLEID".into())
        );
        assert_eq!(PrincipalId::aws("arn:aws:iam::*:root"), PrincipalId::Anyone);
    }

    #[test]
    fn not_action_selects_the_rest() {
        let m = Matcher {
            selection: Selection::AllExcept,
            patterns: vec!["s3:Delete*".into()],
            case: Case::Insensitive,
        };
        assert!(m.matches("s3:GetObject"));
        assert!(!m.matches("s3:DeleteObject"));
        assert!(m.may_match("s3:*"));
        assert!(!m.covers("s3:*"));
        assert!(m.covers("ec2:*"));
        assert!(!m.may_match("s3:DeleteObject*"));
    }
}
