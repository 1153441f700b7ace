//! The scan runner without AWS: a synthetic collector streams resources and coverage
//! records, and the tests cancel at each stage and read the store back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step is a failed test"
)]

use std::sync::Mutex;
use std::time::Duration;

use posture_model::{CollectionRecord, Gap, UnavailableKind, synthetic};
use posture_store::Store;

use super::*;

const A: &str = "111122223333";
const B: &str = "444455556666";

fn account(id: &str) -> AccountId {
    AccountId::new(id).unwrap()
}

fn region() -> Region {
    Region::new("us-east-1").unwrap()
}

type Collector = std::pin::Pin<
    Box<dyn Future<Output = Result<posture_collect::ScanOutcome, CollectError>> + Send>,
>;

/// A collector that streams `per_account` synthetic resources and one EC2 collection record
/// per account, then (when `hang`) waits forever, else reports the accounts scanned.
fn collector(
    accounts: Vec<AccountId>,
    per_account: u64,
    hang: bool,
) -> impl FnOnce(mpsc::Sender<Event>) -> Collector {
    move |tx| {
        Box::pin(async move {
            for a in &accounts {
                for i in 0..per_account {
                    let r = synthetic::resource(a, &[region()], i, 0);
                    tx.send(Event::Resource(Box::new(r)))
                        .await
                        .map_err(|_| CollectError::Cancelled)?;
                }
                tx.send(Event::Collected(CollectionRecord {
                    account: a.clone(),
                    region: region(),
                    service: "ec2".into(),
                    resources: per_account,
                    complete: true,
                }))
                .await
                .map_err(|_| CollectError::Cancelled)?;
            }
            if hang {
                std::future::pending::<()>().await;
            }
            Ok(posture_collect::ScanOutcome {
                accounts: accounts.clone(),
                unreachable: Vec::new(),
                regions: vec![region()],
            })
        })
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    location: StoreLocation,
    check: Arc<CheckInputs>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(dir.path().join("scan.sqlite"));
        let check = Arc::new(CheckInputs::load(&CheckFiles::default()).unwrap());
        Self {
            _dir: dir,
            location,
            check,
        }
    }

    /// A scan of EC2 reporting into `events`, cancelled by `cancel`; `on` is called with
    /// every event first (it may cancel).
    fn scan(
        &self,
        events: Arc<Mutex<Vec<Progress>>>,
        cancel: CancellationToken,
        on: impl Fn(&Progress, &CancellationToken) + Send + Sync + 'static,
    ) -> Scan {
        let token = cancel.clone();
        Scan {
            store: self.location.clone(),
            check: Arc::clone(&self.check),
            retention_days: None,
            lease_holder: None,
            alert_routes: Vec::new(),
            services: vec![Service::Ec2],
            counter: CallCounter::default(),
            progress: Arc::new(move |p| {
                on(&p, &token);
                events.lock().unwrap().push(p);
            }),
            cancel,
        }
    }

    fn snapshots(&self) -> Vec<SnapshotMeta> {
        Store::open_existing(&self.location)
            .unwrap()
            .snapshots()
            .unwrap()
    }
}

