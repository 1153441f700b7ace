//! Security Hub rules.

use crate::Rule;

mod securityhub_enabled;

/// The Security Hub rules.
pub const RULES: &[&dyn Rule] = &[&securityhub_enabled::SecurityhubEnabled];
