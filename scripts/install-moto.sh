#!/usr/bin/env bash
# Installs the pinned moto server (the local AWS API emulator the end-to-end tests and the
# demo scan use) and the Prometheus text parser the daemon's test uses into a private virtualenv, and prints the path of its `moto_server`.
# Idempotent: an existing install of the pinned version is reused.
set -euo pipefail

MOTO_VERSION="5.2.5"
tools_dir="${POSTURE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/posture/tools}"
venv="$tools_dir/moto-$MOTO_VERSION"

if [[ ! -x "$venv/bin/moto_server" ]]; then
  echo "installing moto[server]==$MOTO_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
fi
# The Prometheus project's own text-format parser, which the daemon's end-to-end test reads
# /metrics with (python in the same virtualenv as moto_server).
PROMETHEUS_CLIENT_VERSION="0.21.1"
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('prometheus-client') != '$PROMETHEUS_CLIENT_VERSION')" 2>/dev/null; then
  echo "installing prometheus-client==$PROMETHEUS_CLIENT_VERSION into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "prometheus-client==$PROMETHEUS_CLIENT_VERSION" >&2
fi
echo "$venv/bin/moto_server"
