# A trail's S3 bucket is a bucket of the log-archive account (params.log_archive_account).
# S3 bucket ARNs carry no account: the bucket is found by name among the buckets of every
# scanned account (input.all_accounts), so the log-archive account must be in the scan.
package posture.rules.org_trail_bucket_in_log_archive

import data.posture.lib

archive := input.params.log_archive_account

# Bucket name -> the account it is in.
bucket_account := {b.body.config.name: b.account | some b in input.all_accounts.aws_s3_bucket}

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
	bucket_account[name] == archive
} else := lib.result(
	t, "fail",
	sprintf("%s is in account %s, not in the log-archive account %s", [name, bucket_account[name], archive]),
	{"bucket": name, "bucket_account": bucket_account[name], "log_archive_account": archive},
) if {
	name := t.body.config.s3_bucket_name
	bucket_account[name]
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
