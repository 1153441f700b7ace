//! EC2 Auto Scaling rules.

use crate::Rule;

mod ec2_launch_config_no_public_ip;

/// The Auto Scaling rules.
pub const RULES: &[&dyn Rule] = &[&ec2_launch_config_no_public_ip::Ec2LaunchConfigNoPublicIp];
