#!/usr/bin/env bash
# `gatehouse import okta` end to end: a first gatehouse plays the source Okta org, a second one
# imports it, and social-auth-core (NetBox's Okta backend) signs in at the second with the
# source's client id, secret and password; the source is asked about the password exactly once.
# The SPA signs in with okta-auth-js in headless Chromium (spa/'s node_modules, as run_spa.sh)
# with the source's client id; the service app gets a token with its old private key (PyJWT);
# a rerun after changes and deletions at the source updates, adds and deactivates.
#
# Runs tests/clients/okta_import/harness.py with social-auth-core 7.x (the venv of
# run_socialcore.sh), once per backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres} (both
# gatehouses on that backend).
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
run_timeout=1200
export PYTHONDONTWRITEBYTECODE=1

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"
venv="$root/.venv-sc7"
ensure_venv "$venv" \
  'import requests, social_core; raise SystemExit(0 if social_core.__version__.split(".")[0] == "7" else 1)' \
  'social-auth-core>=7,<8' requests || { echo "FAIL: cannot set up $venv"; exit 2; }
spa_probe="const a = require('okta-auth-js-7/package.json').version, b = require('okta-auth-js-8/package.json').version; require('playwright-core'); process.exit(a.startsWith('7.') && b.startsWith('8.') ? 0 : 1)"
ensure_chromium || { echo "FAIL: cannot install chromium"; exit 2; }
ensure_npm "$here/spa" "$spa_probe" || { echo "FAIL: cannot install $here/spa/node_modules"; exit 2; }

exit_if_install_only
if [[ ! -x "$bin" ]]; then
  echo "FAIL: gatehouse binary not found at $bin (build it, or set GATEHOUSE_BIN)"
  exit 2
fi

# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"
trap gh_stop EXIT # drops the databases of gh_new_database
trap 'exit 130' INT TERM

summary=()
failed=0
for backend in $backends; do
  db_args=()
  case "$backend" in
    sqlite) ;;
    postgres)
      for side in source target; do
        if ! gh_new_database "import_$side"; then
          summary+=("okta import / $backend: FAILED (could not create a database)")
          failed=1
          continue 2
        fi
        db_args+=("--$side-database-url" "$gh_database_url")
      done
      ;;
    *)
      summary+=("okta import / $backend: FAILED (unknown backend)")
      failed=1
      continue
      ;;
  esac
  echo
  echo "== okta import on $backend"
  log="$(mktemp)"
  timeout --foreground "$run_timeout" "$venv/bin/python" "$here/okta_import/harness.py" --gatehouse "$bin" "${db_args[@]}" "$@" 2>&1 | tee "$log"
  status="${PIPESTATUS[0]}"
  passed="$(sed -nE 's/^RESULT ([0-9]+\/[0-9]+) .*/\1/p' "$log" | tail -n1)"
  rm -f "$log"
  if [[ "$status" == 0 ]]; then
    summary+=("okta import / $backend: $passed steps passed")
  else
    summary+=("okta import / $backend: FAILED, ${passed:-no result} steps passed (exit $status)")
    failed=1
  fi
  gh_stop
done

echo
echo "== okta import summary"
printf '%s\n' "${summary[@]}"
if [[ "$failed" != 0 ]]; then
  echo "okta import: FAILED"
  exit 1
fi
echo "okta import: all passed"
