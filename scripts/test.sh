#!/usr/bin/env bash
# Runs Posture's whole test suite: unit tests of every crate and the end-to-end tests of the
# real binary against moto's server (installed, pinned, by scripts/install-moto.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

POSTURE_MOTO_SERVER="$(./scripts/install-moto.sh | tail -n 1)"
export POSTURE_MOTO_SERVER
./scripts/install-postgres.sh
# The evidence report's browser test opens the HTML report in headless Chromium.
./scripts/install-chromium.sh
# The end-to-end seed makes throwaway TLS certificates for ACM with the openssl command.
command -v openssl >/dev/null || {
  echo "installing openssl from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends openssl >/dev/null
}

# deploy/: CloudFormation, Terraform, Kubernetes and the Dockerfile through their validators.
./scripts/check-deploy.sh

# Benchmarks are separate programs (see docs/performance.md); here they are only built, in
# the dev profile so the SDK build is shared, to keep them compiling.
cargo build --locked --workspace --benches --profile dev
cargo test --locked --workspace --lib --bins --tests