fn stored(outcome: ScanOutcome) -> Stored {
    match outcome {
        ScanOutcome::Stored(s) => *s,
        ScanOutcome::RolledBack { during, .. } => panic!("rolled back during {during:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_scan_stores_a_snapshot_and_reports_each_stage_in_order() {
    let f = Fixture::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let scan = f.scan(Arc::clone(&events), CancellationToken::new(), |_, _| {});
    let s = stored(
        scan.execute(collector(vec![account(A), account(B)], 3, false))
            .await
            .unwrap(),
    );
    assert!(!s.cancel_requested);
    assert!(s.warnings.is_empty());
    assert_eq!(s.meta.resource_count, 6);
    assert_eq!(s.evaluated.accounts, 2);
    let snapshots = f.snapshots();
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].id, s.meta.id);

    let events = events.lock().unwrap();
    let collected: Vec<_> = events
        .iter()
        .filter_map(|p| match p {
            Progress::Collected {
                account,
                collections,
                resources,
                failed_calls,
                ..
            } => Some((account.to_string(), *collections, *resources, *failed_calls)),
            _ => None,
        })
        .collect();
    assert_eq!(
        collected,
        [(A.to_owned(), 1, 3, 0), (B.to_owned(), 2, 6, 0)],
        "one event per collection, with the running counts"
    );
    let tail: Vec<_> = events
        .iter()
        .filter(|p| !matches!(p, Progress::Resource { .. } | Progress::Collected { .. }))
        .cloned()
        .collect();
    assert_eq!(
        tail,
        [
            Progress::CollectionFinished {
                accounts: 2,
                unreachable: 0,
                resources: 6,
                failed_calls: 0
            },
            Progress::Evaluating { done: 1, total: 2 },
            Progress::Evaluating { done: 2, total: 2 },
            Progress::Committing
        ]
    );
    assert_eq!(
        events.first(),
        Some(&Progress::Resource { resources: 1 }),
        "progress starts with the first resource"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_while_collecting_rolls_back_and_keeps_the_earlier_snapshot() {
    let f = Fixture::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let first = f.scan(Arc::clone(&events), CancellationToken::new(), |_, _| {});
    stored(
        first
            .execute(collector(vec![account(A)], 2, false))
            .await
            .unwrap(),
    );
    assert_eq!(f.snapshots().len(), 1);

    // The collector streams, then never finishes; cancelled after the first collection.
    let cancel = CancellationToken::new();
    let scan = f.scan(Arc::clone(&events), cancel, |p, token| {
        if matches!(p, Progress::Collected { .. }) {
            token.cancel();
        }
    });
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        scan.execute(collector(vec![account(A), account(B)], 5, true)),
    )
    .await
    .expect("cancellation stops a collection that would never end")
    .unwrap();
    assert!(
        matches!(
            outcome,
            ScanOutcome::RolledBack {
                during: Stage::Collecting,
                ..
            }
        ),
        "{outcome:?}"
    );
    let snapshots = f.snapshots();
    assert_eq!(
        snapshots.len(),
        1,
        "the store keeps exactly its earlier snapshot"
    );
    assert_eq!(snapshots[0].resource_count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_before_the_store_opens_stores_nothing() {
    let f = Fixture::new();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let scan = f.scan(Arc::new(Mutex::new(Vec::new())), cancel, |_, _| {});
    let outcome = scan
        .execute(collector(vec![account(A)], 2, false))
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            ScanOutcome::RolledBack {
                during: Stage::Collecting,
                ..
            }
        ),
        "{outcome:?}"
    );
    // The store may have been created, but holds no snapshot.
    if let StoreLocation::Sqlite(path) = &f.location
        && path.exists()
    {
        assert!(f.snapshots().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_between_accounts_rolls_back_during_evaluation() {
    let f = Fixture::new();
    let cancel = CancellationToken::new();
    let scan = f.scan(Arc::new(Mutex::new(Vec::new())), cancel, |p, token| {
        if *p == (Progress::Evaluating { done: 1, total: 2 }) {
            token.cancel();
            // On the store's thread: give the scan's task time to pass the cancellation
            // on before the second account begins.
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let outcome = scan
        .execute(collector(vec![account(A), account(B)], 3, false))
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            ScanOutcome::RolledBack {
                during: Stage::Evaluating,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(
        f.snapshots().is_empty(),
        "nothing of the evaluated account is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_while_committing_stores_the_snapshot_and_says_so() {
    let f = Fixture::new();
    let cancel = CancellationToken::new();
    let scan = f.scan(Arc::new(Mutex::new(Vec::new())), cancel, |p, token| {
        if *p == Progress::Committing {
            token.cancel();
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let s = stored(
        scan.execute(collector(vec![account(A)], 3, false))
            .await
            .unwrap(),
    );
    assert!(s.cancel_requested);
    assert_eq!(f.snapshots().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_account_is_an_error_and_unreachable_accounts_are_warnings() {
    let f = Fixture::new();
    let scan = f.scan(
        Arc::new(Mutex::new(Vec::new())),
        CancellationToken::new(),
        |_, _| {},
    );
    let err = scan
        .execute(|_tx| async { Ok(posture_collect::ScanOutcome::default()) })
        .await
        .unwrap_err();
    assert!(matches!(err, ScanError::NoAccount), "{err:?}");
    assert!(err.to_string().starts_with("no account to scan: "), "{err}");
    assert!(f.snapshots().is_empty());

    // An account whose role could not be assumed: a gap, a warning, and a snapshot.
    let scan = f.scan(
        Arc::new(Mutex::new(Vec::new())),
        CancellationToken::new(),
        |_, _| {},
    );
    let s = stored(
        scan.execute(|tx: mpsc::Sender<Event>| async move {
            let gap = Gap {
                account: account(B),
                region: Region::global(),
                service: "sts".into(),
                operation: posture_model::ACCOUNT_UNREACHABLE_OPERATION.into(),
                resource: None,
                kind: UnavailableKind::Denied,
                code: None,
                message: "AccessDenied".into(),
            };
            tx.send(Event::Gap(gap))
                .await
                .map_err(|_| CollectError::Cancelled)?;
            Ok(posture_collect::ScanOutcome {
                accounts: Vec::new(),
                unreachable: vec![(account(B), "AccessDenied".into())],
                regions: vec![region()],
            })
        })
        .await
        .unwrap(),
    );
    assert_eq!(
        s.warnings,
        [Warning::AccountNotScanned {
            account: account(B),
            reason: "AccessDenied".into()
        }]
    );
    assert_eq!(
        s.warnings[0].to_string(),
        format!("account {B} was not scanned: AccessDenied")
    );
}

#[test]
fn a_missing_input_file_is_named() {
    let err = CheckInputs::load(&CheckFiles {
        waivers: Some("/nonexistent/waivers.toml".into()),
        ..CheckFiles::default()
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("cannot read waivers /nonexistent/waivers.toml: "),
        "{err}"
    );
}

/// The daemon and the API will spawn scans on a multi-threaded runtime.
#[test]
fn the_entry_point_is_a_send_future() {
    fn is_send<F: Future + Send>(_: &F) {}
    let f = Fixture::new();
    let request = ScanRequest {
        accounts: AccountSource::Caller,
        include_accounts: Vec::new(),
        exclude_accounts: Vec::new(),
        role: None,
        max_parallel_accounts: 4,
        regions: Regions::Named(vec![region()]),
        exclude_regions: Vec::new(),
        services: vec![Service::Ec2],
        aws: AwsSettings::default(),
        store: f.location.clone(),
        check: Arc::clone(&f.check),
        retention_days: None,
        lease_holder: None,
        alert_routes: Vec::new(),
    };
    // Built, never polled: nothing runs.
    let scan = run(request, |_| {}, CancellationToken::new());
    is_send(&scan);
}
