output "role_arn" {
  description = "The scanner role: the principal the member roles trust; the IRSA annotation or the ECS task role."
  value       = aws_iam_role.scanner.arn
}
