#!/usr/bin/env bash
# Email, activation and password recovery (issue 20) with real clients, once per database backend
# in ${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}:
#   - a real SMTP server on loopback (Python aiosmtpd, tests/clients/lifecycle/smtp_sink.py) that
#     gatehouse mails through (GATEHOUSE_SMTP_*); `gatehouse email test` reaches it;
#   - headless Chromium (playwright-core, tests/clients/lifecycle/test.js) follows the activation
#     and reset links from the mails; under a PASSWORD policy (common list, history 2) too short,
#     common and (on reset) reused passwords are refused with the policy's words, a good one accepted,
#     and social-auth-core 7.x (NetBox's Okta backend) signs in with it; "Forgot password?"
#     answers an unknown address the same and mails nothing;
#   - Okta's Python SDK 3.x: activate_user and reset_password with send_email=False
#     (tests/clients/lifecycle/okta_sdk.py), and `gatehouse user reset-password` prints a link.
#   GATEHOUSE_BIN   the gatehouse binary (default: target/debug/gatehouse)
# Installs what it needs: Debian's chromium, node_modules from the committed lockfile, aiosmtpd
# and okta 3.x in .venv-okta, social-auth-core 7.x in .venv-sc7. Prints "N passed, M failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && cd .. && pwd)"
backends="${GATEHOUSE_TEST_BACKENDS:-sqlite postgres}"
dir="$here/lifecycle"
run_timeout=180 # seconds per backend for the browser test
org_name="Acme Lifecycle Test"
export PYTHONDONTWRITEBYTECODE=1
export OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true # the Python SDK refuses http:// without it

# shellcheck source=lib/deps.sh
source "$here/lib/deps.sh"
okta_venv="$root/.venv-okta"
sc_venv="$root/.venv-sc7"
ensure_chromium || { echo "FAIL: cannot install chromium"; echo "0 passed, 1 failed"; exit 2; }
ensure_npm "$dir" "const v = require('playwright-core/package.json').version; process.exit(v === '1.65.1' ? 0 : 1)" ||
  { echo "FAIL: cannot install $dir/node_modules"; echo "0 passed, 1 failed"; exit 2; }
ensure_venv "$okta_venv" "import aiosmtpd, pyotp; $OKTA_PY_PROBE" 'okta>=3,<4' pyotp aiosmtpd ||
  { echo "FAIL: cannot set up $okta_venv"; echo "0 passed, 1 failed"; exit 2; }
ensure_venv "$sc_venv" 'import requests, social_core; raise SystemExit(0 if social_core.__version__.split(".")[0] == "7" else 1)' \
  'social-auth-core>=7,<8' requests ||
  { echo "FAIL: cannot set up $sc_venv"; echo "0 passed, 1 failed"; exit 2; }
exit_if_install_only

# shellcheck source=lib/serve.sh
source "$here/lib/serve.sh"
sink_pid=""
stop_all() {
  [[ -n "$sink_pid" ]] && { kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; sink_pid=""; }
  gh_stop
}
trap stop_all EXIT
trap 'exit 130' INT TERM

total_pass=0
total_fail=0
ok() { echo "ok   $1"; total_pass=$((total_pass + 1)); }
bad() { echo "FAIL $1"; total_fail=$((total_fail + 1)); }
# Adds a test's "N passed, M failed" line to the totals (a missing line is a failure).
tally() {
  local line p f
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n1)"
  if [[ -z "$line" ]]; then
    bad "$2 did not finish"
    tail -n 20 "$gh_log"
  else
    p="${line%% passed*}"; f="${line#*passed, }"; f="${f%% failed}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    [[ "$f" == 0 ]] || tail -n 20 "$gh_log"
  fi
}

for backend in $backends; do
  echo "== $backend"
  maildir="$(mktemp -d)"
  "$okta_venv/bin/python" "$dir/smtp_sink.py" "$maildir" >"$maildir.log" 2>&1 &
  sink_pid=$!
  port=""
  for _ in $(seq 1 100); do
    port="$(sed -nE 's/^PORT ([0-9]+)$/\1/p' "$maildir.log" | head -n1)"
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    bad "the SMTP sink did not start: $(cat "$maildir.log")"
    stop_all; continue
  fi
  smtp_env=(GATEHOUSE_SMTP_HOST=127.0.0.1 GATEHOUSE_SMTP_PORT="$port" GATEHOUSE_SMTP_SECURITY=none
    "GATEHOUSE_SMTP_FROM=Acme Identity <id@acme.test>" "GATEHOUSE_BRANDING_ORG_NAME=$org_name")
  if ! gh_start "$backend" "${smtp_env[@]}"; then
    bad "gatehouse did not start"
    stop_all; continue
  fi
  envcmd=()
  while IFS= read -r -d '' part; do envcmd+=("$part"); done < <(gh_env)
  cli=("${envcmd[@]}" "${smtp_env[@]}" GATEHOUSE_PUBLIC_URL="$gh_url" RUST_LOG=warn "$gh_bin" "${gh_global[@]}")

  if timeout 60 "${cli[@]}" email test --to ops@acme.test </dev/null >"$gh_work/email-test.out" 2>&1 &&
    "$okta_venv/bin/python" "$dir/mail.py" "$maildir" ops@acme.test /login/login.htm >/dev/null; then
    ok "gatehouse email test: the sink got the test mail"
  else
    bad "gatehouse email test: $(cat "$gh_work/email-test.out")"
  fi

  app_json="$gh_work/app.json"
  if ! timeout 60 "${cli[@]}" app create-oidc --type web --label NetBox \
      --redirect-uri http://netbox.test/oauth/complete/okta-openidconnect/ --assign Everyone --output json \
      </dev/null >"$app_json"; then
    bad "gatehouse app create-oidc"; stop_all; continue
  fi
  nb_key="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$app_json")"
  nb_secret="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$app_json")"
  token="$(gh_token "lifecycle-$backend")"

  out="$gh_work/browser.out"
  (cd "$dir" && GH_URL="$gh_url" GH_TOKEN="$token" MAILDIR="$maildir" MAIL_PYTHON="$okta_venv/bin/python" \
    NB_PYTHON="$sc_venv/bin/python" NB_KEY="$nb_key" NB_SECRET="$nb_secret" ORG_NAME="$org_name" \
    timeout -k 5 "$run_timeout" node test.js) 2>&1 | tee "$out"
  tally "$out" "the browser test"

  out="$gh_work/sdk.out"
  GATEHOUSE_URL="$gh_url" GATEHOUSE_TOKEN="$token" timeout 120 "$okta_venv/bin/python" "$dir/okta_sdk.py" 2>&1 | tee "$out"
  tally "$out" "the okta SDK test"

  # The CLI prints a link without mailing it; the link opens the reset page.
  link="$(timeout 60 "${cli[@]}" user reset-password lee.link@example.com </dev/null 2>/dev/null | tail -n1)"
  if [[ "$link" == "$gh_url/signin/reset-password/"* ]] &&
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$link")" == 200 ]]; then
    ok "gatehouse user reset-password prints a working link"
  else
    bad "gatehouse user reset-password printed '$link'"
  fi
  stop_all
  rm -rf "$maildir" "$maildir.log"
done
echo "$total_pass passed, $total_fail failed"
[[ "$total_fail" == 0 && "$total_pass" -gt 0 ]]
