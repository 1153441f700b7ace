//! The configuration's reading, overrides and validation: every error names the file and
//! line, the environment variable or the option at fault, and the value.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed step is a failed test"
)]

use super::*;

fn parse(text: &str) -> Config {
    Config::from_toml(text, Path::new("p.toml")).unwrap()
}

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn unknown_fields_are_rejected_with_the_line() {
    let err = Config::from_toml(
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
    let mut c = parse("[aws]\nregions = [\"us-east-1\"]\n[scan]\nfail_on = \"low\"\n");
    c.apply_env(env(&[
        ("POSTURE_AWS_REGIONS", "eu-west-1, eu-central-1"),
        ("POSTURE_SCAN_FAIL_ON", "critical"),
    ]))
    .unwrap();
    let Regions::Named(regions) = c.regions().unwrap() else {
        panic!("named regions expected")
    };
    assert_eq!(
        regions.iter().map(Region::as_str).collect::<Vec<_>>(),
        ["eu-west-1", "eu-central-1"]
    );
    assert_eq!(c.fail_on().unwrap(), Severity::Critical);
    assert_eq!(
        c.origin("scan.fail_on"),
        Origin::Env("POSTURE_SCAN_FAIL_ON")
    );
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
        let err = c.apply_env(env(&[(var, "64k")])).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("environment variable {var}=\"64k\": expected a whole number")
        );
    }
    let mut c = Config::default();
    c.apply_env(env(&[("POSTURE_LIMITS_MAX_IN_FLIGHT", " 32 ")]))
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

/// A value that parses as TOML but is not acceptable is reported at its own line, with the
/// field and the value.
#[test]
fn a_bad_value_in_the_file_names_the_file_line_field_and_value() {
    let c = parse(
        "# posture\n[aws]\nregions = [\"us-east-1\"]\n\n[accounts]\nmax_parallel = 100\n[scan]\nfail_on = \"severe\"\n",
    );
    let err = c.fail_on().unwrap_err().to_string();
    assert!(
        err.starts_with("p.toml:8: scan.fail_on: unknown severity \"severe\""),
        "{err}"
    );
    let err = c.account_plan().unwrap_err().to_string();
    assert_eq!(
        err,
        "p.toml:6: accounts.max_parallel = 100: must be from 1 to 64"
    );
    // The same field written inline is found too.
    let c = parse("store = { retention_days = 40000 }\n");
    assert_eq!(
        c.retention_days().unwrap_err().to_string(),
        "p.toml:1: store.retention_days = 40000: must be a number of days from 0 to 36500"
    );
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable() {
    let mut c = parse("[scan]\nfail_on = \"high\"\n");
    c.apply_env(env(&[
        ("POSTURE_SCAN_FAIL_ON", "severe"),
        ("POSTURE_AWS_REGIONS", "us-east-1,US East"),
    ]))
    .unwrap();
    let err = c.fail_on().unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { origin: Origin::Env("POSTURE_SCAN_FAIL_ON"), field: "scan.fail_on", value, .. } if value == "\"severe\""),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("environment variable POSTURE_SCAN_FAIL_ON: unknown severity \"severe\""),
        "{err}"
    );
    let err = c.regions().unwrap_err().to_string();
    assert!(
        err.starts_with("environment variable POSTURE_AWS_REGIONS: invalid region \"US East\""),
        "{err}"
    );
}

#[test]
fn command_line_options_win_and_are_named_in_errors() {
    let mut c = parse("[aws]\nregions = [\"us-east-1\"]\n[accounts]\nsource = \"caller\"\n");
    c.apply_env(env(&[("POSTURE_AWS_REGIONS", "eu-west-1")]))
        .unwrap();
    c.apply_command_line(&CommandLine {
        regions: vec!["US East".into()],
        accounts: vec!["12345".into()],
        store: Some("postgres://u@h/db".into()),
        ..CommandLine::default()
    });
    let err = c.regions().unwrap_err().to_string();
    assert!(
        err.starts_with("--region: invalid region \"US East\""),
        "{err}"
    );
    assert!(err.contains("us-east-1"), "the expected form: {err}");
    let err = c.account_plan().unwrap_err().to_string();
    assert!(
        err.starts_with("--account: invalid account id \"12345\""),
        "{err}"
    );
    assert_eq!(
        c.store_target().unwrap(),
        StoreTarget::Url("postgres://u@h/db".into())
    );
    // --organization replaces a list from the file.
    let mut c = parse("[accounts]\nids = [\"111122223333\"]\n");
    c.apply_command_line(&CommandLine {
        organization: true,
        ..CommandLine::default()
    });
    assert_eq!(
        c.account_plan().unwrap().source,
        AccountSource::Organization
    );
}

