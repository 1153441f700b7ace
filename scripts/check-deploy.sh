#!/usr/bin/env bash
# Validates everything under deploy/ with pinned tools (scripts/install-iac-tools.sh):
# cfn-lint on the CloudFormation templates, the HCL parser checkov uses on the Terraform
# modules (no Terraform binary installs from the registries this project uses), and
# checkov's CloudFormation, Terraform, Kubernetes and Dockerfile checks. A check may only be
# skipped inline, with its reason (docs/deploy.md lists them); a skip without a reason, a
# failed check or a file checkov cannot parse fails. Quiet on success.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="$(./scripts/install-iac-tools.sh | tail -n 1)"
log="$(mktemp)"
report="$(mktemp)"
trap 'rm -f "$log" "$report"' EXIT

run() {
  if ! "$@" >"$log" 2>&1; then
    echo "check-deploy: FAILED: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

run "$bin/cfn-lint" deploy/cloudformation/*.json deploy/ecs/*.yaml

# Terraform and Kubernetes: every file parses (checkov skips files it cannot parse).
run "$bin/python" - <<'PY'
import glob, sys
import hcl2, yaml
bad = []
for path in sorted(glob.glob("deploy/terraform/**/*.tf", recursive=True)):
    try:
        with open(path) as f:
            hcl2.load(f)
    except Exception as e:  # noqa: BLE001 - any parse error is a failure
        bad.append(f"{path}: {e}")
for path in sorted(glob.glob("deploy/kubernetes/**/*.yaml", recursive=True)):
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for d in docs:
            if d.get("kind") == "Kustomization":
                continue
            if not {"apiVersion", "kind", "metadata"} <= d.keys():
                bad.append(f"{path}: a document without apiVersion, kind and metadata")
    except Exception as e:  # noqa: BLE001
        bad.append(f"{path}: {e}")
if bad:
    sys.exit("\n".join(bad))
PY

# systemd units: `systemd-analyze verify`, and the daemon's sandbox must stay at an
# exposure of at most 1.5 (`systemd-analyze security --offline=true`; 1.1 when written).
# verify requires ExecStart's program to exist: the copies run /bin/true instead.
command -v systemd-analyze >/dev/null || {
  echo "installing systemd (for systemd-analyze) from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends systemd >/dev/null
}
units="$(mktemp -d)"
trap 'rm -rf "$log" "$report" "$units"' EXIT
for f in deploy/systemd/*.service deploy/systemd/*.timer; do
  sed 's|^ExecStart=/usr/local/bin/posture |ExecStart=/bin/true |' "$f" >"$units/$(basename "$f")"
done
run systemd-analyze verify "$units"/*.service "$units"/*.timer
run systemd-analyze security --offline=true --threshold=15 "$units/posture-daemon.service"

# checkov: no platform (--skip-download), JSON to read failures, parse errors and skips.
"$bin/checkov" --directory deploy \
  --framework cloudformation terraform kubernetes dockerfile \
  --skip-download --output json >"$report" 2>/dev/null || true
run "$bin/python" - "$report" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    out = json.load(f)
reports = out if isinstance(out, list) else [out]
problems = []
frameworks = set()
for r in reports:
    frameworks.add(r.get("check_type"))
    res = r.get("results", {})
    for c in res.get("failed_checks", []):
        problems.append(f"{r['check_type']}: {c['check_id']} {c['check_name']} "
                        f"on {c['resource']} in {c['file_path']}")
    for c in res.get("skipped_checks", []):
        reason = (c.get("check_result", {}).get("suppress_comment") or "").strip()
        if len(reason) < 10 or reason.lower().startswith("no comment"):
            problems.append(f"{c['check_id']} on {c['resource']} is skipped without a reason")
    for p in r.get("summary", {}).get("parsing_errors", 0) and [r["check_type"]] or []:
        problems.append(f"{p}: checkov could not parse a file")
import os
expected = {"cloudformation", "terraform"}
expected |= {"kubernetes"} if os.path.isdir("deploy/kubernetes") else set()
expected |= {"dockerfile"} if os.path.isdir("deploy/docker") else set()
missing = expected - frameworks
if missing:
    problems.append(f"checkov scanned nothing for {sorted(missing)}")
if problems:
    sys.exit("\n".join(problems))
PY
