#!/usr/bin/env bash
# Passkeys (WebAuthn) in headless Chromium with a CDP virtual authenticator, driven by
# playwright-core (tests/clients/webauthn/test.js): enroll a passkey on the dashboard, sign in
# with password + passkey, then okta-auth-js 7.x gets an ID token whose amr has hwk and mfa;
# once per database backend in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# The browser talks to http://localhost:<port> (WebAuthn needs a host name, not 127.0.0.1;
# Chromium treats localhost as a secure context). Installs what it needs: Debian's chromium
# (apt-get) and node_modules from the committed lockfile (npm ci). Prints "N passed, M failed"
# over all backends.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
dir="$here/webauthn"
run_timeout=150 # seconds per backend
login="passkey.user@example.com"
password="Correct-Horse-Battery-9"

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"

probe="const a = require('okta-auth-js-7/package.json').version; require('playwright-core'); process.exit(a.startsWith('7.') ? 0 : 1)"
ensure_chromium || { echo "FAIL: cannot install chromium"; echo "0 passed, 1 failed"; exit 2; }
ensure_npm "$dir" "$probe" || { echo "FAIL: cannot install $dir/node_modules"; echo "0 passed, 1 failed"; exit 2; }
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
      --login "$login" --first-name Passkey --last-name User --password-stdin >/dev/null; then
    echo "FAIL: cannot create the user"
    total_fail=$((total_fail + 1))
    gh_stop
    continue
  fi
  token="$(gh_token "webauthn-$backend")"
  url="${gh_url/127.0.0.1/localhost}"
  out="$gh_work/webauthn.out"
  (cd "$dir" && GH_URL="$url" GH_TOKEN="$token" GH_LOGIN="$login" GH_PASSWORD="$password" \
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
  gh_stop
done
echo "$total_pass passed, $total_fail failed"
[[ "$total_fail" == 0 && "$total_pass" -gt 0 ]]
