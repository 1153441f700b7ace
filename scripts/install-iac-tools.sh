#!/usr/bin/env bash
# Installs the pinned validators of deploy/ (CloudFormation's cfn-lint and checkov, the
# static analyser for CloudFormation, Terraform, Kubernetes and Dockerfiles) into a private
# virtualenv, and prints the virtualenv's bin directory.
# Idempotent: an existing install of the pinned versions is reused.
set -euo pipefail

CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"
tools_dir="${POSTURE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/posture/tools}"
venv="$tools_dir/iac-checkov-$CHECKOV_VERSION-cfn-lint-$CFN_LINT_VERSION"

if [[ ! -x "$venv/bin/checkov" || ! -x "$venv/bin/cfn-lint" ]]; then
  echo "installing checkov==$CHECKOV_VERSION and cfn-lint==$CFN_LINT_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "checkov==$CHECKOV_VERSION" "cfn-lint==$CFN_LINT_VERSION" >&2
fi
echo "$venv/bin"
