//! The one implementation behind the `alarm_*` rules (the CIS CloudWatch monitoring set):
//! a multi-region CloudTrail trail that is logging all management events delivers to a
//! CloudWatch Logs log group; a metric filter on that group matches the events the rule
//! names; a metric alarm watches the filter's metric and, with its actions enabled,
//! notifies an SNS topic that has at least one confirmed subscription.
//!
//! The subject is the account: one such chain serves every region. The evidence names each
//! link found, or the first one missing; data that could not be collected on the way makes
//! the result `Error`, never `Pass`.

use posture_model::resources::{LogGroup, MetricAlarm, MetricName, SnsSubscriptions, Trail};
use posture_model::{Gap, Observed, Resource, ResourceBody, ResourceKind, Unavailable};
use serde_json::{Value, json};

use super::pattern::{self, Requirement};
use crate::rules::cloudtrail::trails::{self, Known};
use crate::{Ctx, Outcome};

/// What every `alarm_*` rule reads.
pub(crate) const API_CALLS: &[&str] = &[
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "logs:DescribeLogGroups",
    "logs:DescribeMetricFilters",
    "cloudwatch:DescribeAlarms",
    "sns:ListSubscriptionsByTopic",
];

/// One monitoring rule's target.
#[derive(Debug)]
pub(crate) struct AlarmSpec {
    /// What is monitored, for reasons ("root account usage").
    pub what: &'static str,
    /// The clauses a metric filter must have.
    pub requirement: Requirement,
}

/// How far along the chain a trail got, deepest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Link {
    Trail,
    LogGroup,
    MetricFilter,
    Alarm,
    AlarmAction,
    Subscription,
}

impl Link {
    fn name(self) -> &'static str {
        match self {
            Link::Trail => "trail",
            Link::LogGroup => "log_group",
            Link::MetricFilter => "metric_filter",
            Link::Alarm => "alarm",
            Link::AlarmAction => "alarm_action",
            Link::Subscription => "subscription",
        }
    }
}

/// What following one trail's chain found.
enum Walked {
    Complete(Value),
    Missing(Link, String),
    Unknown(String, Option<Value>),
}

/// Evaluates one `alarm_*` rule on an account.
pub(crate) fn check(spec: &AlarmSpec, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
    let ResourceBody::Account(_) = &subject.body else {
        return Outcome::not_applicable("not an account");
    };
    let all = trails::in_account(ctx, &subject.account);
    let mut examined = Vec::new();
    let mut deepest: Option<(Link, String)> = None;
    let mut unknown: Option<(String, Option<Value>)> = None;
    for (resource, trail) in &all {
        let mut steps = trails::summary(resource, trail);
        let walked = walk(spec, subject, trail, ctx, &mut steps);
        match walked {
            Walked::Complete(chain) => {
                examined.push(steps);
                return Outcome::pass(format!(
                    "{} is monitored: trail {} → log group {} → metric filter {} → alarm {} → \
                     SNS topic {} ({} confirmed subscription(s))",
                    spec.what,
                    chain["trail"].as_str().unwrap_or_default(),
                    chain["log_group"].as_str().unwrap_or_default(),
                    chain["metric_filter"].as_str().unwrap_or_default(),
                    chain["alarm"].as_str().unwrap_or_default(),
                    chain["topic"].as_str().unwrap_or_default(),
                    chain["confirmed_subscriptions"],
                ))
                .with("chain", chain)
                .with("trails", examined);
            }
            Walked::Missing(link, why) => {
                steps["missing"] = json!(link.name());
                steps["why"] = json!(why);
                if deepest.as_ref().is_none_or(|(l, _)| link > *l) {
                    deepest = Some((link, why));
                }
            }
            Walked::Unknown(why, detail) => {
                steps["unknown"] = json!(why);
                unknown.get_or_insert((why, detail));
            }
        }
        examined.push(steps);
    }
    if let Some(gap) = trails::describe_gap(ctx, &subject.account) {
        return trails::gap_error(gap).with("trails", examined);
    }
    if let Some((why, detail)) = unknown {
        let mut o = Outcome::error(why).with("trails", examined);
        if let Some(d) = detail {
            o = o.with("unavailable", d);
        }
        return o;
    }
    let (link, why) = deepest.unwrap_or((
        Link::Trail,
        "the account has no CloudTrail trail".to_owned(),
    ));
    Outcome::fail(format!("{} is not monitored: {why}", spec.what))
        .with("missing", link.name())
        .with("trails", examined)
}

