//! ACM certificates in one region. `ListCertificates` is asked for every status and every
//! key type (by default it lists only RSA_1024 and RSA_2048 certificates); its summaries
//! carry status, type, use and validity, so `DescribeCertificate` is called only for a
//! certificate whose summary lacks its status or (when issued or expired) its `NotAfter`.
//! Tags come from `ListTagsForCertificate`, one call per certificate.

use aws_sdk_acm::types::{CertificateStatus, CertificateSummary, Filters, KeyAlgorithm};
use futures::StreamExt;
use posture_model::resources::AcmCertificate;
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink, time};
use crate::CollectError;

const CERT_CONCURRENCY: usize = 8;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "acm");
    let acm = ctx.clients.acm(region.as_str());

    let statuses: Vec<CertificateStatus> = CertificateStatus::values()
        .iter()
        .map(|s| CertificateStatus::from(*s))
        .collect();
    let key_types: Vec<KeyAlgorithm> = KeyAlgorithm::values()
        .iter()
        .map(|k| KeyAlgorithm::from(*k))
        .collect();
    let mut certs = Vec::new();
    let mut pages = acm
        .list_certificates()
        .set_certificate_statuses(Some(statuses))
        .includes(Filters::builder().set_key_types(Some(key_types)).build())
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("acm:ListCertificates", page) else {
            break;
        };
        for c in page.certificate_summary_list() {
            if let Some(text) = c.certificate_arn() {
                match Arn::new(text) {
                    Ok(arn) => certs.push((text.to_owned(), arn, c.clone())),
                    Err(e) => {
                        tracing::warn!(arn = text, error = %e, "skipping certificate with an invalid ARN")
                    }
                }
            }
        }
    }

    let mut reads = futures::stream::iter(certs)
        .map(|(text, arn, summary)| {
            let acm = &acm;
            async move { read_certificate(acm, text, arn, summary).await }
        })
        .buffer_unordered(CERT_CONCURRENCY);
    while let Some((arn, tags, cert, log)) = reads.next().await {
        sink.absorb(log);
        sink.emit(arn, tags, ResourceBody::AcmCertificate(cert))
            .await?;
    }
    drop(reads);
    sink.finish().await
}

async fn read_certificate(
    acm: &aws_sdk_acm::Client,
    text: String,
    arn: Arn,
    s: CertificateSummary,
) -> (Arn, Observed<Tags>, AcmCertificate, GapLog) {
    let mut log = GapLog::default();
    let mut cert = AcmCertificate {
        domain_name: s.domain_name().map(str::to_owned),
        status: s
            .status()
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default(),
        cert_type: s.r#type().map(|v| v.as_str().to_owned()),
        key_algorithm: s.key_algorithm().map(|v| v.as_str().to_owned()),
        in_use: s.in_use(),
        renewal_eligibility: s.renewal_eligibility().map(|v| v.as_str().to_owned()),
        not_before: time(s.not_before()),
        not_after: time(s.not_after()).map_or(Observed::Absent, Observed::Collected),
    };
    let incomplete = cert.status.is_empty()
        || (cert.has_validity() && !matches!(cert.not_after, Observed::Collected(_)));
    if incomplete {
        let op = "acm:DescribeCertificate";
        match log.observe(
            op,
            &arn,
            acm.describe_certificate()
                .certificate_arn(&text)
                .send()
                .await,
            &[],
        ) {
            Observed::Collected(out) => {
                if let Some(d) = out.certificate() {
                    if let Some(st) = d.status() {
                        st.as_str().clone_into(&mut cert.status);
                    }
                    cert.in_use = cert.in_use.or(Some(!d.in_use_by().is_empty()));
                    cert.not_before = cert.not_before.or(time(d.not_before()));
                    cert.not_after =
                        time(d.not_after()).map_or(Observed::Absent, Observed::Collected);
                }
            }
            Observed::Absent => {}
            Observed::Unavailable(u) => cert.not_after = Observed::Unavailable(u),
        }
    }
    let tags = log
        .observe(
            "acm:ListTagsForCertificate",
            &arn,
            acm.list_tags_for_certificate()
                .certificate_arn(&text)
                .send()
                .await,
            &[],
        )
        .map(|o| {
            o.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                .collect()
        });
    (arn, tags, cert, log)
}
