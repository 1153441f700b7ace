#!/usr/bin/env bash
# Runs Posture's whole test suite: unit tests of every crate and the end-to-end tests of the
# real binary against moto's server (installed, pinned, by scripts/install-moto.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

POSTURE_MOTO_SERVER="$(./scripts/install-moto.sh | tail -n 1)"
export POSTURE_MOTO_SERVER
./scripts/install-postgres.sh

cargo test --locked --workspace --all-targets
