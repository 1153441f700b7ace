//! IAM rules.

use crate::Rule;

/// The IAM rules.
pub const RULES: &[&dyn Rule] = &[];
