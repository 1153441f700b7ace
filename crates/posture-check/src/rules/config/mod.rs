//! AWS Config rules.

use crate::Rule;

mod config_recorder_all_regions;

/// The AWS Config rules.
pub const RULES: &[&dyn Rule] = &[&config_recorder_all_regions::ConfigRecorderAllRegions];
