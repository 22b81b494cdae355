#!/usr/bin/env bash
# Seeds 000 and 004 followed in the admin console by a new administrator, in headless Debian
# Chromium (playwright-core, tests/clients/console/test.js), then NetBox's social-auth-core
# signing in with the client ID and secret read off the console; then seed 003 (console/seed003.js:
# the SPA, its authorization server, scopes, access policy and Token Preview in the console, and
# okta-auth-js signing in against that server), then console/import.js (Settings > Import from
# Okta from a second gatehouse, the source, on SQLite), once per database backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}. The administrator is the one `gatehouse serve`
# creates on first start (its password is read from the server's output, as a new admin would).
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: Debian's chromium (apt-get), node_modules from the committed lockfile
# (npm ci; also tests/clients/spa's, for okta-auth-js), social-auth-core 7.x in .venv-sc7 (shared
# with run_socialcore.sh). Screenshots go to target/console-screenshots/<backend>/ (not committed).
# Prints "N passed, M failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
console_dir="$here/console"
run_timeout=120 # seconds per script and backend
# The walk-throughs, in order, against one server per backend: test.js (seeds 000 and 004),
# reports.js (Reports > System Log, the Sign On groups claim), seed003.js (seed 003: the SPA, its
# authorization server and okta-auth-js), consent.js (User consent: Require consent, the consent page),
# import.js (Settings > Import from Okta: plan, confirmation, progress, report; from the source).
scripts=(test.js reports.js seed003.js consent.js import.js)
export PYTHONDONTWRITEBYTECODE=1

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"
# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"

venv="$root/.venv-sc7"
ensure_chromium || { echo "FAIL: cannot install chromium"; echo "0 passed, 1 failed"; exit 2; }
ensure_npm "$console_dir" "const v = require('playwright-core/package.json').version; process.exit(v === '1.65.1' ? 0 : 1)" ||
  { echo "FAIL: cannot install $console_dir/node_modules"; echo "0 passed, 1 failed"; exit 2; }
ensure_npm "$here/spa" "const v = require('okta-auth-js-7/package.json').version; process.exit(v.startsWith('7.') ? 0 : 1)" ||
  { echo "FAIL: cannot install $here/spa/node_modules"; echo "0 passed, 1 failed"; exit 2; }
ensure_venv "$venv" 'import requests, social_core; raise SystemExit(0 if social_core.__version__.split(".")[0] == "7" else 1)' \
  'social-auth-core>=7,<8' requests ||
  { echo "FAIL: cannot set up $venv"; echo "0 passed, 1 failed"; exit 2; }

exit_if_install_only

# The source org import.js imports: a second gatehouse (SQLite) with one person, and an API token.
src_pid=""
src_work=""
src_url=""
src_token=""
src_login="iris.moved@example.com"
src_password="Moved-Passw0rd-2026!"
start_source() {
  gh_start sqlite || return 1
  src_pid="$gh_pid"
  src_work="$gh_work"
  src_url="$gh_url"
  src_token="$(gh_token console-import)" || return 1
  curl -fsS -m 20 -X POST "$src_url/api/v1/users?activate=true" -H "Authorization: SSWS $src_token" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' \
    -d "{\"profile\":{\"firstName\":\"Iris\",\"lastName\":\"Moved\",\"email\":\"$src_login\",\"login\":\"$src_login\"},\"credentials\":{\"password\":{\"value\":\"$src_password\"}}}" >/dev/null
}
stop_source() {
  gh_pid="$src_pid"
  gh_work="$src_work"
  gh_db=""
  gh_stop
  src_pid=""
  src_work=""
}
trap 'gh_stop; stop_source' EXIT
trap 'exit 130' INT TERM
if ! start_source; then
  echo "FAIL: the source gatehouse of import.js did not start"
  echo "0 passed, 1 failed"
  exit 1
fi
# gh_start below starts the target; the source keeps running until the end.
gh_pid=""
gh_work=""

total_pass=0
total_fail=0
# Adds a browser test's "N passed, M failed" line to the totals (a missing line is a failure).
tally() {
  local line p f
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n1)"
  if [[ -z "$line" ]]; then
    echo "FAIL: the browser test did not finish (timeout ${run_timeout}s?)"
    total_fail=$((total_fail + 1))
    tail -n 20 "$gh_log"
  else
    p="${line%% passed*}"; f="${line#*passed, }"; f="${f%% failed}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    [[ "$f" == 0 ]] || tail -n 20 "$gh_log"
  fi
}
for backend in $backends; do
  echo "== $backend"
  if ! gh_start "$backend"; then
    total_fail=$((total_fail + 1))
    gh_stop
    continue
  fi
  admin_login="$(sed -nE 's/^ +login: +(.*)$/\1/p' "$gh_log" | head -n1)"
  admin_password="$(sed -nE 's/^ +password: +(.*)$/\1/p' "$gh_log" | head -n1)"
  if [[ -z "$admin_login" || -z "$admin_password" ]]; then
    echo "FAIL: gatehouse serve printed no first-start administrator"
    total_fail=$((total_fail + 1))
    gh_stop
    continue
  fi
  out="$gh_work/console.out"
  shots="${CARGO_TARGET_DIR:-$root/target}/console-screenshots/$backend"
  rm -rf "$shots"
  for script in "${scripts[@]}"; do
    (cd "$console_dir" && GH_URL="$gh_url" GH_ADMIN_LOGIN="$admin_login" GH_ADMIN_PASSWORD="$admin_password" \
      NB_PYTHON="$venv/bin/python" SHOTS="$shots" SRC_URL="$src_url" SRC_TOKEN="$src_token" \
      SRC_LOGIN="$src_login" SRC_PASSWORD="$src_password" timeout -k 5 "$run_timeout" node "$script") 2>&1 | tee "$out"
    tally "$out"
  done
  gh_stop
done
echo "$total_pass passed, $total_fail failed"
[[ "$total_fail" == 0 && "$total_pass" -gt 0 ]]
