//! S3 rules.

use crate::Rule;

mod s3_bucket_default_encryption;

/// The S3 rules.
pub const RULES: &[&dyn Rule] = &[&s3_bucket_default_encryption::S3BucketDefaultEncryption];
