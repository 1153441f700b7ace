//! Load balancers in one region: Classic ones through the 2012-06-01 API and Application,
//! Network and Gateway ones through the v2 API, both emitted as `aws_elb_load_balancer`.
//!
//! Calls, and why no more: Classic `DescribeLoadBalancers` already carries the listeners and
//! the policy names attached to them, so `DescribeLoadBalancerPolicies` is called once per
//! load balancer, only for the policy names of its HTTPS/SSL listeners that are not
//! stickiness policies (the candidates for its SSL negotiation policy). v2 listeners come
//! from `DescribeListeners` with their `SslPolicy`, default certificate and default actions;
//! `DescribeRules` is called only for Application Load Balancer HTTP listeners whose
//! default action does not already serve plain HTTP (a default `forward` decides the
//! redirect rule by itself). Tags come in batches of 20 from `DescribeTags`; attributes from
//! one `DescribeLoadBalancerAttributes` per load balancer.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use posture_model::resources::{
    Listener, ListenerAction, ListenerRule, LoadBalancer, LoadBalancerAttributes, SecurityPolicy,
};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags, Unavailable, UnavailableKind};

use super::{Ctx, GapLog, Sink, arn};
use crate::CollectError;
use crate::classify::{CallError, classify};

const LB_CONCURRENCY: usize = 8;
/// `DescribeTags` takes at most 20 names (Classic) or ARNs (v2) per call.
const TAG_BATCH: usize = 20;
/// The policy type of a Classic SSL negotiation policy.
const SSL_NEGOTIATION: &str = "SSLNegotiationPolicyType";

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "elb");
    classic(ctx, region, &mut sink).await?;
    v2(ctx, region, &mut sink).await?;
    sink.finish().await
}

fn skipped(operation: &str, why: &str) -> Unavailable {
    Unavailable {
        kind: UnavailableKind::NotCollected,
        operation: operation.to_owned(),
        code: None,
        message: why.to_owned(),
    }
}

const DESCRIBE_TAGS: &str = "elasticloadbalancing:DescribeTags";

/// Matches a `DescribeTags` answer to the load balancers asked for (Classic names or v2
/// ARNs, as `(key, ARN)`). A load balancer asked for and left out of the answer has
/// unknown tags, never none: `Unavailable`, with a gap naming it, so that a rule scoped to
/// PHI resources answers `Error` for it instead of taking it for untagged (issue 11).
fn match_tags(
    asked: &[(&str, &Arn)],
    answered: impl IntoIterator<Item = (String, Tags)>,
    log: &mut GapLog,
) -> Vec<(String, Observed<Tags>)> {
    let mut answered: BTreeMap<String, Tags> = answered.into_iter().collect();
    asked
        .iter()
        .map(|(key, arn)| {
            let tags = match answered.remove(*key) {
                Some(t) => Observed::Collected(t),
                None => {
                    let err = not_returned();
                    log.gap(DESCRIBE_TAGS, &err, Some(arn));
                    Observed::Unavailable(err.unavailable(DESCRIBE_TAGS))
                }
            };
            ((*key).to_owned(), tags)
        })
        .collect()
}

fn not_returned() -> CallError {
    CallError {
        code: None,
        message: "DescribeTags did not return this load balancer's tags".to_owned(),
        kind: UnavailableKind::Failed,
    }
}

/// Tags of a load balancer no `DescribeTags` batch covered (not expected: every one is
/// asked for): unknown.
fn tags_not_returned() -> Observed<Tags> {
    Observed::Unavailable(not_returned().unavailable(DESCRIBE_TAGS))
}

// ---- Classic ---------------------------------------------------------------------------

