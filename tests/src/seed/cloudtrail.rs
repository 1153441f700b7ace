//! CloudTrail: a logging single-region trail in us-east-1, a stopped multi-region trail
//! (which moto also lists as a shadow trail in us-west-2: the scan must keep it once), and a
//! stopped single-region trail in us-west-2 that records only write management events.
//!
//! So us-east-1 is covered by a logging trail and us-west-2 is not, and the account has no
//! logging multi-region trail (`cloudtrail_multi_region_trail` has one subject per account:
//! its pass state is covered by the rule's unit tests). Only `phi-trail-east` delivers to
//! CloudWatch Logs; `phi-trail-west-stopped` delivers to a bucket anyone can write to.
//! `phi-trail-multi-region-stopped` delivers to `phi-good-encrypted`, the one trail bucket
//! with server access logging. `phi-trail-east` also records S3 object-level read (not
//! write) data events for all buckets, but it is a single-region trail homed in us-east-1,
//! so the us-west-2 buckets are not covered: the account fails both
//! `cloudtrail_s3_data_events_read` and `cloudtrail_s3_data_events_write` (one subject per
//! account each).

use aws_sdk_cloudtrail::types::{
    DataResource, EventSelector, InsightSelector, InsightType, ReadWriteType,
};

use super::s3::PUBLIC_WRITE_WEST;
use super::{Keys, LogBuckets, PRIMARY, SECONDARY, Seed, Step};
use crate::Status::{Fail, Pass};

const KMS: &str = "cloudtrail_kms_encryption";
const VALIDATION: &str = "cloudtrail_log_file_validation";
const MANAGEMENT_RW: &str = "cloudtrail_management_events_rw";
const CLOUDWATCH: &str = "cloudtrail_cloudwatch_logs";
const LOG_BUCKET: &str = "cloudtrail_log_bucket_not_public";
const LOG_BUCKET_LOGGING: &str = "cloudtrail_log_bucket_access_logging";
const LOG_BUCKET_MFA_DELETE: &str = "cloudtrail_log_bucket_mfa_delete";
/// The one trail with CloudTrail Insights (ApiCallRateInsight).
const INSIGHTS_TRAIL: &str = "phi-trail-east";
/// A bucket with server access logging on (to `phi-access-logs`).
const LOGGED_BUCKET: &str = "phi-good-encrypted";

struct TrailSeed {
    name: &'static str,
    region: &'static str,
    multi_region: bool,
    validation: bool,
    kms: bool,
    logging: bool,
    /// Records only write management events (a basic selector with WriteOnly); otherwise
    /// the trail keeps CloudTrail's default, all management events.
    write_only: bool,
    /// Delivers to a CloudWatch Logs log group too.
    cloudwatch_logs: bool,
    /// Delivers to the public-write bucket instead of the region's private log bucket.
    public_bucket: bool,
    /// Delivers to [`LOGGED_BUCKET`] instead of the region's log bucket (which has no server
    /// access logging).
    logged_bucket: bool,
    /// Adds a second basic selector recording S3 object-level read data events for all
    /// buckets (management events stay all read and write).
    s3_read_data_events: bool,
}

const TRAILS: &[TrailSeed] = &[
    TrailSeed {
        name: "phi-trail-east",
        region: PRIMARY,
        multi_region: false,
        validation: true,
        kms: true,
        logging: true,
        write_only: false,
        cloudwatch_logs: true,
        public_bucket: false,
        logged_bucket: false,
        s3_read_data_events: true,
    },
    TrailSeed {
        name: "phi-trail-multi-region-stopped",
        region: PRIMARY,
        multi_region: true,
        validation: true,
        kms: false,
        logging: false,
        write_only: false,
        cloudwatch_logs: false,
        public_bucket: false,
        logged_bucket: true,
        s3_read_data_events: false,
    },
    TrailSeed {
        name: "phi-trail-west-stopped",
        region: SECONDARY,
        multi_region: false,
        validation: false,
        kms: true,
        logging: false,
        write_only: true,
        cloudwatch_logs: false,
        public_bucket: true,
        logged_bucket: false,
        s3_read_data_events: false,
    },
];

