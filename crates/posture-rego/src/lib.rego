# Helpers for custom rules: `import data.posture.lib`.
#
# Resources are the model's JSON: `tags` and many body fields are observed values,
# {"state": "collected", "value": ...}, {"state": "absent"} or
# {"state": "unavailable", "value": {"kind", "operation", "code", "message"}}.
package posture.lib

# The resource's collected tags; {} when it has none. Undefined when they could not be
# collected: test `tags_unknown(r)` first.
tags(r) := r.tags.value if r.tags.state == "collected"

tags(r) := {} if r.tags.state == "absent"

tags_unknown(r) if r.tags.state == "unavailable"

# The value of an observed field, undefined unless it was collected.
value(o) := o.value if o.state == "collected"

absent(o) if o.state == "absent"

unavailable(o) if o.state == "unavailable"

# A one-line description of why an observed field could not be collected.
why_unavailable(o) := sprintf("%s failed: %s", [o.value.operation, o.value.message]) if o.state == "unavailable"

# The body (the kind's own fields) of a resource.
config(r) := r.body.config

# A result, as the rule's `results` holds them.
result(r, status, reason, evidence) := {
	"arn": r.arn,
	"status": status,
	"reason": reason,
	"evidence": evidence,
}
