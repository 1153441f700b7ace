//! Verifying an evidence bundle: every file against the manifest, the signature when there
//! is one, the snapshot manifests against their chain hashes and links; and, only when the
//! caller hands it a store, the recorded snapshots and chain head against that store.
//!
//! [`verify_bundle`] reads the bundle and nothing else: it never opens or creates a store.
//! It reports every problem it finds (altered, missing or unexpected files by name) rather
//! than stopping at the first.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path};

use base64::Engine as _;
use posture_model::SnapshotId;
use posture_store::{Store, StoreError};
use sha2::{Digest, Sha256};

use crate::bundle::{
    BUNDLE_FORMAT, BundleManifest, CONTENTS, MANIFEST, PublicKey, SIGNATURE, SignatureFile,
    is_archive,
};

/// The manifest and signature are read into memory; larger ones are not a bundle's.
const MAX_MANIFEST: u64 = 64 * 1024 * 1024;

/// What verifying a bundle found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleCheck {
    /// The manifest, when it could be read.
    pub manifest: Option<BundleManifest>,
    /// Files checked against the manifest (and found intact).
    pub files_ok: usize,
    /// The signer's key id when the signature verified.
    pub signed_by: Option<String>,
    /// Everything wrong, each naming the file or snapshot concerned. Empty: verified.
    pub problems: Vec<String>,
    /// Facts worth saying that are not problems (an unsigned bundle, a signature checked
    /// against the key it carries only).
    pub notes: Vec<String>,
}

impl BundleCheck {
    /// Whether the bundle verified.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.manifest.is_some()
    }
}

/// One file read from the bundle: its hash and size, and its bytes for the few files
/// verification reads (the manifest, its signature, the snapshot manifests).
struct Seen {
    sha256: String,
    bytes: u64,
    content: Option<Vec<u8>>,
}

/// Verifies the bundle at `path` (a directory or a `.tar.gz`). With `trusted`, the bundle
/// must be signed by that key. Never touches a store.
pub fn verify_bundle(path: &Path, trusted: Option<&PublicKey>) -> BundleCheck {
    let mut check = BundleCheck::default();
    if !path.exists() {
        check
            .problems
            .push(format!("{}: no such file or directory", path.display()));
        return check;
    }
    let seen = if is_archive(path) {
        read_archive(path, &mut check.problems)
    } else if path.is_dir() {
        read_dir(path, &mut check.problems)
    } else {
        check.problems.push(format!(
            "{} is neither a directory nor a .tar.gz bundle",
            path.display()
        ));
        return check;
    };

    let Some(manifest_seen) = seen.get(MANIFEST) else {
        check.problems.push(format!(
            "{MANIFEST} is missing: this is not a Posture evidence bundle, or its manifest was removed"
        ));
        return check;
    };
    let manifest_bytes = manifest_seen.content.clone().unwrap_or_default();
    let manifest: BundleManifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            check
                .problems
                .push(format!("{MANIFEST} is not a readable bundle manifest: {e}"));
            return check;
        }
    };
    if manifest.format != BUNDLE_FORMAT {
        check.problems.push(format!(
            "{MANIFEST} has format {:?}; this version of posture reads {BUNDLE_FORMAT:?}",
            manifest.format
        ));
    }

    signature(&seen, &manifest_bytes, trusted, &mut check);

    // Every file of the manifest, then every file the manifest does not know.
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        listed.insert(f.path.as_str());
        match seen.get(&f.path) {
            None => check.problems.push(format!("missing: {}", f.path)),
            Some(s) if s.sha256 != f.sha256 || s.bytes != f.bytes => {
                check.problems.push(format!(
                    "altered: {} (the manifest records sha256 {} and {} bytes; the file has sha256 {} and {} bytes)",
                    f.path, f.sha256, f.bytes, s.sha256, s.bytes
                ));
            }
            Some(_) => check.files_ok += 1,
        }
    }
    for required in CONTENTS {
        if !listed.contains(required) {
            check.problems.push(format!(
                "incomplete: the manifest does not list {required}, which every bundle holds"
            ));
        }
    }
    for path in seen.keys() {
        if path != MANIFEST && path != SIGNATURE && !listed.contains(path.as_str()) {
            check
                .problems
                .push(format!("unexpected file: {path} (not in the manifest)"));
        }
    }

    snapshots(&manifest, &seen, &mut check.problems);
    if !manifest.chain.intact {
        check.problems.push(format!(
            "the store's history did NOT verify when the bundle was made: {}",
            manifest.chain.problems.join("; ")
        ));
    }
    check.manifest = Some(manifest);
    check
}

