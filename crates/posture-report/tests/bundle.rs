//! The evidence bundle over the seeded store: what it holds and records, that it verifies
//! as written (directory and .tar.gz, signed and not), and that it fails verification,
//! naming the file, after one byte is changed, a file removed or one added; the signature
//! against a trusted key; and the recorded snapshots against a store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::Ed25519KeyPair;
use base64::Engine as _;
use posture_check::Baseline;
use posture_report::{
    BundleManifest, Format, PublicKey, ReportError, Request, SigningKey, Snapshot, check_store,
    verify_bundle, write_bundle,
};
use posture_store::{Store, StoreLocation};
use sha2::{Digest, Sha256};
use support::{as_of, seeded};

fn bundle(store: &mut Store, dest: &Path, key: Option<&SigningKey>) -> BundleManifest {
    let baseline = Baseline::hipaa().unwrap();
    let request = Request {
        format: Format::Html,
        snapshot: Snapshot::Latest,
        since: None,
        accounts: &[],
        baseline: &baseline,
        as_of: as_of(),
    };
    write_bundle(store, &request, dest, key).unwrap().manifest
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn new_key() -> SigningKey {
    let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    SigningKey::from_pem(&pem("PRIVATE KEY", der.as_ref())).unwrap()
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_directory_bundle_holds_the_evidence_and_ties_it_to_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let dest = dir.path().join("evidence");
    let manifest = bundle(&mut store, &dest, None);

    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for expected in [
        "attestations.json",
        "findings.csv",
        "report.html",
        "report.json",
        "waivers.json",
    ] {
        assert!(paths.contains(&expected), "{expected} in {paths:?}");
    }
    // Every file's recorded hash and size are the file's.
    for f in &manifest.files {
        let bytes = std::fs::read(dest.join(&f.path)).unwrap();
        assert_eq!(sha256(&bytes), f.sha256, "{}", f.path);
        assert_eq!(bytes.len() as u64, f.bytes, "{}", f.path);
    }
    // The period's three snapshots, each manifest hashing to its chain hash in the store.
    assert_eq!(manifest.snapshots.len(), 3);
    for s in &manifest.snapshots {
        let path = s.manifest.as_ref().expect("a sealed manifest");
        let bytes = std::fs::read(dest.join(path)).unwrap();
        assert_eq!(Some(sha256(&bytes)), s.hash, "{path}");
        let id = posture_model::SnapshotId::new(s.snapshot_id.clone()).unwrap();
        assert_eq!(store.manifest_hash(&id).unwrap(), s.hash);
    }
    // The chain head is the store's, and is the newest snapshot's hash.
    let verified = store.verify().unwrap();
    assert!(manifest.chain.intact);
    assert_eq!(manifest.chain.head, verified.head);
    assert_eq!(manifest.chain.head, manifest.snapshots.last().unwrap().hash);
    assert_eq!(
        manifest.chain.head_snapshot.as_deref(),
        Some(manifest.snapshot_id.as_str())
    );
    // The registers: the waiver applied in account 0 and the attestation, as used.
    let waivers: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("waivers.json")).unwrap()).unwrap();
    let waivers = waivers["waivers"].as_array().unwrap();
    assert!(!waivers.is_empty());
    assert!(
        waivers
            .iter()
            .all(|w| w["owner"].is_string() && w["ticket"].is_string())
    );
    let attestations: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("attestations.json")).unwrap()).unwrap();
    assert!(!attestations["attestations"].as_array().unwrap().is_empty());
    // Nothing half-written is left beside it.
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let check = verify_bundle(&dest, None);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.files_ok, manifest.files.len());
    assert!(check.notes.iter().any(|n| n.contains("not signed")));

    // check_store: this store has every snapshot and the head.
    assert_eq!(
        check_store(&manifest, &mut store).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn one_changed_byte_a_missing_file_or_an_added_one_fails_verification_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let dest = dir.path().join("evidence");
    let manifest = bundle(&mut store, &dest, None);
    assert!(verify_bundle(&dest, None).ok());

    for f in &manifest.files {
        let path = dest.join(&f.path);
        let middle = usize::try_from(f.bytes / 2).unwrap();
        flip_byte(&path, middle);
        let check = verify_bundle(&dest, None);
        assert!(!check.ok(), "{} altered, yet verified", f.path);
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.starts_with(&format!("altered: {}", f.path))),
            "{}: {:?}",
            f.path,
            check.problems
        );
        flip_byte(&path, middle);
    }
    assert!(verify_bundle(&dest, None).ok(), "restored");

    let csv = dest.join("findings.csv");
    let saved = std::fs::read(&csv).unwrap();
    std::fs::remove_file(&csv).unwrap();
    let check = verify_bundle(&dest, None);
    assert_eq!(check.problems, vec!["missing: findings.csv".to_owned()]);
    std::fs::write(&csv, saved).unwrap();

    std::fs::write(dest.join("snapshots/extra.json"), b"{}").unwrap();
    let check = verify_bundle(&dest, None);
    assert_eq!(
        check.problems,
        vec!["unexpected file: snapshots/extra.json (not in the manifest)".to_owned()]
    );
    std::fs::remove_file(dest.join("snapshots/extra.json")).unwrap();

    // Altering the manifest itself to match an altered file is caught by nothing but a
    // signature (next test); altering a snapshot manifest and its recorded hash together
    // still breaks the snapshot's tie to its chain hash.
    let snap = manifest.snapshots[0].manifest.clone().unwrap();
    let text = std::fs::read_to_string(dest.join(&snap)).unwrap();
    let forged = text.replacen("\"resource_count\":", "\"resource_count\":1", 1);
    std::fs::write(dest.join(&snap), &forged).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == snap.as_str() {
            f["sha256"] = sha256(forged.as_bytes()).into();
            f["bytes"] = forged.len().into();
        }
    }
    std::fs::write(dest.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let check = verify_bundle(&dest, None);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("does not hash to the snapshot's chain hash")),
        "{:?}",
        check.problems
    );
}

