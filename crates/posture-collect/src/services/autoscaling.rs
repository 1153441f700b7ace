//! EC2 Auto Scaling launch configurations in one region: `DescribeLaunchConfigurations`,
//! paginated. Their user data is never read into the model.

use posture_model::resources::LaunchConfiguration;
use posture_model::{Observed, Region, ResourceBody, Tags};

use super::{Ctx, Sink, arn, time};
use crate::CollectError;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "autoscaling");
    let asg = ctx.clients.autoscaling(region.as_str());
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