#[test]
fn scan_settings_have_the_documented_defaults() {
    let s = Config::default().scan_settings().unwrap();
    assert_eq!(s.fail_on, Severity::Info);
    assert_eq!(s.services, Service::ALL.to_vec());
    assert_eq!(s.regions, Regions::Profile);
    assert_eq!(s.retention_days, Some(2190));
    assert_eq!(s.accounts.source, AccountSource::Caller);
    assert_eq!(s.accounts.max_parallel, 4);
    assert_eq!(s.limits.max_attempts, 5);
    assert_eq!(s.limits.max_in_flight, None);
    let c = parse("[aws]\nregions = [\"all\"]\n[store]\nretention_days = 0\n");
    assert_eq!(c.regions().unwrap(), Regions::All);
    assert_eq!(c.retention_days().unwrap(), None);
    let c = parse("[aws]\nregions = [\"all\", \"us-east-1\"]\n");
    assert_eq!(
        c.regions().unwrap_err().to_string(),
        "p.toml:2: aws.regions = \"us-east-1\": \"all\" cannot be combined with named regions"
    );
    let c = parse("[accounts]\nsource = \"list\"\n");
    assert_eq!(
        c.account_plan().unwrap_err().to_string(),
        "p.toml:2: accounts.source = \"list\": needs accounts.ids: list the accounts, or use source \"caller\" or \"organization\""
    );
    let c = parse("[limits]\nservices.ec2 = { per_second = 0, burst = 5 }\n");
    let err = c.limits().unwrap_err().to_string();
    assert!(
        err.starts_with("p.toml:2: limits.services = ec2 = { per_second = 0, burst = 5 }"),
        "{err}"
    );
}

#[test]
fn the_new_sections_have_defaults_that_do_nothing_risky() {
    let c = Config::default();
    assert_eq!(
        c.daemon().unwrap(),
        DaemonSettings {
            trigger: None,
            jitter: Duration::ZERO,
            lease: Duration::from_secs(120),
            replica_id: None,
        }
    );
    assert_eq!(
        c.api().unwrap(),
        ApiSettings {
            listen: "127.0.0.1:8750".parse().unwrap(),
            token_file: None,
            requests_per_second: 20,
            burst: 40,
        }
    );
    let alerts = c.alerts().unwrap();
    assert_eq!(
        (alerts.min_severity, alerts.phi_only),
        (Severity::High, false)
    );
}

#[test]
fn the_new_sections_parse_and_validate() {
    let c = parse(
        "[daemon]\ninterval = \"1h\"\njitter = \"5m\"\n[api]\nlisten = \"0.0.0.0:9000\"\ntoken_file = \"/etc/posture/token\"\n[alerts]\nmin_severity = \"medium\"\nphi_only = true\n",
    );
    assert_eq!(
        c.daemon().unwrap(),
        DaemonSettings {
            trigger: Some(Trigger::Interval(Duration::from_secs(3600))),
            jitter: Duration::from_secs(300),
            lease: Duration::from_secs(120),
            replica_id: None,
        }
    );
    let api = c.api().unwrap();
    assert_eq!(api.listen, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(api.token_file, Some(PathBuf::from("/etc/posture/token")));
    let alerts = c.alerts().unwrap();
    assert_eq!(
        (alerts.min_severity, alerts.phi_only),
        (Severity::Medium, true)
    );
    let c = parse("[daemon]\nschedule = \" 0 * * * * \"\n");
    assert_eq!(
        c.daemon().unwrap().trigger,
        Some(Trigger::Schedule("0 * * * *".into()))
    );
}

#[test]
fn the_new_sections_reject_unknown_fields_with_the_line() {
    for (text, line, field) in [
        (
            "[daemon]\ninterval = \"1h\"\ncron = \"0 * * * *\"\n",
            3,
            "cron",
        ),
        ("[api]\nport = 8750\n", 2, "port"),
        ("\n[alerts]\nphi = true\n", 3, "phi"),
    ] {
        let err = Config::from_toml(text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&format!("p.toml:{line}:")), "{err}");
        assert!(err.contains(&format!("unknown field `{field}`")), "{err}");
    }
}