pub(crate) async fn seed(s: &mut Seed, keys: &Keys, logs: &LogBuckets) -> anyhow::Result<()> {
    for t in TRAILS {
        let ct = aws_sdk_cloudtrail::Client::new(&s.config(t.region));
        let (bucket, key) = if t.region == PRIMARY {
            (&logs.primary, &keys.primary)
        } else {
            (&logs.secondary, &keys.secondary)
        };
        let bucket = if t.public_bucket {
            PUBLIC_WRITE_WEST
        } else if t.logged_bucket {
            LOGGED_BUCKET
        } else {
            bucket.as_str()
        };
        let mut req = ct
            .create_trail()
            .name(t.name)
            .s3_bucket_name(bucket)
            .is_multi_region_trail(t.multi_region)
            .enable_log_file_validation(t.validation);
        if t.kms {
            req = req.kms_key_id(key);
        }
        if t.cloudwatch_logs {
            req = req
                .cloud_watch_logs_log_group_arn(format!(
                    "arn:aws:logs:{}:{}:log-group:{}:*",
                    t.region, s.account, t.name
                ))
                .cloud_watch_logs_role_arn(format!(
                    "arn:aws:iam::{}:role/phi-cloudtrail-to-logs",
                    s.account
                ));
        }
        let out = req
            .send()
            .await
            .step(format!("cloudtrail CreateTrail {}", t.name))?;
        if t.logging {
            ct.start_logging()
                .name(t.name)
                .send()
                .await
                .step(format!("cloudtrail StartLogging {}", t.name))?;
        }
        if t.write_only {
            ct.put_event_selectors()
                .trail_name(t.name)
                .event_selectors(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::WriteOnly)
                        .include_management_events(true)
                        .build(),
                )
                .send()
                .await
                .step(format!("cloudtrail PutEventSelectors {}", t.name))?;
        }
        if t.s3_read_data_events {
            ct.put_event_selectors()
                .trail_name(t.name)
                .event_selectors(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::All)
                        .include_management_events(true)
                        .build(),
                )
                .event_selectors(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::ReadOnly)
                        .include_management_events(false)
                        .data_resources(
                            DataResource::builder()
                                .r#type("AWS::S3::Object")
                                .values("arn:aws:s3")
                                .build(),
                        )
                        .build(),
                )
                .send()
                .await
                .step(format!("cloudtrail PutEventSelectors {}", t.name))?;
        }
        if t.name == INSIGHTS_TRAIL {
            ct.put_insight_selectors()
                .trail_name(t.name)
                .insight_selectors(
                    InsightSelector::builder()
                        .insight_type(InsightType::ApiCallRateInsight)
                        .build(),
                )
                .send()
                .await
                .step(format!("cloudtrail PutInsightSelectors {}", t.name))?;
        }
        let arn = out.trail_arn().map(str::to_owned).unwrap_or_else(|| {
            format!(
                "arn:aws:cloudtrail:{}:{}:trail/{}",
                t.region, s.account, t.name
            )
        });
        s.expect(
            KMS,
            &arn,
            if t.kms { Pass } else { Fail },
            format!(
                "{}: KMS key {}",
                t.name,
                if t.kms { "set" } else { "not set" }
            ),
        );
        s.expect(
            VALIDATION,
            &arn,
            if t.validation { Pass } else { Fail },
            format!("{}: log file validation {}", t.name, t.validation),
        );
        s.expect(
            CLOUDWATCH,
            &arn,
            if t.cloudwatch_logs { Pass } else { Fail },
            format!(
                "{}: {}",
                t.name,
                if t.cloudwatch_logs {
                    "delivers to a CloudWatch Logs log group"
                } else {
                    "no CloudWatch Logs log group"
                }
            ),
        );
        s.expect(
            LOG_BUCKET,
            &arn,
            if t.public_bucket { Fail } else { Pass },
            format!(
                "{}: delivers to {bucket}{}",
                t.name,
                if t.public_bucket {
                    ", whose ACL grants AllUsers WRITE"
                } else {
                    ", which is private"
                }
            ),
        );
        s.expect(
            LOG_BUCKET_LOGGING,
            &arn,
            if t.logged_bucket { Pass } else { Fail },
            format!(
                "{}: delivers to {bucket}, {}",
                t.name,
                if t.logged_bucket {
                    "which has server access logging"
                } else {
                    "which has no server access logging"
                }
            ),
        );
        s.expect(
            LOG_BUCKET_MFA_DELETE,
            &arn,
            Fail,
            format!("{}: {bucket} never had MFA Delete configured", t.name),
        );
        s.expect(
            MANAGEMENT_RW,
            &arn,
            if t.write_only { Fail } else { Pass },
            format!(
                "{}: {}",
                t.name,
                if t.write_only {
                    "a WriteOnly management-event selector"
                } else if t.s3_read_data_events {
                    "a selector with all management events (plus an S3 data-event selector)"
                } else {
                    "default selectors (all management events)"
                }
            ),
        );
    }

    let account = s.account.clone();
    s.expect(
        "cloudtrail_multi_region_trail",
        &format!("arn:aws:iam::{account}:root"),
        Fail,
        "the only multi-region trail (phi-trail-multi-region-stopped) is not logging",
    );
    s.expect(
        "cloudtrail_s3_data_events_read",
        &format!("arn:aws:iam::{account}:root"),
        // Was pass: phi-trail-east is logging with a ReadOnly selector on AWS::S3::Object
        // arn:aws:s3, but it is single-region (us-east-1), and a trail records data events
        // only in the regions it covers (issue 12 item 4).
        Fail,
        "phi-trail-east records S3 read data events for all buckets but only in us-east-1: \
         the us-west-2 buckets (phi-good-west, phi-access-logs-west, ...) are not covered",
    );
    s.expect(
        "cloudtrail_s3_data_events_write",
        &format!("arn:aws:iam::{account}:root"),
        Fail,
        "the only S3 data-event selector (phi-trail-east's) is ReadOnly",
    );
    s.expect(
        "cloudtrail_insights",
        &format!("arn:aws:iam::{account}:root"),
        Fail,
        "only phi-trail-east has ApiCallRateInsight, and it is a single-region trail: \
         Insights there cover us-east-1 alone",
    );
    s.expect(
        "cloudtrail_bedrock_data_events",
        &format!("arn:aws:iam::{account}:root"),
        Fail,
        "no trail has an advanced selector on AWS::Bedrock::* data events",
    );
    s.expect(
        "cloudtrail_trail_logging_in_region",
        &format!("arn:aws:ec2:{PRIMARY}:{account}:region/{PRIMARY}"),
        Pass,
        "phi-trail-east is homed in us-east-1 and logging",
    );
    s.expect(
        "cloudtrail_trail_logging_in_region",
        &format!("arn:aws:ec2:{SECONDARY}:{account}:region/{SECONDARY}"),
        Fail,
        "us-west-2 is covered only by stopped trails (phi-trail-west-stopped and the \
         multi-region phi-trail-multi-region-stopped)",
    );
    Ok(())
}
