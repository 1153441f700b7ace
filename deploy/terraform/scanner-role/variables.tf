variable "role_name" {
  description = "The scanner role's name; the member roles trust it by name."
  type        = string
  default     = "posture-scanner"
}

variable "member_role_name" {
  description = "The read-only role in every member account (accounts.role_name)."
  type        = string
  default     = "PostureAudit"
}

variable "oidc_provider_arn" {
  description = "On EKS (IRSA): the cluster's OIDC provider ARN. Null: trust trusted_services instead."
  type        = string
  default     = null
}

variable "oidc_provider_host" {
  description = "On EKS: the provider's host and path, oidc.eks.REGION.amazonaws.com/id/ID."
  type        = string
  default     = null
}

variable "service_account" {
  description = "On EKS: NAMESPACE:NAME of the service account the daemon runs as (deploy/kubernetes)."
  type        = string
  default     = "posture:posture"
}

variable "trusted_services" {
  description = "Without IRSA: the AWS services whose workloads may assume the role."
  type        = list(string)
  default     = ["ecs-tasks.amazonaws.com"]
}

variable "tags" {
  description = "Tags on the role and the policies."
  type        = map(string)
  default     = {}
}
