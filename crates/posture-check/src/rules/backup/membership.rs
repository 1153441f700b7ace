//! Is a resource in an AWS Backup plan? The answer every `*_in_backup_plan` rule shares.
//!
//! A resource is in a plan when a backup selection of a plan in the resource's account and
//! region assigns it. A selection assigns a resource when (following AWS Backup's
//! `BackupSelection` documentation):
//!
//! - its ARN matches one of `Resources` (patterns with `*` for any run of characters,
//!   e.g. `arn:aws:ec2:*:*:volume/*` or `*`), **or** its tags match one of `ListOfTags`
//!   (each an exact `STRINGEQUALS` key/value pair; any one suffices). A selection with
//!   neither selects every supported resource;
//! - **and** its tags meet every entry of `Conditions` (`StringEquals`, `StringNotEquals`,
//!   `StringLike`, `StringNotLike` on `aws:ResourceTag/KEY`; a missing tag fails the
//!   positive tests and meets the negative ones, as in IAM);
//! - **and** its ARN matches none of `NotResources`.
//!
//! A plan whose selections could not be read, a selection whose details could not be read,
//! or tags that could not be read when a selection tests them make the answer unknown
//! (an `Error`), unless another selection certainly assigns the resource.

use posture_model::resources::{BackupPlan, BackupSelection, SelectionCondition};
use posture_model::{Observed, Resource, ResourceBody, ResourceKind, Tags};
use serde_json::Value;

use crate::policy::glob::{Case, matches};
use crate::{Ctx, Outcome};

/// The plan and selection that assign a resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assignment {
    /// The plan's ARN.
    pub plan_arn: String,
    /// The plan's name.
    pub plan: String,
    /// The selection's name (or id).
    pub selection: String,
    /// Why the selection matches.
    pub because: String,
}

/// The answer for one resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Membership {
    /// Assigned to a plan.
    In(Assignment),
    /// Assigned, but the region has its resource type opted out of AWS Backup.
    OptedOut {
        /// AWS Backup's name of the type (`EBS`).
        resource_type: &'static str,
        /// The assignment that does not take effect.
        assignment: Assignment,
    },
    /// No selection of the region's plans assigns it.
    NotIn {
        /// The plans checked (names).
        plans: Vec<String>,
    },
    /// Some selection could not be evaluated.
    Unknown {
        /// What could not be read, and why.
        reason: String,
        /// The `Unavailable` record, when there is one.
        unavailable: Option<Value>,
    },
}

/// Whether `target` is assigned to a backup plan of its account and region.
pub(crate) fn membership(ctx: &Ctx<'_>, target: &Resource) -> Membership {
    if !ctx
        .index
        .was_collected(&target.account, &target.region, "backup")
    {
        return Membership::Unknown {
            reason: format!(
                "AWS Backup was not collected in {}/{} (not in scan.services), so the plans \
                 that may assign it are unknown",
                target.account, target.region
            ),
            unavailable: None,
        };
    }
    let mut plans = Vec::new();
    let mut unknown: Option<(String, Option<Value>)> = None;
    for r in ctx.resources(ResourceKind::BackupPlan, &target.account, &target.region) {
        let ResourceBody::BackupPlan(plan) = &r.body else {
            continue;
        };
        let name = plan_name(plan);
        plans.push(name.clone());
        let entries = match &plan.selections {
            Observed::Collected(e) => e,
            Observed::Absent => continue,
            Observed::Unavailable(u) => {
                unknown.get_or_insert((
                    format!("the selections of backup plan {name} could not be collected: {u}"),
                    serde_json::to_value(u).ok(),
                ));
                continue;
            }
        };
        for entry in entries {
            let label = entry
                .selection_name
                .clone()
                .unwrap_or_else(|| entry.selection_id.clone());
            let selection = match &entry.detail {
                Observed::Collected(s) => s,
                Observed::Absent => continue,
                Observed::Unavailable(u) => {
                    unknown.get_or_insert((
                        format!(
                            "selection {label} of backup plan {name} could not be collected: {u}"
                        ),
                        serde_json::to_value(u).ok(),
                    ));
                    continue;
                }
            };
            match selects(selection, target.arn.as_str(), &target.tags) {
                Ok(Some(because)) => {
                    let assignment = Assignment {
                        plan_arn: r.arn.as_str().to_owned(),
                        plan: name,
                        selection: label,
                        because,
                    };
                    return opted_in(plan, target, assignment);
                }
                Ok(None) => {}
                Err(why) => {
                    unknown.get_or_insert((
                        format!("selection {label} of backup plan {name} tests tags: {why}"),
                        None,
                    ));
                }
            }
        }
    }
    match unknown {
        Some((reason, unavailable)) => Membership::Unknown {
            reason,
            unavailable,
        },
        None => Membership::NotIn { plans },
    }
}

