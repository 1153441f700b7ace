//! GuardDuty in one region: the detector (there is at most one per account and region), its
//! protection plans, its administrator account and its open high-severity findings.
//!
//! Calls: `ListDetectors`; per detector `GetDetector`, `GetAdministratorAccount`,
//! `ListFindings` (severity ≥ 7, not archived, highest first, ids only, at most
//! [`GuardDutyFindingSample::MAX_LISTED`]) and one `GetFindings` for the first
//! [`GuardDutyFindingSample::SAMPLE`] ids as evidence.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{Condition, FindingCriteria, OrderBy, SortCriteria};
use posture_model::resources::{
    GuardDutyAdministrator, GuardDutyDetector, GuardDutyDetectorDetails, GuardDutyFinding,
    GuardDutyFindingSample,
};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink};
use crate::CollectError;

/// GuardDuty's "high" band starts at 7.0.
const HIGH_SEVERITY: i64 = 7;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "guardduty");
    let gd = ctx.clients.guardduty(region.as_str());
    let mut ids = Vec::new();
    let mut pages = gd.list_detectors().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("guardduty:ListDetectors", page) else {
            break;
        };
        ids.extend(page.detector_ids().iter().cloned());
    }
    for detector_id in ids {
        let arn = Arn::from_parts(
            "guardduty",
            region.as_str(),
            ctx.account.as_str(),
            &format!("detector/{detector_id}"),
        );
        let mut log = GapLog::default();
        let (details, tags) = match log.observe(
            "guardduty:GetDetector",
            &arn,
            gd.get_detector().detector_id(&detector_id).send().await,
            &[],
        ) {
            Observed::Collected(out) => {
                // `Features` supersedes the deprecated `DataSources`; AWS reports every
                // protection plan there, including S3 Protection of older detectors.
                let features: BTreeMap<String, String> = out
                    .features()
                    .iter()
                    .filter_map(|f| {
                        Some((
                            f.name()?.as_str().to_owned(),
                            f.status()?.as_str().to_owned(),
                        ))
                    })
                    .collect();
                let tags: Tags = out
                    .tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                (
                    Observed::Collected(GuardDutyDetectorDetails {
                        status: out
                            .status()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                        finding_publishing_frequency: out
                            .finding_publishing_frequency()
                            .map(|f| f.as_str().to_owned()),
                        features,
                        updated_at: out.updated_at().map(str::to_owned),
                    }),
                    Observed::Collected(tags),
                )
            }
            Observed::Absent => (Observed::Absent, Observed::Absent),
            Observed::Unavailable(u) => {
                (Observed::Unavailable(u.clone()), Observed::Unavailable(u))
            }
        };
        let administrator = match log.observe(
            "guardduty:GetAdministratorAccount",
            &arn,
            gd.get_administrator_account()
                .detector_id(&detector_id)
                .send()
                .await,
            &[],
        ) {
            Observed::Collected(out) => match out.administrator().and_then(|a| {
                Some(GuardDutyAdministrator {
                    account_id: a.account_id()?.to_owned(),
                    relationship_status: a.relationship_status().map(str::to_owned),
                })
            }) {
                Some(a) => Observed::Collected(a),
                None => Observed::Absent,
            },
            Observed::Absent => Observed::Absent,
            Observed::Unavailable(u) => Observed::Unavailable(u),
        };
        let high_severity_findings = high_findings(&gd, &detector_id, &arn, &mut log).await;
        sink.absorb(log);
        sink.emit(
            arn,
            tags,
            ResourceBody::GuardDutyDetector(GuardDutyDetector {
                detector_id,
                details,
                administrator,
                high_severity_findings,
            }),
        )
        .await?;
    }
    sink.finish().await
}

/// Lists unarchived findings of high severity, highest first, and describes the first few.
async fn high_findings(
    gd: &aws_sdk_guardduty::Client,
    detector_id: &str,
    arn: &Arn,
    log: &mut GapLog,
) -> Observed<GuardDutyFindingSample> {
    let criteria = FindingCriteria::builder()
        .criterion(
            "severity",
            Condition::builder()
                .greater_than_or_equal(HIGH_SEVERITY)
                .build(),
        )
        .criterion(
            "service.archived",
            Condition::builder().equals("false").build(),
        )
        .build();
    let sort = SortCriteria::builder()
        .attribute_name("severity")
        .order_by(OrderBy::Desc)
        .build();
    let mut ids: Vec<String> = Vec::new();
    let mut capped = false;
    let mut pages = gd
        .list_findings()
        .detector_id(detector_id)
        .finding_criteria(criteria)
        .sort_criteria(sort)
        .max_results(50)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match log.observe("guardduty:ListFindings", arn, page, &[]) {
            Observed::Collected(page) => ids.extend(page.finding_ids().iter().cloned()),
            Observed::Absent => break,
            Observed::Unavailable(u) => return Observed::Unavailable(u),
        }
        if ids.len() as u64 >= GuardDutyFindingSample::MAX_LISTED {
            capped = true;
            ids.truncate(GuardDutyFindingSample::MAX_LISTED as usize);
            break;
        }
    }
    let mut sample = Vec::new();
    let first: Vec<String> = ids
        .iter()
        .take(GuardDutyFindingSample::SAMPLE)
        .cloned()
        .collect();
    if !first.is_empty() {
        match log.observe(
            "guardduty:GetFindings",
            arn,
            gd.get_findings()
                .detector_id(detector_id)
                .set_finding_ids(Some(first))
                .send()
                .await,
            &[],
        ) {
            Observed::Collected(out) => {
                sample = out
                    .findings()
                    .iter()
                    .map(|f| GuardDutyFinding {
                        id: f.id().unwrap_or_default().to_owned(),
                        finding_type: f.r#type().unwrap_or_default().to_owned(),
                        severity: f.severity().unwrap_or_default(),
                        title: f.title().map(str::to_owned),
                        resource_type: f
                            .resource()
                            .and_then(|r| r.resource_type())
                            .map(str::to_owned),
                        updated_at: f.updated_at().map(str::to_owned),
                    })
                    .collect();
                sample.sort_by(|a, b| {
                    b.severity
                        .total_cmp(&a.severity)
                        .then_with(|| a.id.cmp(&b.id))
                });
            }
            Observed::Absent => {}
            Observed::Unavailable(u) => return Observed::Unavailable(u),
        }
    }
    Observed::Collected(GuardDutyFindingSample {
        count: ids.len() as u64,
        count_capped: capped,
        sample,
    })
}
