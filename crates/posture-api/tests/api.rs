//! The API over real HTTP on 127.0.0.1, against a real SQLite store holding three
//! snapshots, with a fake daemon behind `Control` (an in-memory list of scans).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use posture_api::{
    ApiConfig, ApiToken, Control, ScanProgress, ScanState, ScanStatus, ScanSubmission, SubmitError,
    Submitted,
};
use posture_model::{
    AccountId, Arn, Citation, Finding, Region, ResourceKind, ResourceRef, RuleId, Severity,
    SnapshotMeta, Status,
};
use posture_store::{SnapshotSummary, Store, StoreLocation};
use serde_json::{Value, json};

const TOKEN: &str = "test-token-5f1c9e0b7a2d4c68";
const A: &str = "111122223333";
const B: &str = "444455556666";

// ---- logs -------------------------------------------------------------------------------

/// Everything logged by this test binary (a global subscriber: the server's tasks run on
/// the runtime's worker threads).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&writer)))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---- the store --------------------------------------------------------------------------

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

fn finding(account: &str, region: &str, n: usize, rule: &str, status: Status) -> Finding {
    let arn = format!("arn:aws:ec2:{region}:{account}:vpc/vpc-{n}");
    Finding {
        rule_id: RuleId::new(rule).unwrap(),
        title: format!("title of {rule}"),
        status,
        severity: Severity::Medium,
        resource: ResourceRef {
            arn: Arn::new(arn).unwrap(),
            kind: ResourceKind::Vpc,
            account: AccountId::new(account).unwrap(),
            region: Region::new(region).unwrap(),
            tags: Default::default(),
        },
        phi: false,
        citations: vec![Citation {
            id: "164.312(b)".into(),
            title: "Audit controls".into(),
        }],
        evidence: [("flow_logs".to_owned(), json!(n))].into(),
        reason: format!("reason {n}"),
        waiver: None,
        first_seen: None,
    }
}

/// The last snapshot's findings: two accounts, two regions, two rules, every status but
/// waived and manual, three severities, every fifth resource tagged PHI.
fn estate() -> Vec<Finding> {
    let mut out = Vec::new();
    let mut n = 0;
    for account in [A, B] {
        for region in ["us-east-1", "us-west-2"] {
            for i in 0..5 {
                n += 1;
                let mut f = finding(
                    account,
                    region,
                    n,
                    "vpc_flow_logs_enabled",
                    [
                        Status::Pass,
                        Status::Fail,
                        Status::Error,
                        Status::NotApplicable,
                    ][i % 4],
                );
                f.severity = [Severity::Low, Severity::High][i % 2];
                f.phi = n % 5 == 0;
                out.push(f.clone());
                f.rule_id = RuleId::new("vpc_default_security_group_closed").unwrap();
                f.status = [Status::Fail, Status::Pass][i % 2];
                f.severity = Severity::Critical;
                out.push(f);
            }
        }
    }
    out
}

struct Fixture {
    _dir: tempfile::TempDir,
    location: StoreLocation,
    /// Oldest first.
    snapshots: Vec<SnapshotMeta>,
    /// The last snapshot's findings as stored (`first_seen` filled in).
    findings: Vec<Finding>,
    /// The drift events of the second snapshot: resources, findings.
    drift: (Vec<Value>, Vec<Value>),
}

