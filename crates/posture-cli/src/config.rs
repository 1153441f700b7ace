//! Configuration: one TOML file whose every field can be overridden by a `POSTURE_*`
//! environment variable, then by command-line options. Validated without IO first.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use posture_collect::Service;
use posture_collect::{AccountSource, Limits, RateLimit, RoleOptions};
use posture_model::{AccountId, Region, Severity};
use posture_store::StoreLocation;
use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How to reach AWS.
    #[serde(default)]
    pub aws: AwsConfig,
    /// Where snapshots are kept.
    #[serde(default)]
    pub store: StoreConfig,
    /// What to check.
    #[serde(default)]
    pub check: CheckConfig,
    /// Scan behaviour.
    #[serde(default)]
    pub scan: ScanConfig,
    /// Which accounts to scan, and how to enter them.
    #[serde(default)]
    pub accounts: AccountsConfig,
    /// Request budgets.
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// `[accounts]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    /// `caller` (default: the account of the credentials), `list` (the `ids` below), or
    /// `organization` (every active account of the AWS Organization; run from the
    /// management account or a delegated administrator) (`POSTURE_ACCOUNTS_SOURCE`).
    pub source: Option<String>,
    /// Account ids for `source = "list"` (`POSTURE_ACCOUNTS_IDS`, comma-separated).
    #[serde(default)]
    pub ids: Vec<String>,
    /// Only these accounts, whatever the source (`POSTURE_ACCOUNTS_INCLUDE`).
    #[serde(default)]
    pub include: Vec<String>,
    /// Never these accounts (`POSTURE_ACCOUNTS_EXCLUDE`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The read-only role to assume in every account other than the caller's
    /// (`POSTURE_ACCOUNTS_ROLE_NAME`), e.g. `PostureAudit`.
    pub role_name: Option<String>,
    /// External id the role's trust policy requires (`POSTURE_ACCOUNTS_EXTERNAL_ID`).
    pub external_id: Option<String>,
    /// Accounts scanned at the same time (`POSTURE_ACCOUNTS_MAX_PARALLEL`); default 4.
    pub max_parallel: Option<usize>,
}

/// `[limits]`: request budgets, per (account, region, service), below AWS's throttling.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests in flight at once across the whole scan (`POSTURE_LIMITS_MAX_IN_FLIGHT`);
    /// default 64.
    pub max_in_flight: Option<usize>,
    /// Attempts per call including the first (`POSTURE_LIMITS_MAX_ATTEMPTS`); default 5.
    /// Throttled and transient failures are retried with exponential backoff and jitter.
    pub max_attempts: Option<u32>,
    /// Per-service token buckets, e.g. `ec2 = { per_second = 20, burst = 100 }`; services
    /// not named keep their defaults (ec2 20/100, rds 10/12, cloudtrail 8/10, iam 10/15,
    /// organizations 5/5, sts 10/10, kms 50/50, s3 100/100, s3control 10/10,
    /// elasticfilesystem 8/10, backup 5/10, logs 4/5, cloudwatch 8/10, sns 20/30,
    /// elasticloadbalancing 8/10, acm 8/10, guardduty 8/10, config 4/5, secretsmanager 40/50,
    /// access-analyzer 5/10, securityhub 5/10, autoscaling 10/20, ssm 5/10, macie2 5/10);
    /// keys are the services' IAM action prefixes.
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, RateLimitConfig>,
}

/// One token bucket.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per second, sustained.
    pub per_second: u32,
    /// Requests allowed at once after a quiet period.
    pub burst: u32,
}

/// `[aws]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Named profile (`POSTURE_AWS_PROFILE`); default: the SDK's credential chain.
    pub profile: Option<String>,
    /// Regions to scan (`POSTURE_AWS_REGIONS`, comma-separated): `["all"]` for every region
    /// enabled in each account; default: the profile's region.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Regions never scanned (`POSTURE_AWS_EXCLUDE_REGIONS`).
    #[serde(default)]
    pub exclude_regions: Vec<String>,
    /// Endpoint override for every service, e.g. a local emulator (`POSTURE_AWS_ENDPOINT_URL`;
    /// `AWS_ENDPOINT_URL` also works).
    pub endpoint_url: Option<String>,
}

/// `[store]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Where snapshots are kept (`POSTURE_STORE_URL`): a SQLite file path (or
    /// `sqlite://PATH`), or `postgres://USER[:PASSWORD]@HOST:PORT/DB` for a shared PostgreSQL.
    /// Default: `posture.sqlite` in the user's data directory (`~/.local/share/posture/`).
    pub url: Option<String>,
    /// Same as `url` for a SQLite file (`POSTURE_STORE_PATH`); `url` wins when both are set.
    pub path: Option<PathBuf>,
    /// Days of history to keep (`POSTURE_STORE_RETENTION_DAYS`); default 2190 (six years,
    /// HIPAA's documentation retention). Older snapshots are pruned after each scan; the
    /// newest is always kept. 0 keeps everything.
    pub retention_days: Option<u32>,
}

