//! ACM certificates: one valid for 400 days, one expiring in 10.
//!
//! Both are self-signed certificates made with the `openssl` command at seeding time and
//! imported: moto refuses to import an expired certificate, so a fixed PEM would break the
//! seed on the day it expired, and a *requested* certificate stays `PENDING_VALIDATION` for
//! moto's validation wait (60 s) and then turns `ISSUED`, which would make the expected
//! status depend on how fast the seed ran.

use std::process::{Command, Stdio};

use anyhow::Context;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_acm::types::Tag;

use super::{PRIMARY, Seed, Step};
use crate::Status::{Fail, Pass};

const EXPIRY: &str = "acm_certificate_not_expiring";

/// ACM certificates the load balancers use.
pub(crate) struct Certs {
    /// An issued certificate in us-east-1, valid for 400 days.
    pub primary: String,
}

pub(crate) async fn seed(s: &mut Seed) -> anyhow::Result<Certs> {
    let good = import(s, "phi-good.example.com", 400).await?;
    s.expect(
        EXPIRY,
        &good,
        Pass,
        "phi-good.example.com: imported, valid for 400 days",
    );
    let soon = import(s, "phi-bad-expiring.example.com", 10).await?;
    s.expect(
        EXPIRY,
        &soon,
        Fail,
        "phi-bad-expiring.example.com: expires in 10 days, fewer than the 30 required",
    );
    Ok(Certs { primary: good })
}

/// Imports a fresh self-signed certificate for `cn` valid for `days` into us-east-1.
async fn import(s: &mut Seed, cn: &str, days: u32) -> anyhow::Result<String> {
    let (cert, key) = self_signed(cn, days)?;
    let acm = aws_sdk_acm::Client::new(&s.config(PRIMARY));
    let tag = Tag::builder()
        .key("data-classification")
        .value("ephi")
        .build()
        .context("ACM tag")?;
    let out = acm
        .import_certificate()
        .certificate(Blob::new(cert))
        .private_key(Blob::new(key))
        .tags(tag)
        .send()
        .await
        .step(format!("acm ImportCertificate {cn}"))?;
    let arn = out
        .certificate_arn()
        .with_context(|| format!("ImportCertificate {cn} returned no ARN"))?
        .to_owned();
    s.exp.tags.insert(
        arn.clone(),
        [("data-classification".to_owned(), "ephi".to_owned())].into(),
    );
    Ok(arn)
}

/// A self-signed RSA certificate and its key, PEM-encoded, made by `openssl req -x509`.
pub(crate) fn self_signed(cn: &str, days: u32) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let dir = tempfile::tempdir().context("temporary directory for openssl")?;
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days"])
        .arg(days.to_string())
        .arg("-subj")
        .arg(format!("/CN={cn}"))
        .arg("-addext")
        .arg(format!("subjectAltName=DNS:{cn}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running openssl (needed to make test certificates)")?;
    anyhow::ensure!(
        status.success(),
        "openssl req -x509 for {cn} failed: {status}"
    );
    Ok((
        std::fs::read(&cert).context("reading the openssl certificate")?,
        std::fs::read(&key).context("reading the openssl key")?,
    ))
}
