#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries are installed: the store suite starts a throwaway
# cluster of its own on a free loopback port (crates/posture-store/tests/support). Pinned to
# the major version Debian 12 ships; the tests look in /usr/lib/postgresql/*/bin.
set -euo pipefail

PG_MAJOR=15
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "PostgreSQL server binaries are missing; install postgresql-$PG_MAJOR (as root: apt-get install postgresql-$PG_MAJOR)" >&2
  exit 1
fi
echo "installing postgresql-$PG_MAJOR from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "postgresql-$PG_MAJOR" >/dev/null
# The package starts a cluster of its own; the tests do not use it.
if command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster "$PG_MAJOR" main stop 2>/dev/null || true
fi
