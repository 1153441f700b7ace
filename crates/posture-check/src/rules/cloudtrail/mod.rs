//! CLOUDTRAIL rules.

use crate::Rule;

mod cloudtrail_bedrock_data_events;
mod cloudtrail_cloudwatch_logs;
mod cloudtrail_insights;
mod cloudtrail_kms_encryption;
mod cloudtrail_log_bucket_access_logging;
mod cloudtrail_log_bucket_mfa_delete;
mod cloudtrail_log_bucket_not_public;
mod cloudtrail_log_file_validation;
mod cloudtrail_management_events_rw;
mod cloudtrail_multi_region_trail;
mod cloudtrail_s3_data_events_read;
mod cloudtrail_s3_data_events_write;
mod cloudtrail_trail_logging_in_region;
#[cfg(test)]
mod data_event_cases;
pub(crate) mod selectors;

/// The CLOUDTRAIL rules.
pub const RULES: &[&dyn Rule] = &[
    &cloudtrail_bedrock_data_events::CloudtrailBedrockDataEvents,
    &cloudtrail_cloudwatch_logs::CloudtrailCloudwatchLogs,
    &cloudtrail_insights::CloudtrailInsights,
    &cloudtrail_kms_encryption::CloudtrailKmsEncryption,
    &cloudtrail_log_bucket_access_logging::CloudtrailLogBucketAccessLogging,
    &cloudtrail_log_bucket_mfa_delete::CloudtrailLogBucketMfaDelete,
    &cloudtrail_log_bucket_not_public::CloudtrailLogBucketNotPublic,
    &cloudtrail_log_file_validation::CloudtrailLogFileValidation,
    &cloudtrail_management_events_rw::CloudtrailManagementEventsRw,
    &cloudtrail_multi_region_trail::CloudtrailMultiRegionTrail,
    &cloudtrail_s3_data_events_read::CloudtrailS3DataEventsRead,
    &cloudtrail_s3_data_events_write::CloudtrailS3DataEventsWrite,
    &cloudtrail_trail_logging_in_region::CloudtrailTrailLoggingInRegion,
];

/// Looking at every trail of an account, for the account- and region-wide rules.
pub(crate) mod trails {
    use posture_model::resources::Trail;
    use posture_model::{
        AccountId, Gap, Observed, Region, Resource, ResourceBody, ResourceKind, Unavailable,
    };
    use serde_json::{Value, json};

    use crate::{Ctx, Outcome};

