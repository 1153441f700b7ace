//! `config_recorder_all_regions`: every scanned region has an AWS Config recorder that is
//! recording all supported resource types, with no failing recording or delivery.

use posture_model::resources::{ConfigRecorder, ConfigRecorderStatus};
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct ConfigRecorderAllRegions;

static META: RuleMeta = RuleMeta {
    id: "config_recorder_all_regions",
    title: "AWS Config records all resource types in the region",
    severity: Severity::Medium,
    subject: ResourceKind::Region,
    rationale: "A risk analysis needs an accurate inventory of the systems that hold ePHI and of \
                how their configuration changed; AWS Config keeps that history only where a \
                recorder records every resource type and delivers it (164.308(a)(1)(ii)(A)).",
    remediation: "Set up AWS Config in the region (Config console > Settings: record all \
                  resource types, a delivery channel to an S3 bucket), or \
                  PutConfigurationRecorder with recordingGroup.allSupported=true, \
                  PutDeliveryChannel and StartConfigurationRecorder; fix the recorder role or \
                  bucket policy when recording or delivery fails.",
    api_calls: &[
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
        "config:DescribeDeliveryChannelStatus",
    ],
    params: &[],
};

impl Rule for ConfigRecorderAllRegions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Region(info) = &subject.body else {
            return Outcome::not_applicable("not a region");
        };
        let region = info.name.as_str();
        let recorders: Vec<&ConfigRecorder> = ctx
            .resources(ResourceKind::ConfigRecorder, &subject.account, &info.name)
            .filter_map(|r| match &r.body {
                ResourceBody::ConfigRecorder(c) => Some(c),
                _ => None,
            })
            .collect();
        let service_linked: Vec<&str> = recorders
            .iter()
            .filter(|r| r.service_principal.is_some())
            .map(|r| r.name.as_str())
            .collect();
        // A service-linked recorder records only what its service needs.
        let Some(recorder) = recorders.iter().find(|r| r.service_principal.is_none()) else {
            return Outcome::fail(format!(
                "no customer-managed AWS Config recorder exists in {region}"
            ))
            .with("region", region)
            .with("recorder", "none")
            .with("service_linked_recorders", service_linked);
        };
        let described = |o: Outcome| {
            o.with("region", region)
                .with("recorder", &recorder.name)
                .with("all_supported", recorder.all_supported)
                .with("recording_strategy", &recorder.recording_strategy)
                .with(
                    "include_global_resource_types",
                    recorder.include_global_resource_types,
                )
        };
        let status: Option<&ConfigRecorderStatus> =
            try_observed!(recorder.status, "the recorder status");
        let Some(status) = status else {
            return described(Outcome::fail(format!(
                "recorder {} in {region} has no status: it has never been started",
                recorder.name
            )));
        };
        let described = |o: Outcome| {
            described(o)
                .with("recording", status.recording)
                .with("last_status", &status.last_status)
        };
        if !status.recording {
            return described(Outcome::fail(format!(
                "recorder {} in {region} is stopped",
                recorder.name
            )));
        }
        if !recorder.all_supported {
            let what = if recorder.excluded_resource_types.is_empty() {
                "records only selected resource types".to_owned()
            } else {
                format!(
                    "excludes {} resource type(s)",
                    recorder.excluded_resource_types.len()
                )
            };
            return described(Outcome::fail(format!(
                "recorder {} in {region} {what}, not all supported types",
                recorder.name
            )))
            .with("excluded_resource_types", &recorder.excluded_resource_types);
        }
        if status
            .last_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("failure"))
        {
            return described(Outcome::fail(format!(
                "recorder {} in {region} is failing to record: {}",
                recorder.name,
                status
                    .last_error_code
                    .as_deref()
                    .or(status.last_error_message.as_deref())
                    .unwrap_or("no error given")
            )))
            .with("last_error_code", &status.last_error_code);
        }
        let channels = try_observed!(recorder.delivery_channels, "the delivery channel status");
        let channels = channels.map(Vec::as_slice).unwrap_or_default();
        if channels.is_empty() {
            return described(Outcome::fail(format!(
                "recorder {} in {region} has no delivery channel, so nothing is delivered",
                recorder.name
            )))
            .with("delivery_channels", channels);
        }
        let failing: Vec<&str> = channels
            .iter()
            .filter(|c| {
                [&c.history_last_status, &c.snapshot_last_status]
                    .iter()
                    .any(|s| {
                        s.as_deref()
                            .is_some_and(|s| s.eq_ignore_ascii_case("failure"))
                    })
            })
            .map(|c| c.name.as_str())
            .collect();
        if !failing.is_empty() {
            return described(Outcome::fail(format!(
                "delivery channel {} in {region} is failing to deliver",
                failing.join(", ")
            )))
            .with("delivery_channels", channels);
        }
        described(Outcome::pass(format!(
            "recorder {} is recording all supported resource types in {region}",
            recorder.name
        )))
        .with("delivery_channels", channels)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{ConfigDeliveryChannelStatus, RegionInfo};
    use posture_model::{Observed, Region, Status};

    use super::*;
    use crate::testing::*;

    fn recorder() -> ConfigRecorder {
        ConfigRecorder {
            name: "default".into(),
            role_arn: Some("arn:aws:iam::111122223333:role/aws-config".into()),
            all_supported: true,
            include_global_resource_types: true,
            recording_strategy: Some("ALL_SUPPORTED_RESOURCE_TYPES".into()),
            excluded_resource_types: vec![],
            service_principal: None,
            status: Observed::Collected(ConfigRecorderStatus {
                recording: true,
                last_status: Some("SUCCESS".into()),
                last_error_code: None,
                last_error_message: None,
            }),
            delivery_channels: Observed::Collected(vec![ConfigDeliveryChannelStatus {
                name: "default".into(),
                history_last_status: Some("SUCCESS".into()),
                snapshot_last_status: Some("SUCCESS".into()),
                last_error_code: None,
            }]),
        }
    }

    fn recorder_in(region: &str, r: ConfigRecorder) -> Resource {
        resource(
            &format!(
                "arn:aws:config:{region}:111122223333:configuration-recorder/{}",
                r.name
            ),
            Region::new(region).expect("valid"),
            ResourceBody::ConfigRecorder(r),
        )
    }

    fn region_subject(name: &str) -> Resource {
        let r = Region::new(name).expect("valid region");
        resource(
            &format!("arn:aws:ec2:{name}:111122223333:region/{name}"),
            r.clone(),
            ResourceBody::Region(RegionInfo { name: r }),
        )
    }

    fn check(recorders: Vec<ConfigRecorder>) -> Outcome {
        let others: Vec<Resource> = recorders
            .into_iter()
            .map(|r| recorder_in("us-east-1", r))
            .collect();
        run(
            &ConfigRecorderAllRegions,
            &region_subject("us-east-1"),
            &others,
        )
    }

    #[test]
    fn pass_when_recording_everything_and_delivering() {
        let o = expect(check(vec![recorder()]), Status::Pass);
        assert_eq!(o.evidence["recorder"], "default");
        assert_eq!(o.evidence["recording"], true);
        assert_eq!(o.evidence["all_supported"], true);
    }

    #[test]
    fn fail_without_a_recorder_in_the_region() {
        let o = expect(
            run(
                &ConfigRecorderAllRegions,
                &region_subject("us-east-1"),
                &[recorder_in("us-west-2", recorder())],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["recorder"], "none");
    }

    #[test]
    fn fail_when_only_a_service_linked_recorder_exists() {
        let mut r = recorder();
        r.name = "AWSConfigurationRecorderForSecurityHub".into();
        r.service_principal = Some("securityhub.amazonaws.com".into());
        let o = expect(check(vec![r]), Status::Fail);
        assert_eq!(
            o.evidence["service_linked_recorders"][0],
            "AWSConfigurationRecorderForSecurityHub"
        );
    }

    #[test]
    fn fail_when_stopped() {
        let mut r = recorder();
        r.status = Observed::Collected(ConfigRecorderStatus {
            recording: false,
            last_status: None,
            last_error_code: None,
            last_error_message: None,
        });
        let o = expect(check(vec![r]), Status::Fail);
        assert!(o.reason.contains("stopped"), "{}", o.reason);
    }

    #[test]
    fn fail_when_recording_selected_types_only() {
        let mut r = recorder();
        r.all_supported = false;
        r.recording_strategy = Some("EXCLUSION_BY_RESOURCE_TYPES".into());
        r.excluded_resource_types = vec!["AWS::EC2::Instance".into()];
        let o = expect(check(vec![r]), Status::Fail);
        assert!(
            o.reason.contains("excludes 1 resource type"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_when_recording_or_delivery_fails() {
        let mut r = recorder();
        r.status = Observed::Collected(ConfigRecorderStatus {
            recording: true,
            last_status: Some("FAILURE".into()),
            last_error_code: Some("AccessDenied".into()),
            last_error_message: None,
        });
        let o = expect(check(vec![r]), Status::Fail);
        assert_eq!(o.evidence["last_error_code"], "AccessDenied");

        let mut r = recorder();
        r.delivery_channels = Observed::Collected(vec![ConfigDeliveryChannelStatus {
            name: "default".into(),
            history_last_status: Some("FAILURE".into()),
            snapshot_last_status: None,
            last_error_code: Some("NoSuchBucket".into()),
        }]);
        let o = expect(check(vec![r]), Status::Fail);
        assert!(o.reason.contains("failing to deliver"), "{}", o.reason);

        let mut r = recorder();
        r.delivery_channels = Observed::Collected(vec![]);
        let o = expect(check(vec![r]), Status::Fail);
        assert!(o.reason.contains("no delivery channel"), "{}", o.reason);
    }

    #[test]
    fn error_when_the_status_could_not_be_read() {
        let mut r = recorder();
        r.status = denied("config:DescribeConfigurationRecorderStatus");
        let o = expect(check(vec![r]), Status::Error);
        assert!(
            o.reason
                .contains("config:DescribeConfigurationRecorderStatus"),
            "{}",
            o.reason
        );
        let mut r = recorder();
        r.delivery_channels = denied("config:DescribeDeliveryChannelStatus");
        expect(check(vec![r]), Status::Error);
    }

    #[test]
    fn error_when_recorders_could_not_be_listed() {
        let region = region_subject("us-east-1");
        let coverage = posture_model::Coverage {
            failed: vec![list_gap(
                "config:DescribeConfigurationRecorders",
                region.region.clone(),
            )],
            ..Default::default()
        };
        let findings = evaluate(
            &[region],
            &coverage,
            &baseline_of(&ConfigRecorderAllRegions),
            now(),
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].status, Status::Error, "{findings:?}");
        assert!(
            findings[0]
                .reason
                .contains("config:DescribeConfigurationRecorders failed in 111122223333/us-east-1"),
            "{}",
            findings[0].reason
        );
        assert_eq!(
            findings[0].evidence["gap"]["operation"],
            "config:DescribeConfigurationRecorders"
        );
    }
}
