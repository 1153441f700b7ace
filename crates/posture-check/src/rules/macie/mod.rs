//! Amazon Macie rules.

use crate::Rule;

mod s3_phi_discovery_macie;

/// The Macie rules.
pub const RULES: &[&dyn Rule] = &[&s3_phi_discovery_macie::S3PhiDiscoveryMacie];
