//! Configuration: one TOML file whose every field can be overridden by a `POSTURE_*`
//! environment variable, then by command-line options. Validated without IO first.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use posture_collect::Service;
use posture_model::{Region, Severity};
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
}

/// `[aws]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Named profile (`POSTURE_AWS_PROFILE`); default: the SDK's credential chain.
    pub profile: Option<String>,
    /// Regions to scan (`POSTURE_AWS_REGIONS`, comma-separated); default: the profile's region.
    #[serde(default)]
    pub regions: Vec<String>,
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
}

/// `[scan]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Services to collect (`POSTURE_SCAN_SERVICES`, comma-separated); default: all of
    /// s3, rds, iam, ec2, kms, cloudtrail.
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
        config.apply_env(|k| std::env::var(k).ok());
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
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
            // An unparsable value is kept as an impossible one so `retention_days()` reports it.
            self.store.retention_days = Some(v.trim().parse().unwrap_or(u32::MAX));
        }
        if let Some(v) = get("POSTURE_CHECK_BASELINE") {
            self.check.baseline = Some(v.into());
        }
        if let Some(v) = get("POSTURE_SCAN_SERVICES") {
            self.scan.services = list(v);
        }
        if let Some(v) = get("POSTURE_SCAN_FAIL_ON") {
            self.scan.fail_on = Some(v);
        }
    }

    /// The regions, validated.
    pub fn regions(&self) -> anyhow::Result<Vec<Region>> {
        let mut out: Vec<Region> = Vec::new();
        for r in &self.aws.regions {
            let region = Region::new(r.clone())
                .map_err(|e| anyhow::anyhow!("{e} (in aws.regions / --region)"))?;
            if region.is_global() {
                bail!("\"global\" is not a region to scan; name AWS regions such as us-east-1");
            }
            if !out.contains(&region) {
                out.push(region);
            }
        }
        Ok(out)
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
        });
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
