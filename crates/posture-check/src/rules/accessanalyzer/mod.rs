//! IAM Access Analyzer rules.

use crate::Rule;

mod iam_access_analyzer_enabled;

/// The Access Analyzer rules.
pub const RULES: &[&dyn Rule] = &[&iam_access_analyzer_enabled::IamAccessAnalyzerEnabled];