fn write_snapshot(
    store: &mut Store,
    at: i64,
    mut findings: Vec<Finding>,
    drift: Vec<(String, Option<String>, String, Value)>,
) -> (SnapshotMeta, Vec<Finding>) {
    let mut w = store.begin_snapshot(t(at)).unwrap();
    let finished_at = t(at) + chrono::Duration::seconds(30);
    w.put_findings(&mut findings, finished_at).unwrap();
    w.put_drift(drift).unwrap();
    let meta = w
        .commit(SnapshotSummary {
            finished_at,
            accounts: vec![AccountId::new(A).unwrap(), AccountId::new(B).unwrap()],
            regions: vec![
                Region::new("us-east-1").unwrap(),
                Region::new("us-west-2").unwrap(),
            ],
            services: vec!["ec2".into()],
            api_calls: BTreeMap::new(),
            baseline: ("test".into(), "1".into()),
        })
        .unwrap();
    (meta, findings)
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let location = StoreLocation::Sqlite(dir.path().join("posture.sqlite"));
    let mut store = Store::open(&location).unwrap();
    let old = vec![finding(
        A,
        "us-east-1",
        1,
        "vpc_flow_logs_enabled",
        Status::Pass,
    )];
    let (s1, _) = write_snapshot(&mut store, 0, old.clone(), vec![]);
    let resources = vec![
        json!({"event": "resource_added", "arn": "arn:aws:ec2:us-east-1:111122223333:vpc/vpc-2"}),
        json!({"event": "resource_modified", "arn": "arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1",
               "changes": [{"pointer": "/config/cidr_block", "before": "10.0.0.0/16", "after": "10.9.0.0/16"}]}),
    ];
    let transitions = vec![
        json!({"transition": "new_failure", "rule_id": "vpc_flow_logs_enabled",
        "arn": "arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1", "from": "pass", "to": "fail"}),
    ];
    let mut events: Vec<(String, Option<String>, String, Value)> = resources
        .iter()
        .map(|b| {
            (
                b["event"].as_str().unwrap().to_owned(),
                None,
                b["arn"].as_str().unwrap().to_owned(),
                b.clone(),
            )
        })
        .collect();
    events.push((
        "new_failure".into(),
        Some("vpc_flow_logs_enabled".into()),
        transitions[0]["arn"].as_str().unwrap().to_owned(),
        transitions[0].clone(),
    ));
    let mut second = old;
    second[0].status = Status::Fail;
    let (s2, _) = write_snapshot(&mut store, 60, second, events);
    let (s3, findings) = write_snapshot(&mut store, 120, estate(), vec![]);
    Fixture {
        _dir: dir,
        location,
        snapshots: vec![s1, s2, s3],
        findings,
        drift: (resources, transitions),
    }
}

fn shared_fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(fixture)
}

// ---- the fake daemon --------------------------------------------------------------------

#[derive(Default)]
struct FakeDaemon {
    scans: Mutex<Vec<ScanStatus>>,
    not_ready: Mutex<Option<String>>,
    shutting_down: Mutex<bool>,
    metrics: Mutex<String>,
    /// How long `scans` takes (to hold a request in flight).
    slow: Mutex<Option<std::time::Duration>>,
}

impl Control for FakeDaemon {
    fn submit_scan(&self, request: ScanSubmission) -> Result<Submitted, SubmitError> {
        if *self.shutting_down.lock().unwrap() {
            return Err(SubmitError::ShuttingDown);
        }
        let accounts: Vec<String> = request.accounts.iter().map(|a| a.to_string()).collect();
        if accounts.iter().any(|a| a == "999999999999") {
            return Err(SubmitError::Invalid(
                "account 999999999999 is not in the daemon's configuration".into(),
            ));
        }
        let mut scans = self.scans.lock().unwrap();
        if let Some(running) = scans
            .iter()
            .find(|s| s.accounts == accounts && s.state == ScanState::Running)
        {
            return Ok(Submitted {
                id: running.id.clone(),
                existing: true,
            });
        }
        let id = format!("scan-{}", scans.len() + 1);
        scans.insert(
            0,
            ScanStatus {
                id: id.clone(),
                state: ScanState::Running,
                trigger: "api".into(),
                accounts,
                submitted_at: t(0),
                started_at: Some(t(0)),
                finished_at: None,
                progress: ScanProgress {
                    phase: "collecting".into(),
                    ..Default::default()
                },
                snapshot_id: None,
                snapshots: Vec::new(),
                summary: None,
                error: None,
            },
        );
        Ok(Submitted {
            id,
            existing: false,
        })
    }

    fn scan(&self, id: &str) -> Option<ScanStatus> {
        self.scans
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.id == id)
            .cloned()
    }

    fn scans(&self) -> Vec<ScanStatus> {
        let slow = *self.slow.lock().unwrap();
        if let Some(pause) = slow {
            std::thread::sleep(pause);
        }
        self.scans.lock().unwrap().clone()
    }

    fn metrics(&self) -> String {
        self.metrics.lock().unwrap().clone()
    }

    fn readiness(&self) -> Result<(), String> {
        match &*self.not_ready.lock().unwrap() {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        }
    }
}

// ---- the server -------------------------------------------------------------------------

struct Server {
    base: String,
    client: reqwest::Client,
    daemon: Arc<FakeDaemon>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), posture_api::ApiError>>>,
}

