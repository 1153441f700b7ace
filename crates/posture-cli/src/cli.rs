//! Command-line definitions and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use posture_config::{CommandLine, Config, StoreTarget};
use posture_store::StoreLocation;

/// Posture keeps watch over the HIPAA Security Rule posture of AWS accounts.
#[derive(Debug, Parser)]
#[command(name = "posture", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML). Every field can also be set with POSTURE_* variables.
    #[arg(long, global = true, env = "POSTURE_CONFIG")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug); POSTURE_LOG takes a tracing filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect the account's configuration, store a snapshot and check it against the baseline.
    Scan(ScanArgs),
    /// List the rules of the baseline with their citations and parameters.
    Rules(RulesArgs),
    /// List stored snapshots.
    Snapshots(SnapshotsArgs),
    /// Show what changed between two snapshots (default: the last two).
    Diff(DiffArgs),
    /// Check that the stored history was not altered: re-derive every snapshot's manifest
    /// and the hash chain. Exit 0 when intact, 1 when not.
    Verify(VerifyArgs),
    /// Scan on a schedule and serve the HTTP API and metrics until SIGTERM or Ctrl-C.
    Daemon(DaemonArgs),
    /// Print the least-privilege IAM policy (or the role's CloudFormation template) that
    /// covers every call of the selected collectors, generated from their table.
    IamPolicy(IamPolicyArgs),
    /// Alerts: send a test message to a route's webhook, or list the outbox.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Write the evidence report of a snapshot for an auditor: per HIPAA standard, the
    /// citation tree, every failing resource with its evidence, waivers, attestations,
    /// coverage, drift over the period and the hash chain's verification.
    Report(ReportArgs),
}

/// Formats of `posture report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML file (no script, prints a page per standard).
    Html,
    /// One JSON document.
    Json,
    /// One row per finding, with citations and the PHI flag.
    Csv,
    /// Markdown, for tickets.
    Markdown,
    /// OCSF 1.7.0 Compliance Finding events, one per finding, as a JSON array.
    Ocsf,
    /// SARIF 2.1.0: failures, waived failures (suppressed) and errors.
    Sarif,
}

/// `posture report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write the report to this file (`-` for standard output).
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    pub out: Option<PathBuf>,
    /// Write the evidence bundle instead: a directory, or one `.tar.gz` file, holding the
    /// report (HTML and JSON), the findings (CSV), the waivers and attestations as used, the
    /// sealed manifests of the period's snapshots and a manifest of SHA-256 hashes tied to
    /// the store's chain head. Must not exist yet. Check it with `posture verify --bundle`.
    #[arg(long, value_name = "DIR|FILE.tar.gz", conflicts_with = "format")]
    pub bundle: Option<PathBuf>,
    /// Sign the bundle's manifest with this Ed25519 private key (PKCS#8 PEM, as made by
    /// `openssl genpkey -algorithm ed25519 -out key.pem`).
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub sign_key: Option<PathBuf>,
    /// The snapshot to report: an id (see `posture snapshots`) or `latest`.
    #[arg(long, value_name = "ID|latest", default_value = "latest")]
    pub snapshot: String,
    /// Start of the period of the trend and drift timeline (YYYY-MM-DD or RFC 3339).
    /// Default: 30 days before the snapshot.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only this account; repeat for several. Default: every account of the snapshot.
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// Baseline file whose citation tree the report follows (default: the configured one,
    /// else the shipped HIPAA baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// A directory of custom rules the scans used (repeatable; also check.rules_dirs), so
    /// the report lists them under their citations with their titles.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules_dirs: Vec<PathBuf>,
    /// Store: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<String>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// One JSON document.
    Json,
}

/// AWS connection options shared by commands that talk to AWS.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// AWS profile from the shared config files.
    #[arg(long)]
    pub profile: Option<String>,
    /// Region to scan; repeat for several. Default: the profile's region.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Send every AWS request to this URL (a local emulator). AWS_ENDPOINT_URL also works.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// What to scan and where to store it: shared by `posture scan` and `posture daemon`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// AWS options.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Baseline file to check against instead of the shipped HIPAA baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// A directory of custom rules in Rego, added to the baseline (repeatable; also
    /// check.rules_dirs). See docs/custom-rules.md; `config/rules` holds examples.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules_dirs: Vec<PathBuf>,
    /// Only these services (comma-separated: s3, rds, iam, ec2, kms, cloudtrail, efs, backup,
    /// cloudwatch, elb, acm, guardduty, config, secretsmanager, accessanalyzer, securityhub,
    /// autoscaling, ssm, macie).
    #[arg(long, value_delimiter = ',', value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Store: a SQLite file or a postgres:// URL (default: posture.sqlite in the user's data directory).
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<String>,
    /// Scan this account; repeat for several (the caller's directly, others through
    /// --role-name). Default: the account of the credentials.
    #[arg(long = "account", value_name = "ID", conflicts_with = "organization")]
    pub accounts: Vec<String>,
    /// Scan every active account of the AWS Organization.
    #[arg(long)]
    pub organization: bool,
    /// Role to assume in accounts other than the caller's.
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// External id that role's trust policy requires (also POSTURE_ACCOUNTS_EXTERNAL_ID).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
}

