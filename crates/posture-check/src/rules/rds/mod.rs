//! RDS rules.

use crate::Rule;

/// The RDS rules.
pub const RULES: &[&dyn Rule] = &[];