#[test]
fn a_tar_gz_bundle_verifies_and_fails_after_one_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let dest = dir.path().join("evidence-2026-02.tar.gz");
    let manifest = bundle(&mut store, &dest, None);
    let check = verify_bundle(&dest, None);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.files_ok, manifest.files.len());

    // The same content written twice is the same archive, byte for byte.
    std::fs::create_dir(dir.path().join("again")).unwrap();
    let again = dir.path().join("again/evidence-2026-02.tar.gz");
    bundle(&mut store, &again, None);
    let (a, b) = (
        std::fs::read(&dest).unwrap(),
        std::fs::read(&again).unwrap(),
    );
    assert_eq!(
        sha256(&a),
        sha256(&b),
        "the archive depends on its content only"
    );

    // One byte of the compressed file: the archive no longer reads as written.
    let damaged = dir.path().join("damaged.tar.gz");
    std::fs::write(&damaged, &a).unwrap();
    flip_byte(&damaged, a.len() / 2);
    let check = verify_bundle(&damaged, None);
    assert!(!check.ok(), "a flipped byte verified");

    // One byte of one file inside, re-packed: named.
    let mut entries = Vec::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&a[..]));
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().into_owned();
        let mut body = Vec::new();
        e.read_to_end(&mut body).unwrap();
        entries.push((path, body));
    }
    assert!(
        entries
            .iter()
            .all(|(p, _)| p.starts_with("evidence-2026-02")),
        "one top directory named after the file"
    );
    let repacked = dir.path().join("repacked.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&repacked).unwrap(),
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(gz);
    for (path, mut body) in entries {
        if path.ends_with("report.json") {
            body[10] ^= 0x01;
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, &path, &body[..]).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    let check = verify_bundle(&repacked, None);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.starts_with("altered: report.json")),
        "{:?}",
        check.problems
    );
}