impl Server {
    async fn start(config: ApiConfig) -> Self {
        logs();
        let daemon = Arc::new(FakeDaemon::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let control: Arc<dyn Control> = daemon.clone();
        let task = tokio::spawn(posture_api::serve_on(listener, config, control, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            daemon,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A server with the token, the shared store and limits no test reaches.
    async fn with_token() -> Self {
        let mut config = config(&shared_fixture().location);
        config.token = Some(ApiToken::from_string(TOKEN.into()).unwrap());
        Self::start(config).await
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: &str) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

fn config(location: &StoreLocation) -> ApiConfig {
    let mut config = ApiConfig::new("127.0.0.1:0".parse().unwrap(), location.clone());
    config.requests_per_second = 10_000;
    config.burst = 10_000;
    config
}

/// An error answer: its status and its JSON `error`.
async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

const API_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/snapshots"),
    ("GET", "/api/v1/snapshots/20260101T000000000000Z"),
    ("GET", "/api/v1/findings"),
    ("GET", "/api/v1/drift?part=resources"),
    ("GET", "/api/v1/scans"),
    ("GET", "/api/v1/scans/scan-1"),
    ("POST", "/api/v1/scans"),
    ("GET", "/api/v1/openapi.json"),
];

// ---- tests ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_every_api_route_is_refused_and_the_probes_answer() {
    let server = Server::start(config(&shared_fixture().location)).await;
    for (method, path) in API_ROUTES {
        let request = server
            .client
            .request(method.parse().unwrap(), format!("{}{path}", server.base));
        // Even a client that sends some token is refused: there is none to match.
        let response = request.bearer_auth(TOKEN).send().await.unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, 401, "{method} {path}");
        assert!(
            error.contains("disabled until a token is configured"),
            "{error}"
        );
        assert!(error.contains("POSTURE_API_TOKEN"), "{error}");
    }
    let health = server
        .client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    *server.daemon.metrics.lock().unwrap() =
        "# TYPE posture_scans_total counter\nposture_scans_total 3\n".into();
    let metrics = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("posture_scans_total 3")
    );
    *server.daemon.metrics.lock().unwrap() =
        "# TYPE posture_scans counter\nposture_scans_total 3\n# EOF\n".into();
    let metrics = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        metrics.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_required_compared_and_never_logged() {
    let server = Server::with_token().await;
    let url = format!("{}/api/v1/snapshots", server.base);
    let missing = server.client.get(&url).send().await.unwrap();
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let (status, error) = error_of(missing).await;
    assert_eq!(
        (status, error.contains("missing bearer token")),
        (401, true),
        "{error}"
    );
    let wrong_token = format!("{TOKEN}x");
    for wrong in [wrong_token.as_str(), &TOKEN[..TOKEN.len() - 1], "short"] {
        let response = server
            .client
            .get(&url)
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let (status, error) = error_of(response).await;
        assert_eq!(status, 401, "{wrong}: {error}");
    }
    let basic = server
        .client
        .get(&url)
        .basic_auth("user", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    let right = server
        .client
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    server.stop().await;
    let config = {
        let mut c = config(&shared_fixture().location);
        c.token = Some(ApiToken::from_string(TOKEN.into()).unwrap());
        c
    };
    assert!(!format!("{config:?}").contains(TOKEN));
    assert!(format!("{config:?}").contains("ApiToken(***)"));
    let logs = String::from_utf8(logs().lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("listening on 127.0.0.1:"),
        "the capture works: {logs}"
    );
    assert!(
        logs.contains("/api/v1/snapshots"),
        "requests are traced: {logs}"
    );
    assert!(!logs.contains(TOKEN), "the token was logged");
    assert!(!logs.contains(&TOKEN[..12]), "part of the token was logged");
}

/// Which findings a query keeps.
type Keep = Box<dyn Fn(&Finding) -> bool>;

/// Every finding of the last snapshot matching `keep`, as `posture scan --format json`
/// writes it, in the checker's order.
fn expected(fixture: &Fixture, keep: impl Fn(&Finding) -> bool) -> Vec<Value> {
    let id = fixture.snapshots[2].id.to_string();
    let mut kept: Vec<&Finding> = fixture.findings.iter().filter(|f| keep(f)).collect();
    kept.sort_by(|a, b| {
        (
            &a.resource.account,
            &a.rule_id,
            &a.resource.region,
            &a.resource.arn,
        )
            .cmp(&(
                &b.resource.account,
                &b.rule_id,
                &b.resource.region,
                &b.resource.arn,
            ))
    });
    kept.into_iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap();
            v["snapshot_id"] = json!(id);
            v
        })
        .collect()
}

/// Every page of `path` (which has a query string) walked with its cursors.
async fn walk(server: &Server, path: &str, items: &str) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let page = server.json(&url).await;
        pages += 1;
        out.extend(page[items].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (out, pages),
        }
        assert!(pages < 1000, "paging does not end");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_filtered_and_paged_exactly() {
    let fixture = shared_fixture();
    let server = Server::with_token().await;
    let everything = server.json("/api/v1/findings").await;
    assert_eq!(everything["snapshot_id"], fixture.snapshots[2].id.as_str());
    assert_eq!(everything["next_cursor"], Value::Null);
    assert_eq!(
        everything["findings"].as_array().unwrap(),
        &expected(fixture, |_| true)
    );
    assert_eq!(everything["findings"].as_array().unwrap().len(), 40);
    let cases: Vec<(&str, Keep)> = vec![
        ("status=fail", Box::new(|f| f.status == Status::Fail)),
        (
            "status=fail,error",
            Box::new(|f| matches!(f.status, Status::Fail | Status::Error)),
        ),
        ("severity=high", Box::new(|f| f.severity == Severity::High)),
        (
            "rule=vpc_default_security_group_closed",
            Box::new(|f| f.rule_id.as_str() == "vpc_default_security_group_closed"),
        ),
        (
            "account=444455556666",
            Box::new(|f| f.resource.account.as_str() == B),
        ),
        (
            "region=us-west-2",
            Box::new(|f| f.resource.region.as_str() == "us-west-2"),
        ),
        ("phi=true", Box::new(|f| f.phi)),
        ("phi=false", Box::new(|f| !f.phi)),
        (
            "status=pass&severity=low&account=111122223333&phi=true",
            Box::new(|f| {
                f.status == Status::Pass
                    && f.severity == Severity::Low
                    && f.resource.account.as_str() == A
                    && f.phi
            }),
        ),
        ("status=waived", Box::new(|f| f.status == Status::Waived)),
    ];
    for (query, keep) in &cases {
        let want = expected(fixture, keep);
        for limit in [1, 3, 1000] {
            let (got, pages) = walk(
                &server,
                &format!("/api/v1/findings?{query}&limit={limit}"),
                "findings",
            )
            .await;
            assert_eq!(got, want, "{query}, pages of {limit}");
            assert!(
                pages >= want.len().div_ceil(limit),
                "{query}: {pages} pages"
            );
        }
    }
    // The filters select: their sizes are known from the fixture.
    let count = |q: &str| {
        let q = q.to_owned();
        let server = &server;
        async move {
            walk(
                server,
                &format!("/api/v1/findings?{q}&limit=1000"),
                "findings",
            )
            .await
            .0
            .len()
        }
    };
    assert_eq!(count("status=fail").await, 16);
    assert_eq!(count("phi=true").await, 8);
    assert_eq!(count("account=444455556666").await, 20);
    assert_eq!(count("status=waived").await, 0);
    // An older snapshot by id, and its findings.
    let old = server
        .json(&format!(
            "/api/v1/findings?snapshot={}",
            fixture.snapshots[0].id
        ))
        .await;
    assert_eq!(old["findings"].as_array().unwrap().len(), 1);
    assert_eq!(
        old["findings"][0]["snapshot_id"],
        fixture.snapshots[0].id.as_str()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_and_cursors_are_refused_by_name() {
    let server = Server::with_token().await;
    for (query, names) in [
        (
            "status=failing",
            vec!["status", "failing", "not_applicable"],
        ),
        ("severity=urgent", vec!["severity", "urgent", "critical"]),
        ("account=12", vec!["account", "\"12\""]),
        ("region=US%20EAST", vec!["region"]),
        ("rule=", vec!["rule"]),
        ("phi=yes", vec!["phi", "true or false"]),
        ("limit=0", vec!["limit", "1000"]),
        ("limit=1001", vec!["limit"]),
        ("cursor=not-a-cursor", vec!["cursor"]),
        ("cursor=eyJmb28iOjF9", vec!["cursor"]),
        ("snapshot=bad%20id", vec!["snapshot"]),
    ] {
        let (status, error) =
            error_of(server.get(&format!("/api/v1/findings?{query}")).await).await;
        assert_eq!(status, 400, "{query}: {error}");
        for name in names {
            assert!(error.contains(name), "{query}: {error} names {name}");
        }
    }
    let (status, error) = error_of(
        server
            .get("/api/v1/findings?snapshot=20990101T000000000000Z")
            .await,
    )
    .await;
    assert_eq!(
        (status, error.contains("20990101T000000000000Z")),
        (404, true),
        "{error}"
    );
    // A cursor of one snapshot with another snapshot named.
    let first = server.json("/api/v1/findings?limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (status, error) = error_of(
        server
            .get(&format!(
                "/api/v1/findings?cursor={cursor}&snapshot={}",
                shared_fixture().snapshots[0].id
            ))
            .await,
    )
    .await;
    assert_eq!(status, 400, "{error}");
    for (query, name) in [
        ("", "part"),
        ("part=everything", "part"),
        ("part=resources&cursor=xyz", "cursor"),
        ("part=resources&limit=abc", "limit"),
    ] {
        let (status, error) = error_of(server.get(&format!("/api/v1/drift?{query}")).await).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert!(error.contains(name), "{query}: {error}");
    }
    let (status, _) = error_of(server.get("/api/v1/snapshots?cursor=%%%").await).await;
    assert_eq!(status, 400);
    let (status, _) = error_of(server.get("/api/v1/nothing-here").await).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_listed_newest_first_a_page_at_a_time() {
    let fixture = shared_fixture();
    let server = Server::with_token().await;
    let first = server.json("/api/v1/snapshots?limit=2").await;
    let ids = |page: &Value| -> Vec<String> {
        page["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&first),
        vec![
            fixture.snapshots[2].id.to_string(),
            fixture.snapshots[1].id.to_string()
        ]
    );
    // Exactly as `posture snapshots --format json` writes a snapshot (serde of SnapshotMeta).
    assert_eq!(
        first["snapshots"][0],
        serde_json::to_value(&fixture.snapshots[2]).unwrap()
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = server
        .json(&format!("/api/v1/snapshots?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&rest), vec![fixture.snapshots[0].id.to_string()]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let (all, _) = walk(&server, "/api/v1/snapshots?limit=1", "snapshots").await;
    assert_eq!(all.len(), 3);
    let one = server
        .json(&format!("/api/v1/snapshots/{}", fixture.snapshots[1].id))
        .await;
    assert_eq!(one, serde_json::to_value(&fixture.snapshots[1]).unwrap());
    let (status, error) =
        error_of(server.get("/api/v1/snapshots/20990101T000000000000Z").await).await;
    assert_eq!(status, 404, "{error}");
    assert!(
        error.contains("no snapshot 20990101T000000000000Z"),
        "{error}"
    );
    let (status, _) = error_of(server.get("/api/v1/snapshots/bad%20id").await).await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_read_as_recorded_by_part() {
    let fixture = shared_fixture();
    let server = Server::with_token().await;
    let s2 = fixture.snapshots[1].id.as_str();
    let resources = server
        .json(&format!("/api/v1/drift?snapshot={s2}&part=resources"))
        .await;
    assert_eq!(resources["snapshot_id"], s2);
    assert_eq!(resources["part"], "resources");
    assert_eq!(resources["events"].as_array().unwrap(), &fixture.drift.0);
    let (paged, pages) = walk(
        &server,
        &format!("/api/v1/drift?snapshot={s2}&part=resources&limit=1"),
        "events",
    )
    .await;
    assert_eq!(paged, fixture.drift.0);
    assert!(pages >= 2);
    let findings = server
        .json(&format!("/api/v1/drift?snapshot={s2}&part=findings"))
        .await;
    assert_eq!(findings["events"].as_array().unwrap(), &fixture.drift.1);
    // The latest snapshot recorded no drift.
    let latest = server.json("/api/v1/drift?part=findings").await;
    assert_eq!(latest["snapshot_id"], fixture.snapshots[2].id.as_str());
    assert_eq!(latest["events"], json!([]));
    let (status, _) = error_of(
        server
            .get("/api/v1/drift?part=resources&snapshot=20990101T000000000000Z")
            .await,
    )
    .await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_are_submitted_joined_and_followed() {
    let server = Server::with_token().await;
    let body = r#"{"accounts": ["444455556666", "111122223333", "111122223333"]}"#;
    let first = server.post("/api/v1/scans", body).await;
    assert_eq!(first.status(), 202);
    assert_eq!(first.headers()["location"], "/api/v1/scans/scan-1");
    let first: Value = first.json().await.unwrap();
    assert_eq!(first, json!({"id": "scan-1", "existing": false}));
    // Sorted and without duplicates before the daemon sees them: the same set joins.
    let again = server
        .post(
            "/api/v1/scans",
            r#"{"accounts": ["111122223333", "444455556666"]}"#,
        )
        .await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["location"], "/api/v1/scans/scan-1");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"id": "scan-1", "existing": true})
    );
    // An empty body: the configured accounts.
    let configured = server.post("/api/v1/scans", "").await;
    assert_eq!(configured.status(), 202);
    assert_eq!(configured.json::<Value>().await.unwrap()["id"], "scan-2");
    let scan = server.json("/api/v1/scans/scan-1").await;
    assert_eq!(scan["state"], "running");
    assert_eq!(scan["trigger"], "api");
    assert_eq!(scan["accounts"], json!([A, B]));
    assert_eq!(scan["progress"]["phase"], "collecting");
    assert_eq!(scan["snapshot_id"], Value::Null);
    let list = server.json("/api/v1/scans").await;
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].clone())
            .collect::<Vec<_>>(),
        vec![json!("scan-2"), json!("scan-1")]
    );
    let (status, _) = error_of(server.get("/api/v1/scans/scan-9").await).await;
    assert_eq!(status, 404);
    for (body, names) in [
        (r#"{"accounts": ["12"]}"#, "\"12\""),
        (r#"{"accounts": "111122223333"}"#, "invalid request body"),
        (r#"{"acounts": []}"#, "acounts"),
        ("not json", "invalid request body"),
        (
            r#"{"accounts": ["999999999999"]}"#,
            "not in the daemon's configuration",
        ),
    ] {
        let (status, error) = error_of(server.post("/api/v1/scans", body).await).await;
        assert_eq!(status, 400, "{body}: {error}");
        assert!(error.contains(names), "{body}: {error}");
    }
    *server.daemon.shutting_down.lock().unwrap() = true;
    let (status, error) = error_of(server.post("/api/v1/scans", "").await).await;
    assert_eq!(
        (status, error.contains("shutting down")),
        (503, true),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_floods_are_refused() {
    let mut small = config(&shared_fixture().location);
    small.token = Some(ApiToken::from_string(TOKEN.into()).unwrap());
    small.max_body_bytes = 1024;
    let server = Server::start(small.clone()).await;
    let accounts: Vec<String> = (0..200)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i))
        .collect();
    let body = serde_json::to_string(&json!({ "accounts": accounts })).unwrap();
    assert!(body.len() > 1024);
    let (status, error) = error_of(server.post("/api/v1/scans", &body).await).await;
    assert_eq!(status, 413, "{error}");
    assert!(server.daemon.scans().is_empty(), "nothing was submitted");
    server.stop().await;

    let mut slow = small;
    slow.requests_per_second = 1;
    slow.burst = 3;
    let server = Server::start(slow).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..8 {
        let response = server
            .client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = Some(
                response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap(),
            );
        }
    }
    assert_eq!(
        &statuses[..3],
        &[200, 200, 200],
        "the burst passes: {statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_its_parameters() {
    let server = Server::with_token().await;
    let doc = server.json("/api/v1/openapi.json").await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/api/v1/snapshots"),
        ("get", "/api/v1/snapshots/{id}"),
        ("get", "/api/v1/findings"),
        ("get", "/api/v1/drift"),
        ("post", "/api/v1/scans"),
        ("get", "/api/v1/scans"),
        ("get", "/api/v1/scans/{id}"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} in {:?}",
            paths.keys()
        );
    }
    let params = |path: &str| -> BTreeSet<String> {
        paths[path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let names = |list: &[&str]| {
        list.iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        params("/api/v1/findings"),
        names(&[
            "snapshot", "status", "severity", "rule", "account", "region", "phi", "limit", "cursor"
        ])
    );
    assert_eq!(
        params("/api/v1/drift"),
        names(&["snapshot", "part", "limit", "cursor"])
    );
    assert_eq!(params("/api/v1/snapshots"), names(&["limit", "cursor"]));
    assert_eq!(params("/api/v1/snapshots/{id}"), names(&["id"]));
    assert_eq!(params("/api/v1/scans/{id}"), names(&["id"]));
    assert!(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
    assert!(doc["components"]["schemas"]["ScanStatus"].is_object());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_needs_the_store_and_a_fresh_scan() {
    let server = Server::with_token().await;
    let url = format!("{}/readyz", server.base);
    assert_eq!(server.client.get(&url).send().await.unwrap().status(), 200);
    *server.daemon.not_ready.lock().unwrap() = Some("the last successful scan is 3 h old".into());
    let response = server.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("the last successful scan is 3 h old")
    );
    server.stop().await;
    // A store that is not there: not ready, whatever the daemon says.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(&StoreLocation::Sqlite(
        dir.path().join("none.sqlite"),
    )))
    .await;
    let response = server
        .client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let text = response.text().await.unwrap();
    assert!(text.contains("store"), "{text}");
    assert!(
        !text.contains("none.sqlite"),
        "the open probe names no path: {text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_a_busy_address_says_which_and_why() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let mut config = config(&shared_fixture().location);
    config.listen = address;
    let daemon: Arc<dyn Control> = Arc::new(FakeDaemon::default());
    let error = posture_api::serve(config, daemon, async {})
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("cannot listen on {address}: address in use; set api.listen or --listen")
    );
}

/// A sparse filter on what only the body holds (`phi`) reads at most `MAX_ROWS_SCANNED`
/// rows a request: the page is short (here empty) with a cursor, and the next one goes on
/// from where the read stopped, so one request never reads a whole large snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sparse_body_filter_reads_a_bounded_number_of_rows_a_request() {
    let total = posture_api::MAX_ROWS_SCANNED + 50;
    let (dir, location) = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(dir.path().join("big.sqlite"));
        let mut store = Store::open(&location).unwrap();
        let mut findings: Vec<Finding> = (0..total)
            .map(|n| {
                let mut f = finding(A, "us-east-1", 0, "vpc_flow_logs_enabled", Status::Pass);
                f.resource.arn =
                    Arn::new(format!("arn:aws:ec2:us-east-1:{A}:vpc/vpc-{n:05}")).unwrap();
                f.phi = n == total - 1;
                f
            })
            .collect();
        findings.reverse();
        write_snapshot(&mut store, 0, findings, vec![]);
        (dir, location)
    })
    .await
    .unwrap();
    let mut config = config(&location);
    config.token = Some(ApiToken::from_string(TOKEN.into()).unwrap());
    let server = Server::start(config).await;
    let first = server.json("/api/v1/findings?phi=true&limit=10").await;
    assert_eq!(
        first["findings"],
        json!([]),
        "the first request stops at the cap"
    );
    let cursor = first["next_cursor"].as_str().expect("a cursor to go on");
    let second = server
        .json(&format!(
            "/api/v1/findings?phi=true&limit=10&cursor={cursor}"
        ))
        .await;
    let found = second["findings"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0]["resource"]["arn"],
        format!("arn:aws:ec2:us-east-1:{A}:vpc/vpc-{:05}", total - 1)
    );
    assert_eq!(second["next_cursor"], Value::Null);
    server.stop().await;
    drop(dir);
}

/// On shutdown the server stops accepting connections and still answers the request in
/// flight, then `serve_on` returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_the_requests_in_flight() {
    let mut server = Server::with_token().await;
    *server.daemon.slow.lock().unwrap() = Some(std::time::Duration::from_millis(600));
    let client = server.client.clone();
    let url = format!("{}/api/v1/scans", server.base);
    let in_flight = tokio::spawn(async move { client.get(&url).bearer_auth(TOKEN).send().await });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    server.stop.take().unwrap().send(()).unwrap();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
    let served = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        server.task.take().unwrap(),
    )
    .await
    .expect("serve_on returns after shutdown");
    served.unwrap().unwrap();
    let refused = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/healthz", server.base))
        .send()
        .await;
    assert!(refused.is_err(), "no new connection after shutdown");
}
