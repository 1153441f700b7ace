variable "security_account_id" {
  description = "The account the scanner runs in."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.security_account_id))
    error_message = "An AWS account id is 12 digits."
  }
}

variable "scanner_role_name" {
  description = "The scanner role in the security account: the only principal trusted."
  type        = string
  default     = "posture-scanner"
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

variable "role_name" {
  description = "The role's name (accounts.role_name)."
  type        = string
  default     = "PostureAudit"
}

variable "policy_json" {
  description = "A narrower generated policy (`posture iam-policy --services ...`); default: deploy/iam/posture-read-only-policy.json."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on the role and the policy."
  type        = map(string)
  default     = {}
}
