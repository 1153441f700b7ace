//! AWS Config in one region: the configuration recorders, their status and the region's
//! delivery channel status. Three calls per region, none per recorder.

use posture_model::resources::{ConfigDeliveryChannelStatus, ConfigRecorder, ConfigRecorderStatus};
use posture_model::{Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink, arn};
use crate::CollectError;
use crate::classify::classify;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "config");
    let config = ctx.clients.config(region.as_str());
    let Some(recorders) = sink.list(
        "config:DescribeConfigurationRecorders",
        config.describe_configuration_recorders().send().await,
    ) else {
        return sink.finish().await;
    };
    if recorders.configuration_recorders().is_empty() {
        return sink.finish().await;
    }

    let mut log = GapLog::default();
    let statuses = match config.describe_configuration_recorder_status().send().await {
        Ok(out) => Ok(out.configuration_recorders_status().to_vec()),
        Err(e) => {
            let err = classify(&e);
            log.gap("config:DescribeConfigurationRecorderStatus", &err, None);
            Err(err.unavailable("config:DescribeConfigurationRecorderStatus"))
        }
    };
    let channels = match config.describe_delivery_channel_status().send().await {
        Ok(out) => Observed::Collected(
            out.delivery_channels_status()
                .iter()
                .map(|c| {
                    let history = c.config_history_delivery_info();
                    let snapshot = c.config_snapshot_delivery_info();
                    ConfigDeliveryChannelStatus {
                        name: c.name().unwrap_or_default().to_owned(),
                        history_last_status: history
                            .and_then(|h| h.last_status())
                            .map(|s| s.as_str().to_owned()),
                        snapshot_last_status: snapshot
                            .and_then(|h| h.last_status())
                            .map(|s| s.as_str().to_owned()),
                        last_error_code: history
                            .and_then(|h| h.last_error_code())
                            .or_else(|| snapshot.and_then(|h| h.last_error_code()))
                            .map(str::to_owned),
                    }
                })
                .collect(),
        ),
        Err(e) => {
            let err = classify(&e);
            log.gap("config:DescribeDeliveryChannelStatus", &err, None);
            Observed::Unavailable(err.unavailable("config:DescribeDeliveryChannelStatus"))
        }
    };
    sink.absorb(log);

    for r in recorders.configuration_recorders() {
        let Some(name) = r.name() else { continue };
        let group = r.recording_group();
        let status = match &statuses {
            Ok(all) => match all.iter().find(|s| s.name() == Some(name)) {
                Some(s) => Observed::Collected(ConfigRecorderStatus {
                    recording: s.recording(),
                    last_status: s.last_status().map(|v| v.as_str().to_owned()),
                    last_error_code: s.last_error_code().map(str::to_owned),
                    last_error_message: s.last_error_message().map(str::to_owned),
                }),
                None => Observed::Absent,
            },
            Err(u) => Observed::Unavailable(u.clone()),
        };
        let recorder = ConfigRecorder {
            name: name.to_owned(),
            role_arn: r.role_arn().map(str::to_owned),
            all_supported: group.is_some_and(|g| g.all_supported()),
            include_global_resource_types: group.is_some_and(|g| g.include_global_resource_types()),
            recording_strategy: group
                .and_then(|g| g.recording_strategy())
                .and_then(|s| s.use_only())
                .map(|s| s.as_str().to_owned()),
            excluded_resource_types: group
                .and_then(|g| g.exclusion_by_resource_types())
                .map(|e| {
                    e.resource_types()
                        .iter()
                        .map(|t| t.as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
            service_principal: r.service_principal().map(str::to_owned),
            status,
            delivery_channels: channels.clone(),
        };
        let arn = arn(
            r.arn(),
            "config",
            region.as_str(),
            ctx.account.as_str(),
            &format!("configuration-recorder/{name}"),
        );
        // Recorders carry no tags of their own that the rules read.
        sink.emit(
            arn,
            Observed::Collected(Tags::new()),
            ResourceBody::ConfigRecorder(recorder),
        )
        .await?;
    }
    sink.finish().await
}
