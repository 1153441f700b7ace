//! CLOUDTRAIL rules.

use crate::Rule;

/// The CLOUDTRAIL rules.
pub const RULES: &[&dyn Rule] = &[];
