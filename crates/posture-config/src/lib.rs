//! Posture's configuration: one TOML file whose every field can be overridden by a
//! `POSTURE_<SECTION>_<FIELD>` environment variable, then by command-line options, read into
//! plain sections and validated into typed settings without IO.
//!
//! Every error is a [`ConfigError`] that names where the value at fault came from (the
//! file and line, the environment variable, or the command-line option) and the value. The
//! crate depends on `posture-model` only: the binary maps these settings to the collector's
//! and the store's types.
//!
//! `[daemon]`, `[api]` and `[alerts]` configure the daemon, its API and the alerts. Secrets
//! (the API token, webhook URLs, signing secrets) are never values here: the configuration
//! keeps whether a variable is set, or the variable's or file's name, and the binary reads
//! them.

mod duration;
pub mod fields;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use posture_model::alert::{Notices, RouteFilter};
use posture_model::{AccountId, Region, Service, Severity};
use serde::Deserialize;

pub use duration::parse_duration;

/// The API's port when `api.listen` is not set (on 127.0.0.1).
pub const DEFAULT_API_PORT: u16 = 8750;
/// How long a claim on an account lasts unrenewed, by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

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
    /// When the daemon scans.
    #[serde(default)]
    pub daemon: DaemonConfig,
    /// The daemon's HTTP API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Which findings raise alerts, and where they go.
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// Where each field's value came from, by `section.field`; unset fields are defaults.
    #[serde(skip)]
    origins: BTreeMap<String, Origin>,
    /// `POSTURE_API_TOKEN` is set (its value, a secret, is never kept here).
    #[serde(skip)]
    api_token_in_env: bool,
    /// Whether `POSTURE_SLACK_WEBHOOK_URL` is set (its value is never kept here).
    #[serde(skip)]
    slack_webhook_in_env: bool,
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
    pub services: BTreeMap<String, RateLimitConfig>,
}

/// One token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
    pub phi_tags: Option<BTreeMap<String, Vec<String>>>,
    /// Directories of custom rules in Rego (`POSTURE_CHECK_RULES_DIRS`, comma-separated;
    /// `--rules DIR`, repeatable), e.g. `config/rules`; see `docs/custom-rules.md`.
    /// Default: none.
    #[serde(default)]
    pub rules_dirs: Vec<PathBuf>,
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

/// `[daemon]`: when `posture daemon` scans and how replicas share the work.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// A cron expression in UTC, parsed by the `croner` crate: five fields (minute hour
    /// day-of-month month day-of-week), or six with seconds first, names (`MON`, `JAN`),
    /// `L`, `#`, `W` and aliases such as `@hourly`; e.g. `"0 * * * *"` for hourly
    /// (`POSTURE_DAEMON_SCHEDULE`, `--schedule`). Exclusive with `interval`.
    pub schedule: Option<String>,
    /// Time between the starts of two scans, e.g. `"1h"`, `"30m"`, `"1h30m"` (units s, m,
    /// h, d; at least 5s) (`POSTURE_DAEMON_INTERVAL`, `--interval`). Cycles are aligned to
    /// the Unix epoch, so replicas agree on them. Exclusive with `schedule`. With neither,
    /// the daemon scans hourly.
    pub interval: Option<String>,
    /// Up to this long a random delay added to each start, e.g. `"5m"`, so replicas and
    /// neighbours do not call AWS at the same second (`POSTURE_DAEMON_JITTER`); default 0;
    /// shorter than `interval`.
    pub jitter: Option<String>,
    /// How long a replica's claim on an account lasts without being renewed (renewed every
    /// third of it while the scan runs); a replica killed mid-scan has its accounts taken
    /// over this long after it stopped renewing (`POSTURE_DAEMON_LEASE`); default `2m`, at
    /// least 1s.
    pub lease: Option<String>,
    /// This replica's name in the leases (`POSTURE_DAEMON_REPLICA_ID`); default the host
    /// name. Unique per running daemon; a daemon restarted under the same name takes its
    /// own leases back at once.
    pub replica_id: Option<String>,
}

/// `[api]`: the daemon's HTTP API.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Address and port to listen on (`POSTURE_API_LISTEN`, `--listen`); default
    /// `127.0.0.1:8750`. An address other than loopback needs a token (`token_file` or
    /// `POSTURE_API_TOKEN`).
    pub listen: Option<String>,
    /// A file holding the bearer token clients must send (`POSTURE_API_TOKEN_FILE`);
    /// `POSTURE_API_TOKEN`, the token itself, wins.
    pub token_file: Option<PathBuf>,
    /// Requests a second each client address may make (`POSTURE_API_REQUESTS_PER_SECOND`);
    /// default 20, at least 1, at most 10,000.
    pub requests_per_second: Option<u32>,
    /// Requests above that rate a client address may make at once
    /// (`POSTURE_API_BURST`); default 40, at least 1, at most 10,000.
    pub burst: Option<u32>,
}

