//! `cloudtrail_s3_data_events_read`: every S3 bucket of the account has a logging trail
//! that covers the bucket's region and records S3 object-level read data events for all
//! its objects.
//!
//! A trail that is neither multi-region nor an organization trail covers only its home
//! region. See [`super::selectors::logs_s3_objects`] for which selectors count and
//! [`super::trails::s3_data_events_outcome`] for the decision. A trail whose status or
//! selectors could not be collected makes a bucket it might cover `Error` unless another
//! trail covers it.

use posture_model::{Resource, ResourceKind, Severity};

use super::trails::{S3Events, s3_data_events_outcome};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailS3DataEventsRead;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_s3_data_events_read",
    title: "Account has a logging CloudTrail trail recording S3 object-level read events",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "Management events do not record object access: without S3 data events there is \
                no record of who read which object holding ePHI, so access cannot be reviewed, \
                traced to a user or investigated after an incident (164.308(a)(1)(ii)(D), \
                164.308(a)(6)(ii), 164.312(a)(2)(i), 164.312(b)).",
    remediation: "Add an event selector to a logging trail (PutEventSelectors) recording S3 \
                  object-level read events for all buckets: a basic selector with \
                  DataResources Type=AWS::S3::Object, Values=arn:aws:s3 and ReadWriteType \
                  All or ReadOnly, or an advanced selector with eventCategory=Data and \
                  resources.type=AWS::S3::Object (no readOnly field, or readOnly=true).",
    api_calls: &[
        "s3:ListBuckets",
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ],
    params: &[],
};

impl Rule for CloudtrailS3DataEventsRead {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        s3_data_events_outcome(subject, ctx, S3Events::Read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::cloudtrail::data_event_cases::{self as cases, READ};

    #[test]
    fn pass_with_basic_or_advanced_selectors() {
        cases::pass(&CloudtrailS3DataEventsRead, &READ);
    }

    #[test]
    fn fail_for_the_other_direction_one_bucket_a_stopped_trail_or_none() {
        cases::fail(&CloudtrailS3DataEventsRead, &READ);
    }

    #[test]
    fn error_when_selectors_or_trails_unavailable() {
        cases::error(&CloudtrailS3DataEventsRead);
    }
}
