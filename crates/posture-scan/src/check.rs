//! The checker's inputs besides the snapshot, read from their files: the baseline, waivers,
//! attestations and the PHI tag scope. `posture-check` parses text; reading the files is
//! this crate's IO, so a daemon reloads them the way the CLI loads them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use posture_check::{Attestations, Baseline, PhiScope, Waivers};

use crate::ScanError;

/// Which files to read (`None`: the shipped baseline, no waivers, no attestations, the
/// default PHI tags).
#[derive(Debug, Clone, Default)]
pub struct CheckFiles {
    /// Baseline file.
    pub baseline: Option<PathBuf>,
    /// Waiver file.
    pub waivers: Option<PathBuf>,
    /// Attestation file.
    pub attestations: Option<PathBuf>,
    /// Tags that mark PHI, by tag key (an empty list accepts any value).
    pub phi_tags: Option<BTreeMap<String, Vec<String>>>,
    /// Directories of custom rules in Rego, added to the baseline.
    pub rules_dirs: Vec<PathBuf>,
}

/// What the checker needs besides the snapshot, loaded and validated.
#[derive(Debug)]
pub struct CheckInputs {
    /// The baseline.
    pub baseline: Baseline,
    /// Reviewed waivers.
    pub waivers: Option<Waivers>,
    /// Attestations of the manual controls.
    pub attestations: Option<Attestations>,
    /// Which resources hold PHI.
    pub phi: PhiScope,
}

impl CheckInputs {
    /// Reads and validates every file named (errors name the file and line).
    pub fn load(files: &CheckFiles) -> Result<Self, ScanError> {
        let baseline = load_baseline(files.baseline.as_deref(), &files.rules_dirs)?;
        let waivers = match &files.waivers {
            // Against the baseline, so a waiver may name a custom rule.
            Some(p) => Some(Waivers::from_toml_for(
                &p.display().to_string(),
                &read(p, "waivers")?,
                &baseline,
            )?),
            None => None,
        };
        let attestations = match &files.attestations {
            Some(p) => Some(Attestations::from_toml(
                &p.display().to_string(),
                &read(p, "attestations")?,
                &baseline,
            )?),
            None => None,
        };
        let phi = match &files.phi_tags {
            Some(tags) => PhiScope::new(tags.clone()).map_err(ScanError::PhiTags)?,
            None => PhiScope::default(),
        };
        Ok(Self {
            baseline,
            waivers,
            attestations,
            phi,
        })
    }
}

/// Loads the baseline at `path`, or the shipped HIPAA baseline, with the custom rules of
/// `rules_dirs` added (each cited from that baseline). Custom rules are loaded once per
/// call and their metadata lives as long as the process: call it once per process, as
/// `posture scan` and the daemon do.
pub fn load_baseline(path: Option<&Path>, rules_dirs: &[PathBuf]) -> Result<Baseline, ScanError> {
    let mut baseline = match path {
        Some(path) => Baseline::from_toml(&path.display().to_string(), &read(path, "baseline")?)?,
        None => Baseline::hipaa()?,
    };
    if !rules_dirs.is_empty() {
        // A rule whose policy does not compile joins as a rule that answers `error` naming
        // the cause: a bad rule never stops a scan. Only a rule without valid metadata (no
        // id or subject to put the error on) stops the start.
        let (set, warnings) = posture_rego::load_lenient(rules_dirs).map_err(|diagnostics| {
            ScanError::CustomRules(diagnostics.iter().map(ToString::to_string).collect())
        })?;
        for w in &warnings {
            tracing::warn!(
                "custom rule does not compile; its findings are `error` until it is fixed: {w}"
            );
        }
        set.add_to(&mut baseline).map_err(|errors| {
            ScanError::CustomRules(errors.iter().map(ToString::to_string).collect())
        })?;
    }
    Ok(baseline)
}

fn read(path: &Path, what: &'static str) -> Result<String, ScanError> {
    std::fs::read_to_string(path).map_err(|error| ScanError::ReadInput {
        what,
        path: path.to_owned(),
        error,
    })
}
