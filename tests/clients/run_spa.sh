#!/usr/bin/env bash
# An OpenMetadata-style single-page app (seed 003) against gatehouse in headless Chromium:
# @okta/okta-auth-js 7.x (the version OpenMetadata's UI pins) and 8.x, driven by playwright-core
# (tests/clients/spa/test.js), on the default custom authorization server and the org server,
# once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}. The SPA app is
# created through /api/v1/apps with an API token from `gatehouse token create`.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: Debian's chromium (apt-get) and node_modules from the committed
# lockfile (npm ci). Also okta-auth-js's classic signIn in Node (spa/authn.js), with a second
# factor too (spa/authn_mfa.js). Prints "N passed, M failed" over all backends.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
spa_dir="$here/spa"
run_timeout=150 # seconds per backend
login="spa.user@example.com"
password="Correct-Horse-Battery-9"

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"

spa_probe="const a = require('okta-auth-js-7/package.json').version, b = require('okta-auth-js-8/package.json').version; require('playwright-core'); process.exit(a.startsWith('7.') && b.startsWith('8.') ? 0 : 1)"
ensure_chromium || { echo "FAIL: cannot install chromium"; echo "0 passed, 1 failed"; exit 2; }
ensure_npm "$spa_dir" "$spa_probe" || { echo "FAIL: cannot install $spa_dir/node_modules"; echo "0 passed, 1 failed"; exit 2; }
exit_if_install_only

# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"
trap 'gh_stop' EXIT
trap 'exit 130' INT TERM

total_pass=0
total_fail=0
for backend in $backends; do
  echo "== $backend"
  if ! gh_start "$backend"; then
    total_fail=$((total_fail + 1))
    gh_stop
    continue
  fi
  envcmd=()
  while IFS= read -r -d '' part; do envcmd+=("$part"); done < <(gh_env)
  if ! printf '%s\n' "$password" | timeout 60 "${envcmd[@]}" "$gh_bin" "${gh_global[@]}" user add \
      --login "$login" --first-name Spa --last-name User --password-stdin >/dev/null; then
    echo "FAIL: cannot create the user"
    total_fail=$((total_fail + 1))
    gh_stop
    continue
  fi
  token="$(gh_token "spa-$backend")"
  # The CLI path of seed 003's "Refresh Token: rotate after every use" setting.
  cli_json="$(timeout 60 "${envcmd[@]}" "$gh_bin" "${gh_global[@]}" app create-oidc --type spa --label "OpenMetadata (CLI)" \
      --redirect-uri http://127.0.0.1:8585/callback --refresh-rotation static --refresh-leeway 10 --output json </dev/null)"
  cli_app="$(printf '%s' "$cli_json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["app_id"])' 2>/dev/null)"
  cli_setting="$(curl -fsS -H "Authorization: SSWS $token" -H 'Accept: application/json' "$gh_url/api/v1/apps/$cli_app" |
      python3 -c 'import json, sys; r = json.load(sys.stdin)["settings"]["oauthClient"]["refresh_token"]; print(r["rotation_type"], r["leeway"])' 2>/dev/null)"
  if [[ "$cli_setting" == "STATIC 10" ]]; then
    echo "ok   gatehouse app create-oidc --refresh-rotation static --refresh-leeway 10 shows in /api/v1/apps"
    total_pass=$((total_pass + 1))
  else
    echo "FAIL gatehouse app create-oidc --refresh-rotation: got '$cli_setting' from $cli_json"
    total_fail=$((total_fail + 1))
  fi
  out="$gh_work/spa.out"
  (cd "$spa_dir" && GH_URL="$gh_url" GH_TOKEN="$token" GH_LOGIN="$login" GH_PASSWORD="$password" \
    timeout -k 5 "$run_timeout" node test.js) 2>&1 | tee "$out"
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)"
  if [[ -z "$line" ]]; then
    echo "FAIL: the browser test did not finish (timeout ${run_timeout}s?)"
    total_fail=$((total_fail + 1))
    tail -n 20 "$gh_log"
  else
    p="${line%% passed*}"; f="${line#*passed, }"; f="${f%% failed}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    [[ "$f" == 0 ]] || tail -n 20 "$gh_log"
  fi
  # okta-auth-js's classic signIn / signInWithCredentials (POST /api/v1/authn) in Node.
  out="$gh_work/authn.out"
  (cd "$spa_dir" && GH_URL="$gh_url" GH_TOKEN="$token" GH_LOGIN="$login" GH_PASSWORD="$password" \
    timeout -k 5 60 node authn.js) 2>&1 | tee "$out"
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)"
  if [[ -z "$line" ]]; then
    echo "FAIL: authn.js did not finish"
    total_fail=$((total_fail + 1))
  else
    p="${line%% passed*}"; f="${line#*passed, }"; f="${f%% failed}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  fi
  # okta-auth-js's classic sign-in with a second factor (MFA_ENROLL, MFA_REQUIRED, verify).
  out="$gh_work/authn_mfa.out"
  (cd "$spa_dir" && GH_URL="$gh_url" GH_TOKEN="$token" timeout -k 5 60 node authn_mfa.js) 2>&1 | tee "$out"
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)"
  if [[ -z "$line" ]]; then
    echo "FAIL: authn_mfa.js did not finish"
    total_fail=$((total_fail + 1))
  else
    p="${line%% passed*}"; f="${line#*passed, }"; f="${f%% failed}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  fi
  gh_stop
done
echo "$total_pass passed, $total_fail failed"
[[ "$total_fail" == 0 && "$total_pass" -gt 0 ]]
