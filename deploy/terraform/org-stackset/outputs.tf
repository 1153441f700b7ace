output "stack_set_id" {
  description = "The stack set."
  value       = aws_cloudformation_stack_set.posture_audit.stack_set_id
}