/// `[check]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// Baseline file (`POSTURE_CHECK_BASELINE`); default: the HIPAA Security Rule baseline
    /// shipped with Posture.
    pub baseline: Option<PathBuf>,
    /// Reviewed waivers (`POSTURE_CHECK_WAIVERS`), e.g. `config/waivers.toml`; see
    /// `config/waivers.example.toml`. Default: none.
    pub waivers: Option<PathBuf>,
    /// Attestations of the manual (process) controls (`POSTURE_CHECK_ATTESTATIONS`); see
    /// `config/attestations.example.toml`. Default: none, so every manual control reads
    /// "no attestation".
    pub attestations: Option<PathBuf>,
    /// Tags that mark a resource as holding PHI: `{ phi = ["true", "yes"], data-classification
    /// = ["phi", "ephi"] }` (an empty list accepts any value). Default: those two.
    pub phi_tags: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

/// `[scan]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Services to collect (`POSTURE_SCAN_SERVICES`, comma-separated); default: all of
    /// s3, rds, iam, ec2, kms, cloudtrail, efs, backup, cloudwatch, elb, acm, guardduty, config,
    /// secretsmanager, accessanalyzer, securityhub, autoscaling, ssm, macie.
    #[serde(default)]
    pub services: Vec<String>,
    /// Lowest severity whose failure makes `posture scan` exit 1 (`POSTURE_SCAN_FAIL_ON`);
    /// default `info`: any failure.
    pub fail_on: Option<String>,
}

