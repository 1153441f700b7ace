//! CloudWatch: log groups, metric filters, alarms and SNS topics.
//!
//! The `alarm_*` rules need a multi-region trail that is logging all management events and
//! delivers to CloudWatch Logs; the CloudTrail seed has none (its multi-region trail is
//! stopped), so this seed adds `phi-trail-monitored` (multi-region, logging, encrypted,
//! validated, delivering to `phi-good-encrypted` and to the log group of the same name). It
//! also makes `cloudtrail_multi_region_trail` pass and us-west-2 covered by a logging trail,
//! so those two expectations of the CloudTrail seed are replaced (see [`Seed::reexpect`]).
//!
//! moto 5.2.5 serves CloudWatch (`monitoring`) only over the query protocol, while the SDK
//! for Rust's CloudWatch client speaks Smithy RPC v2 CBOR: every CloudWatch call gets an
//! HTML 404. So no alarm can be seeded, the scan records a `cloudwatch:DescribeAlarms` gap
//! in each region, `cloudwatch_alarm_has_actions` is an error on each region, and every
//! `alarm_*` rule is an error on each region too. On the account, the seven rules whose
//! metric filter on the trail's log group is complete are an error (the alarms that would
//! decide them could not be read: never a pass); the six whose filter is broken (an event
//! left out, none at all, `&&` where `||` belongs, a pattern that is not JSON, an extra
//! narrowing clause, the filter on a log group no trail delivers to) fail whatever the
//! alarms. [`MOTO_SERVES_CLOUDWATCH`] switches the seed to real alarms (a complete chain for
//! the seven) once moto or the SDK meet.
//!
//! Log groups: `phi-trail-monitored` (KMS, never expires), `phi-app-logs` (no KMS, 30 days)
//! in us-east-1 and `phi-good-logs-west` (KMS, 400 days) in us-west-2. One SNS topic with a
//! subscription (moto confirms every subscription at once).

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_cloudwatchlogs::types::MetricTransformation;

use super::{Keys, PRIMARY, REGIONS, SECONDARY, Seed, Step};
use crate::Status::{Error, Fail, Pass};

/// Whether the emulator answers the SDK for Rust's CloudWatch calls (moto 5.2.5 does not).
const MOTO_SERVES_CLOUDWATCH: bool = false;

const TRAIL: &str = "phi-trail-monitored";
/// The trail's log group.
const TRAIL_GROUP: &str = "phi-trail-monitored";
/// A log group no trail delivers to.
const APP_GROUP: &str = "phi-app-logs";
const WEST_GROUP: &str = "phi-good-logs-west";
/// A bucket with server access logging (see the CloudTrail seed).
const TRAIL_BUCKET: &str = "phi-good-encrypted";
const ALERTS: &str = "phi-security-alerts";
const NAMESPACE: &str = "CISBenchmark";

/// What is wrong with a rule's metric filter.
#[derive(Clone, Copy, PartialEq)]
enum Filter {
    /// Nothing: with an alarm notifying a subscribed topic, the rule passes.
    Complete,
    /// A filter that does not match every required event (left out, `&&` for `||`, not
    /// JSON, narrowed by an unlisted clause).
    Incomplete,
    /// No filter at all.
    Missing,
    /// A complete filter, on a log group no trail delivers to.
    OtherLogGroup,
}

struct Monitor {
    rule: &'static str,
    /// The filter's pattern (written in varied styles: quotes, spacing, order).
    pattern: &'static str,
    filter: Filter,
    why: &'static str,
}

