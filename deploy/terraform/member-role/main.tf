# Posture's read-only audit role in one member account, trusting only the security
# account's scanner role, with an external id. The permissions are the generated policy in
# deploy/iam (`posture iam-policy`), read as is: this module adds no action of its own.
# For every account of an organization at once, see ../org-stackset.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

data "aws_partition" "current" {}

locals {
  scanner_role_arn = "arn:${data.aws_partition.current.partition}:iam::${var.security_account_id}:role/${var.scanner_role_name}"
  # Generated from the table of collectors; `posture iam-policy --services ...` prints a
  # narrower one, which policy_json takes instead.
  read_only_policy = coalesce(var.policy_json, file("${path.module}/../../iam/posture-read-only-policy.json"))
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "PostureFromTheSecurityAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [local.scanner_role_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.external_id]
    }
  }
}

resource "aws_iam_role" "audit" {
  name                 = var.role_name
  description          = "Posture: read-only HIPAA posture scan"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_policy" "read_only" {
  name        = "${var.role_name}ReadOnly"
  description = "Posture: exactly the read calls its collectors make (generated)"
  policy      = local.read_only_policy
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "read_only" {
  role       = aws_iam_role.audit.name
  policy_arn = aws_iam_policy.read_only.arn
}
