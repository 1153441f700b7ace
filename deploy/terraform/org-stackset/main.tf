# The read-only audit role in every account of an organization (or of some organizational
# units), as a service-managed CloudFormation StackSet of the generated template
# deploy/cloudformation/posture-member-role.json (`posture iam-policy --format
# cloudformation`). Accounts that join the units later get the role automatically
# (auto_deployment); accounts that leave lose it. Apply from the management account or a
# StackSets delegated administrator, with trusted access for StackSets enabled.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

resource "aws_cloudformation_stack_set" "posture_audit" {
  name             = var.stack_set_name
  description      = "Posture's read-only audit role in every member account"
  permission_model = "SERVICE_MANAGED"
  call_as          = var.call_as
  capabilities     = ["CAPABILITY_NAMED_IAM"]
  template_body    = file("${path.module}/../../cloudformation/posture-member-role.json")

  parameters = {
    SecurityAccountId = var.security_account_id
    ScannerRoleName   = var.scanner_role_name
    ExternalId        = var.external_id
    RoleName          = var.role_name
  }

  auto_deployment {
    enabled                          = true
    retain_stacks_on_account_removal = false
  }

  operation_preferences {
    failure_tolerance_percentage = 10
    max_concurrent_percentage    = 25
    region_concurrency_type      = "SEQUENTIAL"
  }

  lifecycle {
    # A service-managed stack set reports an administration role AWS chose; not ours to change.
    ignore_changes = [administration_role_arn]
  }
}

resource "aws_cloudformation_stack_set_instance" "posture_audit" {
  stack_set_name = aws_cloudformation_stack_set.posture_audit.name
  call_as        = var.call_as
  region         = var.region
  deployment_targets {
    organizational_unit_ids = var.organizational_unit_ids
  }
}
