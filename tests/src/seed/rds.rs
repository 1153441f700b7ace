//! RDS: instances, clusters, parameter groups and snapshots, mostly in us-west-2.
//!
//! moto differences that shape the cases:
//! - `DescribeDBParameters` returns only parameters set explicitly, and an instance created
//!   without a parameter group gets `default.<family>`, whose parameters moto cannot list:
//!   `rds_transport_encryption_enforced` must then be `error` (never pass). A custom group
//!   with `rds.force_ssl = 1` passes and one with `= 0` fails.
//! - moto takes an automated snapshot of every instance and cluster at creation, even with
//!   a backup retention of 0 (AWS would not); their findings are expected from the source's
//!   encryption.

use std::collections::BTreeMap;

use aws_sdk_rds::types::{ApplyMethod, Parameter};

use super::{Keys, PRIMARY, REGIONS, SECONDARY, Seed, Step};
use crate::Status::{self, Error, Fail, NotApplicable, Pass};

const STORAGE: &str = "rds_instance_storage_encrypted";
const PUBLIC: &str = "rds_instance_not_public";
const BACKUP: &str = "rds_backup_enabled";
const DELETION: &str = "rds_instance_deletion_protection";
const TRANSPORT: &str = "rds_transport_encryption_enforced";
const CLUSTER: &str = "rds_cluster_storage_encrypted";
const SNAP_ENC: &str = "rds_snapshot_encrypted";
const SNAP_PUBLIC: &str = "rds_snapshot_not_public";
const MULTI_AZ: &str = "rds_instance_multi_az";
const IAM_AUTH: &str = "rds_iam_authentication";
const MINOR: &str = "rds_auto_minor_version_upgrade";
const LOGS: &str = "rds_log_exports_enabled";
const MONITORING: &str = "rds_enhanced_monitoring";
const CLUSTER_DELETION: &str = "rds_cluster_deletion_protection";
const PRIVATE_SUBNETS: &str = "rds_in_private_subnets";
const CA_VALID: &str = "rds_ca_certificate_valid";
const EVENT_SUBSCRIPTION: &str = "rds_event_subscription";

/// Why every instance's CA check is an error on moto.
const CA_ERROR: &str = "moto does not implement DescribeCertificates (HTTP 500): the CA's \
    validity is unknown";
/// Why instances created without a DB subnet group fail `rds_in_private_subnets` on moto.
const NO_SUBNET_GROUP: &str = "created without a DB subnet group: moto reports no \
    DBSubnetGroup (AWS would use the default VPC's), so it is not in a VPC";

const PASSWORD: &str = "not-a-real-password-1";

