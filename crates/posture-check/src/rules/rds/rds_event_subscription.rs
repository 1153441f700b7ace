//! `rds_event_subscription`: in a region with DB instances or clusters, every one of them is
//! covered by an enabled, active RDS event subscription for the critical event categories
//! (`instance_event_categories` for instances, `cluster_event_categories` for clusters).
//!
//! A subscription covers a source when its source type matches (or is unset: all types),
//! its source id list is empty (all sources) or names it, and its category list is empty
//! (all categories) or includes every required category.

use posture_model::resources::RdsEventSubscription;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsEventSubscriptionRule;

static META: RuleMeta = RuleMeta {
    id: "rds_event_subscription",
    title: "RDS event subscription covers critical instance and cluster events",
    severity: Severity::Medium,
    subject: ResourceKind::Region,
    rationale: "Without a subscription, failures and availability events of databases holding \
                ePHI reach nobody, so security incidents and outages are not identified and \
                responded to in time (164.308(a)(6)(ii)).",
    remediation: "Create an enabled subscription to an SNS topic someone watches: aws rds \
                  create-event-subscription --subscription-name phi-db-events --sns-topic-arn \
                  TOPIC --source-type db-instance --event-categories failure availability (and \
                  one with --source-type db-cluster --event-categories failure for clusters).",
    api_calls: &[
        "rds:DescribeEventSubscriptions",
        "rds:DescribeDBInstances",
        "rds:DescribeDBClusters",
    ],
    params: &[
        ParamSpec {
            name: "instance_event_categories",
            ty: ParamType::StringList,
            default: "failure,availability",
            doc: "Event categories a db-instance subscription must include (an empty category \
                  list in the subscription means all).",
        },
        ParamSpec {
            name: "cluster_event_categories",
            ty: ParamType::StringList,
            default: "failure",
            doc: "Event categories a db-cluster subscription must include.",
        },
    ],
};

/// Whether `sub` is live and covers source `id` of `source_type` for every category.
fn covers(sub: &RdsEventSubscription, source_type: &str, id: &str, categories: &[String]) -> bool {
    sub.enabled
        && sub.status.as_deref().is_none_or(|s| s == "active")
        && sub.source_type.as_deref().is_none_or(|t| t == source_type)
        && (sub.source_ids.is_empty() || sub.source_ids.iter().any(|s| s == id))
        && (sub.event_categories.is_empty()
            || categories
                .iter()
                .all(|c| sub.event_categories.iter().any(|e| e == c)))
}