    /// The bucket a trail delivers to, found among the buckets collected for the trail's
    /// account (any region). Its name and resource, or the `Error` outcome saying why it
    /// could not be inspected: never a pass by default.
    pub(crate) fn log_bucket<'a>(
        subject: &Resource,
        trail: &'a Trail,
        ctx: &Ctx<'a>,
    ) -> Result<(&'a str, &'a Resource), Outcome> {
        let Some(name) = trail.s3_bucket_name.as_deref() else {
            return Err(Outcome::error(
                "the trail names no S3 bucket, so its log bucket could not be inspected",
            ));
        };
        let found = ctx
            .index
            .in_account(ResourceKind::S3Bucket, &subject.account)
            .iter()
            .copied()
            .find(|r| matches!(&r.body, ResourceBody::S3Bucket(b) if b.name == name));
        match found {
            Some(bucket) => Ok((name, bucket)),
            None => Err(Outcome::error(format!(
                "the log bucket {name} could not be inspected: it is not among the buckets \
                 collected for account {} (it may belong to another account)",
                subject.account
            ))
            .with("s3_bucket_name", name)),
        }
    }

    /// The list call whose failure hides trails.
    pub(crate) const DESCRIBE_TRAILS: &str = "cloudtrail:DescribeTrails";

    /// Every trail collected for `account`, in any region, sorted by ARN.
    pub(crate) fn in_account<'a>(
        ctx: &Ctx<'a>,
        account: &AccountId,
    ) -> Vec<(&'a Resource, &'a Trail)> {
        let mut trails: Vec<_> = ctx
            .index
            .in_account(ResourceKind::Trail, account)
            .iter()
            .copied()
            .filter_map(|r| match &r.body {
                ResourceBody::Trail(t) => Some((r, t)),
                _ => None,
            })
            .collect();
        trails.sort_by(|a, b| a.0.arn.cmp(&b.0.arn));
        trails
    }

    /// A yes/no answer that may depend on data that could not be collected.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Known<'a> {
        /// Yes.
        Yes,
        /// No.
        No,
        /// Could not tell.
        Unknown(&'a Unavailable),
    }

    impl<'a> Known<'a> {
        pub(crate) fn from_bool(b: bool) -> Self {
            if b { Known::Yes } else { Known::No }
        }

        /// Both must hold: a definite no wins over an unknown.
        pub(crate) fn and(self, other: Known<'a>) -> Known<'a> {
            match (self, other) {
                (Known::No, _) | (_, Known::No) => Known::No,
                (Known::Unknown(u), _) | (_, Known::Unknown(u)) => Known::Unknown(u),
                (Known::Yes, Known::Yes) => Known::Yes,
            }
        }

        fn evidence(&self) -> Value {
            match self {
                Known::Yes => json!(true),
                Known::No => json!(false),
                Known::Unknown(_) => json!("unavailable"),
            }
        }
    }

    /// Whether the trail is logging (`GetTrailStatus`). A status AWS did not return counts
    /// as not logging.
    pub(crate) fn logging(trail: &Trail) -> Known<'_> {
        match &trail.status {
            Observed::Collected(s) => Known::from_bool(s.is_logging),
            Observed::Absent => Known::No,
            Observed::Unavailable(u) => Known::Unknown(u),
        }
    }

    /// Whether the trail records every read and write management event of every source
    /// (see [`super::selectors`]).
    pub(crate) fn all_management_events(trail: &Trail) -> Known<'_> {
        super::selectors::management_events(trail).all()
    }

    /// Which half of S3 object-level data events a rule asks about.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum S3Events {
        /// `GetObject` and the other reads.
        Read,
        /// `PutObject`, `DeleteObject` and the other writes.
        Write,
    }

    impl S3Events {
        /// `read` or `write`, for reasons.
        pub(crate) fn word(self) -> &'static str {
            match self {
                S3Events::Read => "read",
                S3Events::Write => "write",
            }
        }
    }

    /// The outcome of "every S3 bucket of `subject`'s account has a logging trail that
    /// covers the bucket's region and records S3 object-level `events` for all its objects"
    /// (subject: the account). A trail that is neither multi-region nor an organization
    /// trail covers only its home region; which selectors count is
    /// [`super::selectors::logs_s3_objects`]. An account with no buckets is not applicable.
    pub(crate) fn s3_data_events_outcome(
        subject: &Resource,
        ctx: &Ctx<'_>,
        events: S3Events,
    ) -> Outcome {
        let ResourceBody::Account(_) = &subject.body else {
            return Outcome::not_applicable("not an account");
        };
        let word = events.word();
        let all = in_account(ctx, &subject.account);
        let considered: Vec<Value> = all.iter().map(|(r, t)| summary(r, t)).collect();
        // The evaluator answers `error` before this runs when S3 (declared through
        // `s3:ListBuckets`) was not collected, so no bucket here means none exists.
        let mut buckets: Vec<(&str, &Region)> = ctx
            .index
            .in_account(ResourceKind::S3Bucket, &subject.account)
            .iter()
            .filter_map(|r| match &r.body {
                ResourceBody::S3Bucket(b) => Some((b.name.as_str(), &r.region)),
                _ => None,
            })
            .collect();
        buckets.sort();
        if buckets.is_empty() {
            return Outcome::not_applicable("the account has no S3 buckets")
                .with("buckets", Vec::<Value>::new())
                .with("trails", considered);
        }
        let mut rows = Vec::new();
        let mut uncovered = Vec::new();
        let mut unknown = None;
        for (name, region) in &buckets {
            let mut logged_by = None;
            let mut unsure = None;
            for (_, trail) in all.iter().filter(|(_, t)| covers_region(t, region)) {
                match logging(trail).and(super::selectors::logs_s3_objects(trail, name, events)) {
                    Known::Yes => {
                        logged_by = Some(trail.name.as_str());
                        break;
                    }
                    Known::Unknown(why) => {
                        unsure.get_or_insert((trail.name.as_str(), why));
                    }
                    Known::No => {}
                }
            }
            rows.push(json!({
                "bucket": name,
                "region": region,
                "logged_by": logged_by,
                "unknown_trail": logged_by.is_none().then_some(unsure.map(|u| u.0)).flatten(),
            }));
            match (logged_by, unsure) {
                (Some(_), _) => {}
                (None, Some(u)) => {
                    unknown.get_or_insert(u);
                }
                (None, None) => uncovered.push(format!("{name} ({region})")),
            }
        }
        let outcome = if uncovered.is_empty() && unknown.is_none() {
            Outcome::pass(format!(
                "each of the account's {} bucket(s) has a logging trail covering its region \
                 that records S3 object-level {word} events for all its objects",
                buckets.len()
            ))
        } else if let Some(gap) = describe_gap(ctx, &subject.account) {
            gap_error(gap)
        } else if let (true, Some((name, why))) = (uncovered.is_empty(), unknown) {
            Outcome::unavailable(
                &format!("the status or event selectors of trail {name}"),
                why,
            )
        } else if all.is_empty() {
            Outcome::fail("the account has no CloudTrail trail")
        } else {
            Outcome::fail(format!(
                "{} of the account's {} bucket(s) have no logging trail covering their region \
                 that records S3 object-level {word} events for all their objects: {}",
                uncovered.len(),
                buckets.len(),
                uncovered.join(", ")
            ))
        };
        outcome
            .with("uncovered_buckets", uncovered)
            .with("buckets", rows)
            .with("trails", considered)
    }

    /// Whether `trail` logs events of `region`: a multi-region or organization trail logs
    /// every region, another trail only its home region.
    pub(crate) fn covers_region(trail: &Trail, region: &Region) -> bool {
        trail.is_multi_region || trail.is_organization_trail || trail.home_region == region.as_str()
    }

    /// Whether `Known` for a collected value, `Unknown` when it could not be collected.
    pub(crate) fn known<T>(
        value: &Observed<T>,
        test: impl FnOnce(Option<&T>) -> bool,
    ) -> Known<'_> {
        match value.get() {
            Ok(v) => Known::from_bool(test(v)),
            Err(u) => Known::Unknown(u),
        }
    }

    /// The outcome of "some logging trail in `subject`'s account `does` (what `test` checks)"
    /// (subject: the account). `key` names `test`'s answer in each trail's evidence; `what`
    /// names the data `test` reads, for the `Error` when it could not be collected. A failed
    /// `DescribeTrails` is an `Error` unless a compliant trail was seen anyway.
    pub(crate) fn some_logging_trail<'a>(
        subject: &Resource,
        ctx: &Ctx<'a>,
        key: &str,
        does: &str,
        what: &str,
        test: impl Fn(&'a Trail) -> Known<'a>,
    ) -> Outcome {
        let ResourceBody::Account(_) = &subject.body else {
            return Outcome::not_applicable("not an account");
        };
        let all = in_account(ctx, &subject.account);
        let considered: Vec<Value> = all
            .iter()
            .map(|(r, t)| {
                let mut v = summary(r, t);
                v[key] = test(t).evidence();
                v
            })
            .collect();
        let mut unknown = None;
        // Insights and data event selectors apply only to the regions a trail covers: only
        // a multi-region (or organization) trail covers the account.
        for (_, trail) in all
            .iter()
            .filter(|(_, t)| t.is_multi_region || t.is_organization_trail)
        {
            match logging(trail).and(test(trail)) {
                Known::Yes => {
                    return Outcome::pass(format!("trail {} is logging and {does}", trail.name))
                        .with("compliant_trail", &trail.name)
                        .with("trails", considered);
                }
                Known::Unknown(why) => {
                    unknown.get_or_insert((trail.name.as_str(), why));
                }
                Known::No => {}
            }
        }
        if let Some(gap) = describe_gap(ctx, &subject.account) {
            return gap_error(gap).with("trails", considered);
        }
        if let Some((name, why)) = unknown {
            return Outcome::unavailable(&format!("the status or {what} of trail {name}"), why)
                .with("trails", considered);
        }
        let reason = if all.is_empty() {
            "the account has no CloudTrail trail".to_owned()
        } else {
            format!(
                "none of the account's {} trail(s) is a logging multi-region trail that {does}",
                all.len()
            )
        };
        Outcome::fail(reason)
            .with("compliant_trail", None::<&str>)
            .with("trails", considered)
    }

    /// One trail as evidence.
    pub(crate) fn summary(resource: &Resource, trail: &Trail) -> Value {
        json!({
            "name": trail.name,
            "arn": resource.arn,
            "home_region": trail.home_region,
            "multi_region": trail.is_multi_region,
            "organization_trail": trail.is_organization_trail,
            "logging": logging(trail).evidence(),
            "all_management_events": all_management_events(trail).evidence(),
        })
    }

    /// The first failed `DescribeTrails` in `account`, if any.
    pub(crate) fn describe_gap<'a>(ctx: &'a Ctx<'_>, account: &'a AccountId) -> Option<&'a Gap> {
        ctx.gaps_in_account(account, DESCRIBE_TRAILS).next()
    }

    /// The `Error` for trails hidden by a failed `DescribeTrails`.
    pub(crate) fn gap_error(gap: &Gap) -> Outcome {
        Outcome::error(format!(
            "{} failed in {}/{}, so trails there are unknown: {}",
            gap.operation, gap.account, gap.region, gap.message
        ))
        .with("gap", gap)
    }
}