async fn classic(ctx: &Ctx<'_>, region: &Region, sink: &mut Sink<'_>) -> Result<(), CollectError> {
    let elb = ctx.clients.elb(region.as_str());
    let mut lbs = Vec::new();
    let mut pages = elb.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("elasticloadbalancing:DescribeLoadBalancers", page) else {
            break;
        };
        for d in page.load_balancer_descriptions() {
            if let Some(name) = d.load_balancer_name() {
                let arn = Arn::from_parts(
                    "elasticloadbalancing",
                    region.as_str(),
                    ctx.account.as_str(),
                    &format!("loadbalancer/{name}"),
                );
                lbs.push((name.to_owned(), arn, d.clone()));
            }
        }
    }
    if lbs.is_empty() {
        return Ok(());
    }

    let mut tags: BTreeMap<String, Observed<Tags>> = BTreeMap::new();
    for batch in lbs.chunks(TAG_BATCH) {
        let op = "elasticloadbalancing:DescribeTags";
        let names: Vec<String> = batch.iter().map(|(n, _, _)| n.clone()).collect();
        match elb
            .describe_tags()
            .set_load_balancer_names(Some(names))
            .send()
            .await
        {
            Ok(out) => {
                let answered = out.tag_descriptions().iter().filter_map(|td| {
                    let t = td
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                        .collect();
                    Some((td.load_balancer_name()?.to_owned(), t))
                });
                let asked: Vec<(&str, &Arn)> =
                    batch.iter().map(|(n, a, _)| (n.as_str(), a)).collect();
                let mut log = GapLog::default();
                tags.extend(match_tags(&asked, answered, &mut log));
                sink.absorb(log);
            }
            Err(e) => {
                let err = classify(&e);
                let mut log = GapLog::default();
                for (name, arn, _) in batch {
                    log.gap(op, &err, Some(arn));
                    tags.insert(name.clone(), Observed::Unavailable(err.unavailable(op)));
                }
                sink.absorb(log);
            }
        }
    }

    let mut reads = futures::stream::iter(lbs)
        .map(|(name, arn, desc)| {
            let elb = &elb;
            async move { read_classic(elb, name, arn, desc).await }
        })
        .buffer_unordered(LB_CONCURRENCY);
    while let Some((arn, name, lb, log)) = reads.next().await {
        sink.absorb(log);
        let t = tags.remove(&name).unwrap_or_else(tags_not_returned);
        sink.emit(arn, t, ResourceBody::LoadBalancer(lb)).await?;
    }
    Ok(())
}

async fn read_classic(
    elb: &aws_sdk_elasticloadbalancing::Client,
    name: String,
    arn: Arn,
    desc: aws_sdk_elasticloadbalancing::types::LoadBalancerDescription,
) -> (Arn, String, LoadBalancer, GapLog) {
    let mut log = GapLog::default();
    let stickiness: BTreeSet<&str> = desc
        .policies()
        .map(|p| {
            p.app_cookie_stickiness_policies()
                .iter()
                .filter_map(|s| s.policy_name())
                .chain(
                    p.lb_cookie_stickiness_policies()
                        .iter()
                        .filter_map(|s| s.policy_name()),
                )
                .collect()
        })
        .unwrap_or_default();
    let is_tls = |p: &str| matches!(p.to_ascii_uppercase().as_str(), "HTTPS" | "SSL");
    // The candidates for each TLS listener's SSL negotiation policy.
    let candidates: BTreeSet<String> = desc
        .listener_descriptions()
        .iter()
        .filter(|ld| ld.listener().is_some_and(|l| is_tls(l.protocol())))
        .flat_map(|ld| ld.policy_names())
        .filter(|n| !stickiness.contains(n.as_str()))
        .cloned()
        .collect();
    let op = "elasticloadbalancing:DescribeLoadBalancerPolicies";
    let policies: Observed<BTreeMap<String, SecurityPolicy>> = if candidates.is_empty() {
        Observed::Collected(BTreeMap::new())
    } else {
        log.observe(
            op,
            &arn,
            elb.describe_load_balancer_policies()
                .load_balancer_name(&name)
                .set_policy_names(Some(candidates.into_iter().collect()))
                .send()
                .await,
            &[],
        )
        .map(|out| {
            out.policy_descriptions()
                .iter()
                .filter(|p| p.policy_type_name() == Some(SSL_NEGOTIATION))
                .filter_map(|p| {
                    let name = p.policy_name()?.to_owned();
                    let attrs = p.policy_attribute_descriptions();
                    let predefined = attrs
                        .iter()
                        .find(|a| a.attribute_name() == Some("Reference-Security-Policy"))
                        .and_then(|a| a.attribute_value())
                        .map(str::to_owned);
                    let protocols = attrs
                        .iter()
                        .filter(|a| {
                            a.attribute_name()
                                .is_some_and(|n| n.starts_with("Protocol-"))
                                && a.attribute_value() == Some("true")
                        })
                        .filter_map(|a| a.attribute_name().map(str::to_owned))
                        .collect();
                    Some((
                        name.clone(),
                        SecurityPolicy {
                            name,
                            predefined,
                            protocols,
                        },
                    ))
                })
                .collect()
        })
    };

    let listeners = desc
        .listener_descriptions()
        .iter()
        .filter_map(|ld| {
            let l = ld.listener()?;
            let protocol = l.protocol().to_ascii_uppercase();
            let security_policy = if !is_tls(&protocol) {
                Observed::Absent
            } else {
                match &policies {
                    Observed::Collected(found) => ld
                        .policy_names()
                        .iter()
                        .find_map(|n| found.get(n).cloned())
                        .map_or(Observed::Absent, Observed::Collected),
                    Observed::Absent => Observed::Absent,
                    Observed::Unavailable(u) => Observed::Unavailable(u.clone()),
                }
            };
            Some(Listener {
                arn: None,
                port: Some(l.load_balancer_port()),
                protocol,
                instance_protocol: l.instance_protocol().map(|p| p.to_ascii_uppercase()),
                certificates: l
                    .ssl_certificate_id()
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                sni_certificates: Observed::Absent,
                security_policy,
                default_actions: Vec::new(),
                rules: Observed::Unavailable(skipped(
                    "elasticloadbalancing:DescribeRules",
                    "Classic load balancers have no listener rules",
                )),
            })
        })
        .collect();

    let attributes = log
        .observe(
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            &arn,
            elb.describe_load_balancer_attributes()
                .load_balancer_name(&name)
                .send()
                .await,
            &[],
        )
        .map(|out| {
            let access = out.load_balancer_attributes().and_then(|a| a.access_log());
            LoadBalancerAttributes {
                access_logs_enabled: access.map(|a| a.enabled()),
                access_logs_bucket: access
                    .and_then(|a| a.s3_bucket_name())
                    .filter(|b| !b.is_empty())
                    .map(str::to_owned),
                drop_invalid_header_fields: None,
                deletion_protection: None,
            }
        });

    let lb = LoadBalancer {
        name: name.clone(),
        lb_type: "classic".to_owned(),
        scheme: desc.scheme().map(str::to_owned),
        vpc_id: desc.vpc_id().map(str::to_owned),
        dns_name: desc.dns_name().map(str::to_owned),
        listeners: Observed::Collected(listeners),
        attributes,
    };
    (arn, name, lb, log)
}

