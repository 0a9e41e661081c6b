#!/usr/bin/env bash
# npm run deploy: check what Serverless Devs would deploy, build the functions, ship deploy/code/
# in their packages, deploy them with the pinned `s` (node_modules/.bin/s, @serverless-devs/s from
# package.json; no global install), then cap the rotate function at the reserved concurrency s.yaml
# declares for it (one instance, so that rotations of the same targets queue instead of racing).
#
# Needs: npm ci, the settings listed at the top of s.yaml in the environment, and credentials for
# `s` (see require_credentials). Nothing is built or deployed until every check has passed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

S=node_modules/.bin/s
TSX=node_modules/.bin/tsx
S_ACCESS="${S_ACCESS:-default}"
# `s` 3.x reads credentials from the environment only when all three are set (its lib/index.js:
# KEY_PAIR_IMPORTANT); otherwise from the `s config` alias given with -a.
S_ENV_CREDENTIALS=(AccessKeyID AccessKeySecret AccountID)
REQUIRED_SETTINGS=(ROTATION_ROLE_ARN ROTATION_LOG_PROJECT ROTATION_LOG_STORE ROTATION_FAILURE_DESTINATION)
ROLE_ARN='^acs:ram::([0-9]+):role/.+'
PACKAGE_FILES_DIR=deploy/code
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

# The `s` this project pins, installed by npm ci.
require_s() {
  local pinned installed
  pinned="$(node -p "require('./package.json').devDependencies['@serverless-devs/s']")"
  [[ -x "$S" ]] ||
    fail "Serverless Devs (@serverless-devs/s $pinned) is not installed in node_modules." \
      'Run npm ci in the project (it is a devDependency: no global install), then npm run deploy again.'
  installed="$("$S" --version 2>/dev/null | sed -n 's/.*@serverless-devs\/s: \([^,]*\),.*/\1/p')"
  [[ "$installed" == "$pinned" ]] ||
    fail "node_modules holds @serverless-devs/s ${installed:-of an unknown version}, not the pinned $pinned." \
      'Run npm ci to install exactly what package-lock.json names, then npm run deploy again.'
}

require_settings() {
  local missing=() name
  for name in "${REQUIRED_SETTINGS[@]}"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) ||
    fail "missing settings: ${missing[*]}" \
      'Export them before deploying; the top of s.yaml says what each one is, for example:' \
      '  export ROTATION_ROLE_ARN=acs:ram::<account-id>:role/<role-name>'
  [[ "$ROTATION_ROLE_ARN" =~ $ROLE_ARN ]] ||
    fail 'ROTATION_ROLE_ARN must look like acs:ram::<account-id>:role/<role-name>.'
  [[ -z "${DISPATCH_ROLE_ARN:-}" || "$DISPATCH_ROLE_ARN" =~ $ROLE_ARN ]] ||
    fail 'DISPATCH_ROLE_ARN must look like acs:ram::<account-id>:role/<role-name> (or stay empty until fleet mode).'
}

