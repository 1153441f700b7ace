//! EC2 rules.

use crate::Rule;

/// The EC2 rules.
pub const RULES: &[&dyn Rule] = &[];