// ---- v2 (Application, Network, Gateway) --------------------------------------------------

async fn v2(ctx: &Ctx<'_>, region: &Region, sink: &mut Sink<'_>) -> Result<(), CollectError> {
    let elb = ctx.clients.elbv2(region.as_str());
    let mut lbs = Vec::new();
    let mut pages = elb.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("elasticloadbalancing:DescribeLoadBalancers", page) else {
            break;
        };
        for lb in page.load_balancers() {
            let (Some(name), Some(text)) = (lb.load_balancer_name(), lb.load_balancer_arn()) else {
                continue;
            };
            let resource = format!("loadbalancer/{name}");
            let lb_arn = arn(
                Some(text),
                "elasticloadbalancing",
                region.as_str(),
                ctx.account.as_str(),
                &resource,
            );
            lbs.push((text.to_owned(), lb_arn, lb.clone()));
        }
    }
    if lbs.is_empty() {
        return Ok(());
    }

    let mut tags: BTreeMap<String, Observed<Tags>> = BTreeMap::new();
    for batch in lbs.chunks(TAG_BATCH) {
        let op = "elasticloadbalancing:DescribeTags";
        let arns: Vec<String> = batch.iter().map(|(a, _, _)| a.clone()).collect();
        match elb
            .describe_tags()
            .set_resource_arns(Some(arns))
            .send()
            .await
        {
            Ok(out) => {
                let answered = out.tag_descriptions().iter().filter_map(|td| {
                    let t = td
                        .tags()
                        .iter()
                        .filter_map(|t| {
                            Some((
                                t.key()?.to_owned(),
                                t.value().unwrap_or_default().to_owned(),
                            ))
                        })
                        .collect();
                    Some((td.resource_arn()?.to_owned(), t))
                });
                let asked: Vec<(&str, &Arn)> =
                    batch.iter().map(|(t, a, _)| (t.as_str(), a)).collect();
                let mut log = GapLog::default();
                tags.extend(match_tags(&asked, answered, &mut log));
                sink.absorb(log);
            }
            Err(e) => {
                let err = classify(&e);
                let mut log = GapLog::default();
                for (text, a, _) in batch {
                    log.gap(op, &err, Some(a));
                    tags.insert(text.clone(), Observed::Unavailable(err.unavailable(op)));
                }
                sink.absorb(log);
            }
        }
    }

    let mut reads = futures::stream::iter(lbs)
        .map(|(text, lb_arn, desc)| {
            let elb = &elb;
            async move { read_v2(elb, text, lb_arn, desc).await }
        })
        .buffer_unordered(LB_CONCURRENCY);
    while let Some((text, lb_arn, lb, log)) = reads.next().await {
        sink.absorb(log);
        let t = tags.remove(&text).unwrap_or_else(tags_not_returned);
        sink.emit(lb_arn, t, ResourceBody::LoadBalancer(lb)).await?;
    }
    Ok(())
}