/// AWS Backup's name for the resource type of `target` in the opt-in settings.
fn backup_resource_type(target: &Resource) -> Option<&'static str> {
    match &target.body {
        ResourceBody::Volume(_) => Some("EBS"),
        ResourceBody::Instance(_) => Some("EC2"),
        ResourceBody::RdsInstance(_) => Some("RDS"),
        ResourceBody::RdsCluster(c) if c.engine.starts_with("aurora") => Some("Aurora"),
        ResourceBody::RdsCluster(_) => Some("RDS"),
        ResourceBody::EfsFileSystem(_) => Some("EFS"),
        _ => None,
    }
}

/// An assignment takes effect only when the region has the resource type opted in.
fn opted_in(plan: &BackupPlan, target: &Resource, assignment: Assignment) -> Membership {
    let Some(ty) = backup_resource_type(target) else {
        return Membership::In(assignment);
    };
    match plan.resource_type_opt_in.get() {
        Ok(Some(types)) if types.get(ty) == Some(&false) => Membership::OptedOut {
            resource_type: ty,
            assignment,
        },
        Ok(_) => Membership::In(assignment),
        Err(u) => Membership::Unknown {
            reason: format!(
                "assigned by selection {} of plan {}, but whether AWS Backup is opted in for \
                 {ty} in the region is unknown: {u}",
                assignment.selection, assignment.plan
            ),
            unavailable: serde_json::to_value(u).ok(),
        },
    }
}

/// The outcome for a rule whose subject must be in a plan. `what` names the subject
/// (`EBS volume`).
pub(crate) fn outcome(m: Membership, what: &str) -> Outcome {
    match m {
        Membership::In(a) => assigned(a, what),
        Membership::OptedOut {
            resource_type,
            assignment,
        } => Outcome::fail(format!(
            "the {what} is assigned to backup plan {} but AWS Backup is opted out of \
             {resource_type} in the region, so it is never backed up",
            assignment.plan
        ))
        .with("backup_plan", &assignment.plan)
        .with("selection", &assignment.selection)
        .with("resource_type_opted_out", resource_type),
        Membership::NotIn { plans } => not_in(plans, what),
        Membership::Unknown {
            reason,
            unavailable,
        } => unknown(reason, unavailable),
    }
}

/// A pass naming the assignment.
pub(crate) fn assigned(a: Assignment, what: &str) -> Outcome {
    Outcome::pass(format!(
        "the {what} is assigned to backup plan {} by selection {} ({})",
        a.plan, a.selection, a.because
    ))
    .with("backup_plan", &a.plan)
    .with("backup_plan_arn", &a.plan_arn)
    .with("selection", &a.selection)
    .with("matched_by", &a.because)
}

/// A failure listing the plans checked.
pub(crate) fn not_in(plans: Vec<String>, what: &str) -> Outcome {
    let reason = if plans.is_empty() {
        format!("no AWS Backup plan exists in the {what}'s region")
    } else {
        format!(
            "no selection of the region's {} backup plan(s) assigns the {what}",
            plans.len()
        )
    };
    Outcome::fail(reason)
        .with("backup_plan", None::<&str>)
        .with("plans_checked", plans)
}

/// An error saying what could not be read.
pub(crate) fn unknown(reason: String, unavailable: Option<Value>) -> Outcome {
    let o = Outcome::error(format!(
        "no readable selection assigns the resource, and {reason}"
    ))
    .with("backup_plan", None::<&str>);
    match unavailable {
        Some(u) => o.with("unavailable", u),
        None => o,
    }
}

fn plan_name(plan: &BackupPlan) -> String {
    plan.name.clone().unwrap_or_else(|| plan.plan_id.clone())
}

/// `Ok(Some(why))` when `selection` assigns the resource `arn` with `tags`, `Ok(None)` when
/// it does not, `Err` when that depends on tags that could not be read.
pub(crate) fn selects(
    selection: &BackupSelection,
    arn: &str,
    tags: &Observed<Tags>,
) -> Result<Option<String>, String> {
    if selection
        .not_resources
        .iter()
        .any(|p| matches(p, arn, Case::Sensitive))
    {
        return Ok(None);
    }
    let by_arn = selection
        .resources
        .iter()
        .find(|p| matches(p, arn, Case::Sensitive));
    let needs_tags = !selection.conditions.is_empty()
        || (by_arn.is_none() && !selection.list_of_tags.is_empty());
    let no_tags = Tags::new();
    let tags = match tags {
        Observed::Collected(t) => t,
        Observed::Absent => &no_tags,
        Observed::Unavailable(u) if needs_tags => {
            return Err(format!("the resource's tags could not be collected: {u}"));
        }
        Observed::Unavailable(_) => &no_tags,
    };
    let mut because = match by_arn {
        Some(p) => format!("Resources pattern {p}"),
        None => {
            let by_tag = selection.list_of_tags.iter().find(|t| {
                let key = t.key.strip_prefix("aws:ResourceTag/").unwrap_or(&t.key);
                tags.get(key) == Some(&t.value)
            });
            match by_tag {
                Some(t) => format!("ListOfTags {}={}", t.key, t.value),
                None if selection.resources.is_empty() && selection.list_of_tags.is_empty() => {
                    "no Resources or ListOfTags: every supported resource".to_owned()
                }
                None => return Ok(None),
            }
        }
    };
    for c in &selection.conditions {
        if !condition_holds(c, tags) {
            return Ok(None);
        }
    }
    if !selection.conditions.is_empty() {
        let c: Vec<String> = selection
            .conditions
            .iter()
            .map(|c| format!("{} {}={}", c.operator, c.key, c.value))
            .collect();
        because.push_str(&format!(", and Conditions {}", c.join(", ")));
    }
    Ok(Some(because))
}