impl Config {
    /// Reads `path` (when given), then applies `POSTURE_*` environment overrides.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?;
                parse(&text, p)?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Applies `POSTURE_<SECTION>_<FIELD>` overrides; a value that does not parse is an
    /// error naming the variable and the value.
    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn number<T: std::str::FromStr>(var: &str, v: &str) -> anyhow::Result<T> {
            v.trim().parse().map_err(|_| {
                anyhow::anyhow!("environment variable {var}={v:?}: expected a whole number")
            })
        }
        let list = |v: String| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        if let Some(v) = get("POSTURE_AWS_PROFILE") {
            self.aws.profile = Some(v);
        }
        if let Some(v) = get("POSTURE_AWS_REGIONS") {
            self.aws.regions = list(v);
        }
        if let Some(v) = get("POSTURE_AWS_ENDPOINT_URL") {
            self.aws.endpoint_url = Some(v);
        }
        if let Some(v) = get("POSTURE_STORE_PATH") {
            self.store.path = Some(v.into());
        }
        if let Some(v) = get("POSTURE_STORE_URL") {
            self.store.url = Some(v);
        }
        if let Some(v) = get("POSTURE_STORE_RETENTION_DAYS") {
            self.store.retention_days = Some(number("POSTURE_STORE_RETENTION_DAYS", &v)?);
        }
        if let Some(v) = get("POSTURE_CHECK_BASELINE") {
            self.check.baseline = Some(v.into());
        }
        if let Some(v) = get("POSTURE_CHECK_WAIVERS") {
            self.check.waivers = Some(v.into());
        }
        if let Some(v) = get("POSTURE_CHECK_ATTESTATIONS") {
            self.check.attestations = Some(v.into());
        }
        if let Some(v) = get("POSTURE_SCAN_SERVICES") {
            self.scan.services = list(v);
        }
        if let Some(v) = get("POSTURE_SCAN_FAIL_ON") {
            self.scan.fail_on = Some(v);
        }
        if let Some(v) = get("POSTURE_AWS_EXCLUDE_REGIONS") {
            self.aws.exclude_regions = list(v);
        }
        if let Some(v) = get("POSTURE_ACCOUNTS_SOURCE") {
            self.accounts.source = Some(v);
        }
        if let Some(v) = get("POSTURE_ACCOUNTS_IDS") {
            self.accounts.ids = list(v);
        }
        if let Some(v) = get("POSTURE_ACCOUNTS_INCLUDE") {
            self.accounts.include = list(v);
        }
        if let Some(v) = get("POSTURE_ACCOUNTS_EXCLUDE") {
            self.accounts.exclude = list(v);
        }
        if let Some(v) = get("POSTURE_ACCOUNTS_ROLE_NAME") {
            self.accounts.role_name = Some(v);
        }
        if let Some(v) = get("POSTURE_ACCOUNTS_EXTERNAL_ID") {
            self.accounts.external_id = Some(v);
        }
        if let Some(v) = get("POSTURE_ACCOUNTS_MAX_PARALLEL") {
            self.accounts.max_parallel = Some(number("POSTURE_ACCOUNTS_MAX_PARALLEL", &v)?);
        }
        if let Some(v) = get("POSTURE_LIMITS_MAX_IN_FLIGHT") {
            self.limits.max_in_flight = Some(number("POSTURE_LIMITS_MAX_IN_FLIGHT", &v)?);
        }
        if let Some(v) = get("POSTURE_LIMITS_MAX_ATTEMPTS") {
            self.limits.max_attempts = Some(number("POSTURE_LIMITS_MAX_ATTEMPTS", &v)?);
        }
        Ok(())
    }

    /// The regions, validated; empty for `all`.
    pub fn regions(&self) -> anyhow::Result<Vec<Region>> {
        if self.all_regions() {
            anyhow::ensure!(
                self.aws.regions.len() == 1,
                "aws.regions: \"all\" cannot be combined with named regions"
            );
            return Ok(Vec::new());
        }
        regions_of(&self.aws.regions, "aws.regions / --region")
    }

    /// Whether every enabled region was asked for.
    pub fn all_regions(&self) -> bool {
        self.aws
            .regions
            .iter()
            .any(|r| r.eq_ignore_ascii_case("all"))
    }

    /// The excluded regions, validated.
    pub fn exclude_regions(&self) -> anyhow::Result<Vec<Region>> {
        regions_of(&self.aws.exclude_regions, "aws.exclude_regions")
    }

    /// The account plan, validated.
    pub fn account_plan(&self) -> anyhow::Result<AccountPlan> {
        let ids = |list: &[String], field: &str| -> anyhow::Result<Vec<AccountId>> {
            list.iter()
                .map(|a| AccountId::new(a.trim()).map_err(|e| anyhow::anyhow!("{e} (in {field})")))
                .collect()
        };
        let listed = ids(&self.accounts.ids, "accounts.ids / --account")?;
        let source = match self.accounts.source.as_deref() {
            None if listed.is_empty() => AccountSource::Caller,
            None | Some("list") => {
                anyhow::ensure!(
                    !listed.is_empty(),
                    "accounts.source = \"list\" needs accounts.ids"
                );
                AccountSource::List(listed)
            }
            Some("caller") => AccountSource::Caller,
            Some("organization") => AccountSource::Organization,
            Some(other) => {
                bail!("accounts.source {other:?}: expected caller, list or organization")
            }
        };
        let role = self.accounts.role_name.clone().map(|name| RoleOptions {
            name,
            external_id: self.accounts.external_id.clone(),
        });
        let parallel = self.accounts.max_parallel.unwrap_or(4);
        anyhow::ensure!(
            (1..=64).contains(&parallel),
            "accounts.max_parallel must be from 1 to 64"
        );
        Ok(AccountPlan {
            source,
            include: ids(&self.accounts.include, "accounts.include")?,
            exclude: ids(&self.accounts.exclude, "accounts.exclude")?,
            role,
            max_parallel: parallel,
        })
    }

    /// The request budgets and attempts per call, validated.
    pub fn limits(&self) -> anyhow::Result<(Limits, u32)> {
        let mut limits = Limits::default();
        if let Some(n) = self.limits.max_in_flight {
            anyhow::ensure!(
                (1..=1024).contains(&n),
                "limits.max_in_flight must be from 1 to 1024"
            );
            limits.max_in_flight = n;
        }
        for (service, l) in &self.limits.services {
            anyhow::ensure!(
                l.per_second >= 1 && l.burst >= 1,
                "limits.services.{service}: per_second and burst must be at least 1"
            );
            limits.services.insert(
                service.clone(),
                RateLimit {
                    per_second: l.per_second,
                    burst: l.burst,
                },
            );
        }
        let attempts = self.limits.max_attempts.unwrap_or(5);
        anyhow::ensure!(
            (1..=20).contains(&attempts),
            "limits.max_attempts must be from 1 to 20"
        );
        Ok((limits, attempts))
    }

    /// The services, validated.
    pub fn services(&self) -> anyhow::Result<Vec<Service>> {
        if self.scan.services.is_empty() {
            return Ok(Service::ALL.to_vec());
        }
        let mut out = Vec::new();
        for s in &self.scan.services {
            let svc: Service = s
                .parse()
                .map_err(|e: String| anyhow::anyhow!("{e} (in scan.services)"))?;
            if !out.contains(&svc) {
                out.push(svc);
            }
        }
        Ok(out)
    }

    /// The `--fail-on` severity, validated.
    pub fn fail_on(&self) -> anyhow::Result<Severity> {
        match &self.scan.fail_on {
            None => Ok(Severity::Info),
            Some(s) => s
                .parse()
                .map_err(|e: String| anyhow::anyhow!("{e} (in --fail-on / scan.fail_on)")),
        }
    }

    /// Where the store is: `store.url`, else `store.path`, else the per-user data directory.
    pub fn store_location(&self) -> anyhow::Result<StoreLocation> {
        if let Some(url) = &self.store.url {
            return Ok(StoreLocation::parse(url));
        }
        if let Some(p) = &self.store.path {
            return Ok(StoreLocation::Sqlite(p.clone()));
        }
        let dirs = directories::ProjectDirs::from("", "", "posture").context(
            "cannot determine the user's data directory; set store.url or POSTURE_STORE_URL",
        )?;
        Ok(StoreLocation::Sqlite(
            dirs.data_dir().join("posture.sqlite"),
        ))
    }

    /// Days of history to keep; `None` keeps everything.
    pub fn retention_days(&self) -> anyhow::Result<Option<u32>> {
        match self.store.retention_days {
            None => Ok(Some(2190)),
            Some(0) => Ok(None),
            Some(d) if d <= 36_500 => Ok(Some(d)),
            Some(_) => bail!(
                "store.retention_days / POSTURE_STORE_RETENTION_DAYS must be a number of days from 0 to 36500"
            ),
        }
    }
}