fn action(a: &aws_sdk_elasticloadbalancingv2::types::Action) -> ListenerAction {
    ListenerAction {
        action_type: a
            .r#type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        redirect_protocol: a
            .redirect_config()
            .and_then(|r| r.protocol())
            .map(str::to_owned),
    }
}

fn ordered_actions(
    actions: &[aws_sdk_elasticloadbalancingv2::types::Action],
) -> Vec<ListenerAction> {
    let mut sorted: Vec<_> = actions.iter().collect();
    sorted.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    sorted.into_iter().map(action).collect()
}

async fn read_v2(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    text: String,
    lb_arn: Arn,
    desc: aws_sdk_elasticloadbalancingv2::types::LoadBalancer,
) -> (String, Arn, LoadBalancer, GapLog) {
    let mut log = GapLog::default();
    let lb_type = desc
        .r#type()
        .map(|t| t.as_str().to_owned())
        .unwrap_or_default();
    let is_alb = lb_type == "application";

    let mut raw = Vec::new();
    let mut failed = None;
    let mut pages = elb
        .describe_listeners()
        .load_balancer_arn(&text)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match log.observe("elasticloadbalancing:DescribeListeners", &lb_arn, page, &[]) {
            Observed::Collected(p) => raw.extend(p.listeners().iter().cloned()),
            Observed::Absent => break,
            Observed::Unavailable(u) => {
                failed = Some(u);
                break;
            }
        }
    }
    let listeners = match failed {
        Some(u) => Observed::Unavailable(u),
        None => {
            let mut out = Vec::new();
            for l in raw {
                out.push(read_listener(elb, &lb_arn, is_alb, l, &mut log).await);
            }
            Observed::Collected(out)
        }
    };

    let attributes = log
        .observe(
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            &lb_arn,
            elb.describe_load_balancer_attributes()
                .load_balancer_arn(&text)
                .send()
                .await,
            &[],
        )
        .map(|out| {
            let map: BTreeMap<&str, &str> = out
                .attributes()
                .iter()
                .filter_map(|a| Some((a.key()?, a.value()?)))
                .collect();
            let flag = |k: &str| map.get(k).map(|v| v.eq_ignore_ascii_case("true"));
            LoadBalancerAttributes {
                access_logs_enabled: flag("access_logs.s3.enabled"),
                access_logs_bucket: map
                    .get("access_logs.s3.bucket")
                    .filter(|b| !b.is_empty())
                    .map(|b| (*b).to_owned()),
                drop_invalid_header_fields: flag("routing.http.drop_invalid_header_fields.enabled"),
                deletion_protection: flag("deletion_protection.enabled"),
            }
        });

    let lb = LoadBalancer {
        name: desc.load_balancer_name().unwrap_or_default().to_owned(),
        lb_type,
        scheme: desc.scheme().map(|s| s.as_str().to_owned()),
        vpc_id: desc.vpc_id().map(str::to_owned),
        dns_name: desc.dns_name().map(str::to_owned),
        listeners,
        attributes,
    };
    (text, lb_arn, lb, log)
}