struct DbSeed {
    id: &'static str,
    region: &'static str,
    engine: &'static str,
    engine_version: Option<&'static str>,
    /// A custom parameter group: (name, family, parameter, value).
    parameter_group: Option<(&'static str, &'static str, &'static str, &'static str)>,
    encrypted: bool,
    public: bool,
    backup_days: i32,
    deletion_protection: bool,
    multi_az: bool,
    iam_auth: bool,
    auto_minor_upgrade: bool,
    /// Log types exported to CloudWatch Logs.
    log_exports: &'static [&'static str],
    /// Enhanced Monitoring interval in seconds (0 = off).
    monitoring_interval: i32,
    transport: (Status, &'static str),
    /// A DB subnet group of one seeded subnet: (group, the subnet's Name tag, expected
    /// `rds_in_private_subnets` status, why).
    subnet_group: Option<(&'static str, &'static str, Status, &'static str)>,
}

const DBS: &[DbSeed] = &[
    DbSeed {
        id: "phi-db-good",
        region: SECONDARY,
        engine: "postgres",
        engine_version: Some("16.3"),
        parameter_group: Some(("phi-pg-force-ssl", "postgres16", "rds.force_ssl", "1")),
        encrypted: true,
        public: false,
        backup_days: 14,
        deletion_protection: true,
        multi_az: true,
        iam_auth: true,
        auto_minor_upgrade: true,
        log_exports: &["postgresql"],
        monitoring_interval: 60,
        transport: (Pass, "rds.force_ssl = 1 in phi-pg-force-ssl"),
        subnet_group: None,
    },
    DbSeed {
        id: "phi-db-bad",
        region: SECONDARY,
        engine: "postgres",
        engine_version: Some("16.3"),
        parameter_group: Some(("phi-pg-no-ssl", "postgres16", "rds.force_ssl", "0")),
        encrypted: false,
        public: true,
        backup_days: 0,
        deletion_protection: false,
        multi_az: false,
        iam_auth: false,
        auto_minor_upgrade: false,
        log_exports: &[],
        monitoring_interval: 0,
        transport: (Fail, "rds.force_ssl = 0 in phi-pg-no-ssl"),
        subnet_group: Some((
            "phi-dbsg-public-west",
            "phi-subnet-public-west",
            Fail,
            "phi-subnet-public-west's route table sends 0.0.0.0/0 to an internet gateway",
        )),
    },
    DbSeed {
        id: "phi-db-default-params",
        region: SECONDARY,
        engine: "mysql",
        engine_version: None,
        parameter_group: None,
        encrypted: false,
        public: false,
        backup_days: 3,
        deletion_protection: false,
        multi_az: false,
        iam_auth: false,
        auto_minor_upgrade: false,
        log_exports: &[],
        monitoring_interval: 0,
        transport: (
            Error,
            "default.* parameter group: moto cannot list its parameters, so \
             require_secure_transport is unknown",
        ),
        subnet_group: None,
    },
    DbSeed {
        id: "phi-db-east-mysql-tls",
        region: PRIMARY,
        engine: "mysql",
        engine_version: Some("8.0.35"),
        parameter_group: Some((
            "phi-pg-mysql-require-tls",
            "mysql8.0",
            "require_secure_transport",
            "ON",
        )),
        encrypted: true,
        public: false,
        backup_days: 7,
        deletion_protection: true,
        multi_az: false,
        iam_auth: true,
        auto_minor_upgrade: true,
        log_exports: &["error", "general"],
        monitoring_interval: 0,
        transport: (
            Pass,
            "require_secure_transport = ON in phi-pg-mysql-require-tls",
        ),
        subnet_group: Some((
            "phi-dbsg-private",
            "phi-subnet-private",
            Pass,
            "phi-subnet-private uses phi-vpc-good's main route table, which has no internet \
             gateway route",
        )),
    },
];

pub(crate) async fn seed(s: &mut Seed, keys: &Keys) -> anyhow::Result<()> {
    // Source instance or cluster → whether its storage (and so its snapshots) is encrypted.
    let mut encrypted_sources: BTreeMap<String, bool> = BTreeMap::new();
    for db in DBS {
        let key = if db.region == PRIMARY {
            &keys.primary
        } else {
            &keys.secondary
        };
        seed_instance(s, db, key).await?;
        encrypted_sources.insert(db.id.to_owned(), db.encrypted);
    }

    let rds = aws_sdk_rds::Client::new(&s.config(SECONDARY));
    let account = s.account.clone();
    let r = SECONDARY;
    // Aurora clusters, one with a member instance: the good one encrypted and protected
    // from deletion, the bad one neither.
    // Their DB cluster parameter groups: TLS forced for the good one, not for the bad one.
    for (group, force_ssl) in [("phi-cluster-tls", "1"), ("phi-cluster-plain", "0")] {
        rds.create_db_cluster_parameter_group()
            .db_cluster_parameter_group_name(group)
            .db_parameter_group_family("aurora-postgresql16")
            .description("posture e2e")
            .send()
            .await
            .step(format!("rds CreateDBClusterParameterGroup {group}"))?;
        rds.modify_db_cluster_parameter_group()
            .db_cluster_parameter_group_name(group)
            .parameters(
                aws_sdk_rds::types::Parameter::builder()
                    .parameter_name("rds.force_ssl")
                    .parameter_value(force_ssl)
                    .apply_method(aws_sdk_rds::types::ApplyMethod::PendingReboot)
                    .build(),
            )
            .send()
            .await
            .step(format!("rds ModifyDBClusterParameterGroup {group}"))?;
    }
    for (id, encrypted) in [("phi-cluster-good", true), ("phi-cluster-bad", false)] {
        let (group, retention) = if encrypted {
            ("phi-cluster-tls", 14)
        } else {
            ("phi-cluster-plain", 1)
        };
        let mut req = rds
            .create_db_cluster()
            .db_cluster_identifier(id)
            .engine("aurora-postgresql")
            .master_username("phiadmin")
            .master_user_password(PASSWORD)
            .storage_encrypted(encrypted)
            .deletion_protection(encrypted)
            .db_cluster_parameter_group_name(group)
            .backup_retention_period(retention);
        if encrypted {
            req = req
                .kms_key_id(&keys.secondary)
                .enable_iam_database_authentication(true)
                .enable_cloudwatch_logs_exports("postgresql");
        }
        req.send().await.step(format!("rds CreateDBCluster {id}"))?;
        let (status, why) = if encrypted {
            (Pass, "storage encrypted")
        } else {
            (Fail, "storage not encrypted")
        };
        s.expect(
            CLUSTER,
            &format!("arn:aws:rds:{r}:{account}:cluster:{id}"),
            status,
            format!("{id}: {why}"),
        );
        s.expect(
            "rds_cluster_transport_encryption_enforced",
            &format!("arn:aws:rds:{r}:{account}:cluster:{id}"),
            if encrypted { Pass } else { Fail },
            format!("{id}: rds.force_ssl in {group}"),
        );
        s.expect(
            "rds_cluster_backup_retention",
            &format!("arn:aws:rds:{r}:{account}:cluster:{id}"),
            if encrypted { Pass } else { Fail },
            format!("{id}: backups kept {retention} days (minimum 7)"),
        );
        s.expect(
            CLUSTER_DELETION,
            &format!("arn:aws:rds:{r}:{account}:cluster:{id}"),
            if encrypted { Pass } else { Fail },
            format!("{id}: deletion protection {encrypted}"),
        );
        let good = encrypted;
        s.expect(
            "rds_cluster_multi_az",
            &format!("arn:aws:rds:{r}:{account}:cluster:{id}"),
            if good { Pass } else { Fail },
            if good {
                format!("{id}: members in us-west-2a and us-west-2b")
            } else {
                format!("{id}: no members, so in no second zone")
            },
        );
        s.expect(
            "rds_cluster_iam_authentication",
            &format!("arn:aws:rds:{r}:{account}:cluster:{id}"),
            if good { Pass } else { Fail },
            format!("{id}: IAM database authentication {good}"),
        );
        s.expect(
            "rds_cluster_log_exports_enabled",
            &format!("arn:aws:rds:{r}:{account}:cluster:{id}"),
            if good { Pass } else { Fail },
            if good {
                format!("{id}: exports postgresql logs")
            } else {
                format!("{id}: exports no logs")
            },
        );
        encrypted_sources.insert(id.to_owned(), encrypted);
    }
    // Two members in different zones: moto reports a cluster Multi-AZ when its members
    // span more than one zone.
    for (member, zone) in [
        ("phi-cluster-good-member", "us-west-2a"),
        ("phi-cluster-good-member-b", "us-west-2b"),
    ] {
        rds.create_db_instance()
            .db_instance_identifier(member)
            .db_instance_class("db.r5.large")
            .engine("aurora-postgresql")
            .db_cluster_identifier("phi-cluster-good")
            .availability_zone(zone)
            .send()
            .await
            .step(format!("rds CreateDBInstance {member}"))?;
        encrypted_sources.insert(member.to_owned(), true);
        let a = format!("arn:aws:rds:{r}:{account}:db:{member}");
        let cluster_na = "a member of phi-cluster-good: the cluster's setting applies";
        for rule in [BACKUP, DELETION, TRANSPORT, MULTI_AZ, LOGS] {
            s.expect(rule, &a, NotApplicable, format!("{member}: {cluster_na}"));
        }
        s.expect(
            IAM_AUTH,
            &a,
            Fail,
            format!("{member}: aurora-postgresql supports IAM authentication; not enabled"),
        );
        s.expect(
            MINOR,
            &a,
            Pass,
            format!("{member}: auto minor version upgrade is on by default"),
        );
        s.expect(
            MONITORING,
            &a,
            Fail,
            format!("{member}: no monitoring interval (0)"),
        );
        s.expect(
            STORAGE,
            &a,
            Pass,
            format!("{member}: encrypted, like its cluster"),
        );
        s.expect(
            PUBLIC,
            &a,
            Pass,
            format!("{member}: not publicly accessible"),
        );
        s.expect(
            PRIVATE_SUBNETS,
            &a,
            Fail,
            format!("{member}: {NO_SUBNET_GROUP}"),
        );
        s.expect(CA_VALID, &a, Error, format!("{member}: {CA_ERROR}"));
    }

    // Manual snapshots: one public and unencrypted, one private and encrypted.
    for (snap, source, public) in [
        ("phi-snap-public", "phi-db-bad", true),
        ("phi-snap-private", "phi-db-good", false),
    ] {
        rds.create_db_snapshot()
            .db_snapshot_identifier(snap)
            .db_instance_identifier(source)
            .send()
            .await
            .step(format!("rds CreateDBSnapshot {snap}"))?;
        if public {
            rds.modify_db_snapshot_attribute()
                .db_snapshot_identifier(snap)
                .attribute_name("restore")
                .values_to_add("all")
                .send()
                .await
                .step(format!("rds ModifyDBSnapshotAttribute {snap} (public)"))?;
        }
        let a = format!("arn:aws:rds:{r}:{account}:snapshot:{snap}");
        let encrypted = encrypted_sources.get(source).copied().unwrap_or(false);
        s.expect(
            SNAP_ENC,
            &a,
            if encrypted { Pass } else { Fail },
            format!("{snap}: snapshot of {source} (encrypted: {encrypted})"),
        );
        s.expect(
            SNAP_PUBLIC,
            &a,
            if public { Fail } else { Pass },
            format!(
                "{snap}: restore attribute {}",
                if public { "all" } else { "empty" }
            ),
        );
    }

    // The automated snapshots moto took by itself, in both regions.
    for region in [PRIMARY, SECONDARY] {
        expect_automated_snapshots(s, region, &encrypted_sources).await?;
    }

    // Event subscriptions: an enabled one for instance failure and availability events in
    // us-east-1 (which has one instance and no cluster); a disabled one in us-west-2.
    for (region, name, enabled) in [
        (PRIMARY, "phi-rds-events", true),
        (SECONDARY, "phi-rds-events-disabled-west", false),
    ] {
        let rds = aws_sdk_rds::Client::new(&s.config(region));
        rds.create_event_subscription()
            .subscription_name(name)
            .sns_topic_arn(format!("arn:aws:sns:{region}:{account}:phi-ops"))
            .source_type("db-instance")
            .event_categories("failure")
            .event_categories("availability")
            .enabled(enabled)
            .send()
            .await
            .step(format!("rds CreateEventSubscription {name}"))?;
        let a = format!("arn:aws:ec2:{region}:{account}:region/{region}");
        let (status, why) = if enabled {
            (
                Pass,
                format!("{name} covers every instance for failure and availability events"),
            )
        } else {
            (
                Fail,
                format!("{name} is disabled, and no subscription covers the clusters"),
            )
        };
        s.expect(EVENT_SUBSCRIPTION, &a, status, why);
    }
    for region in REGIONS {
        s.exp.expect_gap(
            "rds:DescribeCertificates",
            Some(region),
            None,
            "moto answers HTTP 500 (not implemented)",
        );
        // A failed list call is also reported on the region itself.
        s.expect(
            CA_VALID,
            &format!("arn:aws:ec2:{region}:{account}:region/{region}"),
            Error,
            format!("rds:DescribeCertificates failed in {region}: {CA_ERROR}"),
        );
    }
    Ok(())
}

async fn seed_instance(s: &mut Seed, db: &DbSeed, kms_key: &str) -> anyhow::Result<()> {
    let rds = aws_sdk_rds::Client::new(&s.config(db.region));
    let id = db.id;
    if let Some((group, family, parameter, value)) = db.parameter_group {
        rds.create_db_parameter_group()
            .db_parameter_group_name(group)
            .db_parameter_group_family(family)
            .description(format!("posture e2e: {parameter} = {value}"))
            .send()
            .await
            .step(format!("rds CreateDBParameterGroup {group}"))?;
        rds.modify_db_parameter_group()
            .db_parameter_group_name(group)
            .parameters(
                Parameter::builder()
                    .parameter_name(parameter)
                    .parameter_value(value)
                    .apply_method(ApplyMethod::PendingReboot)
                    .build(),
            )
            .send()
            .await
            .step(format!("rds ModifyDBParameterGroup {group}"))?;
    }
    if let Some((group, subnet_name, ..)) = db.subnet_group {
        let ec2 = aws_sdk_ec2::Client::new(&s.config(db.region));
        let subnet = ec2
            .describe_subnets()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:Name")
                    .values(subnet_name)
                    .build(),
            )
            .send()
            .await
            .step(format!("ec2 DescribeSubnets {subnet_name}"))?
            .subnets()
            .first()
            .and_then(|x| x.subnet_id())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no subnet named {subnet_name} in {}", db.region))?;
        rds.create_db_subnet_group()
            .db_subnet_group_name(group)
            .db_subnet_group_description(format!("posture e2e: {subnet_name}"))
            .subnet_ids(subnet)
            .send()
            .await
            .step(format!("rds CreateDBSubnetGroup {group}"))?;
    }
    let mut req = rds
        .create_db_instance()
        .db_instance_identifier(id)
        .db_instance_class("db.t3.micro")
        .engine(db.engine)
        .master_username("phiadmin")
        .master_user_password(PASSWORD)
        .allocated_storage(20)
        .storage_encrypted(db.encrypted)
        .publicly_accessible(db.public)
        .backup_retention_period(db.backup_days)
        .deletion_protection(db.deletion_protection)
        .multi_az(db.multi_az)
        .enable_iam_database_authentication(db.iam_auth)
        .auto_minor_version_upgrade(db.auto_minor_upgrade)
        .monitoring_interval(db.monitoring_interval);
    for log in db.log_exports {
        req = req.enable_cloudwatch_logs_exports(*log);
    }
    if db.monitoring_interval > 0 {
        // moto requires a role with a non-zero interval (it does not check the role exists).
        req = req.monitoring_role_arn(format!(
            "arn:aws:iam::{}:role/phi-rds-monitoring",
            s.account
        ));
    }
    if let Some(version) = db.engine_version {
        req = req.engine_version(version);
    }
    if db.encrypted {
        req = req.kms_key_id(kms_key);
    }
    if let Some((group, ..)) = db.parameter_group {
        req = req.db_parameter_group_name(group);
    }
    if let Some((group, ..)) = db.subnet_group {
        req = req.db_subnet_group_name(group);
    }
    req.send()
        .await
        .step(format!("rds CreateDBInstance {id}"))?;

    let a = format!("arn:aws:rds:{}:{}:db:{id}", db.region, s.account);
    let yes_no = |b: bool, yes: Status, no: Status| if b { yes } else { no };
    s.expect(
        STORAGE,
        &a,
        yes_no(db.encrypted, Pass, Fail),
        format!("{id}: storage encrypted {}", db.encrypted),
    );
    s.expect(
        PUBLIC,
        &a,
        yes_no(db.public, Fail, Pass),
        format!("{id}: publicly accessible {}", db.public),
    );
    s.expect(
        BACKUP,
        &a,
        yes_no(db.backup_days >= 7, Pass, Fail),
        format!("{id}: backups kept {} days (7 required)", db.backup_days),
    );
    s.expect(
        DELETION,
        &a,
        yes_no(db.deletion_protection, Pass, Fail),
        format!("{id}: deletion protection {}", db.deletion_protection),
    );
    let (status, why) = db.transport;
    s.expect(TRANSPORT, &a, status, format!("{id}: {why}"));
    s.expect(
        MULTI_AZ,
        &a,
        yes_no(db.multi_az, Pass, Fail),
        format!("{id}: Multi-AZ {}", db.multi_az),
    );
    s.expect(
        IAM_AUTH,
        &a,
        yes_no(db.iam_auth, Pass, Fail),
        format!(
            "{id}: IAM database authentication {} ({})",
            db.iam_auth, db.engine
        ),
    );
    s.expect(
        MINOR,
        &a,
        yes_no(db.auto_minor_upgrade, Pass, Fail),
        format!("{id}: auto minor version upgrade {}", db.auto_minor_upgrade),
    );
    s.expect(
        LOGS,
        &a,
        yes_no(!db.log_exports.is_empty(), Pass, Fail),
        format!("{id}: CloudWatch Logs exports {:?}", db.log_exports),
    );
    s.expect(
        MONITORING,
        &a,
        yes_no(db.monitoring_interval > 0, Pass, Fail),
        format!("{id}: monitoring interval {}", db.monitoring_interval),
    );
    match db.subnet_group {
        Some((group, _, status, why)) => {
            s.expect(
                PRIVATE_SUBNETS,
                &a,
                status,
                format!("{id} in {group}: {why}"),
            );
        }
        None => s.expect(
            PRIVATE_SUBNETS,
            &a,
            Fail,
            format!("{id}: {NO_SUBNET_GROUP}"),
        ),
    }
    s.expect(CA_VALID, &a, Error, format!("{id}: {CA_ERROR}"));
    Ok(())
}