/// The signature: present and valid, by `trusted` when given.
fn signature(
    seen: &BTreeMap<String, Seen>,
    manifest_bytes: &[u8],
    trusted: Option<&PublicKey>,
    check: &mut BundleCheck,
) {
    let Some(sig) = seen.get(SIGNATURE) else {
        if trusted.is_some() {
            check.problems.push(format!(
                "{SIGNATURE} is missing: the bundle is not signed, but a public key was given"
            ));
        } else {
            check.notes.push(
                "the bundle is not signed (its files were checked against its manifest)".to_owned(),
            );
        }
        return;
    };
    let parsed: Result<SignatureFile, _> =
        serde_json::from_slice(sig.content.as_deref().unwrap_or_default());
    let Ok(parsed) = parsed else {
        check
            .problems
            .push(format!("{SIGNATURE} is not a readable signature file"));
        return;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(&parsed.public_key)
        .ok()
        .and_then(|der| PublicKey::from_spki(&der));
    let signature = b64.decode(&parsed.signature).ok();
    let (Some(key), Some(signature)) = (key, signature) else {
        check.problems.push(format!(
            "{SIGNATURE} does not hold an Ed25519 public key and signature"
        ));
        return;
    };
    if parsed.algorithm != "ed25519" {
        check.problems.push(format!(
            "{SIGNATURE}: unknown algorithm {:?} (expected ed25519)",
            parsed.algorithm
        ));
        return;
    }
    if !key.verifies(manifest_bytes, &signature) {
        check.problems.push(format!(
            "{SIGNATURE}: the signature does not match {MANIFEST} (the manifest or the signature was altered)"
        ));
        return;
    }
    match trusted {
        Some(t) if *t != key => check.problems.push(format!(
            "signed by key {}, not by the trusted key {}",
            key.key_id(),
            t.key_id()
        )),
        Some(_) => check.signed_by = Some(key.key_id()),
        None => {
            check.notes.push(format!(
                "signed by key {}; pass --public-key to check that it is the key you trust",
                key.key_id()
            ));
            check.signed_by = Some(key.key_id());
        }
    }
}

/// The snapshot manifests: each hashes to its recorded chain hash, and consecutive ones
/// link to each other.
fn snapshots(manifest: &BundleManifest, seen: &BTreeMap<String, Seen>, problems: &mut Vec<String>) {
    #[derive(serde::Deserialize)]
    struct Sealed {
        id: String,
        seq: i64,
        prev_manifest_sha256: Option<String>,
    }
    let mut sealed: Vec<(Sealed, String)> = Vec::new();
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for s in &manifest.snapshots {
        let (path, Some(hash)) = (&s.manifest, &s.hash) else {
            continue; // older than the chain: nothing to tie it to
        };
        // A snapshot in the chain always has its sealed manifest in the bundle.
        let Some(path) = path else {
            problems.push(format!(
                "incomplete: snapshot {} has chain hash {hash} but no manifest file",
                s.snapshot_id
            ));
            continue;
        };
        let Some(file) = seen.get(path) else {
            if !listed.contains(path.as_str()) {
                problems.push(format!("missing: {path} (snapshot {})", s.snapshot_id));
            }
            continue; // else reported as missing already
        };
        if &file.sha256 != hash {
            problems.push(format!(
                "snapshot {}: {path} does not hash to the snapshot's chain hash {hash}",
                s.snapshot_id
            ));
            continue;
        }
        match serde_json::from_slice::<Sealed>(file.content.as_deref().unwrap_or_default()) {
            Ok(m) if m.id == s.snapshot_id => sealed.push((m, hash.clone())),
            Ok(m) => problems.push(format!(
                "snapshot {}: {path} is the manifest of snapshot {}",
                s.snapshot_id, m.id
            )),
            Err(e) => problems.push(format!(
                "snapshot {}: {path} is not a readable snapshot manifest: {e}",
                s.snapshot_id
            )),
        }
    }
    sealed.sort_by_key(|(m, _)| m.seq);
    for pair in sealed.windows(2) {
        let ((before, before_hash), (after, _)) = (&pair[0], &pair[1]);
        if after.seq == before.seq + 1
            && after.prev_manifest_sha256.as_deref() != Some(before_hash.as_str())
        {
            problems.push(format!(
                "snapshot {} does not link to snapshot {} before it in the chain",
                after.id, before.id
            ));
        }
    }
}

/// Checks the bundle's recorded snapshots and chain head against `store`: each snapshot
/// must be there with the same manifest hash, and so must the head. Returns the problems.
pub fn check_store(
    manifest: &BundleManifest,
    store: &mut Store,
) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    let mut recorded: Vec<(&str, Option<&str>)> = manifest
        .snapshots
        .iter()
        .map(|s| (s.snapshot_id.as_str(), s.hash.as_deref()))
        .collect();
    if let (Some(id), Some(hash)) = (&manifest.chain.head_snapshot, &manifest.chain.head) {
        recorded.push((id.as_str(), Some(hash.as_str())));
    }
    for (id, hash) in recorded {
        let Some(hash) = hash else { continue };
        let Ok(sid) = SnapshotId::new(id.to_owned()) else {
            problems.push(format!("snapshot {id:?} is not a snapshot id"));
            continue;
        };
        match store.sealed_manifest(&sid) {
            Ok(Some(sealed)) if sealed.hash == hash => {}
            Ok(Some(sealed)) => problems.push(format!(
                "snapshot {id}: the bundle records manifest hash {hash}, the store has {}",
                sealed.hash
            )),
            Ok(None) => problems.push(format!("snapshot {id}: the store has no chain hash for it")),
            Err(StoreError::NoSuchSnapshot(_)) => problems.push(format!(
                "snapshot {id} is not in the store (pruned since, or another store)"
            )),
            Err(e) => return Err(e),
        }
    }
    problems.dedup();
    Ok(problems)
}

