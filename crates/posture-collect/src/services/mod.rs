//! One collector per service. Each runs for one (account, region) — or once per account
//! for IAM and S3 — and reports through a [`Sink`].

pub(crate) mod accessanalyzer;
pub(crate) mod acm;
pub(crate) mod autoscaling;
pub(crate) mod backup;
pub(crate) mod cloudtrail;
pub(crate) mod cloudwatch;
pub(crate) mod config;
pub(crate) mod ec2;
pub(crate) mod efs;
pub(crate) mod elb;
pub(crate) mod guardduty;
pub(crate) mod iam;
pub(crate) mod kms;
pub(crate) mod macie;
pub(crate) mod rds;
pub(crate) mod s3;
pub(crate) mod secretsmanager;
pub(crate) mod securityhub;
pub(crate) mod ssm;

use std::future::Future;
use std::pin::Pin;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use posture_model::{
    AccountId, Arn, CollectionRecord, Gap, Observed, Region, Resource, ResourceBody, Tags,
};
use tokio::sync::mpsc;

use crate::classify::{CallError, classify};
use crate::{Clients, CollectError, Event};

/// A collector's future.
pub(crate) type Job<'a> = Pin<Box<dyn Future<Output = Result<(), CollectError>> + Send + 'a>>;

/// What every collector needs.
pub(crate) struct Ctx<'a> {
    pub clients: &'a Clients,
    pub account: &'a AccountId,
    /// The regions scanned in this account.
    pub regions: &'a [Region],
    pub tx: &'a mpsc::Sender<Event>,
}

/// Reports one collection's resources and gaps, and its completeness at the end.
pub(crate) struct Sink<'a> {
    tx: &'a mpsc::Sender<Event>,
    account: AccountId,
    region: Region,
    service: &'static str,
    resources: u64,
    log: GapLog,
}

/// Failed calls recorded by one task, before they are sent with the collection.
#[derive(Default)]
pub(crate) struct GapLog(Vec<(String, CallError, Option<Arn>)>);

impl GapLog {
    /// Records a failed call. `resource` is `None` for list calls.
    ///
    /// Logged at info (`-v`), one line per call: the coverage summary of the scan reports
    /// every failed call, grouped, so a warning per call would only repeat it.
    pub fn gap(&mut self, operation: &str, err: &CallError, resource: Option<&Arn>) {
        tracing::info!(
            operation,
            resource = resource.map(Arn::as_str).unwrap_or(""),
            code = err.code.as_deref().unwrap_or(""),
            error = %err.message,
            "collection call failed"
        );
        self.0
            .push((operation.to_owned(), err.clone(), resource.cloned()));
    }

    /// Turns a per-resource call result into an `Observed` value: `Absent` when the error
    /// code is one of `absent_codes`, `Unavailable` (and a recorded gap) for other errors.
    pub fn observe<T, E>(
        &mut self,
        operation: &str,
        resource: &Arn,
        result: Result<T, SdkError<E, HttpResponse>>,
        absent_codes: &[&str],
    ) -> Observed<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match result {
            Ok(v) => Observed::Collected(v),
            Err(e) => {
                let err = classify(&e);
                if err.is(absent_codes) {
                    Observed::Absent
                } else {
                    self.gap(operation, &err, Some(resource));
                    Observed::Unavailable(err.unavailable(operation))
                }
            }
        }
    }

    /// Records a failed list call and returns `None`, or passes the value through.
    pub fn list<T, E>(
        &mut self,
        operation: &str,
        result: Result<T, SdkError<E, HttpResponse>>,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.gap(operation, &classify(&e), None);
                None
            }
        }
    }
}

impl<'a> Sink<'a> {
    pub fn new(ctx: &Ctx<'a>, region: Region, service: &'static str) -> Self {
        Self {
            tx: ctx.tx,
            account: ctx.account.clone(),
            region,
            service,
            resources: 0,
            log: GapLog::default(),
        }
    }