#[test]
fn a_signed_bundle_verifies_against_its_key_and_not_another() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let key = new_key();
    let dest = dir.path().join("signed");
    bundle(&mut store, &dest, Some(&key));

    let check = verify_bundle(&dest, Some(&key.public()));
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.signed_by, Some(key.public().key_id()));
    // Without a trusted key: valid, and it says whose signature it is.
    let check = verify_bundle(&dest, None);
    assert!(check.ok());
    assert!(
        check
            .notes
            .iter()
            .any(|n| n.contains(&key.public().key_id()))
    );

    let other = new_key();
    let check = verify_bundle(&dest, Some(&other.public()));
    assert!(!check.ok());
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("not by the trusted key")),
        "{:?}",
        check.problems
    );

    // A forger who alters a file and fixes its hash in the manifest breaks the signature.
    let html = dest.join("report.html");
    flip_byte(&html, 100);
    let forged = std::fs::read(&html).unwrap();
    let text = std::fs::read_to_string(dest.join("manifest.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&text).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == "report.html" {
            f["sha256"] = sha256(&forged).into();
        }
    }
    std::fs::write(
        dest.join("manifest.json"),
        serde_json::to_vec_pretty(&m).unwrap(),
    )
    .unwrap();
    let check = verify_bundle(&dest, Some(&key.public()));
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("the signature does not match manifest.json")),
        "{:?}",
        check.problems
    );

    // An unsigned bundle, when a key is expected.
    let unsigned = dir.path().join("unsigned");
    bundle(&mut store, &unsigned, None);
    let check = verify_bundle(&unsigned, Some(&key.public()));
    assert!(
        check.problems.iter().any(|p| p.contains("not signed")),
        "{:?}",
        check.problems
    );
}

#[test]
fn keys_made_by_openssl_sign_and_verify() {
    let Ok(status) = std::process::Command::new("openssl")
        .arg("version")
        .status()
    else {
        assert!(std::env::var_os("CI").is_none(), "openssl is missing");
        eprintln!("skipped: no openssl");
        return;
    };
    assert!(status.success());
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("k.pem");
    let public = dir.path().join("k.pub.pem");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-out",
        private.to_str().unwrap(),
    ]);
    run(&[
        "pkey",
        "-in",
        private.to_str().unwrap(),
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    let key = SigningKey::from_pem(&std::fs::read_to_string(&private).unwrap()).unwrap();
    let pubkey = PublicKey::from_pem(&std::fs::read_to_string(&public).unwrap()).unwrap();
    assert_eq!(key.public(), pubkey);

    let mut store = seeded(dir.path());
    let dest = dir.path().join("b.tgz");
    bundle(&mut store, &dest, Some(&key));
    let check = verify_bundle(&dest, Some(&pubkey));
    assert!(check.ok(), "{:?}", check.problems);

    // Wrong inputs say what to do.
    let err = SigningKey::from_pem(&std::fs::read_to_string(&public).unwrap()).unwrap_err();
    assert!(err.to_string().contains("BEGIN PRIVATE KEY"), "{err}");
    let err = PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
        .unwrap_err();
    assert!(err.to_string().contains("not an Ed25519 key"), "{err}");
}

#[test]
fn the_recorded_snapshots_are_checked_against_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let dest = dir.path().join("evidence");
    let mut manifest = bundle(&mut store, &dest, None);
    assert!(check_store(&manifest, &mut store).unwrap().is_empty());

    // Another store that has none of them.
    let other = dir.path().join("other.sqlite");
    let mut empty = Store::open(&StoreLocation::Sqlite(other)).unwrap();
    let problems = check_store(&manifest, &mut empty).unwrap();
    assert_eq!(problems.len(), manifest.snapshots.len(), "{problems:?}");
    assert!(problems.iter().all(|p| p.contains("is not in the store")));

    // A recorded hash that is not the store's.
    manifest.snapshots[1].hash = Some("0".repeat(64));
    let problems = check_store(&manifest, &mut store).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(&manifest.snapshots[1].snapshot_id));
    assert!(problems[0].contains("the store has"));
}

