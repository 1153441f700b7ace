//! What a newcomer sees (issue 11, item 8): a scan whose calls partly fail (moto lacks some
//! APIs) prints a table that fits the width, reports each failed call once in the coverage
//! summary, and logs nothing per call on stderr unless asked to (`-v`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use posture_e2e::{Moto, run_posture};

#[test]
fn a_scan_with_failed_calls_is_quiet_and_fits_the_width() {
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.sqlite");
    let store = store.to_str().unwrap();
    // Empty shared AWS files: a missing one makes the SDK warn, which is not under test.
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    let files = [
        ("AWS_CONFIG_FILE", empty),
        ("AWS_SHARED_CREDENTIALS_FILE", empty),
    ];
    // The table's lines (the summary lines after it are prose).
    let table_width = |stdout: &str| {
        stdout
            .lines()
            .filter(|l| l.starts_with(['┌', '│', '╞', '└']))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or_else(|| panic!("no table in the output\n{stdout}"))
    };
    let scan = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "scan",
            "--endpoint-url",
            &endpoint,
            "--region",
            "us-east-1",
            "--store",
            store,
        ];
        args.extend_from_slice(extra);
        let mut all = files.to_vec();
        all.extend_from_slice(env);
        let out = run_posture(args, &all).expect("posture runs");
        assert_eq!(out.code, Some(1), "{}", out.describe());
        out
    };

    // stdout is not a terminal: 120 columns.
    let out = scan(&[], &[]);
    let widest = table_width(&out.stdout);
    assert!(
        widest <= 120,
        "the table should fit 120 columns off a terminal, the widest line has {widest}\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains('…'),
        "long reasons should be cut with an ellipsis\n{}",
        out.stdout
    );
    let failed: usize = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("coverage: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'coverage: N calls failed' line\n{}", out.stdout));
    assert!(
        failed > 0,
        "moto lacks some APIs: calls fail\n{}",
        out.stdout
    );
    assert!(
        out.stderr.trim().is_empty(),
        "a scan at the default verbosity should print nothing on stderr (the coverage \
         summary reports the failed calls), got:\n{}",
        out.stderr
    );

    // $COLUMNS sets the width.
    let out = scan(&[], &[("COLUMNS", "200")]);
    let widest = table_width(&out.stdout);
    assert!(
        (150..=200).contains(&widest),
        "COLUMNS=200: widest line {widest}\n{}",
        out.stdout
    );

    // -v: one line per failed call, each naming its operation.
    let out = scan(&["-v"], &[]);
    let per_call: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("collection call failed"))
        .collect();
    assert_eq!(
        per_call.len(),
        failed,
        "-v should log each of the {failed} failed calls once:\n{}",
        out.stderr
    );
    assert!(
        per_call.iter().all(|l| l.contains("operation=")),
        "{per_call:#?}"
    );
}
