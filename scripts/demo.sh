#!/usr/bin/env bash
# Posture's main job: a HIPAA scan.
#
# With AWS credentials configured (environment, profile, SSO, instance role), it scans that
# account in the profile's region (POSTURE_AWS_REGIONS=us-east-1,us-west-2 for more).
# Without any, it starts a local AWS emulator (moto, pinned), seeds a mixed demo account in
# two regions, scans that, and stops the emulator. POSTURE_DEMO=1 forces the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked -p posture -p posture-e2e --bin posture --bin posture-seed
target="${CARGO_TARGET_DIR:-target}/debug"

have_credentials() {
  [[ -n "${AWS_ACCESS_KEY_ID:-}" || -n "${AWS_PROFILE:-}" || -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" \
     || -n "${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" || -n "${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" \
     || -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" || -f "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ]]
}

if [[ "${POSTURE_DEMO:-0}" != "1" ]] && have_credentials; then
  exec "$target/posture" scan "$@"
fi

echo "no AWS credentials found: scanning a seeded demo account on a local emulator" >&2
moto_server="$(./scripts/install-moto.sh | tail -n 1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
workdir="$(mktemp -d)"
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_EC2_LOAD_DEFAULT_AMIS=false \
  "$moto_server" -H 127.0.0.1 -p "$port" >"$workdir/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$workdir"' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
  sleep 0.2
done

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$workdir/none" AWS_SHARED_CREDENTIALS_FILE="$workdir/none"
endpoint="http://127.0.0.1:$port"
"$target/posture-seed" --endpoint-url "$endpoint"
status=0
"$target/posture" scan --endpoint-url "$endpoint" --region us-east-1 --region us-west-2 \
  --store "$workdir/posture.sqlite" "$@" || status=$?
# Exit 1 means "failures found", which is the point of a demo account.
if [[ $status -eq 1 ]]; then exit 0; fi
exit "$status"