#[test]
fn a_bundle_never_overwrites_and_refuses_a_missing_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let dest = dir.path().join("taken");
    std::fs::create_dir(&dest).unwrap();
    let baseline = Baseline::hipaa().unwrap();
    let request = Request {
        format: Format::Html,
        snapshot: Snapshot::Latest,
        since: None,
        accounts: &[],
        baseline: &baseline,
        as_of: as_of(),
    };
    let err = write_bundle(&mut store, &request, &dest, None).unwrap_err();
    assert!(matches!(err, ReportError::Exists(_)), "{err}");
    assert!(err.to_string().contains("already exists"), "{err}");

    let check = verify_bundle(&PathBuf::from("/nonexistent/bundle.tar.gz"), None);
    assert!(!check.ok());
    assert!(
        check.problems[0].contains("no such file"),
        "{:?}",
        check.problems
    );
}

/// Rewrites `manifest.json` of the unsigned bundle at `dest` through `edit`.
fn edit_manifest(dest: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dest.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

#[test]
fn an_unsigned_bundle_edited_consistently_still_fails_on_its_chain_and_its_contents() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());

    // A snapshot manifest whose link to the one before was rewritten, with its file hash
    // and chain hash fixed up in manifest.json: every hash agrees, the chain does not.
    let dest = dir.path().join("relinked");
    let manifest = bundle(&mut store, &dest, None);
    let path = manifest.snapshots[1].manifest.clone().unwrap();
    let before = manifest.snapshots[0].hash.clone().unwrap();
    let text = std::fs::read_to_string(dest.join(&path)).unwrap();
    assert!(
        text.contains(&before),
        "the second snapshot links to the first"
    );
    let forged = text.replace(&before, &"0".repeat(64));
    std::fs::write(dest.join(&path), &forged).unwrap();
    let hash = sha256(forged.as_bytes());
    edit_manifest(&dest, |m| {
        for f in m["files"].as_array_mut().unwrap() {
            if f["path"] == path.as_str() {
                f["sha256"] = hash.clone().into();
                f["bytes"] = forged.len().into();
            }
        }
        m["snapshots"][1]["hash"] = hash.clone().into();
    });
    let check = verify_bundle(&dest, None);
    assert!(
        check.problems.iter().any(|p| p.contains(&format!(
            "snapshot {} does not link to snapshot {}",
            manifest.snapshots[1].snapshot_id, manifest.snapshots[0].snapshot_id
        ))),
        "{:?}",
        check.problems
    );
    assert!(
        check.problems.iter().all(|p| !p.starts_with("altered")),
        "the hashes agree: only the chain gives it away: {:?}",
        check.problems
    );

    // A register removed with its manifest entry: the bundle is incomplete.
    let dest = dir.path().join("stripped");
    bundle(&mut store, &dest, None);
    std::fs::remove_file(dest.join("waivers.json")).unwrap();
    edit_manifest(&dest, |m| {
        m["files"]
            .as_array_mut()
            .unwrap()
            .retain(|f| f["path"] != "waivers.json");
    });
    let check = verify_bundle(&dest, None);
    assert_eq!(
        check.problems,
        vec![
            "incomplete: the manifest does not list waivers.json, which every bundle holds"
                .to_owned()
        ]
    );

    // A snapshot manifest removed with its file entry, or its path dropped: both named.
    let dest = dir.path().join("no-snapshot");
    let manifest = bundle(&mut store, &dest, None);
    let path = manifest.snapshots[2].manifest.clone().unwrap();
    std::fs::remove_file(dest.join(&path)).unwrap();
    edit_manifest(&dest, |m| {
        m["files"]
            .as_array_mut()
            .unwrap()
            .retain(|f| f["path"] != path.as_str());
        m["snapshots"][0]["manifest"] = serde_json::Value::Null;
    });
    let check = verify_bundle(&dest, None);
    assert!(
        check.problems.contains(&format!(
            "missing: {path} (snapshot {})",
            manifest.snapshots[2].snapshot_id
        )),
        "{:?}",
        check.problems
    );
    assert!(
        check.problems.iter().any(|p| p.starts_with(&format!(
            "incomplete: snapshot {} has chain hash",
            manifest.snapshots[0].snapshot_id
        ))),
        "{:?}",
        check.problems
    );
}