fn condition_holds(c: &SelectionCondition, tags: &Tags) -> bool {
    let key = c.key.strip_prefix("aws:ResourceTag/").unwrap_or(&c.key);
    let value = tags.get(key);
    match c.operator.as_str() {
        "StringEquals" => value == Some(&c.value),
        "StringNotEquals" => value != Some(&c.value),
        "StringLike" => value.is_some_and(|v| matches(&c.value, v, Case::Sensitive)),
        "StringNotLike" => !value.is_some_and(|v| matches(&c.value, v, Case::Sensitive)),
        // An operator AWS Backup does not define selects nothing.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::TagCondition;

    use super::*;
    use crate::testing::denied;

    const VOL: &str = "arn:aws:ec2:us-east-1:111122223333:volume/vol-1";

    fn tags(pairs: &[(&str, &str)]) -> Observed<Tags> {
        Observed::Collected(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn cond(op: &str, key: &str, value: &str) -> SelectionCondition {
        SelectionCondition {
            operator: op.into(),
            key: format!("aws:ResourceTag/{key}"),
            value: value.into(),
        }
    }

    #[test]
    fn resources_wildcards_and_exclusions() {
        let mut s = BackupSelection {
            resources: vec!["arn:aws:ec2:*:*:volume/*".into()],
            ..Default::default()
        };
        assert!(selects(&s, VOL, &tags(&[])).unwrap().is_some());
        assert!(
            selects(
                &s,
                "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
                &tags(&[])
            )
            .unwrap()
            .is_none()
        );
        s.not_resources = vec![VOL.into()];
        assert!(selects(&s, VOL, &tags(&[])).unwrap().is_none());
        let all = BackupSelection {
            resources: vec!["*".into()],
            ..Default::default()
        };
        assert!(selects(&all, VOL, &tags(&[])).unwrap().is_some());
    }

    #[test]
    fn list_of_tags_is_or_and_resources_or_tags() {
        let s = BackupSelection {
            resources: vec!["arn:aws:rds:*:*:db:*".into()],
            list_of_tags: vec![
                TagCondition {
                    condition_type: "STRINGEQUALS".into(),
                    key: "backup".into(),
                    value: "daily".into(),
                },
                TagCondition {
                    condition_type: "STRINGEQUALS".into(),
                    key: "aws:ResourceTag/tier".into(),
                    value: "phi".into(),
                },
            ],
            ..Default::default()
        };
        assert!(
            selects(&s, VOL, &tags(&[("tier", "phi")]))
                .unwrap()
                .is_some()
        );
        assert!(
            selects(&s, VOL, &tags(&[("backup", "daily")]))
                .unwrap()
                .is_some()
        );
        assert!(
            selects(&s, VOL, &tags(&[("backup", "weekly")]))
                .unwrap()
                .is_none()
        );
        assert!(selects(&s, VOL, &denied("ec2:DescribeTags")).is_err());
    }

    #[test]
    fn conditions_are_and_with_negations_and_wildcards() {
        let s = BackupSelection {
            resources: vec!["*".into()],
            conditions: vec![
                cond("StringEquals", "backup", "true"),
                cond("StringLike", "env", "prod*"),
                cond("StringNotEquals", "skip", "yes"),
                cond("StringNotLike", "owner", "temp-*"),
            ],
            ..Default::default()
        };
        let ok = [("backup", "true"), ("env", "production")];
        assert!(selects(&s, VOL, &tags(&ok)).unwrap().is_some());
        assert!(
            selects(&s, VOL, &tags(&[("backup", "true"), ("env", "dev")]))
                .unwrap()
                .is_none()
        );
        assert!(
            selects(
                &s,
                VOL,
                &tags(&[("backup", "true"), ("env", "prod"), ("skip", "yes")])
            )
            .unwrap()
            .is_none()
        );
        assert!(
            selects(
                &s,
                VOL,
                &tags(&[("backup", "true"), ("env", "prod"), ("owner", "temp-1")])
            )
            .unwrap()
            .is_none()
        );
        // Only conditions: every resource that meets them.
        let only = BackupSelection {
            conditions: vec![cond("StringEquals", "backup", "true")],
            ..Default::default()
        };
        assert!(
            selects(&only, VOL, &tags(&[("backup", "true")]))
                .unwrap()
                .is_some()
        );
        assert!(selects(&only, VOL, &tags(&[])).unwrap().is_none());
    }

    #[test]
    fn empty_selection_selects_everything() {
        let s = BackupSelection::default();
        let why = selects(&s, VOL, &tags(&[])).unwrap().expect("selected");
        assert!(why.contains("every supported resource"), "{why}");
    }
}
