//! Organization scan benchmark: N accounts × M regions × K resources on moto, scanned by
//! the real `posture` binary (assuming a role into each member account) through a loopback
//! proxy that adds a fixed latency per request and answers a share of requests with
//! throttling.
//!
//! `cargo bench -p posture-e2e --bench org_scan -- [--accounts 3] [--regions 2]
//!  [--resources 30] [--latency-ms 50] [--throttle-percent 20] [--in-flight 64]`
//!
//! It runs three scans of the same estate: direct (no proxy) for the reference findings,
//! through the proxy with latency only, and with latency and throttling; and reports wall
//! time, calls per resource, attempts, throttles absorbed, peak memory, and the ratio of
//! wall time to the floor (calls × latency ÷ requests allowed in flight). The throttled run
//! must produce exactly the reference findings.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a failed step ends it"
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use posture_e2e::proxy::{Proxy, ProxySettings};
use posture_e2e::{Moto, run_posture};
use serde_json::Value;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];

async fn member_config(base: &SdkConfig, account: &str, region: &str) -> SdkConfig {
    if account == "123456789012" {
        return base
            .to_builder()
            .region(aws_types::region::Region::new(region.to_owned()))
            .build();
    }
    let sts = aws_sdk_sts::Client::new(base);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/PostureAudit"))
        .role_session_name("seed")
        .send()
        .await
        .expect("assume role for seeding");
    let c = out.credentials().expect("credentials");
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "seed",
    );
    base.to_builder()
        .region(aws_types::region::Region::new(region.to_owned()))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

/// Seeds `per_region` resources in each (account, region): a third each security groups,
/// EBS volumes and S3 buckets.
async fn seed(base: &SdkConfig, accounts: &[String], regions: &[&str], per_region: usize) -> usize {
    let mut total = 0;
    for account in accounts {
        for region in regions {
            let conf = member_config(base, account, region).await;
            let ec2 = aws_sdk_ec2::Client::new(&conf);
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&conf)
                    .force_path_style(true)
                    .build(),
            );
            for i in 0..per_region {
                match i % 3 {
                    0 => {
                        ec2.create_security_group()
                            .group_name(format!("bench-{i}"))
                            .description("bench")
                            .send()
                            .await
                            .expect("create security group");
                    }
                    1 => {
                        ec2.create_volume()
                            .availability_zone(format!("{region}a"))
                            .size(8)
                            .encrypted(i % 2 == 0)
                            .send()
                            .await
                            .expect("create volume");
                    }
                    _ => {
                        let mut req = s3
                            .create_bucket()
                            .bucket(format!("bench-{account}-{region}-{i}"));
                        if *region != "us-east-1" {
                            req = req.create_bucket_configuration(
                                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                                    .location_constraint(
                                        aws_sdk_s3::types::BucketLocationConstraint::from(*region),
                                    )
                                    .build(),
                            );
                        }
                        req.send().await.expect("create bucket");
                    }
                }
                total += 1;
            }
        }
    }
    total
}

struct Run {
    wall: f64,
    json: Value,
}

fn scan(
    endpoint: &str,
    accounts: &[String],
    regions: &[&str],
    in_flight: usize,
    store: &str,
) -> Run {
    let mut args: Vec<String> = vec!["scan".into(), "--endpoint-url".into(), endpoint.into()];
    for a in accounts {
        args.extend(["--account".into(), a.clone()]);
    }
    for r in regions {
        args.extend(["--region".into(), (*r).to_owned()]);
    }
    args.extend([
        "--role-name".into(),
        "PostureAudit".into(),
        "--format".into(),
        "json".into(),
        "--store".into(),
        store.into(),
    ]);
    let in_flight = in_flight.to_string();
    let started = Instant::now();
    let out = run_posture(
        &args,
        &[
            ("POSTURE_LIMITS_MAX_IN_FLIGHT", &in_flight),
            ("POSTURE_LIMITS_MAX_ATTEMPTS", "10"),
        ],
    )
    .expect("run posture");
    let wall = started.elapsed().as_secs_f64();
    assert!(
        matches!(out.code, Some(0 | 1)),
        "scan failed: {}",
        out.describe()
    );
    Run {
        wall,
        json: serde_json::from_str(&out.stdout).expect("scan JSON"),
    }
}

