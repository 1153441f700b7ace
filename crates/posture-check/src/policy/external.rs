//! "Does the policy grant to principals outside a set of trusted accounts?": a small
//! helper for cross-account rules, built on [`Policy::allows`].
//!
//! The candidates are anyone at all, and every account the policy names (in a principal,
//! or in an `aws:PrincipalAccount` / `kms:CallerAccount` condition) that is not trusted.
//! A grant to anyone that is limited to the owner's organization, VPCs, endpoints or IP
//! ranges is not reported: those are inside the trust boundary the owner drew. AWS service
//! principals are not accounts and are not reported (their confused-deputy risk, a service
//! principal without `aws:SourceAccount`/`aws:SourceArn`, is a separate question).

use super::Policy;
use super::condition::{Caller, Condition};
use super::eval::Request;
use super::statement::{Effect, Principals, Statement};

/// A grant to a principal outside the trusted accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalGrant<'p> {
    /// The `Allow` statement.
    pub statement: &'p Statement,
    /// The account it reaches; `None` for anyone at all.
    pub account: Option<String>,
    /// The conditions the grant depends on (none restricts the caller).
    pub conditions: Vec<&'p Condition>,
}

impl Policy {
    /// Grants of anything to principals outside `trusted` (account ids), ordered by
    /// statement, then account (anyone first).
    pub fn external_grants(&self, trusted: &[&str]) -> Vec<ExternalGrant<'_>> {
        let mut accounts: Vec<&str> = Vec::new();
        for s in self
            .statements()
            .iter()
            .filter(|s| s.effect == Effect::Allow)
        {
            if let Principals::Only { ids, .. } = &s.principals {
                accounts.extend(ids.iter().filter_map(|p| p.account()));
            }
            accounts.extend(s.conditions.iter().flat_map(Condition::named_accounts));
        }
        accounts.retain(|a| !trusted.contains(a));
        accounts.sort_unstable();
        accounts.dedup();

        let callers =
            std::iter::once(Caller::Anyone).chain(accounts.into_iter().map(Caller::Account));
        let mut out: Vec<ExternalGrant<'_>> = Vec::new();
        for caller in callers {
            let account = match caller {
                Caller::Account(a) => Some(a.to_owned()),
                _ => None,
            };
            for g in self.allows(&Request::new(caller, "*", "*")).grants {
                // A grant to anyone also reaches every named account; report it once.
                if account.is_some()
                    && out
                        .iter()
                        .any(|e| e.account.is_none() && e.statement.index == g.statement.index)
                {
                    continue;
                }
                out.push(ExternalGrant {
                    statement: g.statement,
                    account: account.clone(),
                    conditions: g.conditions,
                });
            }
        }
        out.sort_by(|a, b| (a.statement.index, &a.account).cmp(&(b.statement.index, &b.account)));
        out
    }
}
