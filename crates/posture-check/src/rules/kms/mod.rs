//! KMS rules.

use crate::Rule;

/// The KMS rules.
pub const RULES: &[&dyn Rule] = &[];
