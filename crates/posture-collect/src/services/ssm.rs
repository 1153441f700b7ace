//! Systems Manager in one region: which instances are managed (`DescribeInstanceInformation`)
//! and their compliance summaries (`ListResourceComplianceSummaries`), both paginated over
//! the whole region, recorded as one fleet resource: no call per instance.

use std::collections::BTreeMap;

use posture_model::resources::{SsmCompliance, SsmFleet, SsmManagedInstance};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink, time};
use crate::CollectError;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "ssm");
    let ssm = ctx.clients.ssm(region.as_str());
    let arn = Arn::from_parts(
        "ssm",
        region.as_str(),
        ctx.account.as_str(),
        "managed-instance-inventory",
    );
    let mut log = GapLog::default();

    let mut managed = BTreeMap::new();
    let mut managed_failed = None;
    let mut pages = ssm.describe_instance_information().into_paginator().send();
    while let Some(page) = pages.next().await {
        match log.observe("ssm:DescribeInstanceInformation", &arn, page, &[]) {
            Observed::Collected(page) => {
                for i in page.instance_information_list() {
                    let Some(id) = i.instance_id() else { continue };
                    managed.insert(
                        id.to_owned(),
                        SsmManagedInstance {
                            ping_status: i.ping_status().map(|p| p.as_str().to_owned()),
                            agent_version: i.agent_version().map(str::to_owned),
                            platform_type: i.platform_type().map(|p| p.as_str().to_owned()),
                            last_ping: time(i.last_ping_date_time()),
                        },
                    );
                }
            }
            Observed::Absent => break,
            Observed::Unavailable(u) => {
                managed_failed = Some(u);
                break;
            }
        }
    }

    let mut compliance: BTreeMap<String, BTreeMap<String, SsmCompliance>> = BTreeMap::new();
    let mut compliance_failed = None;
    let mut pages = ssm
        .list_resource_compliance_summaries()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match log.observe("ssm:ListResourceComplianceSummaries", &arn, page, &[]) {
            Observed::Collected(page) => {
                for item in page.resource_compliance_summary_items() {
                    let (Some(id), Some(kind)) = (item.resource_id(), item.compliance_type())
                    else {
                        continue;
                    };
                    compliance.entry(id.to_owned()).or_default().insert(
                        kind.to_owned(),
                        SsmCompliance {
                            status: item
                                .status()
                                .map(|s| s.as_str().to_owned())
                                .unwrap_or_default(),
                            overall_severity: item
                                .overall_severity()
                                .map(|s| s.as_str().to_owned()),
                            non_compliant_count: item
                                .non_compliant_summary()
                                .map_or(0, |n| n.non_compliant_count()),
                            execution_time: item
                                .execution_summary()
                                .and_then(|e| time(Some(e.execution_time()))),
                        },
                    );
                }
            }
            Observed::Absent => break,
            Observed::Unavailable(u) => {
                compliance_failed = Some(u);
                break;
            }
        }
    }
    sink.absorb(log);
    let fleet = SsmFleet {
        managed: match managed_failed {
            Some(u) => Observed::Unavailable(u),
            None => Observed::Collected(managed),
        },
        compliance: match compliance_failed {
            Some(u) => Observed::Unavailable(u),
            None => Observed::Collected(compliance),
        },
    };
    sink.emit(
        arn,
        Observed::Collected(Tags::new()),
        ResourceBody::SsmFleet(fleet),
    )
    .await?;
    sink.finish().await
}
