# A PHI bucket carries a provenance tag (one of params.tag_keys, non-empty), naming its stack.
# The example checks buckets; copy it with another subject for other kinds.
package posture.rules.org_phi_bucket_iac_provenance

import data.posture.lib

results contains verdict(r) if some r in input.subjects

# The provenance tag keys the resource carries with a value, in params order.
present(r) := [key |
	some key in input.params.tag_keys
	trim_space(lib.tags(r)[key]) != ""
]

verdict(r) := lib.result(
	r, "pass",
	sprintf("created by stack %s (tag %s)", [stack, key]),
	{"tag_key": key, "stack": stack},
) if {
	key := present(r)[0]
	stack := lib.tags(r)[key]
} else := lib.result(
	r, "fail",
	"no infrastructure-as-code provenance tag: created by hand?",
	{"checked_tag_keys": input.params.tag_keys, "tags": lib.tags(r)},
)
