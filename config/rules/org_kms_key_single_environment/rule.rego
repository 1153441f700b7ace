# A customer-managed key carries the environment tag (params.tag_key), and every EBS volume and
# RDS DB instance encrypted with it that states an environment states the key's.
package posture.rules.org_kms_key_single_environment

import data.posture.lib

tag_key := input.params.tag_key

results contains verdict(k) if some k in input.subjects

# The resources encrypted with key `k` (kms_key_id is the key's ARN, or its id).
users(k) := [u |
	some kind in ["aws_ec2_volume", "aws_rds_db_instance"]
	some u in input.resources[kind]
	id := u.body.config.kms_key_id
	id in {k.arn, k.body.config.key_id}
]

env_of(u) := lib.tags(u)[tag_key]

# Users whose environment differs from `env`, as ARN -> their environment.
others(k, env) := {u.arn: e | some u in users(k); e := env_of(u); e != env}

untagged(k) := sort([u.arn | some u in users(k); not lib.tags_unknown(u); not env_of(u)])

tags_unknown(k) := sort([u.arn | some u in users(k); lib.tags_unknown(u)])

verdict(k) := lib.result(k, "error", lib.why_unavailable(k.body.config.metadata), {}) if {
	lib.unavailable(k.body.config.metadata)
} else := lib.result(k, "not_applicable", "an AWS managed key: its tags and use are AWS's", {"key_manager": "AWS"}) if {
	lib.value(k.body.config.metadata).key_manager == "AWS"
} else := lib.result(k, "error", "the key's tags could not be read", {"tags": k.tags.value}) if {
	lib.tags_unknown(k)
} else := lib.result(k, "fail", sprintf("the key has no %s tag", [tag_key]), {"tag_key": tag_key}) if {
	not lib.tags(k)[tag_key]
} else := lib.result(
	k, "fail",
	sprintf("tagged %s=%s but used by resources of another environment: %s", [tag_key, env, concat(", ", sort(object.keys(others(k, env))))]),
	{"environment": env, "other_environments": others(k, env)},
) if {
	env := lib.tags(k)[tag_key]
	count(others(k, env)) > 0
} else := lib.result(
	k, "error",
	sprintf("the tags of %s could not be read, so the environments using the key are not known", [concat(", ", tags_unknown(k))]),
	{"tags_unknown": tags_unknown(k)},
) if {
	count(tags_unknown(k)) > 0
} else := lib.result(
	k, "pass",
	sprintf("used only in environment %s", [env]),
	{"environment": env, "users": sort([u.arn | some u in users(k); env_of(u) == env]), "untagged_users": untagged(k)},
) if {
	env := lib.tags(k)[tag_key]
}