const MONITORS: &[Monitor] = &[
    Monitor {
        rule: "alarm_root_usage",
        pattern: r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        filter: Filter::Complete,
        why: "root-usage filter, alarm, phi-security-alerts (subscribed)",
    },
    Monitor {
        rule: "alarm_console_auth_failures",
        pattern: r#"{($.errorMessage="Failed authentication")&&($.eventName="ConsoleLogin")}"#,
        filter: Filter::Complete,
        why: "complete filter (clauses reordered, values quoted)",
    },
    Monitor {
        rule: "alarm_cloudtrail_config_changes",
        pattern: "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        filter: Filter::Complete,
        why: "complete filter",
    },
    Monitor {
        rule: "alarm_kms_cmk_disable_delete",
        pattern: "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}",
        filter: Filter::Complete,
        why: "complete filter (with the optional eventSource clause)",
    },
    Monitor {
        rule: "alarm_unauthorized_api_calls",
        pattern: r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
        filter: Filter::Complete,
        why: "complete filter",
    },
    Monitor {
        rule: "alarm_iam_policy_changes",
        pattern: "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
        filter: Filter::Complete,
        why: "complete filter",
    },
    Monitor {
        rule: "alarm_security_group_changes",
        pattern: "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
        filter: Filter::Complete,
        why: "complete filter",
    },
    Monitor {
        rule: "alarm_nacl_changes",
        pattern: "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) }",
        filter: Filter::Incomplete,
        why: "the filter leaves out ReplaceNetworkAclAssociation",
    },
    Monitor {
        rule: "alarm_network_gateway_changes",
        pattern: "",
        filter: Filter::Missing,
        why: "no metric filter for gateway changes",
    },
    Monitor {
        rule: "alarm_route_table_changes",
        pattern: "{ ($.eventName = CreateRoute) && ($.eventName = CreateRouteTable) && ($.eventName = ReplaceRoute) && ($.eventName = ReplaceRouteTableAssociation) && ($.eventName = DeleteRouteTable) && ($.eventName = DeleteRoute) && ($.eventName = DisassociateRouteTable) }",
        filter: Filter::Incomplete,
        why: "the filter joins the event names with && (matches nothing), though every name appears",
    },
    Monitor {
        rule: "alarm_vpc_changes",
        pattern: "CreateVpc DeleteVpc ModifyVpcAttribute AcceptVpcPeeringConnection CreateVpcPeeringConnection DeleteVpcPeeringConnection RejectVpcPeeringConnection AttachClassicLinkVpc DetachClassicLinkVpc DisableVpcClassicLink EnableVpcClassicLink",
        filter: Filter::Incomplete,
        why: "the filter is a space-delimited term pattern, not a JSON pattern on eventName",
    },
    Monitor {
        rule: "alarm_s3_bucket_policy_changes",
        pattern: r#"{ ($.userIdentity.userName = "ci-bot") && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"#,
        filter: Filter::Incomplete,
        why: "the filter is narrowed to one user (ci-bot), so changes by anyone else go unseen",
    },
    Monitor {
        rule: "alarm_console_login_without_mfa",
        pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
        filter: Filter::OtherLogGroup,
        why: "a complete filter, but on phi-app-logs, which no trail delivers to",
    },
];

