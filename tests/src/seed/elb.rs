//! Load balancers: a good and a bad Classic load balancer, a good and a bad Application
//! Load Balancer and a good Network Load Balancer in us-east-1, and a TCP-only Network Load
//! Balancer in us-west-2 (not applicable to the TLS rules; its unset attributes fail).
//!
//! All of them sit in the default VPC. Classic load balancers get the VPC's default security
//! group explicitly: without one, moto (like AWS) creates a `default_elb_…` group per load
//! balancer, which would add unplanned subjects to the security-group rules. The "IAM"
//! certificate of the bad load balancers is an IAM server-certificate ARN that is never
//! uploaded (moto checks only ACM ARNs), so the IAM server-certificate rules see no extra
//! certificate.

use aws_sdk_elasticloadbalancing::types::{
    AccessLog, Listener as ClassicListener, LoadBalancerAttributes, PolicyAttribute,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, LoadBalancerAttribute,
    LoadBalancerTypeEnum, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum,
    RuleCondition, Tag,
};

use super::acm::Certs;
use super::{LogBuckets, PRIMARY, SECONDARY, Seed, Step};
use crate::Status::{self, Fail, NotApplicable, Pass};

const HTTPS_ONLY: &str = "elb_https_tls_listeners_only";
const CLASSIC_TLS: &str = "elb_tls_security_policy";
const V2_TLS: &str = "elbv2_tls_security_policy";
const REDIRECT: &str = "alb_http_to_https_redirect";
const ACM: &str = "elb_acm_certificate";
const LOGGING: &str = "elb_access_logging";
const HEADERS: &str = "alb_drop_invalid_headers";
const DELETION: &str = "elb_deletion_protection";

const GOOD_POLICY_V2: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
const GOOD_POLICY_CLASSIC: &str = "ELBSecurityPolicy-TLS-1-2-2017-01";
const OLD_POLICY: &str = "ELBSecurityPolicy-2016-08";