/// `[alerts]`: which findings raise an alert, and where it goes. The default route is
/// the Slack webhook in `POSTURE_SLACK_WEBHOOK_URL` (or the file `slack_webhook_url_file`);
/// `[alerts.routes.NAME]` adds routes. Webhook URLs and signing secrets are never written
/// here: a route names the variable or file that holds them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// The lowest severity of a new failure that raises an alert
    /// (`POSTURE_ALERTS_MIN_SEVERITY`); default `high`. Routes inherit it.
    pub min_severity: Option<String>,
    /// Only alert on resources in the PHI scope (`POSTURE_ALERTS_PHI_ONLY`: true or false);
    /// default false. Routes inherit it.
    pub phi_only: Option<bool>,
    /// A file holding the default route's Slack webhook URL
    /// (`POSTURE_SLACK_WEBHOOK_URL`, the URL itself, wins).
    pub slack_webhook_url_file: Option<PathBuf>,
    /// Also tell when failures are resolved; default false. Routes inherit it.
    pub resolved: Option<bool>,
    /// Also tell when waivers expire; default false. Routes inherit it.
    pub expired_waivers: Option<bool>,
    /// Also tell when attestations of manual controls expire; default false. Routes
    /// inherit it.
    pub stale_attestations: Option<bool>,
    /// Alerts not delivered within this are not sent at all
    /// (`POSTURE_ALERTS_MAX_AGE`); default `24h`.
    pub max_age: Option<String>,
    /// Remediation deadlines per severity (`critical = "3d"`); findings failing longer go
    /// into the daily digest. Default: none (no digest).
    #[serde(default)]
    pub deadlines: BTreeMap<String, String>,
    /// The hour (UTC, 0 to 23) of the daily digest; default 13.
    pub digest_hour: Option<u32>,
    /// Tag keys that name a resource's owner in the digest; default `["owner", "Owner"]`.
    pub owner_tags: Option<Vec<String>>,
    /// More routes, by name.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteConfig>,
}

/// `[alerts.routes.NAME]`: one more destination and what it hears.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// `slack` (an incoming webhook, Block Kit) or `webhook` (signed JSON); default `slack`.
    pub sink: Option<String>,
    /// The environment variable holding the webhook URL.
    pub url_env: Option<String>,
    /// The file holding the webhook URL.
    pub url_file: Option<PathBuf>,
    /// The environment variable holding the signing secret (`webhook` sinks).
    pub secret_env: Option<String>,
    /// The file holding the signing secret (`webhook` sinks).
    pub secret_file: Option<PathBuf>,
    /// Only these accounts.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Only these rules (ids, or prefixes ending in `*`).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Only resources with all these tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The lowest severity; default `[alerts] min_severity`.
    pub min_severity: Option<String>,
    /// Only PHI; default `[alerts] phi_only`.
    pub phi_only: Option<bool>,
    /// Resolved notices; default `[alerts] resolved`.
    pub resolved: Option<bool>,
    /// Expired-waiver notices; default `[alerts] expired_waivers`.
    pub expired_waivers: Option<bool>,
    /// Expired-attestation notices; default `[alerts] stale_attestations`.
    pub stale_attestations: Option<bool>,
    /// The overdue digest; default true when deadlines are set.
    pub overdue_digest: Option<bool>,
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nobody set it.
    Default,
    /// The configuration file, at a 1-based line.
    File {
        /// The file.
        path: PathBuf,
        /// The line the value starts on.
        line: usize,
    },
    /// An environment variable.
    Env(&'static str),
    /// A command-line option, e.g. `--region`.
    CommandLine(&'static str),
}

/// The configuration cannot be used: what is wrong, where, and the value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (in the message, not a separate source, so it is printed once).
        error: std::io::Error,
    },
    /// The file is not valid TOML, or has a field of the wrong type or an unknown field.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What the TOML reader said.
        message: String,
    },
    /// A value is not acceptable.
    #[error("{}", invalid_message(origin, field, value, message))]
    Invalid {
        /// Where the value came from.
        origin: Origin,
        /// The field, `section.field`.
        field: &'static str,
        /// The value at fault, as written (strings quoted).
        value: String,
        /// What is wrong and what would be accepted.
        message: String,
    },
    /// The default store location needs a home directory.
    #[error("cannot determine the user's data directory; set store.url or POSTURE_STORE_URL")]
    NoDataDirectory,
}

fn invalid_message(origin: &Origin, field: &str, value: &str, message: &str) -> String {
    // The value is shown unless the message already quotes it.
    let shown = !value.is_empty() && !message.contains(value);
    match origin {
        Origin::File { path, line } if shown => {
            format!("{}:{line}: {field} = {value}: {message}", path.display())
        }
        Origin::File { path, line } => format!("{}:{line}: {field}: {message}", path.display()),
        Origin::Env(var) if shown => format!("environment variable {var}={value}: {message}"),
        Origin::Env(var) => format!("environment variable {var}: {message}"),
        Origin::CommandLine(option) if shown => format!("{option} {value}: {message}"),
        Origin::CommandLine(option) => format!("{option}: {message}"),
        Origin::Default if shown => format!("{field} = {value}: {message}"),
        Origin::Default => format!("{field}: {message}"),
    }
}

/// The command-line options that override the configuration (`posture scan`'s and the
/// store option of the other commands), with the option names errors quote.
#[derive(Debug, Default, Clone)]
pub struct CommandLine {
    /// `--profile`
    pub profile: Option<String>,
    /// `--region`, repeated.
    pub regions: Vec<String>,
    /// `--endpoint-url`
    pub endpoint_url: Option<String>,
    /// `--fail-on`
    pub fail_on: Option<String>,
    /// `--baseline`
    pub baseline: Option<PathBuf>,
    /// `--rules`, repeated.
    pub rules_dirs: Vec<PathBuf>,
    /// `--services`
    pub services: Vec<String>,
    /// `--account`, repeated.
    pub accounts: Vec<String>,
    /// `--organization`
    pub organization: bool,
    /// `--role-name`
    pub role_name: Option<String>,
    /// `--external-id`
    pub external_id: Option<String>,
    /// `--store`
    pub store: Option<String>,
    /// `--schedule`
    pub schedule: Option<String>,
    /// `--interval`
    pub interval: Option<String>,
    /// `--listen`
    pub listen: Option<String>,
}