    /// A sink for a concurrent part of this collection; [`Sink::join`] merges it back.
    pub fn fork(&self) -> Sink<'a> {
        Self {
            tx: self.tx,
            account: self.account.clone(),
            region: self.region.clone(),
            service: self.service,
            resources: 0,
            log: GapLog::default(),
        }
    }

    /// Merges a fork's counts and gaps.
    pub fn join(&mut self, fork: Sink<'a>) {
        self.resources += fork.resources;
        self.log.0.extend(fork.log.0);
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    /// Sends a resource in this collection's region.
    pub async fn emit(
        &mut self,
        arn: Arn,
        tags: Observed<Tags>,
        body: ResourceBody,
    ) -> Result<(), CollectError> {
        let region = self.region.clone();
        self.emit_in(arn, region, tags, body).await
    }

    /// Sends a resource in an explicit region (S3 buckets, listed globally).
    pub async fn emit_in(
        &mut self,
        arn: Arn,
        region: Region,
        tags: Observed<Tags>,
        body: ResourceBody,
    ) -> Result<(), CollectError> {
        self.resources += 1;
        let resource = Resource {
            arn,
            account: self.account.clone(),
            region,
            tags,
            body,
        };
        self.tx
            .send(Event::Resource(Box::new(resource)))
            .await
            .map_err(|_| CollectError::Cancelled)
    }

    /// See [`GapLog::observe`].
    pub fn observe<T, E>(
        &mut self,
        operation: &str,
        resource: &Arn,
        result: Result<T, SdkError<E, HttpResponse>>,
        absent_codes: &[&str],
    ) -> Observed<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.log.observe(operation, resource, result, absent_codes)
    }

    /// See [`GapLog::list`].
    pub fn list<T, E>(
        &mut self,
        operation: &str,
        result: Result<T, SdkError<E, HttpResponse>>,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.log.list(operation, result)
    }

    /// Takes over the gaps a concurrent per-resource task recorded.
    pub fn absorb(&mut self, log: GapLog) {
        self.log.0.extend(log.0);
    }

    /// Sends the gaps and the collection record.
    pub async fn finish(self) -> Result<(), CollectError> {
        let complete = self.log.0.is_empty();
        for (operation, err, resource) in self.log.0 {
            let gap = Gap {
                account: self.account.clone(),
                region: self.region.clone(),
                service: self.service.to_owned(),
                operation,
                resource,
                kind: err.kind,
                code: err.code,
                message: err.message,
            };
            self.tx
                .send(Event::Gap(gap))
                .await
                .map_err(|_| CollectError::Cancelled)?;
        }
        let record = CollectionRecord {
            account: self.account,
            region: self.region,
            service: self.service.to_owned(),
            resources: self.resources,
            complete,
        };
        self.tx
            .send(Event::Collected(record))
            .await
            .map_err(|_| CollectError::Cancelled)
    }
}

/// Tags of a kind whose collector does not read them (one more call per resource, and no
/// rule needs them): recorded as not collected, so that a rule scoped to PHI resources
/// reports `Error` for the resource instead of taking it for untagged.
pub(crate) fn tags_not_read(operation: &str) -> Observed<Tags> {
    Observed::Unavailable(posture_model::Unavailable {
        kind: posture_model::UnavailableKind::NotCollected,
        operation: operation.to_owned(),
        code: None,
        message: "the collector does not read this kind's tags".to_owned(),
    })
}

/// Converts an SDK timestamp.
pub(crate) fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// Builds an ARN from parts that AWS gave us; falls back to a documented form when AWS's
/// answer lacked one.
pub(crate) fn arn(
    text: Option<&str>,
    service: &str,
    region: &str,
    account: &str,
    resource: &str,
) -> Arn {
    text.and_then(|t| Arn::new(t).ok())
        .unwrap_or_else(|| Arn::from_parts(service, region, account, resource))
}

/// Parses a policy document returned as JSON text (URL-decoding it first when IAM returned
/// it percent-encoded).
pub(crate) fn parse_policy(text: &str) -> Result<serde_json::Value, String> {
    let decoded = if text.trim_start().starts_with('{') {
        std::borrow::Cow::Borrowed(text)
    } else {
        percent_encoding::percent_decode_str(text).decode_utf8_lossy()
    };
    serde_json::from_str(&decoded).map_err(|e| format!("policy document is not valid JSON: {e}"))
}

/// An `Unavailable` for a value we received but could not interpret.
pub(crate) fn malformed(operation: &str, message: String) -> posture_model::Unavailable {
    posture_model::Unavailable {
        kind: posture_model::UnavailableKind::Failed,
        operation: operation.to_owned(),
        code: None,
        message,
    }
}
