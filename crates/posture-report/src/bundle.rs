//! The evidence bundle: what a covered entity hands an auditor, tied to the history it came
//! from, and able to prove it was not changed since.
//!
//! A bundle is a directory or a `.tar.gz` (one top directory) holding:
//! - `report.html` and `report.json`: the evidence report;
//! - `findings.csv`: every finding of the snapshot;
//! - `waivers.json` and `attestations.json`: the waivers applied to the snapshot's findings
//!   and the attestations of its manual controls, as used;
//! - `snapshots/<id>.manifest.json`: the sealed manifest of every snapshot of the period,
//!   byte for byte as hashed into the store's chain, so `sha256(file)` is the snapshot's
//!   chain hash;
//! - `manifest.json`: the SHA-256 and size of every file above, the store's chain head (its
//!   hash and snapshot) and verification result when the bundle was made, and the hash of
//!   every snapshot covered;
//! - `manifest.sig` (optional): an Ed25519 signature of `manifest.json` with the signer's
//!   public key.
//!
//! [`verify`](crate::verify_bundle) checks it all without a store; given one,
//! [`check_store`](crate::check_store) checks that the snapshots and chain head recorded
//! are that store's.
//!
//! The bundle appears only when complete: it is written under a temporary name beside its
//! destination and renamed at the end; an existing destination is never overwritten.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use posture_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Head;
use crate::ocsf::epoch_ms;
use crate::sink::{Section, Sink};
use crate::{ReportError, Request, csv_out, gather, html, json, sink};

/// The `format` of a bundle's manifest.
pub const BUNDLE_FORMAT: &str = "posture-evidence-bundle/1";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The signature's file name.
pub const SIGNATURE: &str = "manifest.sig";
/// The files every bundle holds besides the snapshot manifests: `verify_bundle` requires
/// them in the manifest, so a bundle stripped of one (file and entry) does not verify.
pub const CONTENTS: [&str; 5] = [
    "report.html",
    "report.json",
    "findings.csv",
    "waivers.json",
    "attestations.json",
];

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The program that made it (`posture 0.1.0`).
    pub generator: String,
    /// When the report was made (its `as_of`).
    pub created_at: String,
    /// The snapshot reported.
    pub snapshot_id: String,
    /// The start of the period.
    pub since: String,
    /// The accounts reported (empty: every account of the snapshot).
    pub accounts: Vec<String>,
    /// The baseline's name.
    pub baseline: String,
    /// The baseline's version.
    pub baseline_version: String,
    /// The store's hash chain when the bundle was made.
    pub chain: ChainRecord,
    /// The snapshots of the period, oldest first.
    pub snapshots: Vec<SnapshotRecord>,
    /// Every file of the bundle but the manifest and its signature, sorted by path.
    pub files: Vec<FileRecord>,
}

/// The chain as the bundle recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRecord {
    /// Whether the store's history verified.
    pub intact: bool,
    /// The newest manifest hash of the store.
    pub head: Option<String>,
    /// The snapshot whose manifest hash `head` is.
    pub head_snapshot: Option<String>,
    /// Snapshots the verification checked.
    pub snapshots: usize,
    /// What it found wrong.
    pub problems: Vec<String>,
}

/// One snapshot covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// Its id.
    pub snapshot_id: String,
    /// When it started.
    pub started_at: String,
    /// Its manifest hash in the chain (`None` for a snapshot older than the chain).
    pub hash: Option<String>,
    /// The bundle file holding its sealed manifest.
    pub manifest: Option<String>,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Its path inside the bundle, `/`-separated.
    pub path: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// `manifest.sig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureFile {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The signer's public key: DER SubjectPublicKeyInfo, base64.
    pub public_key: String,
    /// `sha256:<hex>` of that DER: the key's fingerprint.
    pub key_id: String,
    /// The signature of `manifest.json`'s bytes, base64.
    pub signature: String,
}