fn findings(run: &Run) -> BTreeMap<(String, String), String> {
    run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["rule_id"].as_str().unwrap().to_owned(),
                    f["resource"]["arn"].as_str().unwrap().to_owned(),
                ),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn report(name: &str, run: &Run, latency: Duration, in_flight: usize, seeded: usize) {
    let s = &run.json["stats"];
    let calls = s["api_calls"].as_u64().unwrap();
    let resources = s["resources"].as_u64().unwrap();
    let floor = calls as f64 * latency.as_secs_f64() / in_flight as f64;
    println!("{name}:");
    println!(
        "  wall time {:.2} s (posture's own: {:.2} s)",
        run.wall,
        s["wall_seconds"].as_f64().unwrap()
    );
    println!(
        "  {calls} API calls for {resources} resources ({seeded} seeded): {:.2} calls per resource",
        calls as f64 / resources as f64
    );
    println!(
        "  {} attempts, {} throttled and retried",
        s["attempts"], s["throttled"]
    );
    println!("  peak memory {} MiB", s["peak_memory_mib"]);
    if latency > Duration::ZERO {
        println!(
            "  floor {floor:.2} s (calls × {} ms ÷ {in_flight} in flight); wall / floor = {:.2}",
            latency.as_millis(),
            run.wall / floor
        );
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let accounts_n: usize = arg("--accounts", "3").parse().unwrap();
    let regions_n: usize = arg("--regions", "2").parse().unwrap();
    let per_region: usize = arg("--resources", "30").parse().unwrap();
    let latency = Duration::from_millis(arg("--latency-ms", "50").parse().unwrap());
    let throttle: f64 = arg("--throttle-percent", "20").parse::<f64>().unwrap() / 100.0;
    let in_flight: usize = arg("--in-flight", "64").parse().unwrap();
    let regions: Vec<&str> = REGIONS
        .iter()
        .take(regions_n.clamp(1, REGIONS.len()))
        .copied()
        .collect();
    let accounts: Vec<String> = (0..accounts_n)
        .map(|i| {
            if i == 0 {
                "123456789012".to_owned()
            } else {
                format!("{}", 200000000000u64 + i as u64)
            }
        })
        .collect();

    let moto = Moto::start().expect("start moto");
    let base = moto.sdk_config("us-east-1").await;
    let seeded = seed(&base, &accounts, &regions, per_region).await;
    println!(
        "estate: {} accounts × {} regions × {per_region} resources = {seeded} seeded resources",
        accounts.len(),
        regions.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = |n: &str| {
        dir.path()
            .join(format!("{n}.sqlite"))
            .to_string_lossy()
            .into_owned()
    };

    let reference = scan(
        &moto.endpoint_url(),
        &accounts,
        &regions,
        in_flight,
        &store("direct"),
    );
    report(
        "direct (no proxy)",
        &reference,
        Duration::ZERO,
        in_flight,
        seeded,
    );

    let upstream = format!("127.0.0.1:{}", moto.port()).parse().unwrap();
    let proxy = Proxy::start(
        upstream,
        ProxySettings {
            latency,
            throttle_rate: 0.0,
        },
    )
    .await
    .unwrap();
    let slow = scan(
        &proxy.url(),
        &accounts,
        &regions,
        in_flight,
        &store("latency"),
    );
    report(
        &format!("{} ms latency", latency.as_millis()),
        &slow,
        latency,
        in_flight,
        seeded,
    );
    drop(proxy);

    let proxy = Proxy::start(
        upstream,
        ProxySettings {
            latency,
            throttle_rate: throttle,
        },
    )
    .await
    .unwrap();
    let throttled = scan(
        &proxy.url(),
        &accounts,
        &regions,
        in_flight,
        &store("throttled"),
    );
    report(
        &format!(
            "{} ms latency, {:.0}% throttled ({} of {} requests)",
            latency.as_millis(),
            throttle * 100.0,
            proxy.throttled(),
            proxy.requests()
        ),
        &throttled,
        latency,
        in_flight,
        seeded,
    );
    let (a, b) = (findings(&reference), findings(&throttled));
    let differ: Vec<_> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    let extra: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    if differ.is_empty() && extra.is_empty() {
        println!(
            "throttled run: the same {} findings as the direct run: no resource lost",
            a.len()
        );
    } else {
        println!(
            "throttled run DIFFERS from the direct run: {} changed or missing, {} extra: {:?} {:?}",
            differ.len(),
            extra.len(),
            differ.iter().take(5).collect::<Vec<_>>(),
            extra.iter().take(5).collect::<Vec<_>>()
        );
        std::process::exit(1);
    }
}