#[test]
fn bad_daemon_api_and_alert_values_say_what_to_fix() {
    let daemon = |text: &str| parse(text).daemon().unwrap_err().to_string();
    assert_eq!(
        daemon("[daemon]\nschedule = \"0 * * * *\"\ninterval = \"1h\"\n"),
        "p.toml:3: daemon.interval = \"1h\": set daemon.schedule or daemon.interval, not both"
    );
    let err = daemon("[daemon]\n\nschedule = \"0 25 * * *\"\n");
    assert!(
        err == "p.toml:3: daemon.schedule = \"0 25 * * *\": Component error: Number out of bounds. \
                (expected minute hour day-of-month month day-of-week, optionally seconds first, \
                e.g. \"0 * * * *\" for hourly)",
        "{err}"
    );
    // croner's own grammar: seconds, names and aliases.
    for good in ["*/10 * * * * *", "0 9 * * MON-FRI", "@hourly"] {
        parse(&format!("[daemon]\nschedule = \"{good}\"\n"))
            .daemon()
            .unwrap();
    }
    assert_eq!(
        daemon("[daemon]\ninterval = \"60\"\n"),
        "p.toml:2: daemon.interval = \"60\": 60 has no unit: write \"60s\", \"60m\", \"60h\" or \"60d\""
    );
    assert_eq!(
        daemon("[daemon]\ninterval = \"4s\"\n"),
        "p.toml:2: daemon.interval = \"4s\": must be at least 5s"
    );
    // The boundary: five seconds are accepted.
    assert_eq!(
        parse("[daemon]\ninterval = \"5s\"\n")
            .daemon()
            .unwrap()
            .trigger,
        Some(Trigger::Interval(Duration::from_secs(5)))
    );
    assert_eq!(
        daemon("[daemon]\ninterval = \"1h\"\nlease = \"0s\"\n"),
        "p.toml:3: daemon.lease = \"0s\": must be at least 1s"
    );
    assert_eq!(
        daemon("[daemon]\nreplica_id = \" \"\n"),
        "p.toml:2: daemon.replica_id = \"\": must not be empty; leave it out to use the host name"
    );
    assert_eq!(
        daemon("[daemon]\ninterval = \"1h\"\njitter = \"60m\"\n"),
        "p.toml:3: daemon.jitter = \"60m\": must be shorter than daemon.interval"
    );
    assert_eq!(
        parse("[daemon]\ninterval = \"1h\"\njitter = \"59m\"\n")
            .daemon()
            .unwrap()
            .jitter,
        Duration::from_secs(59 * 60)
    );
    let api = |text: &str| parse(text).api().unwrap_err().to_string();
    assert_eq!(
        api("[api]\nlisten = \"localhost\"\n"),
        "p.toml:2: api.listen = \"localhost\": expected an address and port such as 127.0.0.1:8750 or [::1]:8750"
    );
    assert_eq!(
        api("[api]\nlisten = \"0.0.0.0:8750\"\n"),
        "p.toml:2: api.listen = \"0.0.0.0:8750\": listening beyond loopback needs a token: set POSTURE_API_TOKEN or api.token_file (the bearer token clients send)"
    );
    // The token in the environment is enough (a Kubernetes Secret as a variable); only
    // its presence is kept, never its value.
    let mut c = parse("[api]\nlisten = \"0.0.0.0:8750\"\n");
    c.apply_env(env(&[("POSTURE_API_TOKEN", "a-secret-token-0123456789")]))
        .unwrap();
    assert_eq!(c.api().unwrap().listen, "0.0.0.0:8750".parse().unwrap());
    assert!(!format!("{c:?}").contains("a-secret-token"));
    assert_eq!(
        api("[api]\nrequests_per_second = 0\n"),
        "p.toml:2: api.requests_per_second = 0: must be at least 1 and at most ten thousand"
    );
    let mut c = Config::default();
    c.apply_env(env(&[
        ("POSTURE_API_REQUESTS_PER_SECOND", "100"),
        ("POSTURE_API_BURST", "200"),
    ]))
    .unwrap();
    assert_eq!(
        (c.api().unwrap().requests_per_second, c.api().unwrap().burst),
        (100, 200)
    );
    assert_eq!(
        parse("[api]\nlisten = \"[::1]:9000\"\n")
            .api()
            .unwrap()
            .listen,
        "[::1]:9000".parse().unwrap()
    );
    let err = parse("[alerts]\nmin_severity = \"urgent\"\n")
        .alerts()
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("p.toml:2: alerts.min_severity: unknown severity \"urgent\""),
        "{err}"
    );
    // Wrong TOML types are the reader's errors, at the line.
    let err = Config::from_toml("[alerts]\nphi_only = \"yes\"\n", Path::new("p.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("p.toml:2:"), "{err}");
}

#[test]
fn the_new_sections_take_environment_overrides() {
    let mut c = Config::default();
    c.apply_env(env(&[
        ("POSTURE_DAEMON_INTERVAL", "30m"),
        ("POSTURE_DAEMON_JITTER", "1m"),
        ("POSTURE_DAEMON_LEASE", "90s"),
        ("POSTURE_DAEMON_REPLICA_ID", "scanner-2"),
        ("POSTURE_API_LISTEN", "127.0.0.1:9999"),
        ("POSTURE_API_TOKEN_FILE", "/run/token"),
        ("POSTURE_ALERTS_MIN_SEVERITY", "critical"),
        ("POSTURE_ALERTS_PHI_ONLY", "yes"),
    ]))
    .unwrap();
    assert_eq!(
        c.daemon().unwrap(),
        DaemonSettings {
            trigger: Some(Trigger::Interval(Duration::from_secs(1800))),
            jitter: Duration::from_secs(60),
            lease: Duration::from_secs(90),
            replica_id: Some("scanner-2".into()),
        }
    );
    assert_eq!(c.api().unwrap().listen, "127.0.0.1:9999".parse().unwrap());
    assert_eq!(c.api().unwrap().token_file, Some("/run/token".into()));
    let alerts = c.alerts().unwrap();
    assert_eq!(
        (alerts.min_severity, alerts.phi_only),
        (Severity::Critical, true)
    );
    let mut c = Config::default();
    c.apply_env(env(&[("POSTURE_DAEMON_SCHEDULE", "0 * * *")]))
        .unwrap();
    let err = c.daemon().unwrap_err().to_string();
    assert!(
        err.starts_with(
            "environment variable POSTURE_DAEMON_SCHEDULE=\"0 * * *\": Invalid pattern: Pattern must have between 5 and 7 fields"
        ),
        "{err}"
    );
    let err = Config::default()
        .apply_env(env(&[("POSTURE_ALERTS_PHI_ONLY", "maybe")]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "environment variable POSTURE_ALERTS_PHI_ONLY=\"maybe\": expected true or false"
    );
}

/// The shipped example documents every section and must stay loadable.
#[test]
fn the_example_configuration_is_valid() {
    let c = Config::from_toml(
        include_str!("../../../config/posture.example.toml"),
        Path::new("posture.example.toml"),
    )
    .unwrap();
    c.scan_settings().unwrap();
    c.daemon().unwrap();
    c.api().unwrap();
    c.alerts().unwrap();
}

#[test]
fn a_missing_file_is_named() {
    let err = Config::load(Some(Path::new("/nonexistent/posture.toml")))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot read config file /nonexistent/posture.toml: "),
        "{err}"
    );
}

#[test]
fn alert_routes_parse_with_their_defaults_and_never_hold_a_secret() {
    let text = "[alerts]\nmin_severity = \"medium\"\nresolved = true\nmax_age = \"6h\"\ndigest_hour = 9\n\
        [alerts.deadlines]\ncritical = \"3d\"\nhigh = \"14d\"\n\
        [alerts.routes.payments]\nurl_env = \"PAYMENTS_SLACK_URL\"\naccounts = [\"111122223333\"]\n\
        tags = { business-unit = \"payments\" }\nrules = [\"s3_*\"]\nphi_only = true\nresolved = false\n\
        [alerts.routes.siem]\nsink = \"webhook\"\nurl_file = \"/run/secrets/siem-url\"\n\
        secret_env = \"SIEM_SECRET\"\nmin_severity = \"low\"\n";
    let mut c = parse(text);
    c.apply_env(env(&[(
        "POSTURE_SLACK_WEBHOOK_URL",
        "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
    )]))
    .unwrap();
    assert!(
        !format!("{c:?}").contains("XXXXSECRET"),
        "the configuration never holds the URL"
    );
    let a = c.alerts().unwrap();
    assert_eq!(a.max_age, Duration::from_secs(6 * 3600));
    assert_eq!(a.digest_hour, 9);
    assert_eq!(
        a.deadlines,
        [
            (Severity::High, Duration::from_secs(14 * 86_400)),
            (Severity::Critical, Duration::from_secs(3 * 86_400)),
        ]
        .into()
    );
    assert_eq!(a.owner_tags, vec!["owner".to_owned(), "Owner".to_owned()]);
    let names: Vec<&str> = a.routes.iter().map(|r| r.filter.name.as_str()).collect();
    assert_eq!(names, ["default", "payments", "siem"]);
    let default = &a.routes[0];
    assert_eq!(default.sink, SinkKind::Slack);
    assert_eq!(
        default.url,
        SecretSource::Env("POSTURE_SLACK_WEBHOOK_URL".into())
    );
    assert_eq!(default.filter.min_severity, Severity::Medium);
    assert!(default.filter.notices.resolved);
    assert!(default.filter.notices.overdue_digest, "deadlines are set");
    let payments = &a.routes[1];
    assert_eq!(payments.url, SecretSource::Env("PAYMENTS_SLACK_URL".into()));
    assert!(payments.filter.phi_only);
    assert!(
        !payments.filter.notices.resolved,
        "the route's own choice wins"
    );
    assert_eq!(payments.filter.rules, ["s3_*"]);
    assert_eq!(
        payments
            .filter
            .tags
            .get("business-unit")
            .map(String::as_str),
        Some("payments")
    );
    assert_eq!(payments.filter.accounts[0].as_str(), "111122223333");
    let siem = &a.routes[2];
    assert_eq!(siem.sink, SinkKind::Webhook);
    assert_eq!(siem.url, SecretSource::File("/run/secrets/siem-url".into()));
    assert_eq!(siem.secret, Some(SecretSource::Env("SIEM_SECRET".into())));
    assert_eq!(siem.filter.min_severity, Severity::Low);

    // Without the variable there is no default route, and the defaults hold.
    let a = parse("").alerts().unwrap();
    assert!(a.routes.is_empty());
    assert_eq!(a.max_age, Duration::from_secs(24 * 3600));
    assert_eq!(a.digest_hour, 13);
    assert!(a.deadlines.is_empty());
}

#[test]
fn bad_alert_routes_say_what_to_fix() {
    let cases = [
        (
            "[alerts.routes.x]\nsink = \"slack\"\n",
            "route \"x\": needs url_env",
        ),
        (
            "[alerts.routes.x]\nsink = \"webhook\"\nurl_env = \"U\"\n",
            "a webhook sink signs what it sends",
        ),
        (
            "[alerts.routes.x]\nurl_env = \"U\"\nurl_file = \"/f\"\n",
            "set url_env or url_file, not both",
        ),
        (
            "[alerts.routes.x]\nsink = \"teams\"\nurl_env = \"U\"\n",
            "unknown sink \"teams\"",
        ),
        (
            "[alerts.routes.x]\nurl_env = \"U\"\naccounts = [\"12\"]\n",
            "accounts:",
        ),
        (
            "[alerts.routes.default]\nurl_env = \"U\"\n",
            "the name `default` is the route of POSTURE_SLACK_WEBHOOK_URL",
        ),
        (
            "[alerts.routes.x]\nurl_env = \"U\"\nsecret_env = \"S\"\n",
            "a Slack sink has no signing secret",
        ),
        ("[alerts]\ndigest_hour = 24\n", "0 to 23"),
        (
            "[alerts.deadlines]\nurgent = \"3d\"\n",
            "unknown severity \"urgent\"",
        ),
        ("[alerts.deadlines]\nhigh = \"soon\"\n", "alerts.deadlines"),
        ("[alerts]\nmax_age = \"forever\"\n", "alerts.max_age"),
    ];
    for (text, expected) in cases {
        let err = parse(text).alerts().unwrap_err().to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
        assert!(err.starts_with("p.toml:"), "names the file and line: {err}");
    }
    let err = Config::from_toml(
        "[alerts.routes.x]\nurl = \"https://hooks\"\n",
        Path::new("p.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("url"),
        "a URL in the file itself is refused: {err}"
    );
}
