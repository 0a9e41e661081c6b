#!/usr/bin/env bash
# npm run deploy: build the functions, deploy them with Serverless Devs (s.yaml), then cap the
# rotate function at the reserved concurrency s.yaml declares for it (one instance, so that
# rotations of the same targets queue instead of racing; more only in fleet mode).
#
# Needs: `s` (npm i -g @serverless-devs/s) with credentials, and the settings listed at the top
# of s.yaml in the environment. S_ACCESS picks the `s config` alias (default: default).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

S_ACCESS="${S_ACCESS:-default}"
REQUIRED_SETTINGS=(ROTATION_ROLE_ARN ROTATION_LOG_PROJECT ROTATION_LOG_STORE ROTATION_FAILURE_DESTINATION)
# What s prints when it cannot reach its component registry or the cloud API.
NETWORK_ERRORS='ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|getaddrinfo|network'

WORK_DIR="$(mktemp -d)"
trap 'rm -rf "$WORK_DIR"' EXIT

# The first line says what is wrong, the following ones what to do.
fail() {
  printf 'deploy: %s\n' "$1" >&2
  shift
  (($# == 0)) || printf '  %s\n' "$@" >&2
  exit 1
}

step() {
  printf '\n==> %s\n' "$*"
}

require_s() {
  command -v s >/dev/null 2>&1 ||
    fail 'Serverless Devs (the `s` command) is not installed.' \
      'Install it with: npm i -g @serverless-devs/s' \
      'then run npm run deploy again.'
}

require_settings() {
  local missing=() name
  for name in "${REQUIRED_SETTINGS[@]}"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  [[ -n "${ROTATION_TARGETS:-}${ROTATION_TAG:-}" ]] || missing+=("ROTATION_TARGETS or ROTATION_TAG")
  ((${#missing[@]} == 0)) ||
    fail "missing settings: ${missing[*]}" \
      'Export them before deploying; the top of s.yaml says what each one is, for example:' \
      '  export ROTATION_ROLE_ARN=acs:ram::<account-id>:role/<role-name>'
  [[ "$ROTATION_ROLE_ARN" =~ ^acs:ram::[0-9]+:role/.+ ]] ||
    fail 'ROTATION_ROLE_ARN must look like acs:ram::<account-id>:role/<role-name>.'
}

# Credentials from the environment, or an `s config` alias. The alias's output holds key
# material, so it is only searched, never shown.
require_credentials() {
  [[ -n "${ALIBABA_CLOUD_ACCESS_KEY_ID:-}" && -n "${ALIBABA_CLOUD_ACCESS_KEY_SECRET:-}" ]] && return
  if s config get -a "$S_ACCESS" >"$WORK_DIR/access" 2>&1 && grep -qi 'accesskey' "$WORK_DIR/access"; then
    return
  fi
  fail "Serverless Devs has no credentials for the access alias \"$S_ACCESS\"." \
    "Add them with: s config add -a $S_ACCESS   (it asks for the AccessKey ID and secret)," \
    'or export ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET.'
}

# Runs `s`, showing its output, and explains a failure it can recognise.
run_s() {
  local log="$WORK_DIR/s.log"
  if s "$@" -a "$S_ACCESS" 2>&1 | tee "$log"; then
    return
  fi
  if grep -Eqi "$NETWORK_ERRORS" "$log"; then
    fail "s $1 could not reach the network." \
      'Serverless Devs downloads its fc3 component from its registry on first use, then calls' \
      'the Function Compute API. Check the connection and any proxy (HTTPS_PROXY), then run' \
      'npm run deploy again.'
  fi
  fail "s $* failed; see its output above."
}

# The rotate function's concurrencyConfig.reservedConcurrency in s.yaml.
rotate_reserved_concurrency() {
  local value
  value="$(awk '/^  rotate:$/ { inside = 1; next }
    /^  [A-Za-z0-9_-]+:$/ { inside = 0 }
    inside && /^ +reservedConcurrency:/ { print $2; exit }' s.yaml)"
  [[ "$value" =~ ^[1-9][0-9]*$ ]] ||
    fail 's.yaml declares no reserved concurrency for the rotate function.' \
      'Set resources.rotate.props.concurrencyConfig.reservedConcurrency (1 unless in fleet mode).'
  printf '%s' "$value"
}

require_s
require_settings
require_credentials
RESERVED_CONCURRENCY="$(rotate_reserved_concurrency)"

step 'npm run build'
npm run build
compgen -G 'dist/rotate/index.*js' >/dev/null ||
  fail 'the build produced no dist/rotate/index.js (s.yaml deploys ./dist/rotate with handler index.handler).'

step 's deploy'
run_s deploy -y

step "s rotate concurrency put --reserved-concurrency $RESERVED_CONCURRENCY"
run_s rotate concurrency put --reserved-concurrency "$RESERVED_CONCURRENCY"

printf '\nDeployed. Try it without changing anything: s rotate invoke --event-file events/manual-dry-run.json\n'