/// A key or signature could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not PEM.
    #[error("{what} is not a PEM file (expected -----BEGIN {label}-----)")]
    NotPem {
        /// What was read.
        what: &'static str,
        /// The PEM label expected.
        label: &'static str,
    },
    /// PEM, but not an Ed25519 key of the kind expected.
    #[error("{0}")]
    Invalid(String),
}

/// An Ed25519 private key that signs bundles.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        write!(f, "SigningKey({})", self.public().key_id())
    }
}

impl SigningKey {
    /// Reads an unencrypted PKCS#8 private key in PEM (`-----BEGIN PRIVATE KEY-----`), as
    /// `openssl genpkey -algorithm ed25519` writes it.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = pem(text, "PRIVATE KEY", "the signing key")?;
        let pair = Ed25519KeyPair::from_pkcs8(&der)
            .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der))
            .map_err(|_| {
                KeyError::Invalid(
                    "the signing key is not an unencrypted Ed25519 PKCS#8 key: make one with \
                     `openssl genpkey -algorithm ed25519 -out bundle-signing.pem`"
                        .to_owned(),
                )
            })?;
        Ok(Self { pair })
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey { raw }
    }

    fn sign(&self, message: &[u8]) -> SignatureFile {
        let public = self.public();
        SignatureFile {
            algorithm: "ed25519".to_owned(),
            public_key: base64::engine::general_purpose::STANDARD.encode(public.spki()),
            key_id: public.key_id(),
            signature: base64::engine::general_purpose::STANDARD
                .encode(self.pair.sign(message).as_ref()),
        }
    }
}

/// An Ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    raw: [u8; 32],
}

impl PublicKey {
    /// Reads a public key in PEM (`-----BEGIN PUBLIC KEY-----`), as `openssl pkey -pubout`
    /// writes it.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = pem(text, "PUBLIC KEY", "the public key")?;
        Self::from_spki(&der).ok_or_else(|| {
            KeyError::Invalid(
                "the public key is not an Ed25519 key (make it with `openssl pkey -in \
                 bundle-signing.pem -pubout -out bundle-signing.pub.pem`)"
                    .to_owned(),
            )
        })
    }

    /// From DER SubjectPublicKeyInfo.
    pub fn from_spki(der: &[u8]) -> Option<Self> {
        let raw = der.strip_prefix(&ED25519_SPKI_PREFIX[..])?;
        Some(Self {
            raw: raw.try_into().ok()?,
        })
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> Vec<u8> {
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.raw);
        der
    }

    /// `sha256:<hex>` of the DER SubjectPublicKeyInfo.
    pub fn key_id(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(self.spki())))
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, self.raw)
            .verify(message, signature)
            .is_ok()
    }
}

/// The DER inside a PEM block labelled `label`.
fn pem(text: &str, label: &'static str, what: &'static str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or(KeyError::NotPem { what, label })?;
    let b64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| KeyError::Invalid(format!("{what}: the PEM body is not base64")))
}

/// What [`write_bundle`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleWritten {
    /// The manifest written.
    pub manifest: BundleManifest,
    /// The signer's key id, when signed.
    pub signed_by: Option<String>,
    /// Whether the history verified.
    pub chain_intact: bool,
}

/// Whether `path` names a `.tar.gz` bundle (else a directory).
pub fn is_archive(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase());
    name.is_some_and(|n| n.ends_with(".tar.gz") || n.ends_with(".tgz"))
}