pub(crate) async fn seed(s: &mut Seed, keys: &Keys) -> anyhow::Result<()> {
    let account = s.account.clone();
    let east = s.config(PRIMARY);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&east);
    let cw = aws_sdk_cloudwatch::Client::new(&east);
    let sns = aws_sdk_sns::Client::new(&east);

    // Log groups: (region, name, KMS key, retention in days).
    let groups = [
        (PRIMARY, TRAIL_GROUP, Some(&keys.primary), None),
        (PRIMARY, APP_GROUP, None, Some(30)),
        (SECONDARY, WEST_GROUP, Some(&keys.secondary), Some(400)),
    ];
    for (region, name, key, retention) in groups {
        let client = aws_sdk_cloudwatchlogs::Client::new(&s.config(region));
        let mut req = client.create_log_group().log_group_name(name);
        if let Some(k) = key {
            req = req.kms_key_id(k);
        }
        req.send()
            .await
            .step(format!("logs CreateLogGroup {name}"))?;
        if let Some(days) = retention {
            client
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .step(format!("logs PutRetentionPolicy {name}"))?;
        }
        let arn = format!("arn:aws:logs:{region}:{account}:log-group:{name}");
        s.expect(
            "log_group_kms_encrypted",
            &arn,
            if key.is_some() { Pass } else { Fail },
            format!(
                "{name}: KMS key {}",
                if key.is_some() { "set" } else { "not set" }
            ),
        );
        s.expect(
            "log_group_retention_min",
            &arn,
            if retention.is_none_or(|d| d >= 365) {
                Pass
            } else {
                Fail
            },
            format!("{name}: retention {retention:?} days (None = never expires)"),
        );
    }

    // The trail.
    let ct = aws_sdk_cloudtrail::Client::new(&east);
    let out = ct
        .create_trail()
        .name(TRAIL)
        .s3_bucket_name(TRAIL_BUCKET)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .kms_key_id(&keys.primary)
        .cloud_watch_logs_log_group_arn(format!(
            "arn:aws:logs:{PRIMARY}:{account}:log-group:{TRAIL_GROUP}:*"
        ))
        .cloud_watch_logs_role_arn(format!(
            "arn:aws:iam::{account}:role/phi-cloudtrail-to-logs"
        ))
        .send()
        .await
        .step(format!("cloudtrail CreateTrail {TRAIL}"))?;
    ct.start_logging()
        .name(TRAIL)
        .send()
        .await
        .step(format!("cloudtrail StartLogging {TRAIL}"))?;
    let trail_arn = out
        .trail_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("arn:aws:cloudtrail:{PRIMARY}:{account}:trail/{TRAIL}"));
    for (rule, why) in [
        ("cloudtrail_kms_encryption", "KMS key set"),
        ("cloudtrail_log_file_validation", "log file validation on"),
        (
            "cloudtrail_cloudwatch_logs",
            "delivers to phi-trail-monitored",
        ),
        (
            "cloudtrail_log_bucket_not_public",
            "delivers to the private phi-good-encrypted",
        ),
        (
            "cloudtrail_log_bucket_access_logging",
            "delivers to phi-good-encrypted, which has server access logging",
        ),
        (
            "cloudtrail_management_events_rw",
            "default selectors (all management events)",
        ),
    ] {
        s.expect(rule, &trail_arn, Pass, format!("{TRAIL}: {why}"));
    }
    s.expect(
        "cloudtrail_log_bucket_mfa_delete",
        &trail_arn,
        Fail,
        format!("{TRAIL}: {TRAIL_BUCKET} never had MFA Delete configured"),
    );
    s.reexpect(
        "cloudtrail_multi_region_trail",
        &format!("arn:aws:iam::{account}:root"),
        Pass,
        "phi-trail-monitored (seeded for the CloudWatch alarm rules) is multi-region and \
         logging all management events",
    );
    s.reexpect(
        "cloudtrail_trail_logging_in_region",
        &format!("arn:aws:ec2:{SECONDARY}:{account}:region/{SECONDARY}"),
        Pass,
        "the multi-region phi-trail-monitored (homed in us-east-1) is logging",
    );

    // A topic with a subscription (moto confirms every subscription at once).
    let alerts = sns
        .create_topic()
        .name(ALERTS)
        .send()
        .await
        .step(format!("sns CreateTopic {ALERTS}"))?
        .topic_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("arn:aws:sns:{PRIMARY}:{account}:{ALERTS}"));
    sns.subscribe()
        .topic_arn(&alerts)
        .protocol("email")
        .endpoint("security@example.com")
        .send()
        .await
        .step(format!("sns Subscribe {ALERTS}"))?;

    // Filters, and the alarms where the emulator can hold them.
    for m in MONITORS {
        let status = match (m.filter, MOTO_SERVES_CLOUDWATCH) {
            (Filter::Complete, true) => Pass,
            (Filter::Complete, false) => Error,
            _ => Fail,
        };
        let why = if status == Error {
            format!(
                "{}; the alarms could not be read (cloudwatch:DescribeAlarms gap), so never a \
                 pass",
                m.why
            )
        } else {
            m.why.to_owned()
        };
        s.expect(m.rule, &format!("arn:aws:iam::{account}:root"), status, why);
        if !MOTO_SERVES_CLOUDWATCH {
            for region in REGIONS {
                s.expect(
                    m.rule,
                    &format!("arn:aws:ec2:{region}:{account}:region/{region}"),
                    Error,
                    "cloudwatch:DescribeAlarms failed in the region (moto: HTML 404)",
                );
            }
        }
        if m.filter == Filter::Missing {
            continue;
        }
        let metric = m.rule.to_owned();
        let group = if m.filter == Filter::OtherLogGroup {
            APP_GROUP
        } else {
            TRAIL_GROUP
        };
        logs.put_metric_filter()
            .log_group_name(group)
            .filter_name(m.rule)
            .filter_pattern(m.pattern)
            .metric_transformations(
                MetricTransformation::builder()
                    .metric_name(&metric)
                    .metric_namespace(NAMESPACE)
                    .metric_value("1")
                    .build()
                    .step("MetricTransformation")?,
            )
            .send()
            .await
            .step(format!("logs PutMetricFilter {}", m.rule))?;
        if !MOTO_SERVES_CLOUDWATCH {
            continue;
        }
        let name = format!("{}-alarm", m.rule);
        cw.put_metric_alarm()
            .alarm_name(&name)
            .namespace(NAMESPACE)
            .metric_name(&metric)
            .statistic(Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .actions_enabled(true)
            .alarm_actions(&alerts)
            .insufficient_data_actions(&alerts)
            .send()
            .await
            .step(format!("cloudwatch PutMetricAlarm {name}"))?;
        s.expect(
            "cloudwatch_alarm_has_actions",
            &format!("arn:aws:cloudwatch:{PRIMARY}:{account}:alarm:{name}"),
            Pass,
            "actions enabled, ALARM and INSUFFICIENT_DATA actions set",
        );
    }
    if !MOTO_SERVES_CLOUDWATCH {
        for region in REGIONS {
            s.exp.expect_gap(
                "cloudwatch:DescribeAlarms",
                Some(region),
                None,
                "moto 5.2.5 serves CloudWatch only over the query protocol; the SDK for \
                 Rust speaks RPC v2 CBOR and gets an HTML 404",
            );
            s.expect(
                "cloudwatch_alarm_has_actions",
                &format!("arn:aws:ec2:{region}:{account}:region/{region}"),
                Error,
                "cloudwatch:DescribeAlarms failed in the region (moto: HTML 404)",
            );
        }
    }
    Ok(())
}
