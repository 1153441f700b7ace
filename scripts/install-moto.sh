#!/usr/bin/env bash
# Installs the pinned moto server (the local AWS API emulator the end-to-end tests and the
# demo scan use) into a private virtualenv, and prints the path of its `moto_server`.
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
echo "$venv/bin/moto_server"
