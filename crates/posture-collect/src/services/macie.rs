//! Amazon Macie in one region: `GetMacieSession`; when Macie is on,
//! `GetAutomatedDiscoveryConfiguration` and `ListClassificationJobs` (paginated). Macie
//! answers `GetMacieSession` with `AccessDeniedException` "Macie is not enabled" where it
//! is off: that is recorded as status `DISABLED`, not as a gap; any other access denial is
//! a gap.

use posture_model::resources::{MacieJob, MacieSession};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink};
use crate::CollectError;
use crate::classify::classify;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "macie");
    let macie = ctx.clients.macie(region.as_str());
    let arn = Arn::from_parts("macie2", region.as_str(), ctx.account.as_str(), "session");
    let status = match macie.get_macie_session().send().await {
        Ok(out) => out
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        Err(e) => {
            let err = classify(&e);
            if err.is(&["AccessDeniedException"]) && err.message.contains("Macie is not enabled") {
                "DISABLED".to_owned()
            } else {
                let mut log = GapLog::default();
                log.gap("macie2:GetMacieSession", &err, None);
                sink.absorb(log);
                return sink.finish().await;
            }
        }
    };
    let mut log = GapLog::default();
    let (automated_discovery, classification_jobs) = if status == "DISABLED" {
        (Observed::Absent, Observed::Absent)
    } else {
        let discovery = log
            .observe(
                "macie2:GetAutomatedDiscoveryConfiguration",
                &arn,
                macie.get_automated_discovery_configuration().send().await,
                &[],
            )
            .map(|o| {
                o.status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default()
            });
        let mut jobs = Vec::new();
        let mut failed = None;
        let mut pages = macie.list_classification_jobs().into_paginator().send();
        while let Some(page) = pages.next().await {
            match log.observe("macie2:ListClassificationJobs", &arn, page, &[]) {
                Observed::Collected(page) => jobs.extend(page.items().iter().filter_map(|j| {
                    Some(MacieJob {
                        job_id: j.job_id()?.to_owned(),
                        name: j.name().map(str::to_owned),
                        job_type: j.job_type().map(|t| t.as_str().to_owned()),
                        status: j.job_status().map(|s| s.as_str().to_owned()),
                    })
                })),
                Observed::Absent => break,
                Observed::Unavailable(u) => {
                    failed = Some(u);
                    break;
                }
            }
        }
        let jobs = match failed {
            Some(u) => Observed::Unavailable(u),
            None => Observed::Collected(jobs),
        };
        (discovery, jobs)
    };
    sink.absorb(log);
    sink.emit(
        arn,
        Observed::Collected(Tags::new()),
        ResourceBody::MacieSession(MacieSession {
            status,
            automated_discovery,
            classification_jobs,
        }),
    )
    .await?;
    sink.finish().await
}