impl Rule for RdsEventSubscriptionRule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Region(info) = &subject.body else {
            return Outcome::not_applicable("not a region");
        };
        let region = info.name.as_str();
        let (account, r) = (&subject.account, &subject.region);
        let instances: Vec<&str> = ctx
            .resources(ResourceKind::RdsInstance, account, r)
            .filter_map(|x| match &x.body {
                ResourceBody::RdsInstance(i) => Some(i.identifier.as_str()),
                _ => None,
            })
            .collect();
        let clusters: Vec<&str> = ctx
            .resources(ResourceKind::RdsCluster, account, r)
            .filter_map(|x| match &x.body {
                ResourceBody::RdsCluster(c) => Some(c.identifier.as_str()),
                _ => None,
            })
            .collect();
        if instances.is_empty() && clusters.is_empty() {
            return Outcome::not_applicable(format!("{region} has no RDS instances or clusters"))
                .with("region", region);
        }
        let subs: Vec<&RdsEventSubscription> = ctx
            .resources(ResourceKind::RdsEventSubscription, account, r)
            .filter_map(|x| match &x.body {
                ResourceBody::RdsEventSubscription(s) => Some(s),
                _ => None,
            })
            .collect();
        let instance_cats = ctx.strings("instance_event_categories");
        let cluster_cats = ctx.strings("cluster_event_categories");
        let uncovered = |ids: &[&str], ty: &str, cats: &[String]| -> Vec<String> {
            ids.iter()
                .filter(|id| !subs.iter().any(|s| covers(s, ty, id, cats)))
                .map(|id| (*id).to_owned())
                .collect()
        };
        let bad_instances = uncovered(&instances, "db-instance", &instance_cats);
        let bad_clusters = uncovered(&clusters, "db-cluster", &cluster_cats);
        let considered: Vec<_> = subs
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "enabled": s.enabled,
                    "status": s.status,
                    "source_type": s.source_type,
                    "source_ids": s.source_ids,
                    "event_categories": s.event_categories,
                })
            })
            .collect();
        let outcome = if bad_instances.is_empty() && bad_clusters.is_empty() {
            Outcome::pass(format!(
                "every RDS instance ({}) and cluster ({}) in {region} is covered by an active \
                 event subscription",
                instances.len(),
                clusters.len()
            ))
        } else {
            let mut parts = Vec::new();
            if !bad_instances.is_empty() {
                parts.push(format!(
                    "instances {} (need {})",
                    bad_instances.join(", "),
                    instance_cats.join(", ")
                ));
            }
            if !bad_clusters.is_empty() {
                parts.push(format!(
                    "clusters {} (need {})",
                    bad_clusters.join(", "),
                    cluster_cats.join(", ")
                ));
            }
            Outcome::fail(format!(
                "no active event subscription in {region} covers {}",
                parts.join("; ")
            ))
        };
        outcome
            .with("region", region)
            .with("uncovered_instances", bad_instances)
            .with("uncovered_clusters", bad_clusters)
            .with("subscriptions", considered)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    fn region_subject() -> Resource {
        resource(
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
            region(),
            ResourceBody::Region(posture_model::resources::RegionInfo { name: region() }),
        )
    }

    fn sub(source_type: &str, categories: &[&str], enabled: bool) -> Resource {
        resource(
            &format!("arn:aws:rds:us-east-1:111122223333:es:{source_type}"),
            region(),
            ResourceBody::RdsEventSubscription(RdsEventSubscription {
                name: format!("sub-{source_type}"),
                enabled,
                status: Some("active".into()),
                sns_topic_arn: Some("arn:aws:sns:us-east-1:111122223333:ops".into()),
                source_type: Some(source_type.into()),
                source_ids: vec![],
                event_categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            }),
        )
    }

    #[test]
    fn pass_when_instances_and_clusters_covered() {
        let o = expect(
            run(
                &RdsEventSubscriptionRule,
                &region_subject(),
                &[
                    instance_resource(instance("db1")),
                    cluster_resource(cluster("c1")),
                    sub("db-instance", &["failure", "availability"], true),
                    sub("db-cluster", &[], true),
                ],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["uncovered_instances"], serde_json::json!([]));
    }

    #[test]
    fn fail_when_missing_category_or_disabled() {
        let o = expect(
            run(
                &RdsEventSubscriptionRule,
                &region_subject(),
                &[
                    instance_resource(instance("db1")),
                    sub("db-instance", &["failure"], true),
                ],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["uncovered_instances"],
            serde_json::json!(["db1"])
        );
        let o = expect(
            run(
                &RdsEventSubscriptionRule,
                &region_subject(),
                &[
                    cluster_resource(cluster("c1")),
                    sub("db-cluster", &[], false),
                ],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("clusters c1"), "{}", o.reason);
    }

    /// A subscription covers an instance only when it is active, for instances, and lists
    /// every required category (or none, meaning all); the reason names what is missing.
    #[test]
    fn only_an_active_instance_subscription_with_every_category_covers() {
        let uncovered = |s: Resource| {
            let o = expect(
                run(
                    &RdsEventSubscriptionRule,
                    &region_subject(),
                    &[instance_resource(instance("db1")), s],
                ),
                Status::Fail,
            );
            assert_eq!(
                o.evidence["uncovered_instances"],
                serde_json::json!(["db1"])
            );
            assert!(
                o.reason
                    .contains("instances db1 (need failure, availability)"),
                "{}",
                o.reason
            );
            assert!(!o.reason.contains("clusters"), "{}", o.reason);
        };
        // Two categories, neither of them availability.
        uncovered(sub("db-instance", &["failure", "deletion"], true));
        // A cluster subscription does not cover instances.
        uncovered(sub("db-cluster", &[], true));
        // Enabled but not active (its SNS topic is gone).
        let mut s = sub("db-instance", &[], true);
        if let ResourceBody::RdsEventSubscription(e) = &mut s.body {
            e.status = Some("topic-not-exist".into());
        }
        uncovered(s);
        // Limited to another instance.
        let mut s = sub("db-instance", &[], true);
        if let ResourceBody::RdsEventSubscription(e) = &mut s.body {
            e.source_ids = vec!["db2".into()];
        }
        uncovered(s);
    }

    #[test]
    fn error_when_subscriptions_could_not_be_listed() {
        let f = finding_with_list_gap(
            &RdsEventSubscriptionRule,
            region_subject(),
            "rds:DescribeEventSubscriptions",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("rds:DescribeEventSubscriptions"),
            "{}",
            f.reason
        );
    }

    #[test]
    fn not_applicable_without_databases() {
        let o = expect(
            run(&RdsEventSubscriptionRule, &region_subject(), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["region"], "us-east-1");
    }
}
