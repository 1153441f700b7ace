//! Synthetic estates for benchmarks and load tests: deterministic, varied resources of the
//! common kinds, and a way to change some of them. Not used by the product itself.

use crate::resources::{SecurityGroup, SgRule, Subnet, Volume, Vpc};
use crate::{AccountId, Arn, Observed, Region, Resource, ResourceBody, Tags};

/// Resource number `i` of a synthetic estate in `account`, spread over `regions`; `version`
/// changes its content (0 is the original).
pub fn resource(account: &AccountId, regions: &[Region], i: u64, version: u64) -> Resource {
    let region = &regions[(i as usize) % regions.len().max(1)];
    let mut tags = Tags::new();
    tags.insert("team".into(), format!("team-{}", i % 17));
    if i.is_multiple_of(5) {
        tags.insert("phi".into(), "true".into());
    }
    let (kind, body) = match i % 4 {
        0 => (
            "vpc",
            ResourceBody::Vpc(Vpc {
                vpc_id: format!("vpc-{i:012x}"),
                cidr_block: Some(format!("10.{}.{}.0/24", (i + version) % 256, i / 256 % 256)),
                is_default: false,
                state: Some("available".into()),
            }),
        ),
        1 => (
            "subnet",
            ResourceBody::Subnet(Subnet {
                subnet_id: format!("subnet-{i:012x}"),
                vpc_id: format!("vpc-{:012x}", i - 1),
                cidr_block: Some(format!("10.{}.{}.0/26", i % 256, version % 256)),
                availability_zone: Some(format!("{region}a")),
                map_public_ip_on_launch: (i + version).is_multiple_of(3),
                default_for_az: false,
            }),
        ),
        2 => (
            "security-group",
            ResourceBody::SecurityGroup(SecurityGroup {
                group_id: format!("sg-{i:012x}"),
                group_name: format!("app-{i}"),
                vpc_id: Some(format!("vpc-{:012x}", i - 2)),
                ingress: vec![SgRule {
                    ip_protocol: "tcp".into(),
                    from_port: Some(443),
                    to_port: Some(443),
                    ipv4_ranges: vec![if (i + version).is_multiple_of(7) {
                        "0.0.0.0/0".into()
                    } else {
                        "10.0.0.0/8".into()
                    }],
                    ipv6_ranges: vec![],
                    source_groups: vec![],
                    prefix_lists: vec![],
                }],
                egress: vec![],
            }),
        ),
        _ => (
            "volume",
            ResourceBody::Volume(Volume {
                volume_id: format!("vol-{i:012x}"),
                encrypted: !(i + version).is_multiple_of(9),
                kms_key_id: None,
                state: Some("in-use".into()),
                size_gib: Some(i32::try_from(8 + (i + version) % 500).unwrap_or(8)),
                attached_to: vec![format!("i-{i:012x}")],
            }),
        ),
    };
    let arn = Arn::from_parts(
        "ec2",
        region.as_str(),
        account.as_str(),
        &format!("{kind}/{i:012x}"),
    );
    Resource {
        arn,
        account: account.clone(),
        region: region.clone(),
        tags: Observed::Collected(tags),
        body,
    }
}
