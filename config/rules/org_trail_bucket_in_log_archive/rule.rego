# A trail's S3 bucket is a bucket of the log-archive account (params.log_archive_account).
# S3 bucket ARNs carry no account: the bucket is looked up by its ARN (arn:aws:s3:::<name>)
# among the buckets of every scanned account (input.all_accounts, keyed by ARN), so the
# log-archive account must be in the scan.
package posture.rules.org_trail_bucket_in_log_archive

import data.posture.lib

archive := input.params.log_archive_account

# The account of trail `t`'s bucket `name`, undefined when no scanned account has it: one
# lookup by ARN (arn:<the trail's partition>:s3:::<name>), not a scan of every bucket.
bucket_account(t, name) := input.all_accounts.aws_s3_bucket[sprintf("arn:%s:s3:::%s", [split(t.arn, ":")[1], name])].account

# Only reached for a trail whose bucket is in no scanned account.
archive_scanned if {
	some b in input.all_accounts.aws_s3_bucket
	b.account == archive
}

results contains verdict(t) if some t in input.subjects

verdict(t) := lib.result(t, "not_applicable", "the trail delivers to no S3 bucket", {"bucket": null}) if {
	object.get(t.body.config, "s3_bucket_name", null) == null
} else := lib.result(
	t, "pass",
	sprintf("%s is in the log-archive account %s", [name, archive]),
	{"bucket": name, "bucket_account": archive},
) if {
	name := t.body.config.s3_bucket_name
	bucket_account(t, name) == archive
} else := lib.result(
	t, "fail",
	sprintf("%s is in account %s, not in the log-archive account %s", [name, bucket_account(t, name), archive]),
	{"bucket": name, "bucket_account": bucket_account(t, name), "log_archive_account": archive},
) if {
	name := t.body.config.s3_bucket_name
	bucket_account(t, name)
} else := lib.result(
	t, "fail",
	sprintf("%s is not a bucket of the log-archive account %s (nor of any scanned account)", [name, archive]),
	{"bucket": name, "bucket_account": null, "log_archive_account": archive},
) if {
	name := t.body.config.s3_bucket_name
	archive_scanned
} else := lib.result(
	t, "error",
	sprintf("the log-archive account %s is not in this scan, so where %s is cannot be told", [archive, t.body.config.s3_bucket_name]),
	{"bucket": t.body.config.s3_bucket_name, "log_archive_account": archive},
)