/// Fixtures shared by the CloudTrail rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::{AccountInfo, RegionInfo, Trail, TrailSelectors, TrailStatus};
    use posture_model::{Coverage, Finding, Observed, Region, Resource, ResourceBody};

    use crate::testing::{account, list_gap, now, region, resource};
    use crate::{Baseline, Rule};

    /// A single-region trail homed in the fixture region, logging all management events,
    /// with log file validation and SSE-KMS.
    pub(crate) fn trail(name: &str) -> Trail {
        Trail {
            name: name.into(),
            home_region: "us-east-1".into(),
            is_multi_region: false,
            is_organization_trail: false,
            log_file_validation_enabled: true,
            kms_key_id: Some("arn:aws:kms:us-east-1:111122223333:key/1234abcd".into()),
            s3_bucket_name: Some("trail-logs".into()),
            cloudwatch_logs_log_group_arn: None,
            status: Observed::Collected(TrailStatus {
                is_logging: true,
                latest_delivery_error: None,
                latest_delivery_time: None,
            }),
            selectors: Observed::Collected(TrailSelectors {
                basic: vec![],
                advanced: vec![],
            }),
            insight_selectors: Observed::Absent,
        }
    }

    /// The same, multi-region.
    pub(crate) fn multi_region_trail(name: &str) -> Trail {
        Trail {
            is_multi_region: true,
            ..trail(name)
        }
    }

    /// A trail resource, kept in the trail's home region.
    pub(crate) fn trail_resource(t: Trail) -> Resource {
        let home = Region::new(t.home_region.clone()).unwrap_or_else(|_| region());
        resource(
            &format!(
                "arn:aws:cloudtrail:{}:111122223333:trail/{}",
                t.home_region, t.name
            ),
            home,
            ResourceBody::Trail(t),
        )
    }

    /// The fixture account as a subject.
    pub(crate) fn account_subject() -> Resource {
        resource(
            "arn:aws:iam::111122223333:root",
            Region::global(),
            ResourceBody::Account(AccountInfo {
                account_id: account(),
                scanned_as: "arn:aws:iam::111122223333:user/scanner".into(),
            }),
        )
    }

    /// A region of the fixture account as a subject.
    pub(crate) fn region_subject(name: &str) -> Resource {
        let r = Region::new(name).expect("valid region");
        resource(
            &format!("arn:aws:ec2:{name}:111122223333:region/{name}"),
            r.clone(),
            ResourceBody::Region(RegionInfo { name: r }),
        )
    }

    /// Evaluates `rule` alone over `resources` through `evaluate`, with a failed
    /// `cloudtrail:DescribeTrails` in `gap_region` of the fixture account; returns the
    /// finding about `arn`.
    pub(crate) fn finding_with_describe_gap(
        rule: &dyn Rule,
        resources: &[Resource],
        gap_region: &str,
        arn: &str,
    ) -> Finding {
        let toml = format!(
            "name = \"t\"\nversion = \"1\"\n[[citations]]\nid = \"t\"\ntitle = \"t\"\nrules = [\"{}\"]\n",
            rule.meta().id
        );
        let baseline = Baseline::from_toml("test.toml", &toml).expect("valid baseline");
        let coverage = Coverage {
            failed: vec![list_gap(
                super::trails::DESCRIBE_TRAILS,
                Region::new(gap_region).expect("valid region"),
            )],
            ..Default::default()
        };
        crate::testing::evaluate(resources, &coverage, &baseline, now())
            .into_iter()
            .find(|f| f.resource.arn.as_str() == arn)
            .expect("a finding about the subject")
    }
}