/// Which regions to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// The AWS profile's region (nothing was configured).
    Profile,
    /// These regions, in order, without duplicates.
    Named(Vec<Region>),
    /// Every region enabled in each account.
    All,
}

/// Which accounts to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    /// The account the credentials belong to.
    Caller,
    /// These accounts.
    List(Vec<AccountId>),
    /// Every active account of the AWS Organization.
    Organization,
}

/// The role assumed in accounts other than the caller's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Role name, the same in every account.
    pub name: String,
    /// External id its trust policy requires.
    pub external_id: Option<String>,
}

/// The accounts part of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPlan {
    /// Which accounts.
    pub source: AccountSource,
    /// Only these (empty: no restriction).
    pub include: Vec<AccountId>,
    /// Never these.
    pub exclude: Vec<AccountId>,
    /// The role to assume.
    pub role: Option<Role>,
    /// Accounts scanned at once, 1 to 64.
    pub max_parallel: usize,
}

/// Request budgets, validated; services not named keep the collector's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Requests in flight across the scan, 1 to 1024 (`None`: the collector's default).
    pub max_in_flight: Option<usize>,
    /// Token buckets by IAM action prefix, each at least 1/1.
    pub services: BTreeMap<String, RateLimitConfig>,
    /// Attempts per call, 1 to 20.
    pub max_attempts: u32,
}

/// Where the store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTarget {
    /// `store.url`: a SQLite path, `sqlite://PATH` or a `postgres://` URL.
    Url(String),
    /// A SQLite file (`store.path`, or the per-user default).
    Path(PathBuf),
}

/// The checker's input files (read by the caller; this crate does no IO on them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckFiles {
    /// Baseline file; `None`: the shipped HIPAA baseline.
    pub baseline: Option<PathBuf>,
    /// Waiver file.
    pub waivers: Option<PathBuf>,
    /// Attestation file.
    pub attestations: Option<PathBuf>,
    /// PHI tags; `None`: the default scope.
    pub phi_tags: Option<BTreeMap<String, Vec<String>>>,
    /// Directories of custom rules in Rego.
    pub rules_dirs: Vec<PathBuf>,
}

/// How to reach AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aws {
    /// Named profile.
    pub profile: Option<String>,
    /// Endpoint override.
    pub endpoint_url: Option<String>,
}

/// Everything `posture scan` (and later the daemon's scans) needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSettings {
    /// The lowest severity whose failure fails the command.
    pub fail_on: Severity,
    /// Services to collect, without duplicates.
    pub services: Vec<Service>,
    /// Regions to scan.
    pub regions: Regions,
    /// Regions never scanned.
    pub exclude_regions: Vec<Region>,
    /// Accounts.
    pub accounts: AccountPlan,
    /// Request budgets.
    pub limits: Limits,
    /// AWS connection.
    pub aws: Aws,
    /// The store.
    pub store: StoreTarget,
    /// Days of history to keep; `None` keeps everything.
    pub retention_days: Option<u32>,
    /// The checker's inputs.
    pub check: CheckFiles,
}

/// What starts a daemon scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A checked cron expression (UTC).
    Schedule(String),
    /// A fixed time between starts.
    Interval(Duration),
}

/// `[daemon]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonSettings {
    /// When to scan; `None` when neither `schedule` nor `interval` is set.
    pub trigger: Option<Trigger>,
    /// The largest random delay added to each start.
    pub jitter: Duration,
    /// How long a claim on an account lasts unrenewed.
    pub lease: Duration,
    /// This replica's name, when configured.
    pub replica_id: Option<String>,
}

/// `[api]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The bearer token's file.
    pub token_file: Option<PathBuf>,
    /// Requests a second per client address.
    pub requests_per_second: u32,
    /// Burst above that rate.
    pub burst: u32,
}

/// `[alerts]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// The lowest severity that raises an alert (routes' default).
    pub min_severity: Severity,
    /// Only resources in the PHI scope (routes' default).
    pub phi_only: bool,
    /// The routes: `default` first when `POSTURE_SLACK_WEBHOOK_URL` or
    /// `slack_webhook_url_file` is set, then `[alerts.routes.*]` by name.
    pub routes: Vec<RouteSettings>,
    /// Alerts older than this are not sent.
    pub max_age: Duration,
    /// Remediation deadlines by severity (none: no digest).
    pub deadlines: BTreeMap<Severity, Duration>,
    /// The daily digest's hour, UTC.
    pub digest_hour: u32,
    /// Tag keys naming an owner.
    pub owner_tags: Vec<String>,
}

/// Where a secret (a webhook URL, a signing secret) is read from. Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable.
    Env(String),
    /// A file (its content, trimmed).
    File(PathBuf),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(v) => write!(f, "environment variable {v}"),
            SecretSource::File(p) => write!(f, "file {}", p.display()),
        }
    }
}

/// What kind of receiver a route sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    /// A Slack incoming webhook (Block Kit).
    Slack,
    /// A generic JSON webhook, signed with HMAC-SHA256.
    Webhook,
}

/// One route, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSettings {
    /// What it hears (its name included).
    pub filter: RouteFilter,
    /// Slack or a generic webhook.
    pub sink: SinkKind,
    /// Where its URL is.
    pub url: SecretSource,
    /// Where its signing secret is (`webhook` sinks).
    pub secret: Option<SecretSource>,
}