/// Writes the evidence bundle of `request` (its `format` is ignored) to `dest`, a directory
/// or a `.tar.gz`, signed with `key` when given. `dest` must not exist.
pub fn write_bundle(
    store: &mut Store,
    request: &Request<'_>,
    dest: &Path,
    key: Option<&SigningKey>,
) -> Result<BundleWritten, ReportError> {
    if dest.exists() {
        return Err(ReportError::Exists(dest.to_owned()));
    }
    let name = dest
        .file_name()
        .ok_or_else(|| ReportError::NotAFileName(dest.to_owned()))?
        .to_string_lossy()
        .into_owned();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    // Beside the destination, so the final rename stays on one file system; removed on
    // any error (the TempDir's drop).
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.partial-"))
        .tempdir_in(&parent)?;

    let head = gather::head(store, request)?;
    let mut files = Vec::new();
    files.push(write_file(staging.path(), "report.html", |out| {
        sink::walk(store, &head, request, &mut html::Html::new(out)?).map(drop)
    })?);
    files.push(write_file(staging.path(), "report.json", |out| {
        sink::walk(store, &head, request, &mut json::Json::new(out)).map(drop)
    })?);
    files.push(write_file(staging.path(), "findings.csv", |out| {
        csv_out::write(store, &head, request, out).map(drop)
    })?);
    for (path, section) in [
        ("waivers.json", Section::Waivers),
        ("attestations.json", Section::Attestations),
    ] {
        files.push(write_file(staging.path(), path, |out| {
            sink::walk(store, &head, request, &mut Register::new(out, section)).map(drop)
        })?);
    }
    std::fs::create_dir(staging.path().join("snapshots"))?;
    let mut snapshots = Vec::new();
    for s in &head.period {
        let id = crate::sink::store_id(&s.snapshot_id)?;
        let manifest = match store.sealed_manifest(&id)? {
            Some(sealed) => {
                let path = format!("snapshots/{}.manifest.json", s.snapshot_id);
                files.push(write_file(staging.path(), &path, |out| {
                    out.write_all(sealed.text.as_bytes())
                        .map_err(ReportError::from)
                })?);
                Some(path)
            }
            None => None,
        };
        snapshots.push(SnapshotRecord {
            snapshot_id: s.snapshot_id.clone(),
            started_at: s.started_at.clone(),
            hash: s.hash.clone(),
            manifest,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let head_snapshot = store.latest_snapshot()?.map(|m| m.id.to_string());
    let manifest = BundleManifest {
        format: BUNDLE_FORMAT.to_owned(),
        generator: format!("posture {}", env!("CARGO_PKG_VERSION")),
        created_at: head.as_of.clone(),
        snapshot_id: head.snapshot.snapshot_id.clone(),
        since: head.since.clone(),
        accounts: head.account_filter.clone(),
        baseline: head.baseline.clone(),
        baseline_version: head.baseline_version.clone(),
        chain: ChainRecord {
            intact: head.chain.intact,
            head: head.chain.head.clone(),
            head_snapshot,
            snapshots: head.chain.snapshots,
            problems: head.chain.problems.clone(),
        },
        snapshots,
        files,
    };
    let mut text = serde_json::to_vec_pretty(&manifest)?;
    text.push(b'\n');
    std::fs::write(staging.path().join(MANIFEST), &text)?;
    let signed_by = match key {
        Some(key) => {
            let sig = key.sign(&text);
            let mut sig_text = serde_json::to_vec_pretty(&sig)?;
            sig_text.push(b'\n');
            std::fs::write(staging.path().join(SIGNATURE), sig_text)?;
            Some(sig.key_id)
        }
        None => None,
    };

    if is_archive(dest) {
        let top = name
            .trim_end_matches(".tar.gz")
            .trim_end_matches(".tgz")
            .trim_end_matches(".TAR.GZ")
            .trim_end_matches(".TGZ")
            .to_owned();
        let partial = parent.join(format!(".{name}.partial"));
        let result = pack(
            staging.path(),
            &partial,
            &top,
            &manifest,
            signed_by.is_some(),
            &head,
        );
        if let Err(e) = result {
            // Worthless half archive; failing to remove it changes nothing.
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, dest)?;
    } else {
        let staged = staging.keep();
        if let Err(e) = std::fs::rename(&staged, dest) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e.into());
        }
    }
    Ok(BundleWritten {
        manifest,
        signed_by,
        chain_intact: head.chain.intact,
    })
}

/// Writes one file of the bundle through `body`, hashing it as it is written.
fn write_file(
    root: &Path,
    path: &str,
    body: impl FnOnce(&mut dyn Write) -> Result<(), ReportError>,
) -> Result<FileRecord, ReportError> {
    let file = File::create(root.join(path))?;
    let mut out = Hashing {
        inner: BufWriter::new(file),
        hash: Sha256::new(),
        bytes: 0,
    };
    body(&mut out)?;
    out.inner.flush()?;
    out.inner.get_ref().sync_all()?;
    Ok(FileRecord {
        path: path.to_owned(),
        sha256: hex::encode(out.hash.finalize()),
        bytes: out.bytes,
    })
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The staged files as a gzip'd tar under one top directory, in the manifest's order, with
/// fixed owners, modes and times (the snapshot's), so the archive depends on its content
/// only.
fn pack(
    staged: &Path,
    to: &Path,
    top: &str,
    manifest: &BundleManifest,
    signed: bool,
    head: &Head,
) -> Result<(), ReportError> {
    let mtime = u64::try_from(epoch_ms(&head.snapshot.finished_at) / 1000).unwrap_or_default();
    let file = File::create(to)?;
    let gz = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut paths: Vec<&str> = vec![MANIFEST];
    if signed {
        paths.push(SIGNATURE);
    }
    paths.extend(manifest.files.iter().map(|f| f.path.as_str()));
    for path in paths {
        let source = staged.join(path);
        let len = std::fs::metadata(&source)?.len();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(len);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        tar.append_data(&mut header, format!("{top}/{path}"), File::open(&source)?)?;
    }
    let gz = tar.into_inner()?;
    let file = gz.finish()?;
    let file = file
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    Ok(())
}

/// A sink that writes one register (the waivers or the attestations) as a JSON document.
struct Register<'a> {
    out: &'a mut dyn Write,
    section: Section,
    first: bool,
}

impl<'a> Register<'a> {
    fn new(out: &'a mut dyn Write, section: Section) -> Self {
        Self {
            out,
            section,
            first: true,
        }
    }

    fn rows<T: Serialize>(&mut self, rows: &[T]) -> Result<(), ReportError> {
        for row in rows {
            self.out
                .write_all(if self.first { b"\n" } else { b",\n" })?;
            self.first = false;
            serde_json::to_writer(&mut *self.out, row)?;
        }
        Ok(())
    }
}

impl Sink for Register<'_> {
    fn head(&mut self, head: &Head) -> Result<(), ReportError> {
        let name = match self.section {
            Section::Waivers => "waivers",
            _ => "attestations",
        };
        write!(
            self.out,
            "{{\"snapshot_id\":{},\"as_of\":{},\"{name}\":[",
            serde_json::Value::from(head.snapshot.snapshot_id.as_str()),
            serde_json::Value::from(head.as_of.as_str())
        )?;
        Ok(())
    }
    fn open(&mut self, _: Section, _: &Head) -> Result<(), ReportError> {
        Ok(())
    }
    fn close(&mut self, _: Section) -> Result<(), ReportError> {
        Ok(())
    }
    fn rule_open(&mut self, _: &crate::RuleGroup) -> Result<(), ReportError> {
        Ok(())
    }
    fn failing(&mut self, _: &[crate::FailingRow]) -> Result<(), ReportError> {
        Ok(())
    }
    fn rule_close(&mut self, _: &crate::RuleGroup) -> Result<(), ReportError> {
        Ok(())
    }
    fn waivers(&mut self, rows: &[crate::WaiverRow]) -> Result<(), ReportError> {
        if self.section == Section::Waivers {
            self.rows(rows)?;
        }
        Ok(())
    }
    fn attestations(&mut self, rows: &[crate::AttestationRow]) -> Result<(), ReportError> {
        if self.section == Section::Attestations {
            self.rows(rows)?;
        }
        Ok(())
    }
    fn gaps(&mut self, _: &[crate::GapRow]) -> Result<(), ReportError> {
        Ok(())
    }
    fn drift(&mut self, _: &[crate::DriftRow]) -> Result<(), ReportError> {
        Ok(())
    }
    fn finish(&mut self, _: &Head) -> Result<(), ReportError> {
        self.out
            .write_all(if self.first { b"]}\n" } else { b"\n]}\n" })?;
        Ok(())
    }
    fn wants(&self, section: Section) -> bool {
        section == self.section
    }
}
