#!/usr/bin/env bash
# openid-client 5.x (npm, panva's certified relying party) against gatehouse for the implicit,
# hybrid (`code id_token`, `code id_token token`) and form_post flows, on the default custom
# authorization server and the org server, once per database backend in
# ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres} (tests/clients/openid_client/test.js). The user
# signs in over plain HTTP (cookie jar + the hosted form's CSRF token); openid-client's
# callbackParams/callback must accept each response and reject tampered ones. The device grant
# (RFC 8628): deviceAuthorization() and handle.poll() while the script approves or denies at
# /activate.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs node_modules from the committed lockfile (npm ci). Prints "N passed, M failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
client_dir="$here/openid_client"
run_timeout=60 # seconds per backend
login="oidc.user@example.com"
password="Correct-Horse-Battery-9"

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"
# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"

probe="const v = require('./node_modules/openid-client/package.json').version; process.exit(v.startsWith('5.') ? 0 : 1)"
ensure_npm "$client_dir" "$probe" || { echo "FAIL: cannot install $client_dir/node_modules"; echo "0 passed, 1 failed"; exit 2; }

exit_if_install_only
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
      --login "$login" --first-name Oidc --last-name User --password-stdin >/dev/null; then
    echo "FAIL: cannot create the user"
    total_fail=$((total_fail + 1))
    gh_stop
    continue
  fi
  token="$(gh_token "openid-client-$backend")"
  out="$gh_work/openid_client.out"
  (cd "$client_dir" && GH_URL="$gh_url" GH_TOKEN="$token" GH_LOGIN="$login" GH_PASSWORD="$password" \
    timeout -k 5 "$run_timeout" node test.js) 2>&1 | tee "$out"
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)"
  if [[ -z "$line" ]]; then
    echo "FAIL: the openid-client test did not finish (timeout ${run_timeout}s?)"
    total_fail=$((total_fail + 1))
    tail -n 20 "$gh_log"
  else
    p="${line%% passed*}"; f="${line#*passed, }"; f="${f%% failed}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    [[ "$f" == 0 ]] || tail -n 20 "$gh_log"
  fi
  gh_stop
done
echo "$total_pass passed, $total_fail failed"
[[ "$total_fail" == 0 && "$total_pass" -gt 0 ]]