# What `s` will use: the environment's AccessKeyID/AccessKeySecret/AccountID when all three are
# set (whatever S_ACCESS says), else the alias S_ACCESS. `s config get` resolves them the same
# way `s deploy` does; its output holds key material, so it is only searched, never shown.
require_credentials() {
  local present=() missing=() name
  for name in "${S_ENV_CREDENTIALS[@]}"; do
    if [[ -n "${!name+set}" ]]; then present+=("$name"); else missing+=("$name"); fi
  done
  if ((${#present[@]} == ${#S_ENV_CREDENTIALS[@]})); then
    require_environment_credentials
    return
  fi
  ((${#present[@]} == 0)) ||
    fail "${present[*]} set, but not ${missing[*]}: s takes credentials from the environment only when AccessKeyID, AccessKeySecret and AccountID are all set, and would use the alias \"$S_ACCESS\" instead." \
      "Export ${missing[*]} too, or unset ${present[*]} to deploy with the alias."
  "$S" config get -a "$S_ACCESS" >"$WORK_DIR/access" 2>&1 || true
  if ! grep -Eq '^Alias:' "$WORK_DIR/access" || ! grep -q 'AccessKeyID' "$WORK_DIR/access" || ! grep -q 'AccessKeySecret' "$WORK_DIR/access"; then
    local hint=()
    [[ -z "${ALIBABA_CLOUD_ACCESS_KEY_ID:-}" ]] ||
      hint=('(s does not read ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET: those are for npm run invoke.)')
    fail "Serverless Devs has no credentials: no alias \"$S_ACCESS\", and AccessKeyID, AccessKeySecret, AccountID are not in the environment." \
      "Add the alias with: npx s config add -a $S_ACCESS --AccessKeyID <id> --AccessKeySecret <secret> --AccountID <account-id>" \
      '(or without the flags, to be asked), or export AccessKeyID, AccessKeySecret and AccountID, all three.' "${hint[@]}"
  fi
  grep -q 'AccountID' "$WORK_DIR/access" ||
    fail "The alias \"$S_ACCESS\" has no AccountID, which s needs to reach Function Compute." \
      "Add it again with it: npx s config add -a $S_ACCESS -f --AccessKeyID <id> --AccessKeySecret <secret> --AccountID <account-id>"
  printf 'deploy: s will use the credentials of the alias "%s".\n' "$S_ACCESS"
}

require_environment_credentials() {
  local name
  for name in "${S_ENV_CREDENTIALS[@]}"; do
    [[ -n "${!name}" ]] ||
      fail "$name is empty: with AccessKeyID, AccessKeySecret and AccountID all set, s uses them as they are." \
        "Give $name its value, or unset all three to deploy with the alias \"$S_ACCESS\"."
  done
  [[ "$AccountID" =~ ^[0-9]+$ ]] ||
    fail "AccountID must be the numeric id of the account to deploy to, got something else."
  [[ "$ROTATION_ROLE_ARN" =~ $ROLE_ARN ]]
  [[ "${BASH_REMATCH[1]}" == "$AccountID" ]] ||
    fail "ROTATION_ROLE_ARN is a role of account ${BASH_REMATCH[1]}, but s would deploy to AccountID $AccountID." \
      'Deploy with the credentials of the account the role is in, or name a role of that account.'
  printf 'deploy: s will use the credentials in the environment (AccessKeyID, AccessKeySecret, AccountID %s).\n' "$AccountID"
}

# What s deploy would create, checked as Function Compute would (scripts/deploy/preflight.ts).
check_functions() {
  "$TSX" scripts/deploy/preflight.ts s.yaml 2>"$WORK_DIR/preflight" && return
  local problems=()
  mapfile -t problems <"$WORK_DIR/preflight"
  fail 's.yaml, with the settings exported here, would not deploy as it should:' "${problems[@]}"
}

# deploy/code/ (the targets file, a CA certificate, ...) lands in each package as /code/.
ship_package_files() {
  local dir
  [[ -d "$PACKAGE_FILES_DIR" ]] || return 0
  for dir in dist/*/; do
    cp -R "$PACKAGE_FILES_DIR/." "$dir"
  done
  printf 'shipped %s/ in %s\n' "$PACKAGE_FILES_DIR" "$(printf '%s ' dist/*/)"
}

# Runs `s`, showing its output, and explains a failure it can recognise.
run_s() {
  local log="$WORK_DIR/s.log"
  if "$S" "$@" -a "$S_ACCESS" 2>&1 | tee "$log"; then
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
check_functions
RESERVED_CONCURRENCY="$(rotate_reserved_concurrency)"

step 'npm run build'
npm run build
compgen -G 'dist/rotate/index.*js' >/dev/null ||
  fail 'the build produced no dist/rotate/index.js (s.yaml deploys ./dist/rotate with handler index.handler).'
ship_package_files

step 's deploy'
run_s deploy -y

step "s rotate concurrency put --reserved-concurrency $RESERVED_CONCURRENCY"
run_s rotate concurrency put --reserved-concurrency "$RESERVED_CONCURRENCY"

printf '\nDeployed. Try it without changing anything: npx s rotate invoke --event-file events/manual-dry-run.json\n'