async fn read_listener(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    lb_arn: &Arn,
    is_alb: bool,
    l: aws_sdk_elasticloadbalancingv2::types::Listener,
    log: &mut GapLog,
) -> Listener {
    let protocol = l
        .protocol()
        .map(|p| p.as_str().to_ascii_uppercase())
        .unwrap_or_default();
    let default_actions = ordered_actions(l.default_actions());
    let tls = matches!(protocol.as_str(), "HTTPS" | "TLS");
    let default_certificates: Vec<String> = l
        .certificates()
        .iter()
        .filter_map(|c| c.certificate_arn().map(str::to_owned))
        .collect();
    let security_policy = match l.ssl_policy() {
        Some(p) if tls => Observed::Collected(SecurityPolicy {
            name: p.to_owned(),
            predefined: Some(p.to_owned()),
            protocols: Vec::new(),
        }),
        _ => Observed::Absent,
    };
    let op = "elasticloadbalancing:DescribeRules";
    let rules = match l.listener_arn() {
        Some(listener_arn)
            if is_alb
                && protocol == "HTTP"
                && !default_actions
                    .iter()
                    .any(ListenerAction::serves_plain_http) =>
        {
            let mut rules = Vec::new();
            let mut failed = None;
            let mut pages = elb
                .describe_rules()
                .listener_arn(listener_arn)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                match log.observe(op, lb_arn, page, &[]) {
                    Observed::Collected(p) => {
                        rules.extend(p.rules().iter().map(|r| ListenerRule {
                            priority: r.priority().unwrap_or_default().to_owned(),
                            is_default: r.is_default().unwrap_or(false),
                            actions: ordered_actions(r.actions()),
                        }));
                    }
                    Observed::Absent => break,
                    Observed::Unavailable(u) => {
                        failed = Some(u);
                        break;
                    }
                }
            }
            match failed {
                Some(u) => Observed::Unavailable(u),
                None => Observed::Collected(rules),
            }
        }
        _ => Observed::Unavailable(skipped(
            op,
            "read only for Application Load Balancer HTTP listeners whose default action does \
             not already serve plain HTTP",
        )),
    };
    let sni_certificates = match (tls, l.listener_arn()) {
        (true, Some(listener_arn)) => {
            sni_certificates(elb, lb_arn, listener_arn, &default_certificates, log).await
        }
        _ => Observed::Absent,
    };
    Listener {
        sni_certificates,
        arn: l.listener_arn().map(str::to_owned),
        port: l.port(),
        protocol,
        instance_protocol: None,
        certificates: default_certificates,
        security_policy,
        default_actions,
        rules,
    }
}

/// The certificates of a v2 listener besides its default ones (SNI), paginated.
async fn sni_certificates(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    lb_arn: &Arn,
    listener_arn: &str,
    defaults: &[String],
    log: &mut GapLog,
) -> Observed<Vec<String>> {
    let mut out = Vec::new();
    let mut pages = elb
        .describe_listener_certificates()
        .listener_arn(listener_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match log.observe(
            "elasticloadbalancing:DescribeListenerCertificates",
            lb_arn,
            page,
            &[],
        ) {
            Observed::Collected(p) => out.extend(
                p.certificates()
                    .iter()
                    .filter_map(|c| c.certificate_arn())
                    .filter(|c| !defaults.iter().any(|d| d == c))
                    .map(str::to_owned),
            ),
            Observed::Absent => break,
            Observed::Unavailable(u) => return Observed::Unavailable(u),
        }
    }
    out.sort();
    out.dedup();
    Observed::Collected(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // moto cannot produce this case (its DescribeTags answers every load balancer asked
    // for), and the SDK's replay/mock clients need the `test-util` features, which would
    // rebuild the whole SDK for this crate's tests: the answer is given here as the
    // (key, tags) pairs the collector reads out of `DescribeTags`, for both APIs.
    #[test]
    fn a_load_balancer_left_out_of_describe_tags_has_unavailable_tags_and_a_gap() {
        let tagged =
            Arn::new("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/phi")
                .expect("an ARN");
        let untagged =
            Arn::new("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/plain")
                .expect("an ARN");
        let missing =
            Arn::new("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/gone")
                .expect("an ARN");
        let asked = [("phi", &tagged), ("plain", &untagged), ("gone", &missing)];
        let answered = [
            (
                "phi".to_owned(),
                Tags::from([("DataClass".to_owned(), "PHI".to_owned())]),
            ),
            // Answered with no tags: known to be untagged.
            ("plain".to_owned(), Tags::new()),
            // Not asked for: ignored.
            ("other".to_owned(), Tags::new()),
        ];
        let mut log = GapLog::default();
        let got: BTreeMap<String, Observed<Tags>> =
            match_tags(&asked, answered, &mut log).into_iter().collect();

        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            got["phi"],
            Observed::Collected(Tags::from([("DataClass".to_owned(), "PHI".to_owned())]))
        );
        assert_eq!(got["plain"], Observed::Collected(Tags::new()));
        match &got["gone"] {
            Observed::Unavailable(u) => {
                assert_eq!(u.kind, UnavailableKind::Failed);
                assert_eq!(u.operation, "elasticloadbalancing:DescribeTags");
                assert!(u.message.contains("did not return"), "{}", u.message);
            }
            other => panic!("tags asked for and not returned must be unavailable: {other:?}"),
        }
        // One gap, naming the load balancer left out.
        assert_eq!(log.0.len(), 1, "{:?}", log.0);
        assert_eq!(log.0[0].0, "elasticloadbalancing:DescribeTags");
        assert_eq!(log.0[0].2.as_ref(), Some(&missing));
    }
}