/// The accounts part of a scan plan.
#[derive(Debug)]
pub struct AccountPlan {
    pub source: AccountSource,
    pub include: Vec<AccountId>,
    pub exclude: Vec<AccountId>,
    pub role: Option<RoleOptions>,
    pub max_parallel: usize,
}

fn regions_of(list: &[String], field: &str) -> anyhow::Result<Vec<Region>> {
    let mut out: Vec<Region> = Vec::new();
    for r in list {
        let region = Region::new(r.clone()).map_err(|e| anyhow::anyhow!("{e} (in {field})"))?;
        if region.is_global() {
            bail!("\"global\" is not a region to scan; name AWS regions such as us-east-1");
        }
        if !out.contains(&region) {
            out.push(region);
        }
    }
    Ok(out)
}

fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
        anyhow::anyhow!("{}:{}: {}", path.display(), line, e.message())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_rejected_with_the_line() {
        let err = parse(
            "[aws]\nprofile = \"x\"\nregion = \"us-east-1\"\n",
            Path::new("posture.toml"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("posture.toml:3:"), "{msg}");
        assert!(msg.contains("unknown field `region`"), "{msg}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = parse(
            "[aws]\nregions = [\"us-east-1\"]\n[scan]\nfail_on = \"low\"\n",
            Path::new("p.toml"),
        )
        .unwrap();
        c.apply_env(|k| match k {
            "POSTURE_AWS_REGIONS" => Some("eu-west-1, eu-central-1".into()),
            "POSTURE_SCAN_FAIL_ON" => Some("critical".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            c.regions()
                .unwrap()
                .iter()
                .map(Region::as_str)
                .collect::<Vec<_>>(),
            ["eu-west-1", "eu-central-1"]
        );
        assert_eq!(c.fail_on().unwrap(), Severity::Critical);
    }

    /// Issue 11: a malformed number in an override used to become 0 or the maximum and
    /// was then reported under the TOML field's name.
    #[test]
    fn a_malformed_number_in_the_environment_names_the_variable_and_value() {
        for var in [
            "POSTURE_STORE_RETENTION_DAYS",
            "POSTURE_ACCOUNTS_MAX_PARALLEL",
            "POSTURE_LIMITS_MAX_IN_FLIGHT",
            "POSTURE_LIMITS_MAX_ATTEMPTS",
        ] {
            let mut c = Config::default();
            let err = c
                .apply_env(|k| (k == var).then(|| "64k".to_owned()))
                .unwrap_err()
                .to_string();
            assert_eq!(
                err,
                format!("environment variable {var}=\"64k\": expected a whole number")
            );
        }
        let mut c = Config::default();
        c.apply_env(|k| (k == "POSTURE_LIMITS_MAX_IN_FLIGHT").then(|| " 32 ".to_owned()))
            .unwrap();
        assert_eq!(c.limits.max_in_flight, Some(32));
    }

    #[test]
    fn bad_values_say_what_to_fix() {
        let mut c = Config::default();
        c.scan.fail_on = Some("severe".into());
        assert!(
            c.fail_on()
                .unwrap_err()
                .to_string()
                .contains("expected one of info, low, medium, high, critical")
        );
        c.scan.services = vec!["s4".into()];
        assert!(
            c.services()
                .unwrap_err()
                .to_string()
                .contains("unknown service \"s4\"")
        );
        c.aws.regions = vec!["US East".into()];
        assert!(
            c.regions()
                .unwrap_err()
                .to_string()
                .contains("invalid region")
        );
    }
}