/// Every ELB rule's expected status on one load balancer, in the order of the consts above.
struct Statuses([(Status, &'static str); 8]);

impl Statuses {
    fn expect(self, s: &mut Seed, name: &str, arn: &str) {
        let rules = [
            HTTPS_ONLY,
            CLASSIC_TLS,
            V2_TLS,
            REDIRECT,
            ACM,
            LOGGING,
            HEADERS,
            DELETION,
        ];
        for (rule, (status, why)) in rules.into_iter().zip(self.0) {
            s.expect(rule, arn, status, format!("{name}: {why}"));
        }
    }
}

/// The default VPC of `region`, its default security group and two subnets in different
/// zones.
struct Network {
    vpc: String,
    security_group: String,
    subnets: Vec<String>,
}

async fn network(s: &Seed, region: &str) -> anyhow::Result<Network> {
    use aws_sdk_ec2::types::Filter;
    let ec2 = aws_sdk_ec2::Client::new(&s.config(region));
    let vpcs = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .step(format!("ec2 DescribeVpcs default {region}"))?;
    let vpc = vpcs
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .ok_or_else(|| anyhow::anyhow!("no default VPC in {region}"))?
        .to_owned();
    let groups = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(
            Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await
        .step(format!("ec2 DescribeSecurityGroups default {region}"))?;
    let security_group = groups
        .security_groups()
        .first()
        .and_then(|g| g.group_id())
        .ok_or_else(|| anyhow::anyhow!("no default security group in {vpc}"))?
        .to_owned();
    let subnets = ec2
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .step(format!("ec2 DescribeSubnets {vpc}"))?;
    let mut zones = std::collections::BTreeMap::new();
    for sn in subnets.subnets() {
        if let (Some(zone), Some(id)) = (sn.availability_zone(), sn.subnet_id()) {
            zones
                .entry(zone.to_owned())
                .or_insert_with(|| id.to_owned());
        }
    }
    let subnets: Vec<String> = zones.into_values().take(2).collect();
    anyhow::ensure!(
        subnets.len() == 2,
        "the default VPC of {region} needs two zones"
    );
    Ok(Network {
        vpc,
        security_group,
        subnets,
    })
}

pub(crate) async fn seed(s: &mut Seed, certs: &Certs, logs: &LogBuckets) -> anyhow::Result<()> {
    let iam_cert = format!(
        "arn:aws:iam::{}:server-certificate/phi-legacy-never-uploaded",
        s.account
    );
    let net = network(s, PRIMARY).await?;
    classic(s, &net, certs, logs, &iam_cert).await?;
    v2(s, &net, certs, logs, &iam_cert).await?;
    let west = network(s, SECONDARY).await?;
    tcp_nlb_west(s, &west).await
}

// ---- Classic ---------------------------------------------------------------------------

async fn classic(
    s: &mut Seed,
    net: &Network,
    certs: &Certs,
    logs: &LogBuckets,
    iam_cert: &str,
) -> anyhow::Result<()> {
    let elb = aws_sdk_elasticloadbalancing::Client::new(&s.config(PRIMARY));
    let listener = |protocol: &str, port: i32, cert: Option<&str>| {
        let mut b = ClassicListener::builder()
            .protocol(protocol)
            .load_balancer_port(port)
            .instance_protocol("HTTP")
            .instance_port(8080);
        if let Some(c) = cert {
            b = b.ssl_certificate_id(c);
        }
        b.build()
    };

    // Good: HTTPS only, ACM certificate, TLS 1.2 policy, access logs.
    let name = "phi-clb-good";
    elb.create_load_balancer()
        .load_balancer_name(name)
        .listeners(listener("HTTPS", 443, Some(&certs.primary))?)
        .subnets(&net.subnets[0])
        .security_groups(&net.security_group)
        .send()
        .await
        .step(format!("elb CreateLoadBalancer {name}"))?;
    ssl_policy(&elb, name, "phi-tls12", GOOD_POLICY_CLASSIC).await?;
    elb.modify_load_balancer_attributes()
        .load_balancer_name(name)
        .load_balancer_attributes(
            LoadBalancerAttributes::builder()
                .access_log(
                    AccessLog::builder()
                        .enabled(true)
                        .s3_bucket_name(&logs.primary)
                        .emit_interval(5)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .step(format!("elb ModifyLoadBalancerAttributes {name}"))?;
    let arn = classic_arn(s, name);
    Statuses([
        (Pass, "only an HTTPS listener"),
        (
            Pass,
            "its SSL negotiation policy references ELBSecurityPolicy-TLS-1-2-2017-01",
        ),
        (NotApplicable, "a Classic load balancer"),
        (NotApplicable, "a Classic load balancer"),
        (Pass, "HTTPS:443 uses an ACM certificate"),
        (Pass, "access logs on"),
        (NotApplicable, "a Classic load balancer"),
        (
            NotApplicable,
            "Classic load balancers have no deletion protection",
        ),
    ])
    .expect(s, name, &arn);

    // Bad: an HTTP listener, an IAM certificate, the 2016 policy, no access logs.
    let name = "phi-clb-bad";
    elb.create_load_balancer()
        .load_balancer_name(name)
        .listeners(listener("HTTP", 80, None)?)
        .listeners(listener("HTTPS", 443, Some(iam_cert))?)
        .subnets(&net.subnets[0])
        .security_groups(&net.security_group)
        .send()
        .await
        .step(format!("elb CreateLoadBalancer {name}"))?;
    ssl_policy(&elb, name, "phi-old-tls", OLD_POLICY).await?;
    let arn = classic_arn(s, name);
    Statuses([
        (Fail, "listener HTTP:80"),
        (
            Fail,
            "HTTPS:443 negotiates with ELBSecurityPolicy-2016-08 (TLS 1.0 allowed)",
        ),
        (NotApplicable, "a Classic load balancer"),
        (NotApplicable, "a Classic load balancer"),
        (Fail, "HTTPS:443 uses an IAM server certificate"),
        (Fail, "access logs off"),
        (NotApplicable, "a Classic load balancer"),
        (
            NotApplicable,
            "Classic load balancers have no deletion protection",
        ),
    ])
    .expect(s, name, &arn);
    Ok(())
}

fn classic_arn(s: &Seed, name: &str) -> String {
    format!(
        "arn:aws:elasticloadbalancing:{PRIMARY}:{}:loadbalancer/{name}",
        s.account
    )
}

/// Creates an SSL negotiation policy referencing `reference` and sets it on port 443.
async fn ssl_policy(
    elb: &aws_sdk_elasticloadbalancing::Client,
    lb: &str,
    policy: &str,
    reference: &str,
) -> anyhow::Result<()> {
    elb.create_load_balancer_policy()
        .load_balancer_name(lb)
        .policy_name(policy)
        .policy_type_name("SSLNegotiationPolicyType")
        .policy_attributes(
            PolicyAttribute::builder()
                .attribute_name("Reference-Security-Policy")
                .attribute_value(reference)
                .build(),
        )
        .send()
        .await
        .step(format!("elb CreateLoadBalancerPolicy {lb} {policy}"))?;
    elb.set_load_balancer_policies_of_listener()
        .load_balancer_name(lb)
        .load_balancer_port(443)
        .policy_names(policy)
        .send()
        .await
        .step(format!("elb SetLoadBalancerPoliciesOfListener {lb}"))?;
    Ok(())
}

// ---- v2 --------------------------------------------------------------------------------

fn redirect_to_https() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build()
}

fn forward(target_group: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build()
}

fn attributes(pairs: &[(&str, &str)]) -> Vec<LoadBalancerAttribute> {
    pairs
        .iter()
        .map(|(k, v)| LoadBalancerAttribute::builder().key(*k).value(*v).build())
        .collect()
}

struct V2Spec<'a> {
    name: &'a str,
    lb_type: LoadBalancerTypeEnum,
    region: &'a str,
    subnets: &'a [String],
}

async fn create_v2(
    s: &mut Seed,
    spec: &V2Spec<'_>,
    attrs: &[(&str, &str)],
) -> anyhow::Result<String> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&s.config(spec.region));
    let out = elb
        .create_load_balancer()
        .name(spec.name)
        .r#type(spec.lb_type.clone())
        .set_subnets(Some(spec.subnets.to_vec()))
        .tags(Tag::builder().key("phi").value("true").build())
        .send()
        .await
        .step(format!("elbv2 CreateLoadBalancer {}", spec.name))?;
    let arn = out
        .load_balancers()
        .first()
        .and_then(|l| l.load_balancer_arn())
        .ok_or_else(|| anyhow::anyhow!("CreateLoadBalancer {} returned no ARN", spec.name))?
        .to_owned();
    if !attrs.is_empty() {
        elb.modify_load_balancer_attributes()
            .load_balancer_arn(&arn)
            .set_attributes(Some(attributes(attrs)))
            .send()
            .await
            .step(format!("elbv2 ModifyLoadBalancerAttributes {}", spec.name))?;
    }
    s.exp
        .tags
        .insert(arn.clone(), [("phi".to_owned(), "true".to_owned())].into());
    Ok(arn)
}

async fn target_group(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
    protocol: ProtocolEnum,
    vpc: &str,
) -> anyhow::Result<String> {
    let out = elb
        .create_target_group()
        .name(name)
        .protocol(protocol)
        .port(8080)
        .vpc_id(vpc)
        .send()
        .await
        .step(format!("elbv2 CreateTargetGroup {name}"))?;
    Ok(out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .ok_or_else(|| anyhow::anyhow!("CreateTargetGroup {name} returned no ARN"))?
        .to_owned())
}

struct ListenerSpec<'a> {
    protocol: ProtocolEnum,
    port: i32,
    policy: Option<&'a str>,
    certificate: Option<&'a str>,
    default: Action,
}

async fn listener(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    lb: &str,
    l: ListenerSpec<'_>,
) -> anyhow::Result<String> {
    let mut req = elb
        .create_listener()
        .load_balancer_arn(lb)
        .protocol(l.protocol.clone())
        .port(l.port)
        .default_actions(l.default);
    if let Some(p) = l.policy {
        req = req.ssl_policy(p);
    }
    if let Some(c) = l.certificate {
        req = req.certificates(Certificate::builder().certificate_arn(c).build());
    }
    let out = req.send().await.step(format!(
        "elbv2 CreateListener {} {}",
        l.protocol.as_str(),
        l.port
    ))?;
    Ok(out
        .listeners()
        .first()
        .and_then(|x| x.listener_arn())
        .ok_or_else(|| anyhow::anyhow!("CreateListener returned no ARN"))?
        .to_owned())
}

async fn v2(
    s: &mut Seed,
    net: &Network,
    certs: &Certs,
    logs: &LogBuckets,
    iam_cert: &str,
) -> anyhow::Result<()> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&s.config(PRIMARY));
    let tg = target_group(&elb, "phi-app-targets", ProtocolEnum::Http, &net.vpc).await?;
    let tg_tcp = target_group(&elb, "phi-tcp-targets", ProtocolEnum::Tcp, &net.vpc).await?;

    // Good ALB: HTTPS with TLS 1.3 policy and ACM certificate; HTTP:80 redirects by default;
    // HTTP:8080 answers 403 by default and redirects *.example.com to HTTPS by a rule.
    let name = "phi-alb-good";
    let arn = create_v2(
        s,
        &V2Spec {
            name,
            lb_type: LoadBalancerTypeEnum::Application,
            region: PRIMARY,
            subnets: &net.subnets,
        },
        &[
            ("access_logs.s3.enabled", "true"),
            ("access_logs.s3.bucket", &logs.primary),
            ("routing.http.drop_invalid_header_fields.enabled", "true"),
            ("deletion_protection.enabled", "true"),
        ],
    )
    .await?;
    listener(
        &elb,
        &arn,
        ListenerSpec {
            protocol: ProtocolEnum::Https,
            port: 443,
            policy: Some(GOOD_POLICY_V2),
            certificate: Some(&certs.primary),
            default: forward(&tg),
        },
    )
    .await?;
    listener(
        &elb,
        &arn,
        ListenerSpec {
            protocol: ProtocolEnum::Http,
            port: 80,
            policy: None,
            certificate: None,
            default: redirect_to_https(),
        },
    )
    .await?;
    let alt = listener(
        &elb,
        &arn,
        ListenerSpec {
            protocol: ProtocolEnum::Http,
            port: 8080,
            policy: None,
            certificate: None,
            default: Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("403")
                        .content_type("text/plain")
                        .build(),
                )
                .build(),
        },
    )
    .await?;
    elb.create_rule()
        .listener_arn(&alt)
        .priority(10)
        .conditions(
            RuleCondition::builder()
                .field("host-header")
                .values("*.example.com")
                .build(),
        )
        .actions(redirect_to_https())
        .send()
        .await
        .step("elbv2 CreateRule phi-alb-good:8080")?;
    Statuses([
        (NotApplicable, "not a Classic load balancer"),
        (NotApplicable, "not a Classic load balancer"),
        (Pass, "HTTPS:443 uses ELBSecurityPolicy-TLS13-1-2-2021-06"),
        (
            Pass,
            "HTTP:80 redirects to HTTPS; HTTP:8080 answers 403 and its rule redirects",
        ),
        (Pass, "HTTPS:443 uses an ACM certificate"),
        (Pass, "access logs on"),
        (Pass, "drops invalid header fields"),
        (Pass, "deletion protection on"),
    ])
    .expect(s, name, &arn);

    // Bad ALB: HTTPS with the 2016 policy and an IAM certificate, HTTP:80 forwards, every
    // attribute explicitly off.
    let name = "phi-alb-bad";
    let arn = create_v2(
        s,
        &V2Spec {
            name,
            lb_type: LoadBalancerTypeEnum::Application,
            region: PRIMARY,
            subnets: &net.subnets,
        },
        &[
            ("access_logs.s3.enabled", "false"),
            ("routing.http.drop_invalid_header_fields.enabled", "false"),
            ("deletion_protection.enabled", "false"),
        ],
    )
    .await?;
    listener(
        &elb,
        &arn,
        ListenerSpec {
            protocol: ProtocolEnum::Https,
            port: 443,
            policy: Some(OLD_POLICY),
            certificate: Some(iam_cert),
            default: forward(&tg),
        },
    )
    .await?;
    listener(
        &elb,
        &arn,
        ListenerSpec {
            protocol: ProtocolEnum::Http,
            port: 80,
            policy: None,
            certificate: None,
            default: forward(&tg),
        },
    )
    .await?;
    Statuses([
        (NotApplicable, "not a Classic load balancer"),
        (NotApplicable, "not a Classic load balancer"),
        (Fail, "HTTPS:443 uses ELBSecurityPolicy-2016-08"),
        (Fail, "HTTP:80 forwards plain HTTP"),
        (Fail, "HTTPS:443 uses an IAM server certificate"),
        (Fail, "access logs off"),
        (Fail, "invalid header fields passed on"),
        (Fail, "deletion protection off"),
    ])
    .expect(s, name, &arn);

    // Good NLB: TLS with a TLS 1.3 policy and an ACM certificate.
    let name = "phi-nlb-good";
    let arn = create_v2(
        s,
        &V2Spec {
            name,
            lb_type: LoadBalancerTypeEnum::Network,
            region: PRIMARY,
            subnets: &net.subnets,
        },
        &[
            ("access_logs.s3.enabled", "true"),
            ("access_logs.s3.bucket", &logs.primary),
            ("deletion_protection.enabled", "true"),
        ],
    )
    .await?;
    listener(
        &elb,
        &arn,
        ListenerSpec {
            protocol: ProtocolEnum::Tls,
            port: 443,
            policy: Some(GOOD_POLICY_V2),
            certificate: Some(&certs.primary),
            default: forward(&tg_tcp),
        },
    )
    .await?;
    Statuses([
        (NotApplicable, "not a Classic load balancer"),
        (NotApplicable, "not a Classic load balancer"),
        (Pass, "TLS:443 uses ELBSecurityPolicy-TLS13-1-2-2021-06"),
        (NotApplicable, "a Network Load Balancer"),
        (Pass, "TLS:443 uses an ACM certificate"),
        (Pass, "access logs on"),
        (NotApplicable, "a Network Load Balancer"),
        (Pass, "deletion protection on"),
    ])
    .expect(s, name, &arn);
    Ok(())
}

