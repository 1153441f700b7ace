# Posture's scanner role in the security account: assumes the read-only role in the member
# accounts, lists the organization's accounts, and reads the security account itself. Both
# policies are the generated files of deploy/iam (`posture iam-policy`). It trusts the
# workload that runs Posture: a Kubernetes service account through IRSA, or an AWS service
# (ECS tasks, EC2 instances).

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
  partition = data.aws_partition.current.partition
  # The generated scanner policy names the default member role in the commercial partition.
  scanner_policy = replace(
    file("${path.module}/../../iam/security-account-scanner-policy.json"),
    "arn:aws:iam::*:role/PostureAudit",
    "arn:${local.partition}:iam::*:role/${var.member_role_name}",
  )
  read_only_policy = file("${path.module}/../../iam/posture-read-only-policy.json")
  irsa             = var.oidc_provider_arn != null
}

data "aws_iam_policy_document" "trust" {
  dynamic "statement" {
    for_each = local.irsa ? [1] : []
    content {
      sid     = "PostureOnEks"
      effect  = "Allow"
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = [var.oidc_provider_arn]
      }
      condition {
        test     = "StringEquals"
        variable = "${var.oidc_provider_host}:sub"
        values   = ["system:serviceaccount:${var.service_account}"]
      }
      condition {
        test     = "StringEquals"
        variable = "${var.oidc_provider_host}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }
  dynamic "statement" {
    for_each = local.irsa ? [] : [1]
    content {
      sid     = "PostureRunsHere"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "Service"
        identifiers = var.trusted_services
      }
    }
  }
}

resource "aws_iam_role" "scanner" {
  name                 = var.role_name
  description          = "Posture: the scanner, which assumes the read-only role in member accounts"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_policy" "scanner" {
  name        = "${var.role_name}-assume-and-list"
  description = "Posture: assume the member roles, list the organization's accounts (generated)"
  policy      = local.scanner_policy
  tags        = var.tags
}

resource "aws_iam_policy" "read_only" {
  name        = "${var.role_name}-read-only"
  description = "Posture: exactly the read calls its collectors make, for the security account itself (generated)"
  policy      = local.read_only_policy
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "scanner" {
  role       = aws_iam_role.scanner.name
  policy_arn = aws_iam_policy.scanner.arn
}

resource "aws_iam_role_policy_attachment" "read_only" {
  role       = aws_iam_role.scanner.name
  policy_arn = aws_iam_policy.read_only.arn
}
