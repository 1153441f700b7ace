output "role_arn" {
  description = "The audit role, as accounts.role_name names it."
  value       = aws_iam_role.audit.arn
}
