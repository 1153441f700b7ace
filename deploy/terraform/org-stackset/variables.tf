variable "security_account_id" {
  description = "The account the scanner runs in."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.security_account_id))
    error_message = "An AWS account id is 12 digits."
  }
}

variable "organizational_unit_ids" {
  description = "The units (or the root, r-xxxx) whose accounts get the role."
  type        = list(string)
}

variable "external_id" {
  description = "The external id the scanner presents (accounts.external_id)."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.external_id) >= 16
    error_message = "Use an external id of at least 16 characters."
  }
}

variable "scanner_role_name" {
  description = "The scanner role in the security account, the only principal trusted."
  type        = string
  default     = "posture-scanner"
}

variable "role_name" {
  description = "The role's name in every account (accounts.role_name)."
  type        = string
  default     = "PostureAudit"
}

variable "region" {
  description = "The one region the stack instances are created in (IAM is global)."
  type        = string
  default     = "us-east-1"
}

variable "stack_set_name" {
  description = "The stack set's name."
  type        = string
  default     = "posture-audit-role"
}

variable "call_as" {
  description = "SELF from the management account, DELEGATED_ADMIN from a StackSets delegated administrator."
  type        = string
  default     = "SELF"
}