/// Follows one trail's chain, recording what it finds in `steps`.
fn walk(
    spec: &AlarmSpec,
    subject: &Resource,
    trail: &Trail,
    ctx: &Ctx<'_>,
    steps: &mut Value,
) -> Walked {
    if !trail.is_multi_region {
        return Walked::Missing(
            Link::Trail,
            format!("trail {} is not multi-region", trail.name),
        );
    }
    match trails::logging(trail).and(trails::all_management_events(trail)) {
        Known::Yes => {}
        Known::No => {
            return Walked::Missing(
                Link::Trail,
                format!(
                    "multi-region trail {} is not logging all management events",
                    trail.name
                ),
            );
        }
        Known::Unknown(u) => {
            return unavailable(
                &format!("the status or event selectors of trail {}", trail.name),
                u,
            );
        }
    }
    let Some(group_arn) = trail.cloudwatch_logs_log_group_arn.as_deref() else {
        return Walked::Missing(
            Link::LogGroup,
            format!(
                "trail {} delivers to no CloudWatch Logs log group",
                trail.name
            ),
        );
    };
    steps["log_group_arn"] = json!(group_arn);
    let Some((region, account, name)) = parse_log_group_arn(group_arn) else {
        return Walked::Unknown(
            format!(
                "trail {}'s log group ARN {group_arn} could not be read",
                trail.name
            ),
            None,
        );
    };
    let Some(group) = find_log_group(ctx, region, account, name) else {
        return match not_collected(ctx, subject, account, region, "logs:DescribeLogGroups") {
            Some(why) => Walked::Unknown(format!("log group {name}: {why}"), None),
            None => Walked::Missing(
                Link::LogGroup,
                format!(
                    "trail {} delivers to log group {name} in {region}, which does not exist",
                    trail.name
                ),
            ),
        };
    };
    let filters = match &group.metric_filters {
        Observed::Collected(f) => f.as_slice(),
        Observed::Absent => &[],
        Observed::Unavailable(u) => {
            return unavailable(&format!("the metric filters of log group {name}"), u);
        }
    };
    let mut covering = Vec::new();
    let mut not_covering = Vec::new();
    for f in filters {
        match pattern::parse(&f.pattern) {
            Ok(alternatives) => {
                let missing = spec.requirement.uncovered(&alternatives);
                if missing.is_empty() {
                    covering.push(f);
                } else {
                    not_covering
                        .push(json!({"name": f.name, "pattern": f.pattern, "uncovered": missing}));
                }
            }
            Err(e) => {
                not_covering.push(json!({"name": f.name, "pattern": f.pattern, "unparsed": e}))
            }
        }
    }
    steps["filters_not_covering"] = json!(not_covering);
    steps["filters_covering"] = json!(covering.iter().map(|f| &f.name).collect::<Vec<_>>());
    if covering.is_empty() {
        return Walked::Missing(
            Link::MetricFilter,
            format!(
                "none of the {} metric filter(s) on log group {name} matches every required \
                 event",
                filters.len()
            ),
        );
    }

    let alarms: Vec<(&Resource, &MetricAlarm)> = ctx
        .index
        .in_scope_named(ResourceKind::MetricAlarm, account, region)
        .iter()
        .copied()
        .filter_map(|r| match &r.body {
            ResourceBody::MetricAlarm(a) => Some((r, a)),
            _ => None,
        })
        .collect();
    let mut deepest = (Link::Alarm, String::new());
    let mut unknown = None;
    let mut alarms_seen = Vec::new();
    for f in &covering {
        for metric in &f.metrics {
            for (_, alarm) in alarms.iter().filter(|(_, a)| a.metrics.contains(metric)) {
                let mut seen = json!({"alarm": alarm.name, "metric_filter": f.name,
                    "metric": metric_text(metric), "actions_enabled": alarm.actions_enabled});
                let outcome = alarm_notifies(ctx, subject, alarm, &mut seen);
                alarms_seen.push(seen);
                match outcome {
                    Notifies::Yes(topic, confirmed) => {
                        steps["alarms"] = json!(alarms_seen);
                        return Walked::Complete(json!({
                            "trail": trail.name,
                            "log_group": name,
                            "log_group_region": region,
                            "metric_filter": f.name,
                            "metric_filter_pattern": f.pattern,
                            "metric": metric_text(metric),
                            "alarm": alarm.name,
                            "topic": topic,
                            "confirmed_subscriptions": confirmed,
                        }));
                    }
                    Notifies::No(link, why) => {
                        if link > deepest.0 || deepest.1.is_empty() {
                            deepest = (link, why);
                        }
                    }
                    Notifies::Unknown(why) => {
                        unknown.get_or_insert(why);
                    }
                }
            }
        }
    }
    steps["alarms"] = json!(alarms_seen);
    if let Some(why) = unknown {
        return Walked::Unknown(why, None);
    }
    if alarms_seen.is_empty() {
        if let Some(why) = not_collected(ctx, subject, account, region, "cloudwatch:DescribeAlarms")
        {
            return Walked::Unknown(format!("alarms in {region}: {why}"), None);
        }
        let metrics: Vec<String> = covering
            .iter()
            .flat_map(|f| f.metrics.iter().map(metric_text))
            .collect();
        return Walked::Missing(
            Link::Alarm,
            format!(
                "no metric alarm in {region} watches the metric(s) {} of metric filter(s) {}",
                metrics.join(", "),
                covering
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    Walked::Missing(deepest.0, deepest.1)
}

enum Notifies {
    Yes(String, u32),
    No(Link, String),
    Unknown(String),
}

/// Whether `alarm` notifies an SNS topic with a confirmed subscription.
fn alarm_notifies(
    ctx: &Ctx<'_>,
    subject: &Resource,
    alarm: &MetricAlarm,
    seen: &mut Value,
) -> Notifies {
    if !alarm.actions_enabled {
        return Notifies::No(
            Link::AlarmAction,
            format!("alarm {} has its actions disabled", alarm.name),
        );
    }
    let topics: Vec<&str> = alarm
        .alarm_actions
        .iter()
        .map(String::as_str)
        .filter(|a| a.split(':').nth(2) == Some("sns"))
        .collect();
    seen["sns_topics"] = json!(topics);
    if topics.is_empty() {
        return Notifies::No(
            Link::AlarmAction,
            format!("alarm {} notifies no SNS topic when in ALARM", alarm.name),
        );
    }
    let mut unknown = None;
    let mut counts = Vec::new();
    for topic in &topics {
        let mut parts = topic.split(':');
        let (Some(region), Some(account)) = (parts.nth(3), parts.next()) else {
            continue;
        };
        match find_subscriptions(ctx, region, account) {
            Some(subs) => {
                let s = subs.of(topic);
                counts
                    .push(json!({"topic": topic, "confirmed": s.confirmed, "pending": s.pending}));
                if s.confirmed > 0 {
                    seen["subscriptions"] = json!(counts);
                    return Notifies::Yes((*topic).to_owned(), s.confirmed);
                }
            }
            None => {
                let why = not_collected(
                    ctx,
                    subject,
                    account,
                    region,
                    "sns:ListSubscriptionsByTopic",
                )
                .unwrap_or_else(|| "its region's subscriptions were not collected".to_owned());
                unknown.get_or_insert(format!("the subscriptions of SNS topic {topic}: {why}"));
            }
        }
    }
    seen["subscriptions"] = json!(counts);
    if let Some(why) = unknown {
        return Notifies::Unknown(why);
    }
    Notifies::No(
        Link::Subscription,
        format!(
            "alarm {} notifies SNS topic(s) {} with no confirmed subscription",
            alarm.name,
            topics.join(", ")
        ),
    )
}

fn metric_text(m: &MetricName) -> String {
    format!("{}/{}", m.namespace, m.name)
}

fn unavailable(what: &str, why: &Unavailable) -> Walked {
    Walked::Unknown(
        format!("{what} could not be collected: {why}"),
        serde_json::to_value(why).ok(),
    )
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]` → (region, account, name).
pub(crate) fn parse_log_group_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "logs", region, account, "log-group", name, ..] if !name.is_empty() => {
            Some((region, account, name))
        }
        _ => None,
    }
}

/// The collected log group `name` in `account`/`region`.
fn find_log_group<'a>(
    ctx: &Ctx<'a>,
    region: &str,
    account: &str,
    name: &str,
) -> Option<&'a LogGroup> {
    ctx.index
        .in_scope_named(ResourceKind::LogGroup, account, region)
        .iter()
        .copied()
        .find_map(|r| match &r.body {
            ResourceBody::LogGroup(g) if g.name == name => Some(g),
            _ => None,
        })
}

/// The region's SNS subscription summary of `account`, if collected.
fn find_subscriptions<'a>(
    ctx: &Ctx<'a>,
    region: &str,
    account: &str,
) -> Option<&'a SnsSubscriptions> {
    ctx.index
        .in_scope_named(ResourceKind::SnsSubscriptions, account, region)
        .iter()
        .copied()
        .find_map(|r| match &r.body {
            ResourceBody::SnsSubscriptions(s) => Some(s),
            _ => None,
        })
}

/// Why `operation`'s data for `account`/`region` may be missing: a failed list call there,
/// or a region (or account) the scan did not cover. `None` when it was read and is simply
/// not there.
fn not_collected(
    ctx: &Ctx<'_>,
    subject: &Resource,
    account: &str,
    region: &str,
    operation: &str,
) -> Option<String> {
    let gap: Option<&Gap> = posture_model::AccountId::new(account).ok().and_then(|a| {
        ctx.index
            .list_gaps_in(&a)
            .iter()
            .find(|g| g.region.as_str() == region && g.operation == operation)
            .copied()
    });
    if let Some(g) = gap {
        return Some(format!(
            "{operation} failed in {account}/{region}: {}",
            g.message
        ));
    }
    let scanned = !ctx
        .index
        .in_scope_named(ResourceKind::Region, account, region)
        .is_empty();
    if !scanned {
        let whose = if subject.account.as_str() == account {
            "the scan did not cover that region".to_owned()
        } else {
            format!("it is in account {account}, which this evaluation does not cover")
        };
        return Some(format!(
            "{region} of account {account} was not collected ({whose})"
        ));
    }
    if let (Ok(a), Ok(r)) = (
        posture_model::AccountId::new(account),
        posture_model::Region::new(region),
    ) && !ctx.index.was_collected(&a, &r, "cloudwatch")
    {
        return Some(format!(
            "cloudwatch was not collected in {account}/{region} (not in scan.services)"
        ));
    }
    None
}

/// Fixtures and the cases every `alarm_*` rule is tested on.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use posture_model::resources::{
        LogGroup, MetricAlarm, MetricFilter, MetricName, RegionInfo, SnsSubscriptions,
        TopicSubscriptions,
    };
    use posture_model::{Coverage, Observed, Resource, ResourceBody, Status};

    use crate::rules::cloudtrail::fixtures::{account_subject, multi_region_trail, trail_resource};
    use crate::testing::{denied, expect, list_gap, region, resource, run};
    use crate::{Baseline, Outcome, Rule};

    /// The topic the fixture alarm notifies.
    pub(crate) const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:security-alerts";
    const GROUP: &str = "org-trail";

    /// A log group in the fixture region with the given filters.
    pub(crate) fn log_group(name: &str, filters: Vec<MetricFilter>) -> Resource {
        resource(
            &format!("arn:aws:logs:us-east-1:111122223333:log-group:{name}"),
            region(),
            ResourceBody::LogGroup(LogGroup {
                name: name.into(),
                kms_key_id: None,
                retention_in_days: None,
                creation_time: None,
                metric_filters: Observed::Collected(filters),
            }),
        )
    }

    /// A metric filter publishing `CISBenchmark/<metric>`.
    pub(crate) fn filter(name: &str, pattern: &str, metric: &str) -> MetricFilter {
        MetricFilter {
            name: name.into(),
            pattern: pattern.into(),
            metrics: vec![MetricName {
                namespace: "CISBenchmark".into(),
                name: metric.into(),
            }],
        }
    }

    /// An enabled alarm on `CISBenchmark/<metric>` notifying `topic`.
    pub(crate) fn alarm(name: &str, metric: &str, topic: &str) -> MetricAlarm {
        MetricAlarm {
            name: name.into(),
            metrics: vec![MetricName {
                namespace: "CISBenchmark".into(),
                name: metric.into(),
            }],
            actions_enabled: true,
            alarm_actions: vec![topic.into()],
            ok_actions: vec![],
            insufficient_data_actions: vec![topic.into()],
        }
    }

    /// An alarm resource in the fixture region.
    pub(crate) fn alarm_resource(a: MetricAlarm) -> Resource {
        resource(
            &format!("arn:aws:cloudwatch:us-east-1:111122223333:alarm:{}", a.name),
            region(),
            ResourceBody::MetricAlarm(a),
        )
    }

    /// The fixture region's subscription summary: `topic` with `confirmed` subscriptions.
    pub(crate) fn subscriptions(topic: &str, confirmed: u32) -> Resource {
        let mut topics = BTreeMap::new();
        topics.insert(
            topic.to_owned(),
            TopicSubscriptions {
                confirmed,
                pending: 1,
                protocols: if confirmed > 0 {
                    vec!["email".into()]
                } else {
                    vec![]
                },
            },
        );
        resource(
            "arn:aws:sns:us-east-1:111122223333:subscriptions/summary",
            region(),
            ResourceBody::SnsSubscriptions(SnsSubscriptions { topics }),
        )
    }

    /// The fixture region as a scanned-region subject.
    pub(crate) fn scanned_region() -> Resource {
        resource(
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
            region(),
            ResourceBody::Region(RegionInfo { name: region() }),
        )
    }

    /// A complete chain for `pattern`: logging multi-region trail → log group → filter →
    /// alarm → topic with one confirmed subscription.
    pub(crate) fn chain(pattern: &str) -> Vec<Resource> {
        let mut t = multi_region_trail("org-trail");
        t.cloudwatch_logs_log_group_arn = Some(format!(
            "arn:aws:logs:us-east-1:111122223333:log-group:{GROUP}:*"
        ));
        vec![
            trail_resource(t),
            log_group(GROUP, vec![filter("cis-filter", pattern, "CisMetric")]),
            alarm_resource(alarm("cis-alarm", "CisMetric", TOPIC)),
            subscriptions(TOPIC, 1),
            scanned_region(),
        ]
    }

    fn replace(resources: &mut [Resource], f: impl Fn(&mut ResourceBody)) {
        for r in resources.iter_mut() {
            f(&mut r.body);
        }
    }

    /// Runs the Pass / Fail / Error / NotApplicable cases every `alarm_*` rule must meet,
    /// with `pattern` a filter pattern that monitors what the rule asks for and `partial` one
    /// that misses part of it.
    pub(crate) fn standard_cases(rule: &dyn Rule, pattern: &str, partial: &str) {
        let subject = account_subject();
        // Pass: the whole chain.
        let o = expect(run(rule, &subject, &chain(pattern)), Status::Pass);
        assert_eq!(o.evidence["chain"]["alarm"], "cis-alarm");
        assert_eq!(o.evidence["chain"]["topic"], TOPIC);
        assert_eq!(o.evidence["chain"]["metric_filter"], "cis-filter");

        // Fail: the filter misses part of the events.
        let o = expect(run(rule, &subject, &chain(partial)), Status::Fail);
        assert_eq!(o.evidence["missing"], "metric_filter", "{o:?}");
        assert!(
            o.evidence["trails"][0]["filters_not_covering"][0]["name"] == "cis-filter",
            "{o:?}"
        );

        // Fail: no alarm on the metric.
        let mut r = chain(pattern);
        r.retain(|x| !matches!(x.body, ResourceBody::MetricAlarm(_)));
        let o = expect(run(rule, &subject, &r), Status::Fail);
        assert_eq!(o.evidence["missing"], "alarm");
        assert!(o.reason.contains("CISBenchmark/CisMetric"), "{}", o.reason);

        // Fail: actions disabled.
        let mut r = chain(pattern);
        replace(&mut r, |b| {
            if let ResourceBody::MetricAlarm(a) = b {
                a.actions_enabled = false;
            }
        });
        let o = expect(run(rule, &subject, &r), Status::Fail);
        assert_eq!(o.evidence["missing"], "alarm_action");

        // Fail: the topic has only a pending subscription.
        let mut r = chain(pattern);
        r.retain(|x| !matches!(x.body, ResourceBody::SnsSubscriptions(_)));
        r.push(subscriptions(TOPIC, 0));
        let o = expect(run(rule, &subject, &r), Status::Fail);
        assert_eq!(o.evidence["missing"], "subscription");
        assert!(o.reason.contains(TOPIC), "{}", o.reason);

        // Fail: the trail is not multi-region.
        let mut r = chain(pattern);
        replace(&mut r, |b| {
            if let ResourceBody::Trail(t) = b {
                t.is_multi_region = false;
            }
        });
        let o = expect(run(rule, &subject, &r), Status::Fail);
        assert_eq!(o.evidence["missing"], "trail");

        // Fail: no trail at all.
        let o = expect(run(rule, &subject, &[]), Status::Fail);
        assert!(o.reason.contains("no CloudTrail trail"), "{}", o.reason);

        // Error: the metric filters could not be read.
        let mut r = chain(pattern);
        replace(&mut r, |b| {
            if let ResourceBody::LogGroup(g) = b {
                g.metric_filters = denied("logs:DescribeMetricFilters");
            }
        });
        let o = expect(run(rule, &subject, &r), Status::Error);
        assert!(
            o.reason.contains("logs:DescribeMetricFilters"),
            "{}",
            o.reason
        );

        // Error: the subscriptions could not be listed (no summary, a ListSubscriptions gap).
        let mut r = chain(pattern);
        r.retain(|x| !matches!(x.body, ResourceBody::SnsSubscriptions(_)));
        let f = finding_with_gap(rule, &r, "sns:ListSubscriptionsByTopic");
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("sns:ListSubscriptionsByTopic"),
            "{}",
            f.reason
        );

        // Error: the trail's status could not be read.
        let mut r = chain(pattern);
        replace(&mut r, |b| {
            if let ResourceBody::Trail(t) = b {
                t.status = denied("cloudtrail:GetTrailStatus");
            }
        });
        let o = expect(run(rule, &subject, &r), Status::Error);
        assert!(
            o.reason.contains("cloudtrail:GetTrailStatus"),
            "{}",
            o.reason
        );

        // NotApplicable: not an account.
        let o: Outcome = expect(
            run(rule, &scanned_region(), &chain(pattern)),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("account"), "{}", o.reason);
    }

    /// The finding of `rule` on the fixture account, evaluated with a list gap for
    /// `operation` in the fixture region.
    fn finding_with_gap(
        rule: &dyn Rule,
        resources: &[Resource],
        operation: &str,
    ) -> posture_model::Finding {
        let toml = format!(
            "name = \"t\"\nversion = \"1\"\n[[citations]]\nid = \"t\"\ntitle = \"t\"\nrules = [\"{}\"]\n",
            rule.meta().id
        );
        let baseline = Baseline::from_toml("test.toml", &toml).expect("valid baseline");
        let coverage = Coverage {
            failed: vec![list_gap(operation, region())],
            ..Default::default()
        };
        let mut all = resources.to_vec();
        all.push(account_subject());
        crate::testing::evaluate(&all, &coverage, &baseline, crate::testing::now())
            .into_iter()
            .find(|f| f.resource.arn.as_str() == "arn:aws:iam::111122223333:root")
            .expect("a finding about the account")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::fixtures::*;
    use super::*;
    use crate::rules::cloudtrail::fixtures::account_subject;
    use crate::rules::cloudwatch::alarm_cloudtrail_config_changes::AlarmCloudtrailConfigChanges;
    use crate::testing::{expect, run};

    const PATTERN: &str = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || \
                           ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || \
                           ($.eventName = StopLogging) }";

    #[test]
    fn parses_log_group_arns_with_and_without_the_star() {
        assert_eq!(
            parse_log_group_arn("arn:aws:logs:us-east-1:111122223333:log-group:trail:*"),
            Some(("us-east-1", "111122223333", "trail"))
        );
        assert_eq!(
            parse_log_group_arn("arn:aws:logs:eu-west-1:111122223333:log-group:/aws/x"),
            Some(("eu-west-1", "111122223333", "/aws/x"))
        );
        assert_eq!(parse_log_group_arn("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn missing_log_group_fails_but_unscanned_region_errors() {
        let mut r = chain(PATTERN);
        r.retain(|x| !matches!(x.body, ResourceBody::LogGroup(_)));
        let o = expect(
            run(&AlarmCloudtrailConfigChanges, &account_subject(), &r),
            Status::Fail,
        );
        assert_eq!(o.evidence["missing"], "log_group");
        r.retain(|x| !matches!(x.body, ResourceBody::Region(_)));
        let o = expect(
            run(&AlarmCloudtrailConfigChanges, &account_subject(), &r),
            Status::Error,
        );
        assert!(o.reason.contains("not collected"), "{}", o.reason);
    }

    #[test]
    fn a_second_alarm_that_notifies_makes_up_for_a_silent_one() {
        let mut r = chain(PATTERN);
        let mut silent = alarm("silent", "CisMetric", TOPIC);
        silent.alarm_actions.clear();
        r.push(alarm_resource(silent));
        let o = expect(
            run(&AlarmCloudtrailConfigChanges, &account_subject(), &r),
            Status::Pass,
        );
        assert_eq!(o.evidence["chain"]["alarm"], "cis-alarm");
    }

    #[test]
    fn alarm_on_another_metric_does_not_count() {
        let mut r = chain(PATTERN);
        r.retain(|x| !matches!(x.body, ResourceBody::MetricAlarm(_)));
        r.push(alarm_resource(alarm("other", "OtherMetric", TOPIC)));
        let o = expect(
            run(&AlarmCloudtrailConfigChanges, &account_subject(), &r),
            Status::Fail,
        );
        assert_eq!(o.evidence["missing"], "alarm");
    }
}
