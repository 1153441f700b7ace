# Every PHI bucket replicates (an enabled rule) to a bucket of this account in another region,
# one of params.dr_regions when that list is not empty.
package posture.rules.org_phi_bucket_replicated_to_dr_region

import data.posture.lib

# The account's buckets by ARN (replication destinations are bucket ARNs).
buckets := {b.arn: b | some b in input.resources.aws_s3_bucket}

results contains verdict(b) if some b in input.subjects

in_dr_region(bucket, region) if {
	region != bucket.region
	count(input.params.dr_regions) == 0
}

in_dr_region(bucket, region) if {
	region != bucket.region
	region in input.params.dr_regions
}

enabled_destinations(b) := {r.destination_bucket |
	some r in lib.value(b.body.config.replication).rules
	r.status == "Enabled"
}

# Destinations found in the account, with their region.
found(b) := {d: buckets[d].region | some d in enabled_destinations(b); buckets[d]}

# Destinations that are not among the account's buckets (another account's).
unknown(b) := {d | some d in enabled_destinations(b); not buckets[d]}

dr_copies(b) := {d: region | some d, region in found(b); in_dr_region(b, region)}

verdict(b) := lib.result(b, "error", lib.why_unavailable(b.body.config.replication), {"replication": "unavailable"}) if {
	lib.unavailable(b.body.config.replication)
} else := lib.result(b, "fail", "no replication is configured", {"replication": "absent", "source_region": b.region}) if {
	lib.absent(b.body.config.replication)
} else := lib.result(b, "fail", "no replication rule is enabled", {"replication": "disabled", "source_region": b.region}) if {
	count(enabled_destinations(b)) == 0
} else := lib.result(
	b, "pass",
	sprintf("replicates to %s in %s", [d, region]),
	{"destination_bucket": d, "destination_region": region, "source_region": b.region},
) if {
	# The first DR copy by ARN, so that the evidence is the same at every scan.
	d := sort(object.keys(dr_copies(b)))[0]
	region := dr_copies(b)[d]
} else := lib.result(
	b, "error",
	sprintf("the replication destination %s is not a bucket of this account, so its region is not known", [sort(unknown(b))[0]]),
	{"unknown_destinations": sort(unknown(b)), "source_region": b.region},
) if {
	count(unknown(b)) > 0
} else := lib.result(
	b, "fail",
	sprintf("replicates only to %s, none of them in a DR region (%s)", [concat(", ", sort(object.keys(found(b)))), dr_wanted]),
	{"destinations": found(b), "source_region": b.region, "dr_regions": input.params.dr_regions},
)

dr_wanted := concat(", ", input.params.dr_regions) if count(input.params.dr_regions) > 0

else := "a region other than the bucket's"