impl TargetArgs {
    /// These options as configuration overrides.
    pub fn command_line(&self) -> CommandLine {
        CommandLine {
            profile: self.aws.profile.clone(),
            regions: self.aws.regions.clone(),
            endpoint_url: self.aws.endpoint_url.clone(),
            baseline: self.baseline.clone(),
            rules_dirs: self.rules_dirs.clone(),
            services: self.services.clone(),
            accounts: self.accounts.clone(),
            organization: self.organization,
            role_name: self.role_name.clone(),
            external_id: self.external_id.clone(),
            store: self.store.clone(),
            ..CommandLine::default()
        }
    }
}

/// `posture scan`
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// What to scan.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit 1 when a finding of this severity or higher fails (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Show passing and not-applicable findings in the table too.
    #[arg(long)]
    pub all: bool,
}

/// `posture daemon`
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// What to scan.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Address and port of the HTTP API (default 127.0.0.1:8750; also api.listen).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Scan on this cron expression, in UTC (e.g. "0 * * * *"; also daemon.schedule).
    #[arg(long, value_name = "CRON", conflicts_with = "interval")]
    pub schedule: Option<String>,
    /// Scan every DURATION (e.g. 1h, 30m; also daemon.interval). Default: hourly.
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
}

/// `posture rules`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RulesArgs {
    /// Test or lint custom rules; without one, list the rules.
    #[command(subcommand)]
    pub command: Option<RulesCommand>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Baseline file instead of the shipped HIPAA baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Also list the custom rules of this directory (repeatable; also check.rules_dirs).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules_dirs: Vec<PathBuf>,
}

/// `posture rules test|lint`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Run each custom rule of DIR over its own fixtures (`tests/*.json` in its folder) and
    /// show what differs. Exit 0 when every fixture matches, 1 when one does not or a rule
    /// does not load.
    Test {
        /// A rules directory (one folder per rule) or one rule's folder; repeatable.
        #[arg(value_name = "DIR", required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Report every problem of the custom rules of DIR with its file and line: Rego syntax
    /// errors, unknown resource kinds or services, missing or invalid metadata. Exit 0
    /// when there is none, 1 otherwise.
    Lint {
        /// A rules directory (one folder per rule) or one rule's folder; repeatable.
        #[arg(value_name = "DIR", required = true)]
        dirs: Vec<PathBuf>,
    },
}

/// `posture snapshots`
#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Store: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<String>,
}

/// `posture diff`
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot id (default: the one before the latest).
    #[arg(conflicts_with = "since")]
    pub from: Option<String>,
    /// The later snapshot id (default: the latest).
    #[arg(requires = "from")]
    pub to: Option<String>,
    /// Compare the state on this date (YYYY-MM-DD or RFC 3339) with the latest snapshot.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Store: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<String>,
}

/// Which policy `posture iam-policy` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyKind {
    /// The read-only policy of the role in every scanned account.
    Member,
    /// The security account's scanner policy (assume the member roles, list the organization).
    Scanner,
    /// The member role's trust policy (the scanner role, with an external id).
    MemberTrust,
}

/// Formats of `posture iam-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    /// The IAM policy document.
    Json,
    /// A Terraform `aws_iam_policy_document` data source.
    Terraform,
    /// The CloudFormation template creating the role (member: the StackSet template).
    Cloudformation,
}

/// `posture iam-policy`
#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Only the calls of these collectors (comma-separated, as --services of scan). Default: all.
    #[arg(long, value_delimiter = ',', value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PolicyFormat::Json)]
    pub format: PolicyFormat,
    /// Which policy.
    #[arg(long, value_enum, default_value_t = PolicyKind::Member)]
    pub policy: PolicyKind,
}

/// `posture alerts …`
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send a sample message (marked as a test) to a route, to check its webhook; exit 0
    /// when the receiver accepted it.
    Test(AlertsTestArgs),
    /// List the alerts in the outbox: pending, delivered, failed (with the last error),
    /// expired; newest first.
    List(AlertsListArgs),
}

/// `posture alerts test`
#[derive(Debug, Args)]
pub struct AlertsTestArgs {
    /// The route (default: `default`, the route of POSTURE_SLACK_WEBHOOK_URL, else the only
    /// route configured).
    #[arg(long)]
    pub route: Option<String>,
}

/// The states `posture alerts list --state` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertState {
    /// Not delivered yet.
    Pending,
    /// Accepted by the receiver.
    Delivered,
    /// Refused for good.
    Failed,
    /// Too old to send.
    Expired,
}