impl Config {
    /// Reads `path` (when given), then applies `POSTURE_*` environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|error| ConfigError::Read {
                    path: p.to_owned(),
                    error,
                })?;
                Self::from_toml(&text, p)?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Parses the text of the file at `path` (named in errors), recording the line of each
    /// field for later errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            message: e.message().trim().to_owned(),
        })?;
        // The same text again, for the line of every field (it parsed above, so the shape
        // is known: sections of fields).
        type Located = BTreeMap<String, BTreeMap<String, toml::Spanned<toml::Value>>>;
        if let Ok(doc) = toml::from_str::<Located>(text) {
            for (section, fields) in doc {
                for (field, value) in fields {
                    config.origins.insert(
                        format!("{section}.{field}"),
                        Origin::File {
                            path: path.to_owned(),
                            line: line_of(text, value.span().start),
                        },
                    );
                }
            }
        }
        Ok(config)
    }

    /// Where `field` (`section.field`) got its value.
    pub fn origin(&self, field: &str) -> Origin {
        self.origins.get(field).cloned().unwrap_or(Origin::Default)
    }

    fn set_origin(&mut self, field: &str, origin: Origin) {
        self.origins.insert(field.to_owned(), origin);
    }

    fn invalid(
        &self,
        field: &'static str,
        value: String,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin(field),
            field,
            value,
            message: message.into(),
        }
    }

    /// Applies `POSTURE_<SECTION>_<FIELD>` overrides read through `get`; a value that does
    /// not parse is an error naming the variable and the value.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn number<T: std::str::FromStr>(
            var: &'static str,
            field: &'static str,
            v: &str,
        ) -> Result<T, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError::Invalid {
                origin: Origin::Env(var),
                field,
                value: format!("{v:?}"),
                message: "expected a whole number".into(),
            })
        }
        fn list(v: String) -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        }
        macro_rules! env {
            ($var:literal, $field:literal, |$v:ident| $set:expr) => {
                if let Some($v) = get($var) {
                    $set;
                    self.set_origin($field, Origin::Env($var));
                }
            };
        }
        env!("POSTURE_AWS_PROFILE", "aws.profile", |v| self.aws.profile =
            Some(v));
        env!("POSTURE_AWS_REGIONS", "aws.regions", |v| self.aws.regions =
            list(v));
        env!("POSTURE_AWS_EXCLUDE_REGIONS", "aws.exclude_regions", |v| {
            self.aws.exclude_regions = list(v)
        });
        env!("POSTURE_AWS_ENDPOINT_URL", "aws.endpoint_url", |v| self
            .aws
            .endpoint_url =
            Some(v));
        env!("POSTURE_STORE_PATH", "store.path", |v| self.store.path =
            Some(v.into()));
        env!("POSTURE_STORE_URL", "store.url", |v| self.store.url =
            Some(v));
        env!(
            "POSTURE_STORE_RETENTION_DAYS",
            "store.retention_days",
            |v| self.store.retention_days = Some(number(
                "POSTURE_STORE_RETENTION_DAYS",
                "store.retention_days",
                &v
            )?)
        );
        env!("POSTURE_CHECK_BASELINE", "check.baseline", |v| self
            .check
            .baseline =
            Some(v.into()));
        env!("POSTURE_CHECK_WAIVERS", "check.waivers", |v| self
            .check
            .waivers =
            Some(v.into()));
        env!("POSTURE_CHECK_ATTESTATIONS", "check.attestations", |v| {
            self.check.attestations = Some(v.into())
        });
        env!("POSTURE_CHECK_RULES_DIRS", "check.rules_dirs", |v| self
            .check
            .rules_dirs =
            list(v).into_iter().map(PathBuf::from).collect());
        env!("POSTURE_SCAN_SERVICES", "scan.services", |v| self
            .scan
            .services =
            list(v));
        env!("POSTURE_SCAN_FAIL_ON", "scan.fail_on", |v| self
            .scan
            .fail_on =
            Some(v));
        env!("POSTURE_ACCOUNTS_SOURCE", "accounts.source", |v| self
            .accounts
            .source =
            Some(v));
        env!("POSTURE_ACCOUNTS_IDS", "accounts.ids", |v| self
            .accounts
            .ids =
            list(v));
        env!("POSTURE_ACCOUNTS_INCLUDE", "accounts.include", |v| self
            .accounts
            .include =
            list(v));
        env!("POSTURE_ACCOUNTS_EXCLUDE", "accounts.exclude", |v| self
            .accounts
            .exclude =
            list(v));
        env!("POSTURE_ACCOUNTS_ROLE_NAME", "accounts.role_name", |v| {
            self.accounts.role_name = Some(v)
        });
        env!(
            "POSTURE_ACCOUNTS_EXTERNAL_ID",
            "accounts.external_id",
            |v| self.accounts.external_id = Some(v)
        );
        env!(
            "POSTURE_ACCOUNTS_MAX_PARALLEL",
            "accounts.max_parallel",
            |v| self.accounts.max_parallel = Some(number(
                "POSTURE_ACCOUNTS_MAX_PARALLEL",
                "accounts.max_parallel",
                &v
            )?)
        );
        env!(
            "POSTURE_LIMITS_MAX_IN_FLIGHT",
            "limits.max_in_flight",
            |v| self.limits.max_in_flight = Some(number(
                "POSTURE_LIMITS_MAX_IN_FLIGHT",
                "limits.max_in_flight",
                &v
            )?)
        );
        env!("POSTURE_LIMITS_MAX_ATTEMPTS", "limits.max_attempts", |v| {
            self.limits.max_attempts = Some(number(
                "POSTURE_LIMITS_MAX_ATTEMPTS",
                "limits.max_attempts",
                &v,
            )?)
        });
        env!("POSTURE_DAEMON_SCHEDULE", "daemon.schedule", |v| self
            .daemon
            .schedule =
            Some(v));
        env!("POSTURE_DAEMON_INTERVAL", "daemon.interval", |v| self
            .daemon
            .interval =
            Some(v));
        env!("POSTURE_DAEMON_JITTER", "daemon.jitter", |v| self
            .daemon
            .jitter =
            Some(v));
        env!("POSTURE_DAEMON_LEASE", "daemon.lease", |v| self
            .daemon
            .lease =
            Some(v));
        env!("POSTURE_DAEMON_REPLICA_ID", "daemon.replica_id", |v| self
            .daemon
            .replica_id =
            Some(v));
        env!("POSTURE_API_LISTEN", "api.listen", |v| self.api.listen =
            Some(v));
        self.api_token_in_env = get("POSTURE_API_TOKEN").is_some();
        env!(
            "POSTURE_API_REQUESTS_PER_SECOND",
            "api.requests_per_second",
            |v| {
                self.api.requests_per_second = Some(number(
                    "POSTURE_API_REQUESTS_PER_SECOND",
                    "api.requests_per_second",
                    &v,
                )?)
            }
        );
        env!("POSTURE_API_BURST", "api.burst", |v| {
            self.api.burst = Some(number("POSTURE_API_BURST", "api.burst", &v)?)
        });
        env!("POSTURE_API_TOKEN_FILE", "api.token_file", |v| self
            .api
            .token_file =
            Some(v.into()));
        self.slack_webhook_in_env = get("POSTURE_SLACK_WEBHOOK_URL").is_some();
        env!("POSTURE_ALERTS_MAX_AGE", "alerts.max_age", |v| self
            .alerts
            .max_age =
            Some(v));
        env!("POSTURE_ALERTS_MIN_SEVERITY", "alerts.min_severity", |v| {
            self.alerts.min_severity = Some(v)
        });
        env!("POSTURE_ALERTS_PHI_ONLY", "alerts.phi_only", |v| self
            .alerts
            .phi_only =
            Some(match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(ConfigError::Invalid {
                        origin: Origin::Env("POSTURE_ALERTS_PHI_ONLY"),
                        field: "alerts.phi_only",
                        value: format!("{v:?}"),
                        message: "expected true or false".into(),
                    });
                }
            }));
        Ok(())
    }

    /// Applies command-line options, which win over the file and the environment.
    pub fn apply_command_line(&mut self, cli: &CommandLine) {
        let cl = Origin::CommandLine;
        if let Some(p) = &cli.profile {
            self.aws.profile = Some(p.clone());
            self.set_origin("aws.profile", cl("--profile"));
        }
        if !cli.regions.is_empty() {
            self.aws.regions = cli.regions.clone();
            self.set_origin("aws.regions", cl("--region"));
        }
        if let Some(u) = &cli.endpoint_url {
            self.aws.endpoint_url = Some(u.clone());
            self.set_origin("aws.endpoint_url", cl("--endpoint-url"));
        }
        if let Some(f) = &cli.fail_on {
            self.scan.fail_on = Some(f.clone());
            self.set_origin("scan.fail_on", cl("--fail-on"));
        }
        if let Some(b) = &cli.baseline {
            self.check.baseline = Some(b.clone());
            self.set_origin("check.baseline", cl("--baseline"));
        }
        if !cli.rules_dirs.is_empty() {
            self.check.rules_dirs = cli.rules_dirs.clone();
            self.set_origin("check.rules_dirs", cl("--rules"));
        }
        if !cli.services.is_empty() {
            self.scan.services = cli.services.clone();
            self.set_origin("scan.services", cl("--services"));
        }
        if !cli.accounts.is_empty() {
            self.accounts.source = Some("list".into());
            self.accounts.ids = cli.accounts.clone();
            self.set_origin("accounts.source", cl("--account"));
            self.set_origin("accounts.ids", cl("--account"));
        }
        if cli.organization {
            self.accounts.source = Some("organization".into());
            self.set_origin("accounts.source", cl("--organization"));
        }
        if let Some(r) = &cli.role_name {
            self.accounts.role_name = Some(r.clone());
            self.set_origin("accounts.role_name", cl("--role-name"));
        }
        if let Some(x) = &cli.external_id {
            self.accounts.external_id = Some(x.clone());
            self.set_origin("accounts.external_id", cl("--external-id"));
        }
        if let Some(s) = &cli.store {
            self.store.url = Some(s.clone());
            self.set_origin("store.url", cl("--store"));
        }
        // Either option replaces both settings: `--interval 5m` over a file's schedule.
        if cli.schedule.is_some() || cli.interval.is_some() {
            self.daemon.schedule = cli.schedule.clone();
            self.daemon.interval = cli.interval.clone();
            self.set_origin("daemon.schedule", cl("--schedule"));
            self.set_origin("daemon.interval", cl("--interval"));
        }
        if let Some(l) = &cli.listen {
            self.api.listen = Some(l.clone());
            self.set_origin("api.listen", cl("--listen"));
        }
    }

    /// Everything a scan needs, validated, in the order a user would fix it.
    pub fn scan_settings(&self) -> Result<ScanSettings, ConfigError> {
        Ok(ScanSettings {
            fail_on: self.fail_on()?,
            services: self.services()?,
            regions: self.regions()?,
            store: self.store_target()?,
            retention_days: self.retention_days()?,
            accounts: self.account_plan()?,
            exclude_regions: self.exclude_regions()?,
            limits: self.limits()?,
            aws: Aws {
                profile: self.aws.profile.clone(),
                endpoint_url: self.aws.endpoint_url.clone(),
            },
            check: self.check_files(),
        })
    }

    /// The regions, validated.
    pub fn regions(&self) -> Result<Regions, ConfigError> {
        let all = |r: &String| r.eq_ignore_ascii_case("all");
        if self.aws.regions.iter().any(all) {
            if let Some(named) = self.aws.regions.iter().find(|r| !all(r)) {
                return Err(self.invalid(
                    "aws.regions",
                    format!("{named:?}"),
                    "\"all\" cannot be combined with named regions",
                ));
            }
            return Ok(Regions::All);
        }
        let named = self.regions_of(&self.aws.regions, "aws.regions")?;
        Ok(if named.is_empty() {
            Regions::Profile
        } else {
            Regions::Named(named)
        })
    }

    /// The excluded regions, validated.
    pub fn exclude_regions(&self) -> Result<Vec<Region>, ConfigError> {
        self.regions_of(&self.aws.exclude_regions, "aws.exclude_regions")
    }

    fn regions_of(&self, list: &[String], field: &'static str) -> Result<Vec<Region>, ConfigError> {
        let mut out: Vec<Region> = Vec::new();
        for r in list {
            let region = Region::new(r.clone())
                .map_err(|e| self.invalid(field, format!("{r:?}"), e.to_string()))?;
            if region.is_global() {
                return Err(self.invalid(
                    field,
                    format!("{r:?}"),
                    "\"global\" is not a region to scan; name AWS regions such as us-east-1",
                ));
            }
            if !out.contains(&region) {
                out.push(region);
            }
        }
        Ok(out)
    }

    /// The account plan, validated.
    pub fn account_plan(&self) -> Result<AccountPlan, ConfigError> {
        let ids = |list: &[String], field: &'static str| -> Result<Vec<AccountId>, ConfigError> {
            list.iter()
                .map(|a| {
                    AccountId::new(a.trim())
                        .map_err(|e| self.invalid(field, format!("{a:?}"), e.to_string()))
                })
                .collect()
        };
        let listed = ids(&self.accounts.ids, "accounts.ids")?;
        let source = match self.accounts.source.as_deref() {
            None if listed.is_empty() => AccountSource::Caller,
            None | Some("list") => {
                if listed.is_empty() {
                    return Err(self.invalid(
                        "accounts.source",
                        "\"list\"".into(),
                        "needs accounts.ids: list the accounts, or use source \"caller\" or \"organization\"",
                    ));
                }
                AccountSource::List(listed)
            }
            Some("caller") => AccountSource::Caller,
            Some("organization") => AccountSource::Organization,
            Some(other) => {
                return Err(self.invalid(
                    "accounts.source",
                    format!("{other:?}"),
                    "expected caller, list or organization",
                ));
            }
        };
        let role = self.accounts.role_name.clone().map(|name| Role {
            name,
            external_id: self.accounts.external_id.clone(),
        });
        let parallel = self.accounts.max_parallel.unwrap_or(4);
        if !(1..=64).contains(&parallel) {
            return Err(self.invalid(
                "accounts.max_parallel",
                parallel.to_string(),
                "must be from 1 to 64",
            ));
        }
        Ok(AccountPlan {
            source,
            include: ids(&self.accounts.include, "accounts.include")?,
            exclude: ids(&self.accounts.exclude, "accounts.exclude")?,
            role,
            max_parallel: parallel,
        })
    }

    /// The request budgets and attempts per call, validated.
    pub fn limits(&self) -> Result<Limits, ConfigError> {
        if let Some(n) = self.limits.max_in_flight
            && !(1..=1024).contains(&n)
        {
            return Err(self.invalid(
                "limits.max_in_flight",
                n.to_string(),
                "must be from 1 to 1024",
            ));
        }
        for (service, l) in &self.limits.services {
            if l.per_second < 1 || l.burst < 1 {
                return Err(self.invalid(
                    "limits.services",
                    format!(
                        "{service} = {{ per_second = {}, burst = {} }}",
                        l.per_second, l.burst
                    ),
                    format!("{service}: per_second and burst must be at least 1"),
                ));
            }
        }
        let attempts = self.limits.max_attempts.unwrap_or(5);
        if !(1..=20).contains(&attempts) {
            return Err(self.invalid(
                "limits.max_attempts",
                attempts.to_string(),
                "must be from 1 to 20",
            ));
        }
        Ok(Limits {
            max_in_flight: self.limits.max_in_flight,
            services: self.limits.services.clone(),
            max_attempts: attempts,
        })
    }

    /// The services, validated.
    pub fn services(&self) -> Result<Vec<Service>, ConfigError> {
        if self.scan.services.is_empty() {
            return Ok(Service::ALL.to_vec());
        }
        let mut out = Vec::new();
        for s in &self.scan.services {
            let svc: Service = s
                .parse()
                .map_err(|e: String| self.invalid("scan.services", format!("{s:?}"), e))?;
            if !out.contains(&svc) {
                out.push(svc);
            }
        }
        Ok(out)
    }

    /// The `--fail-on` severity, validated.
    pub fn fail_on(&self) -> Result<Severity, ConfigError> {
        self.severity("scan.fail_on", self.scan.fail_on.as_deref(), Severity::Info)
    }

    fn severity(
        &self,
        field: &'static str,
        value: Option<&str>,
        default: Severity,
    ) -> Result<Severity, ConfigError> {
        match value {
            None => Ok(default),
            Some(s) => s
                .parse()
                .map_err(|e: String| self.invalid(field, format!("{s:?}"), e)),
        }
    }

    /// Where the store is: `store.url`, else `store.path`, else the per-user data directory.
    pub fn store_target(&self) -> Result<StoreTarget, ConfigError> {
        if let Some(url) = &self.store.url {
            return Ok(StoreTarget::Url(url.clone()));
        }
        if let Some(p) = &self.store.path {
            return Ok(StoreTarget::Path(p.clone()));
        }
        let dirs = directories::ProjectDirs::from("", "", "posture")
            .ok_or(ConfigError::NoDataDirectory)?;
        Ok(StoreTarget::Path(dirs.data_dir().join("posture.sqlite")))
    }

    /// Days of history to keep; `None` keeps everything.
    pub fn retention_days(&self) -> Result<Option<u32>, ConfigError> {
        match self.store.retention_days {
            None => Ok(Some(2190)),
            Some(0) => Ok(None),
            Some(d) if d <= 36_500 => Ok(Some(d)),
            Some(d) => Err(self.invalid(
                "store.retention_days",
                d.to_string(),
                "must be a number of days from 0 to 36500",
            )),
        }
    }

    /// The checker's input files.
    pub fn check_files(&self) -> CheckFiles {
        CheckFiles {
            baseline: self.check.baseline.clone(),
            waivers: self.check.waivers.clone(),
            attestations: self.check.attestations.clone(),
            phi_tags: self.check.phi_tags.clone(),
            rules_dirs: self.check.rules_dirs.clone(),
        }
    }

    /// `[daemon]`, validated: `schedule` and `interval` exclusive, durations parsed, the
    /// interval at least a minute and longer than the jitter.
    pub fn daemon(&self) -> Result<DaemonSettings, ConfigError> {
        let d = &self.daemon;
        let duration = |field: &'static str, text: &str| {
            parse_duration(text).map_err(|e| self.invalid(field, format!("{text:?}"), e))
        };
        let trigger = match (&d.schedule, &d.interval) {
            (Some(_), Some(i)) => {
                return Err(self.invalid(
                    "daemon.interval",
                    format!("{i:?}"),
                    "set daemon.schedule or daemon.interval, not both",
                ));
            }
            (Some(s), None) => {
                s.trim().parse::<croner::Cron>().map_err(|e| {
                    self.invalid(
                        "daemon.schedule",
                        format!("{s:?}"),
                        format!(
                            "{e} (expected minute hour day-of-month month day-of-week, \
                                 optionally seconds first, e.g. \"0 * * * *\" for hourly)"
                        ),
                    )
                })?;
                Some(Trigger::Schedule(s.trim().to_owned()))
            }
            (None, Some(i)) => {
                let every = duration("daemon.interval", i)?;
                if every < Duration::from_secs(5) {
                    return Err(self.invalid(
                        "daemon.interval",
                        format!("{i:?}"),
                        "must be at least 5s",
                    ));
                }
                Some(Trigger::Interval(every))
            }
            (None, None) => None,
        };
        let jitter = match &d.jitter {
            Some(j) => duration("daemon.jitter", j)?,
            None => Duration::ZERO,
        };
        if let (Some(Trigger::Interval(every)), Some(j)) = (&trigger, &d.jitter)
            && jitter >= *every
        {
            return Err(self.invalid(
                "daemon.jitter",
                format!("{j:?}"),
                "must be shorter than daemon.interval",
            ));
        }
        let lease = match &d.lease {
            Some(l) => {
                let lease = duration("daemon.lease", l)?;
                if lease < Duration::from_secs(1) {
                    return Err(self.invalid(
                        "daemon.lease",
                        format!("{l:?}"),
                        "must be at least 1s",
                    ));
                }
                lease
            }
            None => DEFAULT_LEASE,
        };
        let replica_id = match d.replica_id.as_deref().map(str::trim) {
            Some("") => {
                return Err(self.invalid(
                    "daemon.replica_id",
                    "\"\"".to_owned(),
                    "must not be empty; leave it out to use the host name",
                ));
            }
            other => other.map(str::to_owned),
        };
        Ok(DaemonSettings {
            trigger,
            jitter,
            lease,
            replica_id,
        })
    }

    /// `[api]`, validated: an address to listen on; beyond loopback, a token file.
    pub fn api(&self) -> Result<ApiSettings, ConfigError> {
        let listen = match &self.api.listen {
            None => SocketAddr::from(([127, 0, 0, 1], DEFAULT_API_PORT)),
            Some(text) => text.trim().parse().map_err(|_| {
                self.invalid(
                    "api.listen",
                    format!("{text:?}"),
                    "expected an address and port such as 127.0.0.1:8750 or [::1]:8750",
                )
            })?,
        };
        if !listen.ip().is_loopback() && self.api.token_file.is_none() && !self.api_token_in_env {
            return Err(self.invalid(
                "api.listen",
                format!("{:?}", listen.to_string()),
                "listening beyond loopback needs a token: set POSTURE_API_TOKEN or api.token_file (the bearer token clients send)",
            ));
        }
        let rate = |field: &'static str, value: Option<u32>, default: u32| match value {
            None => Ok(default),
            Some(n) if (1..=10_000).contains(&n) => Ok(n),
            Some(n) => Err(self.invalid(
                field,
                n.to_string(),
                "must be at least 1 and at most ten thousand",
            )),
        };
        Ok(ApiSettings {
            listen,
            token_file: self.api.token_file.clone(),
            requests_per_second: rate("api.requests_per_second", self.api.requests_per_second, 20)?,
            burst: rate("api.burst", self.api.burst, 40)?,
        })
    }

    /// `[alerts]`, validated.
    pub fn alerts(&self) -> Result<AlertSettings, ConfigError> {
        let a = &self.alerts;
        let min_severity = self.severity(
            "alerts.min_severity",
            a.min_severity.as_deref(),
            Severity::High,
        )?;
        let phi_only = a.phi_only.unwrap_or(false);
        let duration = |field: &'static str, text: &str| {
            parse_duration(text).map_err(|e| self.invalid(field, format!("{text:?}"), e))
        };
        let max_age = match &a.max_age {
            Some(t) => duration("alerts.max_age", t)?,
            None => Duration::from_secs(24 * 3600),
        };
        let mut deadlines = BTreeMap::new();
        for (severity, text) in &a.deadlines {
            let sev: Severity = severity.parse().map_err(|e: String| {
                self.invalid("alerts.deadlines", format!("{severity:?}"), e)
            })?;
            deadlines.insert(sev, duration("alerts.deadlines", text)?);
        }
        let digest_hour = a.digest_hour.unwrap_or(13);
        if digest_hour > 23 {
            return Err(self.invalid(
                "alerts.digest_hour",
                digest_hour.to_string(),
                "must be an hour of the day, 0 to 23 (UTC)",
            ));
        }
        let notices = |r: Option<&RouteConfig>| Notices {
            resolved: r.and_then(|r| r.resolved).or(a.resolved).unwrap_or(false),
            expired_waivers: r
                .and_then(|r| r.expired_waivers)
                .or(a.expired_waivers)
                .unwrap_or(false),
            stale_attestations: r
                .and_then(|r| r.stale_attestations)
                .or(a.stale_attestations)
                .unwrap_or(false),
            overdue_digest: r
                .and_then(|r| r.overdue_digest)
                .unwrap_or(!deadlines.is_empty()),
        };
        let mut routes = Vec::new();
        if self.slack_webhook_in_env || a.slack_webhook_url_file.is_some() {
            routes.push(RouteSettings {
                filter: RouteFilter {
                    name: "default".into(),
                    min_severity,
                    phi_only,
                    accounts: Vec::new(),
                    rules: Vec::new(),
                    tags: BTreeMap::new(),
                    notices: notices(None),
                },
                sink: SinkKind::Slack,
                url: if self.slack_webhook_in_env {
                    SecretSource::Env("POSTURE_SLACK_WEBHOOK_URL".into())
                } else {
                    SecretSource::File(a.slack_webhook_url_file.clone().unwrap_or_default())
                },
                secret: None,
            });
        }
        for (name, r) in &a.routes {
            let bad = |message: String| {
                self.invalid(
                    "alerts.routes",
                    format!("{name:?}"),
                    format!("route {name:?}: {message}"),
                )
            };
            if name == "default" {
                return Err(bad(
                    "the name `default` is the route of POSTURE_SLACK_WEBHOOK_URL; choose another"
                        .into(),
                ));
            }
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(bad("a route name uses letters, digits, - and _".into()));
            }
            let sink = match r.sink.as_deref().unwrap_or("slack") {
                "slack" => SinkKind::Slack,
                "webhook" => SinkKind::Webhook,
                other => {
                    return Err(bad(format!(
                        "unknown sink {other:?}: expected \"slack\" or \"webhook\""
                    )));
                }
            };
            let source =
                |env: &Option<String>, file: &Option<PathBuf>, what: &str| match (env, file) {
                    (Some(v), None) => Ok(Some(SecretSource::Env(v.clone()))),
                    (None, Some(f)) => Ok(Some(SecretSource::File(f.clone()))),
                    (None, None) => Ok(None),
                    (Some(_), Some(_)) => {
                        Err(bad(format!("set {what}_env or {what}_file, not both")))
                    }
                };
            let url = source(&r.url_env, &r.url_file, "url")?.ok_or_else(|| {
                bad("needs url_env (the variable holding the webhook URL) or url_file".into())
            })?;
            let secret = source(&r.secret_env, &r.secret_file, "secret")?;
            if sink == SinkKind::Webhook && secret.is_none() {
                return Err(bad(
                    "a webhook sink signs what it sends: set secret_env or secret_file".into(),
                ));
            }
            if sink == SinkKind::Slack && secret.is_some() {
                return Err(bad("a Slack sink has no signing secret".into()));
            }
            let accounts = r
                .accounts
                .iter()
                .map(|s| AccountId::new(s.trim()).map_err(|e| bad(format!("accounts: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            routes.push(RouteSettings {
                filter: RouteFilter {
                    name: name.clone(),
                    min_severity: match &r.min_severity {
                        Some(s) => s.parse().map_err(|e: String| bad(e))?,
                        None => min_severity,
                    },
                    phi_only: r.phi_only.unwrap_or(phi_only),
                    accounts,
                    rules: r.rules.clone(),
                    tags: r.tags.clone(),
                    notices: notices(Some(r)),
                },
                sink,
                url,
                secret,
            });
        }
        Ok(AlertSettings {
            min_severity,
            phi_only,
            routes,
            max_age,
            deadlines,
            digest_hour,
            owner_tags: a
                .owner_tags
                .clone()
                .unwrap_or_else(|| vec!["owner".into(), "Owner".into()]),
        })
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |p| p.bytes().filter(|b| *b == b'\n').count() + 1)
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::CommandLine(option) => f.write_str(option),
        }
    }
}

#[cfg(test)]
mod tests;
