//! IAM Access Analyzer in one region: `ListAnalyzers` (paginated), nothing per analyzer.

use posture_model::resources::AccessAnalyzer;
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, Sink};
use crate::CollectError;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "accessanalyzer");
    let aa = ctx.clients.accessanalyzer(region.as_str());
    let mut pages = aa.list_analyzers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("access-analyzer:ListAnalyzers", page) else {
            break;
        };
        for a in page.analyzers() {
            let arn = Arn::new(a.arn()).unwrap_or_else(|_| {
                Arn::from_parts(
                    "access-analyzer",
                    region.as_str(),
                    ctx.account.as_str(),
                    &format!("analyzer/{}", a.name()),
                )
            });
            let tags: Tags = a
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            let analyzer = AccessAnalyzer {
                name: a.name().to_owned(),
                analyzer_type: a.r#type().as_str().to_owned(),
                status: a.status().as_str().to_owned(),
            };
            sink.emit(
                arn,
                Observed::Collected(tags),
                ResourceBody::AccessAnalyzer(analyzer),
            )
            .await?;
        }
    }
    sink.finish().await
}