/// Expects the automated instance and cluster snapshots moto created, judged by their
/// source's seeded encryption (automated snapshots cannot be shared: not public).
async fn expect_automated_snapshots(
    s: &mut Seed,
    region: &str,
    encrypted_sources: &BTreeMap<String, bool>,
) -> anyhow::Result<()> {
    let rds = aws_sdk_rds::Client::new(&s.config(region));
    let out = rds
        .describe_db_snapshots()
        .snapshot_type("automated")
        .send()
        .await
        .step(format!("rds DescribeDBSnapshots {region}"))?;
    let mut found = Vec::new();
    for snap in out.db_snapshots() {
        if snap.snapshot_type() != Some("automated") {
            continue;
        }
        let source = snap.db_instance_identifier().unwrap_or_default().to_owned();
        let arn = snap
            .db_snapshot_arn()
            .map(str::to_owned)
            .unwrap_or_default();
        found.push((arn, source));
    }
    let out = rds
        .describe_db_cluster_snapshots()
        .snapshot_type("automated")
        .send()
        .await
        .step(format!("rds DescribeDBClusterSnapshots {region}"))?;
    for snap in out.db_cluster_snapshots() {
        if snap.snapshot_type() != Some("automated") {
            continue;
        }
        let source = snap.db_cluster_identifier().unwrap_or_default().to_owned();
        let arn = snap
            .db_cluster_snapshot_arn()
            .map(str::to_owned)
            .unwrap_or_default();
        found.push((arn, source));
    }
    for (arn, source) in found {
        let Some(&encrypted) = encrypted_sources.get(&source) else {
            anyhow::bail!("automated snapshot {arn} of an unknown source {source:?}");
        };
        s.expect(
            SNAP_ENC,
            &arn,
            if encrypted { Pass } else { Fail },
            format!("moto's automated snapshot of {source} (encrypted: {encrypted})"),
        );
        s.expect(
            SNAP_PUBLIC,
            &arn,
            Pass,
            format!("moto's automated snapshot of {source}: automated snapshots cannot be shared"),
        );
    }
    Ok(())
}
