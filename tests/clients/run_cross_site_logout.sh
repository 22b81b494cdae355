#!/usr/bin/env bash
# okta-auth-js cross-site logout (issue 23): an SPA on https://localhost:<port> signs in with a
# gatehouse on https://127.0.0.1:<port> (built-in TLS, `gatehouse dev-cert`), and its
# closeSession() ends the session; the negative control does the same over plain http, where the
# SameSite=Lax cookie stays home and the session survives. tests/clients/spa/cross_site_logout.js
# in headless Chromium (one browser per backend), okta-auth-js 7.x and 8.x, once per database
# backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}. Two gatehouse processes per backend
# (https and http), each with its own data directory or database.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Prints "N passed, M failed" over all backends.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
spa_dir="$here/spa"
run_timeout=150 # seconds per backend
login="cross.site@example.com"
password="Correct-Horse-Battery-9"

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"
spa_probe="const a = require('okta-auth-js-7/package.json').version, b = require('okta-auth-js-8/package.json').version; require('playwright-core'); process.exit(a.startsWith('7.') && b.startsWith('8.') ? 0 : 1)"
ensure_chromium || { echo "FAIL: cannot install chromium"; echo "0 passed, 1 failed"; exit 2; }
ensure_npm "$spa_dir" "$spa_probe" || { echo "FAIL: cannot install $spa_dir/node_modules"; echo "0 passed, 1 failed"; exit 2; }
exit_if_install_only

# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"

# serve.sh keeps one server in its globals: the http one is parked in these while the https one
# runs, and swapped back to be stopped.
http_state=()
park_http() { http_state=("$gh_pid" "$gh_db" "$gh_work" "$gh_url" "$gh_log"); gh_pid="" gh_db="" gh_work="" gh_url="" gh_log=""; }
stop_both() {
  gh_stop
  if [[ ${#http_state[@]} -gt 0 ]]; then
    gh_pid="${http_state[0]}" gh_db="${http_state[1]}" gh_work="${http_state[2]}"
    http_state=()
    gh_stop
  fi
}
trap 'stop_both' EXIT
trap 'exit 130' INT TERM

# Adds the user to the running server; prints an API token for it.
seed() {
  local envcmd=()
  while IFS= read -r -d '' part; do envcmd+=("$part"); done < <(gh_env)
  printf '%s\n' "$password" | timeout 60 "${envcmd[@]}" "$gh_bin" "${gh_global[@]}" user add \
      --login "$login" --first-name Cross --last-name Site --password-stdin >/dev/null || return 1
  gh_token "cross-site-$1"
}

total_pass=0
total_fail=0
for backend in $backends; do
  echo "== $backend"
  if ! gh_start "$backend" || ! http_token="$(seed "$backend-http")" || [[ -z "$http_token" ]]; then
    echo "FAIL: the http gatehouse did not start or take its user"
    total_fail=$((total_fail + 1)); stop_both; continue
  fi
  http_url="$gh_url" http_log="$gh_log"
  park_http
  if ! gh_start_tls "$backend" || ! tls_token="$(seed "$backend-https")" || [[ -z "$tls_token" ]]; then
    echo "FAIL: the https gatehouse did not start or take its user"
    total_fail=$((total_fail + 1)); stop_both; continue
  fi
  out="$gh_work/cross_site.out"
  (cd "$spa_dir" && NODE_EXTRA_CA_CERTS="$gh_ca" GH_TLS_URL="$gh_url" GH_TLS_TOKEN="$tls_token" \
    GH_HTTP_URL="$http_url" GH_HTTP_TOKEN="$http_token" \
    GH_TLS_CERT="$gh_work/data/dev-cert.pem" GH_TLS_KEY="$gh_work/data/dev-key.pem" \
    GH_LOGIN="$login" GH_PASSWORD="$password" timeout -k 5 "$run_timeout" node cross_site_logout.js) 2>&1 | tee "$out"
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)"
  if [[ -z "$line" ]]; then
    echo "FAIL: the browser test did not finish (timeout ${run_timeout}s?)"
    total_fail=$((total_fail + 1))
  else
    p="${line%% passed*}"; f="${line#*passed, }"; f="${f%% failed}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  fi
  if [[ -z "$line" || "$f" != 0 ]]; then
    echo "-- https gatehouse log"; tail -n 20 "$gh_log"
    echo "-- http gatehouse log"; tail -n 20 "$http_log"
  fi
  stop_both
done
echo "$total_pass passed, $total_fail failed"
[[ "$total_fail" == 0 && "$total_pass" -gt 0 ]]