/// A TCP-only NLB in us-west-2 whose attributes were never set.
async fn tcp_nlb_west(s: &mut Seed, net: &Network) -> anyhow::Result<()> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&s.config(SECONDARY));
    let tg = target_group(&elb, "phi-tcp-targets-west", ProtocolEnum::Tcp, &net.vpc).await?;
    let name = "phi-nlb-tcp-west";
    let arn = create_v2(
        s,
        &V2Spec {
            name,
            lb_type: LoadBalancerTypeEnum::Network,
            region: SECONDARY,
            subnets: &net.subnets,
        },
        &[],
    )
    .await?;
    listener(
        &elb,
        &arn,
        ListenerSpec {
            protocol: ProtocolEnum::Tcp,
            port: 5432,
            policy: None,
            certificate: None,
            default: forward(&tg),
        },
    )
    .await?;
    Statuses([
        (NotApplicable, "not a Classic load balancer"),
        (NotApplicable, "not a Classic load balancer"),
        (NotApplicable, "no TLS listener"),
        (NotApplicable, "a Network Load Balancer"),
        (NotApplicable, "no TLS listener"),
        (
            Fail,
            "access logs never enabled (moto omits the attribute; AWS reports false)",
        ),
        (NotApplicable, "a Network Load Balancer"),
        (Fail, "deletion protection never enabled"),
    ])
    .expect(s, name, &arn);
    Ok(())
}