/// `posture alerts list`
#[derive(Debug, Args)]
pub struct AlertsListArgs {
    /// Only alerts in this state.
    #[arg(long, value_enum)]
    pub state: Option<AlertState>,
    /// At most this many (newest first).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Store: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<String>,
}

/// `posture verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Store: a SQLite file or a postgres:// URL. With `--bundle`, only a store given here
    /// is opened (to check that the bundle's snapshots and chain head are in it); the
    /// configured store is not.
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<String>,
    /// Verify an evidence bundle (a directory or a `.tar.gz` from `posture report
    /// --bundle`) instead of the store: every file against its manifest, the signature,
    /// the snapshot manifests against their chain hashes. Opens no store unless `--store`
    /// is given.
    #[arg(long, value_name = "DIR|FILE.tar.gz")]
    pub bundle: Option<PathBuf>,
    /// The bundle must be signed by this Ed25519 public key (PEM, as made by `openssl pkey
    /// -in key.pem -pubout`).
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub public_key: Option<PathBuf>,
}

/// Runs the parsed command. Only `scan` needs the async runtime; the others do blocking
/// store IO on this thread (the PostgreSQL client may not run inside the runtime).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The policy is generated from the table of collectors alone: no configuration needed.
    if let Command::IamPolicy(args) = &cli.command {
        return crate::iam_policy_cmd::run(args);
    }
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Scan(args) => {
            config.apply_command_line(&CommandLine {
                fail_on: args.fail_on.clone(),
                ..args.target.command_line()
            });
            runtime()?.block_on(crate::scan::run(&config, &args))
        }
        Command::Daemon(args) => {
            config.apply_command_line(&CommandLine {
                schedule: args.schedule.clone(),
                interval: args.interval.clone(),
                listen: args.listen.clone(),
                ..args.target.command_line()
            });
            runtime()?.block_on(crate::daemon_cmd::run(&config))
        }
        Command::Rules(args) => match &args.command {
            Some(RulesCommand::Test { dirs }) => crate::rules_cmd::test(dirs),
            Some(RulesCommand::Lint { dirs }) => crate::rules_cmd::lint(dirs),
            None => {
                config.apply_command_line(&CommandLine {
                    baseline: args.baseline.clone(),
                    rules_dirs: args.rules_dirs.clone(),
                    ..CommandLine::default()
                });
                crate::rules_cmd::run(&config, args.format)
            }
        },
        Command::Snapshots(args) => {
            config.apply_command_line(&store_option(args.store.clone()));
            crate::snapshots_cmd::run(&config, args.format)
        }
        Command::Diff(args) => {
            config.apply_command_line(&store_option(args.store.clone()));
            crate::diff_cmd::run(&config, &args)
        }
        Command::IamPolicy(args) => crate::iam_policy_cmd::run(&args),
        Command::Alerts(AlertsCommand::Test(args)) => {
            runtime()?.block_on(crate::alerts_cmd::test(&config, args.route.as_deref()))
        }
        Command::Alerts(AlertsCommand::List(args)) => {
            config.apply_command_line(&store_option(args.store.clone()));
            crate::alerts_cmd::list(&config, &args)
        }
        Command::Report(args) => {
            config.apply_command_line(&CommandLine {
                baseline: args.baseline.clone(),
                rules_dirs: args.rules_dirs.clone(),
                ..store_option(args.store.clone())
            });
            crate::report_cmd::run(&config, &args)
        }
        Command::Verify(args) if args.bundle.is_some() => {
            // Only a store named on the command line is opened: the configured one is not.
            let store = match &args.store {
                Some(s) => {
                    config.apply_command_line(&store_option(Some(s.clone())));
                    Some(configured_store(&config)?)
                }
                None => None,
            };
            crate::verify_cmd::bundle(&args, store.as_ref())
        }
        Command::Verify(args) => {
            config.apply_command_line(&store_option(args.store.clone()));
            crate::verify_cmd::run(&config, args.format)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

fn store_option(store: Option<String>) -> CommandLine {
    CommandLine {
        store,
        ..CommandLine::default()
    }
}

/// The store the configuration names, as the store crate locates it.
pub fn store_location(target: &StoreTarget) -> StoreLocation {
    match target {
        StoreTarget::Url(url) => StoreLocation::parse(url),
        StoreTarget::Path(path) => StoreLocation::Sqlite(path.clone()),
    }
}

/// The configured store, validated.
pub fn configured_store(config: &Config) -> anyhow::Result<StoreLocation> {
    Ok(store_location(&config.store_target()?))
}

/// Loads the configured baseline, or the shipped one.
pub fn load_baseline(config: &Config) -> anyhow::Result<posture_check::Baseline> {
    Ok(posture_scan::load_baseline(
        config.check.baseline.as_deref(),
        &config.check.rules_dirs,
    )?)
}
