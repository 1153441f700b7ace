#!/usr/bin/env bash
# Posture's main job: a HIPAA scan.
#
# With AWS credentials configured (environment, profile, SSO, instance role), it scans that
# account in the profile's region (POSTURE_AWS_REGIONS=us-east-1,us-west-2 for more).
# Without any, it starts a local AWS emulator (moto, pinned, through scripts/moto_shim.py,
# which corrects the XML roots of a few answers the SDK for Rust rejects), seeds a mixed demo
# account in two regions, scans that, and stops the emulator. POSTURE_DEMO=1 forces the demo.
# The demo's history is kept in $POSTURE_DEMO_STORE (default: demo.sqlite in the user's data
# directory, beside the posture.sqlite real scans use), so `posture snapshots`, `diff` and
# `verify` work on it afterwards; the script ends by printing those commands.
#
# `./scripts/demo.sh daemon [OPTIONS]` runs `posture daemon` instead: against the account of
# the configured credentials, or against the seeded demo account on the emulator, scanning
# every 5 minutes, with the HTTP API on 127.0.0.1:8750 (POSTURE_API_LISTEN sets another
# address) and a bearer token made for the session (POSTURE_API_TOKEN to choose one); it
# prints the URLs and the token, and runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked -p posture -p posture-e2e --bin posture --bin posture-seed
target="${CARGO_TARGET_DIR:-target}/debug"

have_credentials() {
  [[ -n "${AWS_ACCESS_KEY_ID:-}" || -n "${AWS_PROFILE:-}" || -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" \
     || -n "${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" || -n "${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" \
     || -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" || -f "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ]]
}

mode=scan
if [[ "${1:-}" == "daemon" ]]; then
  mode=daemon
  shift
fi

if [[ "${POSTURE_DEMO:-0}" != "1" ]] && have_credentials; then
  exec "$target/posture" "$mode" "$@"
fi

echo "no AWS credentials found: scanning a seeded demo account on a local emulator" >&2
store="${POSTURE_DEMO_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/posture/demo.sqlite}"
mkdir -p "$(dirname "$store")"
moto_server="$(./scripts/install-moto.sh | tail -n 1)"
# The shim runs with moto's own Python: the interpreter on moto_server's #! line when that
# names a Python (pip writes a /bin/sh trampoline for very long paths), else the python3
# beside it.
python=()
read -r -a python < <(sed -n '1s/^#!//p' "$moto_server") || true
if [[ ! " ${python[*]##*/} " =~ \ python ]]; then
  python=("$(dirname "$moto_server")/python3")
  [[ -x "${python[0]}" ]] || python=(python3)
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
workdir="$(mktemp -d)"
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_EC2_LOAD_DEFAULT_AMIS=false \
  "${python[@]}" scripts/moto_shim.py -H 127.0.0.1 -p "$port" >"$workdir/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$workdir"' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "the emulator did not start:" >&2; cat "$workdir/moto.log" >&2; exit 2
  fi
  sleep 0.2
done

# Demo credentials, and empty shared config files (so the SDK neither reads the user's nor
# warns about a missing one).
: >"$workdir/aws-config"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$workdir/aws-config" AWS_SHARED_CREDENTIALS_FILE="$workdir/aws-config"
endpoint="http://127.0.0.1:$port"
# The seed's summary goes to stderr: stdout is the scan's (JSON with --format json).
"$target/posture-seed" --endpoint-url "$endpoint" >&2

if [[ "$mode" == "daemon" ]]; then
  token="${POSTURE_API_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}"
  listen="${POSTURE_API_LISTEN:-127.0.0.1:8750}"
  cat >&2 <<DAEMON

Starting the daemon on the demo account (a scan every 5 minutes; Ctrl-C stops it).
  API token:  $token
  health:     curl http://$listen/healthz
  metrics:    curl http://$listen/metrics
  snapshots:  curl -H "Authorization: Bearer $token" http://$listen/api/v1/snapshots
  failures:   curl -H "Authorization: Bearer $token" "http://$listen/api/v1/findings?status=fail&severity=high,critical"
  scan now:   curl -X POST -H "Authorization: Bearer $token" http://$listen/api/v1/scans
  API schema: curl -H "Authorization: Bearer $token" http://$listen/api/v1/openapi.json

DAEMON
  status=0
  POSTURE_API_TOKEN="$token" "$target/posture" daemon --endpoint-url "$endpoint" \
    --region us-east-1 --region us-west-2 --store "$store" --interval 5m --listen "$listen" \
    "$@" || status=$?
  exit "$status"
fi

status=0
"$target/posture" scan --endpoint-url "$endpoint" --region us-east-1 --region us-west-2 \
  --store "$store" "$@" || status=$?
# Exit 1 means "failures found", which is the point of a demo account.
if [[ $status -eq 0 || $status -eq 1 ]]; then
  cat >&2 <<NEXT

The demo's history is kept in $store (POSTURE_DEMO_STORE sets another place). Try next:
  $target/posture snapshots --store $store
  $target/posture verify --store $store
  ./scripts/demo.sh                    # a second snapshot of a freshly seeded demo account
  $target/posture diff --store $store   # after that: what changed between the two
  $target/posture scan --help          # against your own account: configure AWS credentials
NEXT
  exit 0
fi
exit "$status"
