#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed: the evidence report's browser test
# (crates/posture-report/tests/chromium.rs) opens the HTML report in headless Chromium.
# Pinned to Debian 12's package and to the major version the test was written against, or
# newer (Debian replaces Chromium's security releases in place, so an exact version would
# stop installing); quiet when it is already there.
set -euo pipefail

CHROMIUM_MIN_MAJOR=156

major() { chromium --version 2>/dev/null | sed -E 's/[^0-9]*([0-9]+)\..*/\1/'; }

if command -v chromium >/dev/null && [[ "$(major)" -ge $CHROMIUM_MIN_MAJOR ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "chromium $CHROMIUM_MIN_MAJOR or newer is missing; install it (as root: apt-get install chromium)" >&2
  exit 1
fi
echo "installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
if [[ "$(major)" -lt $CHROMIUM_MIN_MAJOR ]]; then
  echo "chromium $(major) is older than $CHROMIUM_MIN_MAJOR" >&2
  exit 1
fi
