//! `posture iam-policy`: the IAM policies Posture needs, generated from the table of
//! collectors (`posture_model::iam_policy`); this module only parses and prints.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{IamPolicyArgs, PolicyFormat, PolicyKind};
use posture_model::Service;
use posture_model::iam_policy::{self, Document, Format};

pub fn run(args: &IamPolicyArgs) -> anyhow::Result<ExitCode> {
    let services: Vec<Service> = if args.services.is_empty() {
        Service::ALL.to_vec()
    } else {
        args.services
            .iter()
            .map(|s| s.parse::<Service>().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()
            .context("--services")?
    };
    let document = match args.policy {
        PolicyKind::Member => Document::Member,
        PolicyKind::Scanner => Document::Scanner,
        PolicyKind::MemberTrust => Document::MemberTrust,
    };
    let format = match args.format {
        PolicyFormat::Json => Format::Json,
        PolicyFormat::Terraform => Format::Terraform,
        PolicyFormat::Cloudformation => Format::CloudFormation,
    };
    let text = iam_policy::generate(document, &services, format)?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
