//! Security Hub in one region: `DescribeHub` (a "not subscribed" answer means Security Hub
//! is off, and no hub resource is recorded) and, when on, `GetEnabledStandards`.

use posture_model::resources::{SecurityHub, SecurityHubStandard};
use posture_model::{Arn, Observed, Region, ResourceBody};

use super::{Ctx, GapLog, Sink, arn, tags_not_read};
use crate::CollectError;
use crate::classify::classify;

/// Error codes `DescribeHub` answers with when the account has not enabled Security Hub.
const NOT_SUBSCRIBED: &[&str] = &["InvalidAccessException", "ResourceNotFoundException"];

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "securityhub");
    let sh = ctx.clients.securityhub(region.as_str());
    let hub = match sh.describe_hub().send().await {
        Ok(hub) => hub,
        Err(e) => {
            let err = classify(&e);
            if !err.is(NOT_SUBSCRIBED) {
                let mut log = GapLog::default();
                log.gap("securityhub:DescribeHub", &err, None);
                sink.absorb(log);
            }
            return sink.finish().await;
        }
    };
    let hub_arn: Arn = arn(
        hub.hub_arn(),
        "securityhub",
        region.as_str(),
        ctx.account.as_str(),
        "hub/default",
    );
    let mut log = GapLog::default();
    let mut standards = Vec::new();
    let mut failed = None;
    let mut pages = sh.get_enabled_standards().into_paginator().send();
    while let Some(page) = pages.next().await {
        match log.observe("securityhub:GetEnabledStandards", &hub_arn, page, &[]) {
            Observed::Collected(page) => {
                standards.extend(page.standards_subscriptions().iter().map(|s| {
                    SecurityHubStandard {
                        standards_arn: s.standards_arn().unwrap_or_default().to_owned(),
                        status: s
                            .standards_status()
                            .map(|v| v.as_str().to_owned())
                            .unwrap_or_default(),
                    }
                }))
            }
            Observed::Absent => break,
            Observed::Unavailable(u) => {
                failed = Some(u);
                break;
            }
        }
    }
    sink.absorb(log);
    let standards = match failed {
        Some(u) => Observed::Unavailable(u),
        None => Observed::Collected(standards),
    };
    sink.emit(
        hub_arn,
        tags_not_read("securityhub:ListTagsForResource"),
        ResourceBody::SecurityHub(SecurityHub {
            subscribed_at: hub.subscribed_at().map(str::to_owned),
            auto_enable_controls: hub.auto_enable_controls(),
            standards,
        }),
    )
    .await?;
    sink.finish().await
}
