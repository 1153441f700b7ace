//! EC2 Auto Scaling launch configurations in one region: `DescribeLaunchConfigurations`,
//! paginated. Their user data is never read into the model.

use std::collections::BTreeMap;

use posture_model::resources::{AutoScalingGroupRef, LaunchConfiguration};
use posture_model::{Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink, arn, time};
use crate::CollectError;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "autoscaling");
    let asg = ctx.clients.autoscaling(region.as_str());
    // Which groups launch from which configuration, and into which subnets.
    let mut users: BTreeMap<String, Vec<AutoScalingGroupRef>> = BTreeMap::new();
    let mut groups_failed = None;
    let mut pages = asg.describe_auto_scaling_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                for g in page.auto_scaling_groups() {
                    let (Some(name), Some(lc)) =
                        (g.auto_scaling_group_name(), g.launch_configuration_name())
                    else {
                        continue;
                    };
                    users
                        .entry(lc.to_owned())
                        .or_default()
                        .push(AutoScalingGroupRef {
                            name: name.to_owned(),
                            subnets: g
                                .vpc_zone_identifier()
                                .unwrap_or_default()
                                .split(',')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_owned)
                                .collect(),
                        });
                }
            }
            Err(e) => {
                let err = crate::classify::classify(&e);
                let mut log = GapLog::default();
                log.gap("autoscaling:DescribeAutoScalingGroups", &err, None);
                sink.absorb(log);
                groups_failed = Some(err.unavailable("autoscaling:DescribeAutoScalingGroups"));
                break;
            }
        }
    }
    let mut pages = asg.describe_launch_configurations().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("autoscaling:DescribeLaunchConfigurations", page) else {
            break;
        };
        for lc in page.launch_configurations() {
            let Some(name) = lc.launch_configuration_name() else {
                continue;
            };
            let config = LaunchConfiguration {
                name: name.to_owned(),
                image_id: lc.image_id().map(str::to_owned),
                instance_type: lc.instance_type().map(str::to_owned),
                associate_public_ip_address: lc.associate_public_ip_address(),
                http_tokens: lc
                    .metadata_options()
                    .and_then(|m| m.http_tokens())
                    .map(|t| t.as_str().to_owned()),
                created: time(lc.created_time()),
                used_by: match &groups_failed {
                    Some(u) => Observed::Unavailable(u.clone()),
                    None => Observed::Collected(users.get(name).cloned().unwrap_or_default()),
                },
            };
            let arn = arn(
                lc.launch_configuration_arn(),
                "autoscaling",
                region.as_str(),
                ctx.account.as_str(),
                &format!("launchConfiguration:*:launchConfigurationName/{name}"),
            );
            // Launch configurations carry no tags.
            sink.emit(
                arn,
                Observed::Collected(Tags::new()),
                ResourceBody::LaunchConfiguration(config),
            )
            .await?;
        }
    }
    sink.finish().await
}