/// Whether the bundle reads this file's content (not only its hash).
fn keeps_content(path: &str) -> bool {
    path == MANIFEST || path == SIGNATURE || path.starts_with("snapshots/")
}

fn hash_reader(mut r: impl Read, keep: bool) -> std::io::Result<Seen> {
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    let mut content = keep.then(Vec::new);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        bytes += n as u64;
        if let Some(c) = content.as_mut() {
            if bytes > MAX_MANIFEST {
                return Err(std::io::Error::other("larger than a manifest can be"));
            }
            c.extend_from_slice(&buf[..n]);
        }
    }
    Ok(Seen {
        sha256: hex::encode(hash.finalize()),
        bytes,
        content,
    })
}

/// Every regular file under `root`, by `/`-separated relative path. A symbolic link or
/// another kind of file is a problem: a bundle holds regular files only.
fn read_dir(root: &Path, problems: &mut Vec<String>) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let mut todo = vec![(root.to_owned(), String::new())];
    while let Some((dir, prefix)) = todo.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("cannot read {}: {e}", dir.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                problems.push(format!("cannot read {rel}"));
                continue;
            };
            if meta.is_dir() {
                todo.push((entry.path(), rel));
            } else if meta.is_file() {
                match File::open(entry.path()).and_then(|f| hash_reader(f, keeps_content(&rel))) {
                    Ok(seen) => {
                        out.insert(rel, seen);
                    }
                    Err(e) => problems.push(format!("cannot read {rel}: {e}")),
                }
            } else {
                problems.push(format!(
                    "unexpected file: {rel} is not a regular file (a link or device)"
                ));
            }
        }
    }
    out
}

/// Every regular file of the archive, by path below its one top directory.
fn read_archive(path: &Path, problems: &mut Vec<String>) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("cannot open {}: {e}", path.display()));
            return out;
        }
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{} is not a readable .tar.gz: {e}", path.display()));
            return out;
        }
    };
    let mut top: Option<String> = None;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!(
                    "{} is damaged (the archive cannot be read past this point): {e}",
                    path.display()
                ));
                break;
            }
        };
        let name = match entry.path() {
            Ok(p) => p.into_owned(),
            Err(e) => {
                problems.push(format!("an entry with an unreadable name: {e}"));
                continue;
            }
        };
        let shown = name.display().to_string();
        let mut parts = Vec::new();
        let mut safe = true;
        for c in name.components() {
            match c {
                Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
                Component::CurDir => {}
                _ => safe = false,
            }
        }
        if !safe || parts.is_empty() {
            problems.push(format!(
                "unexpected file: {shown} (an absolute path or one that leaves the bundle)"
            ));
            continue;
        }
        let first = parts.remove(0);
        match &top {
            None => top = Some(first),
            Some(t) if *t == first => {}
            Some(t) => {
                problems.push(format!(
                    "unexpected file: {shown} (outside the bundle's top directory {t})"
                ));
                continue;
            }
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if parts.is_empty() || !(kind.is_file() || kind == tar::EntryType::Continuous) {
            problems.push(format!(
                "unexpected file: {shown} is not a regular file inside the bundle's directory"
            ));
            continue;
        }
        let rel = parts.join("/");
        match hash_reader(&mut entry, keeps_content(&rel)) {
            Ok(seen) => {
                if out.insert(rel.clone(), seen).is_some() {
                    problems.push(format!(
                        "unexpected file: {rel} appears twice in the archive"
                    ));
                }
            }
            Err(e) => problems.push(format!("cannot read {rel} from the archive: {e}")),
        }
    }
    out
}
